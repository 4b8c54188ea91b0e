/**
 * The review server against each request that used to take it down or hang it, one `dmlreview serve` process
 * for the whole file: after every test it must still answer, and it must never have exited.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { defaultModelsDir } from '../../src-main/core/paths.js';
import { DEFAULT_MODEL } from '../../src-main/engine/index.js';
import { probeSource } from '../../src-main/footage/index.js';
import { openLibrary } from '../../src-main/library/index.js';
import { clip, tempDir, valImages } from '../helpers/clips.js';
import { api, rawRequest, rawWebSocket, rssMb, serve, wsFrame, type ServeUnderTest } from '../helpers/server.js';
import { specialFiles, type SpecialFiles } from '../helpers/special-files.js';

const dir = tempDir('dml-harden-');
const models = join(dir, 'models');
const libraryPath = join(dir, 'library.sqlite');
const valImage = join(valImages, '0016E5_07959.jpg');
let server: ServeUnderTest;
let files: SpecialFiles;
let footage: string;
let sessionId: number;

type Card = { sha256: string; onnx: string; output: { embeddingDim: number }; classes: unknown[] };
const card = (name: string) => JSON.parse(readFileSync(join(defaultModelsDir(), `${name}.json`), 'utf8')) as Card;

/** The shipped models the tests name, and the default one: calls that name no model use it. */
const linkedModels = [...new Set(['camvid', 'camvid-open', DEFAULT_MODEL])];

/** The linked models, and two broken cards: one pointing outside the folder, one whose .onnx is cut short. */
function modelsFolder(): void {
  mkdirSync(models);
  for (const name of linkedModels)
    for (const ext of ['json', 'onnx'])
      symlinkSync(join(defaultModelsDir(), `${name}.${ext}`), join(models, `${name}.${ext}`));
  writeFileSync(join(models, 'escape.json'), JSON.stringify({ ...card('camvid'), onnx: '../../camvid.onnx' }));
  const onnx = readFileSync(join(defaultModelsDir(), 'camvid.onnx'));
  writeFileSync(join(models, 'truncated.onnx'), onnx.subarray(0, onnx.length >> 1));
  writeFileSync(
    join(models, 'truncated.json'),
    JSON.stringify({ ...card('camvid'), name: 'truncated', onnx: 'truncated.onnx' }),
  );
}

/** A document of `count` taught classes for a model, as teaching.export writes it. */
function knowledgeDocument(model: string, count: number, prefix = 'cone'): string {
  const { sha256, output } = card(model);
  return JSON.stringify({
    format: 'dmlreview-knowledge/1',
    modelName: model,
    modelSha256: sha256,
    embeddingDim: output.embeddingDim,
    exportedAt: new Date().toISOString(),
    classes: Array.from({ length: count }, (_, i) => ({
      name: `${prefix} ${i}`,
      color: [i % 256, 0, 0],
      enabled: true,
      prototypes: [Array.from({ length: output.embeddingDim }, () => 0.5)],
      acceptanceRadius: 1,
      createdBy: 'test',
      createdAt: new Date().toISOString(),
      shots: [],
    })),
  });
}

before(async () => {
  modelsFolder();
  files = await specialFiles(dir);
  footage = clip(dir, 'drive.mp4', 3, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  // The library as an older build could leave it: camvid-open with 250 taught classes, more than its class
  // maps can name (246 beside its 9 built-in ones), committed before imports were checked.
  const store = await openLibrary(libraryPath);
  sessionId = (await store.sessions.create('drive', [await probeSource(footage)], null)).id;
  const { sha256, output } = card('camvid-open');
  await store.knowledge.addMany(
    Array.from({ length: 250 }, (_, i) => ({
      modelSha256: sha256,
      embeddingDim: output.embeddingDim,
      name: `old ${i}`,
      color: [0, 0, 0] as [number, number, number],
      prototypes: [Array.from({ length: output.embeddingDim }, () => 0.5)],
      acceptanceRadius: 1,
      createdBy: 'older build',
      shots: [],
    })),
    'older build',
    'import of 250 classes, unchecked',
  );
  await store.close();
  server = await serve(['--library', libraryPath, '--models', models]);
});

after(async () => {
  const alive = server.alive();
  await server.stop();
  assert.ok(alive, 'the server was still running at the end');
});

async function stillAnswering(): Promise<void> {
  assert.ok(server.alive(), 'the server process is running');
  const health = await api(server, 'health', {}, 10_000);
  assert.equal(health.status, 200);
}

test('teaching requests naming /dev/zero, a FIFO or a 12000x12000 PNG get a 4xx at once; memory stays flat', async () => {
  // Loads the default model's engine once, so what follows measures the refusals alone.
  const warm = await api(server, 'teaching.wand', { frame: { imagePath: valImage }, x: 10, y: 10, maxDistance: 1 });
  assert.equal(warm.status, 200, JSON.stringify(warm.body));
  const before = rssMb(server.pid);
  const cases: [string, string, RegExp][] = [
    [files.zero, 'image_invalid', /unsupported type/],
    [files.fifo, 'image_invalid', /frame\.png is not a regular file/],
    [files.bomb, 'image_too_large', /12000x12000 pixels, over the 40 million pixel limit/],
    [files.folder, 'image_invalid', /not a regular file/],
    [files.text, 'image_invalid', /has no PNG header/],
    ['/dev/zero/x.png', 'image_missing', /cannot be read/],
  ];
  const mask = { width: 480, height: 360, counts: [480 * 360] };
  for (const [imagePath, code, message] of cases) {
    const requests: [string, unknown][] = [
      ['teaching.wand', { frame: { imagePath }, x: 1, y: 1, maxDistance: 1 }],
      ['teaching.embeddings', { frame: { imagePath } }],
      ['teaching.preview', { name: 'cone', shots: [{ frame: { imagePath }, mask }] }],
    ];
    for (const [method, payload] of requests) {
      const started = performance.now();
      const answer = await api(server, method, payload, 15_000);
      assert.equal(answer.status, 422, `${method} ${imagePath}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, code, `${method} ${imagePath}`);
      assert.match(answer.body.message ?? '', message);
      assert.ok(performance.now() - started < 5000, `${method} ${imagePath} took ${performance.now() - started} ms`);
    }
  }
  await stillAnswering();
  assert.ok(rssMb(server.pid) < before + 100, `RSS ${before.toFixed(0)} -> ${rssMb(server.pid).toFixed(0)} MB`);
});

test('footage naming /dev/zero or a FIFO is refused at import without reading it', async () => {
  for (const path of [files.zero, files.fifo]) {
    const answer = await api(server, 'sessions.import', { paths: [path] }, 10_000);
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'footage_not_file');
  }
  await stillAnswering();
});

test('one unmasked WebSocket frame, or one over 1 MiB, closes that socket only: the server and other clients go on', async () => {
  const received: string[] = [];
  const good = new WebSocket(`ws://127.0.0.1:${server.port}/api/notifications?token=${server.token}`);
  good.on('message', (data: Buffer) => received.push((JSON.parse(data.toString()) as { name: string }).name));
  await new Promise((resolve, reject) => good.once('open', resolve).once('error', reject));

  const unmasked = await rawWebSocket(server, wsFrame({ opcode: 1, payload: Buffer.from('hello'), masked: false }));
  assert.match(unmasked.status, / 101 /);
  assert.deepEqual([unmasked.ended, unmasked.closeCode], [true, 1002]);
  const oversize = wsFrame({ opcode: 2, payload: Buffer.alloc(16), declaredLength: 2 * 1024 * 1024 });
  const tooLarge = await rawWebSocket(server, oversize);
  assert.deepEqual([tooLarge.ended, tooLarge.closeCode], [true, 1009]);
  await stillAnswering();

  const imported = await api(server, 'sessions.import', { paths: [footage], name: 'event check' });
  assert.equal(imported.status, 200);
  const deadline = Date.now() + 5000;
  while (!received.includes('sessions.changed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(received.includes('sessions.changed'), 'the good client still gets notifications');
  good.close();
});

test('the notification socket refuses a page of another origin (403), a wrong token (401) and another path (404)', async () => {
  const foreign = await rawWebSocket(server, Buffer.alloc(0), { headers: { origin: 'http://evil.example' } });
  assert.match(foreign.status, /^HTTP\/1\.1 403/);
  const own = await rawWebSocket(server, Buffer.alloc(0), { headers: { origin: `http://127.0.0.1:${server.port}` } });
  assert.match(own.status, / 101 /);
  assert.match((await rawWebSocket(server, Buffer.alloc(0), { token: 'wrong' })).status, /^HTTP\/1\.1 401/);
  await stillAnswering();
});

test('a body over 64 MB gets the 413, not a reset, whether its length is declared or chunked', async () => {
  const size = 65 * 1024 * 1024;
  const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const declared = await rawRequest(server, {
    method: 'POST',
    path: '/api/health',
    headers: { ...headers, 'content-length': String(size) },
    body: Buffer.alloc(size, 0x20),
  });
  assert.deepEqual([declared.status, declared.error], [413, undefined]);
  const chunked = await rawRequest(server, {
    method: 'POST',
    path: '/api/health',
    headers,
    body: async function* () {
      for (let sent = 0; sent < size; sent += 1024 * 1024) yield Buffer.alloc(1024 * 1024, 0x20);
    },
  });
  assert.deepEqual([chunked.status, chunked.error], [413, undefined]);
  await stillAnswering();
});

test('malformed paths answer 400, not 500: /%, /media/%zz, //[', async () => {
  for (const path of ['/%', `/media/%zz?token=${server.token}`, '//[']) {
    const answer = await rawRequest(server, { path });
    assert.equal(answer.status, 400, path);
  }
  await stillAnswering();
});

test('every response sends Referrer-Policy: no-referrer, so no URL with the token leaves as a Referer', async () => {
  for (const path of [
    '/',
    '/api/health',
    `/api/health?token=${server.token}`,
    `/media/thumbnail/1.jpg?token=${server.token}`,
  ]) {
    const answer = await rawRequest(server, { path });
    assert.equal(answer.headers['referrer-policy'], 'no-referrer', path);
  }
});

test('a knowledge import beyond what the model can hold is refused whole and commits nothing; teaching goes on', async () => {
  const before = await api(server, 'teaching.classes.list', { model: 'camvid' });
  assert.equal(before.status, 200);
  const tooMany = await api(server, 'teaching.import', { model: 'camvid', document: knowledgeDocument('camvid', 300) });
  assert.equal(tooMany.status, 422, JSON.stringify(tooMany.body));
  assert.match(tooMany.body.message ?? '', /classes: .*255/);
  const overfull = await api(server, 'teaching.import', {
    model: 'camvid',
    document: knowledgeDocument('camvid', 250),
  });
  assert.equal(overfull.status, 422, JSON.stringify(overfull.body));
  assert.equal(overfull.body.code, 'too_many_classes');
  assert.match(
    overfull.body.message ?? '',
    /camvid can take 244 taught classes beside its 11 built-in ones; this would make 250/,
  );
  const after = await api(server, 'teaching.classes.list', { model: 'camvid' });
  assert.deepEqual(after.body, before.body, 'no class and no knowledge version were stored');
  const fits = await api(server, 'teaching.import', {
    model: 'camvid',
    document: knowledgeDocument('camvid', 2, 'sign'),
  });
  assert.equal(fits.status, 200, JSON.stringify(fits.body));
  const wand = await api(server, 'teaching.wand', { frame: { imagePath: valImage }, x: 10, y: 10, maxDistance: 1 });
  assert.equal(wand.status, 200, 'teaching calls still work');
  await stillAnswering();
});

test('analysis.start with taught classes that no longer fit is refused with a 422, stores no analysis, and the server stays up', async () => {
  const analysesBefore = (await api(server, 'analysis.list', { sessionId })).body;
  const answer = await api(server, 'analysis.start', { sessionId, model: 'camvid-open' });
  assert.equal(answer.status, 422, JSON.stringify(answer.body));
  assert.equal(answer.body.code, 'too_many_classes');
  assert.match(answer.body.message ?? '', /delete or disable taught classes/);
  assert.deepEqual((await api(server, 'analysis.list', { sessionId })).body, analysesBefore);
  await stillAnswering();
});

test('model names and cards pointing outside the models folder are refused; a model that cannot load leaves no analysis', async () => {
  const analysesBefore = (await api(server, 'analysis.list', { sessionId })).body;
  const traversal = await api(server, 'analysis.start', { sessionId, model: '../models/camvid' });
  assert.equal(traversal.status, 400);
  assert.match(traversal.body.message ?? '', /model: must be a plain model name/);
  const escape = await api(server, 'analysis.start', { sessionId, model: 'escape' });
  assert.equal(escape.status, 422, JSON.stringify(escape.body));
  assert.match(
    escape.body.message ?? '',
    /escape\.json is invalid: onnx: must be a file name inside the models folder/,
  );
  const truncated = await api(server, 'analysis.start', { sessionId, model: 'truncated' });
  assert.equal(truncated.status, 422, JSON.stringify(truncated.body));
  assert.match(truncated.body.message ?? '', /truncated\.onnx does not match its card/);
  assert.deepEqual((await api(server, 'analysis.list', { sessionId })).body, analysesBefore, 'no failed analysis row');
  const listed = (await api(server, 'models.list', {})).body as unknown as { name: string; status: string }[];
  assert.deepEqual(
    listed.map((model) => [model.name, model.status]),
    [...linkedModels.map((name) => [name, 'ok']), ['escape', 'error'], ['truncated', 'error']].sort(([a], [b]) =>
      a!.localeCompare(b!),
    ),
  );
  await stillAnswering();
});

test('a knowledge base an older build left over capacity: teaching says what to do, export works, deletes commit and answer, then teaching works', async () => {
  const wand = { model: 'camvid-open', frame: { imagePath: valImage }, x: 10, y: 10, maxDistance: 1 };
  const refused = await api(server, 'teaching.wand', wand);
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'too_many_classes');
  assert.match(
    refused.body.message ?? '',
    /camvid-open can take 246 taught classes beside its 9 built-in ones; this would make 250: delete or disable/,
  );
  const exported = await api(server, 'teaching.export', { model: 'camvid-open' });
  assert.equal(exported.status, 200, 'the knowledge base can still be saved');
  assert.equal((exported.body.classes as unknown[]).length, 250);
  const listed = (await api(server, 'teaching.classes.list', { model: 'camvid-open' })).body as unknown as {
    classes: { id: number }[];
  };
  for (const cls of listed.classes.slice(0, 4)) {
    const deleted = await api(server, 'teaching.delete', { classId: cls.id });
    assert.equal(deleted.status, 200, `a committed delete answers ok: ${JSON.stringify(deleted.body)}`);
  }
  const works = await api(server, 'teaching.wand', wand);
  assert.equal(works.status, 200, JSON.stringify(works.body));
  await stillAnswering();
});
