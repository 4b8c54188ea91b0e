import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isNotificationName,
  isMethodName,
  isPlainName,
  KnowledgeDocument,
  methodNames,
  methods,
} from '../../src-shared/contract/index.js';

test('every method has a request and a response schema', () => {
  assert.ok(methodNames.length > 0);
  for (const name of methodNames) {
    assert.ok(methods[name].request, `${name} request`);
    assert.ok(methods[name].response, `${name} response`);
  }
});

test('method and notification names are checked against the contract, not the prototype chain', () => {
  assert.equal(isMethodName('health'), true);
  assert.equal(isMethodName('toString'), false);
  assert.equal(isMethodName('__proto__'), false);
  assert.equal(isMethodName(42), false);
  assert.equal(isNotificationName('notice'), true);
  assert.equal(isNotificationName('constructor'), false);
});

test('health refuses extra request fields and a wrong answer shape', () => {
  assert.equal(methods.health.request.safeParse({}).success, true);
  assert.equal(methods.health.request.safeParse({ drop: 'tables' }).success, false);
  assert.equal(methods.health.response.safeParse({ name: 'dmlreview', version: 1 }).success, false);
});

/** The field paths a request is refused for; empty when it is accepted. */
function refusedFields(method: keyof typeof methods, request: unknown): string[] {
  const parsed = methods[method].request.safeParse(request);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
}

test('numbers that parse but make no sense are refused, each naming its field', () => {
  assert.deepEqual(refusedFields('analysis.start', { sessionId: 1, sampleFps: 1e-300 }), ['sampleFps']);
  assert.deepEqual(refusedFields('analysis.start', { sessionId: 1, sampleFps: 2000 }), ['sampleFps']);
  assert.deepEqual(refusedFields('analysis.start', { sessionId: 1, sampleFps: 0.5 }), []);
  const settings = { threshold: 0.5, hysteresis: 0.05, minGapMs: 1e308 };
  assert.deepEqual(refusedFields('events.list', { analysisId: 1, settings }), ['settings.minGapMs']);
  assert.deepEqual(refusedFields('frames.get', { analysisId: 1, frameIndex: 1e300 }), ['frameIndex']);
  assert.deepEqual(refusedFields('frames.top', { analysisId: 1, classIndex: 9000 }), ['classIndex']);
  assert.deepEqual(refusedFields('sessions.import', { paths: ['/a.mp4'], imageFps: 1e-300 }), ['imageFps']);
  const mask = { width: 1e9, height: 1e9, counts: [1] };
  assert.deepEqual(
    refusedFields('teaching.preview', { name: 'cone', shots: [{ frame: { imagePath: '/a.png' }, mask }] }),
    ['shots.0.mask.width', 'shots.0.mask.height'],
  );
  const wand = { frame: { analysisId: 1, frameIndex: 0 }, x: 0, y: 0, maxDistance: 1e308 };
  assert.deepEqual(refusedFields('teaching.wand', wand), ['maxDistance']);
});

test('knowledge documents with absurd classes are refused: a 1 MB name, prototype values of 1e308', () => {
  const valid = {
    format: 'dmlreview-knowledge/1',
    modelName: 'camvid-open',
    modelSha256: 'a'.repeat(64),
    embeddingDim: 2,
    exportedAt: '2026-01-01T00:00:00Z',
    classes: [
      {
        name: 'cone',
        color: [1, 2, 3],
        enabled: true,
        prototypes: [[0.5, 0.25]],
        acceptanceRadius: 1.5,
        createdBy: 'alice',
        createdAt: '2026-01-01T00:00:00Z',
        shots: [{ description: 'analysis 1, frame 2', pixels: 40 }],
      },
    ],
  };
  const withClass = (change: object) => ({ ...valid, classes: [{ ...valid.classes[0]!, ...change }] });
  const issues = (document: unknown) => {
    const parsed = KnowledgeDocument.safeParse(document);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
  };
  assert.deepEqual(issues(valid), []);
  assert.deepEqual(issues(withClass({ name: 'x'.repeat(1 << 20) })), ['classes.0.name']);
  assert.deepEqual(issues(withClass({ prototypes: [[1e308, 0]] })), ['classes.0.prototypes.0.0']);
  assert.deepEqual(issues(withClass({ acceptanceRadius: 1e308 })), ['classes.0.acceptanceRadius']);
  assert.deepEqual(issues({ ...valid, classes: Array.from({ length: 300 }, () => valid.classes[0]) }), ['classes']);
});

test('names that are joined onto a folder must be plain names: models, export folders', () => {
  assert.deepEqual(refusedFields('analysis.start', { sessionId: 1, model: '../../etc/passwd' }), ['model']);
  assert.deepEqual(refusedFields('teaching.export', { model: 'camvid/../x' }), ['model']);
  assert.deepEqual(refusedFields('teaching.export', { model: 'camvid-open' }), []);
  assert.deepEqual(refusedFields('export.flagged', { sessionId: 1, folder: '/tmp', name: 'x/../../y' }), ['name']);
  assert.deepEqual(refusedFields('export.flagged', { sessionId: 1, folder: '/tmp\u0000x' }), ['folder']);
  assert.equal(isPlainName('drive 2026-01-01'), true);
  for (const name of ['', '.', '..', 'a/b', 'a\\b', 'c:x', 'tab\there']) assert.equal(isPlainName(name), false, name);
});
