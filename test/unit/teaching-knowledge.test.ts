import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src-main/core/errors.js';
import { openLibraryDatabase, schemaVersion } from '../../src-main/library/database.js';
import { openLibrary } from '../../src-main/library/index.js';
import { exportKnowledge, importKnowledge, type ModelIdentity } from '../../src-main/teaching/knowledge-file.js';
import { refuseTooManyClasses, type NewTaughtClass } from '../../src-main/library/knowledge.js';

const model: ModelIdentity = { name: 'camvid-open', sha256: 'a'.repeat(64), embeddingDim: 3 };

function openStore() {
  const library = openLibrary(join(mkdtempSync(join(tmpdir(), 'dml-teach-')), 'library.sqlite'));
  return { library, store: library.knowledge };
}

function pedestrian(overrides: Partial<NewTaughtClass> = {}): NewTaughtClass {
  return {
    modelSha256: model.sha256,
    embeddingDim: 3,
    name: 'pedestrian',
    color: [220, 20, 60],
    prototypes: [[0.5, 0.5, 0]],
    acceptanceRadius: 1.2,
    createdBy: 'alice',
    shots: [
      {
        frame: { analysisId: 4, frameIndex: 17 },
        description: 'analysis 4, frame 17',
        pixels: 3,
        mask: { width: 2, height: 2, counts: [1, 3] },
      },
    ],
    ...overrides,
  };
}

const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

test('the knowledge base is library migration 3 and records who taught what from which frames', () => {
  const { library, store } = openStore();
  const file = openLibraryDatabase(library.path);
  assert.ok(schemaVersion(file) >= 3);
  file.close();
  assert.equal(store.currentVersion(), null);
  assert.deepEqual(store.activePrototypes(model.sha256), { version: null, classes: [] });
  const { taughtClass, version } = store.add(pedestrian());
  assert.equal(version, 1);
  assert.equal(taughtClass.createdBy, 'alice');
  assert.deepEqual(taughtClass.shots, [
    { frame: { analysisId: 4, frameIndex: 17 }, description: 'analysis 4, frame 17', pixels: 3 },
  ]);
  assert.deepEqual(store.activePrototypes(model.sha256).classes, [
    { name: 'pedestrian', color: [220, 20, 60], prototypes: [[0.5, 0.5, 0]], acceptanceRadius: 1.2 },
  ]);
  // Another model's embedding space never sees this class.
  assert.deepEqual(store.activePrototypes('b'.repeat(64)).classes, []);
  library.close();
});

test('rename, recolour, disable and delete each make a new version; old versions still explain old analyses', () => {
  const { library, store } = openStore();
  const { taughtClass } = store.add(pedestrian());
  const renamed = store.update(taughtClass.id, { name: 'person', color: [1, 2, 3] }, 'bob');
  assert.equal(renamed.version, 2);
  assert.equal(renamed.taughtClass.name, 'person');
  assert.deepEqual(renamed.taughtClass.color, [1, 2, 3]);
  const disabled = store.update(taughtClass.id, { enabled: false }, 'bob');
  assert.equal(disabled.taughtClass.enabled, false);
  assert.deepEqual(store.activePrototypes(model.sha256).classes, []);
  const deleted = store.delete(taughtClass.id, 'bob');
  assert.equal(deleted, 4);
  assert.deepEqual(store.list(model.sha256), []);
  // Version 2, which an analysis may have recorded, still holds the class as it was then.
  assert.equal(store.activePrototypes(model.sha256, 2).classes[0]?.name, 'person');
  assert.throws(() => store.update(taughtClass.id, { name: 'x' }, 'bob'), code('not_found'));
  assert.throws(() => store.activePrototypes(model.sha256, 99), code('not_found'));
  library.close();
});

test('a class name that exists (any case) is refused and nothing is stored', () => {
  const { library, store } = openStore();
  store.add(pedestrian());
  assert.throws(
    () => store.add(pedestrian({ name: 'Pedestrian' })),
    (error: unknown) => code('conflict')(error) && /already exists/.test((error as Error).message),
  );
  const other = store.add(pedestrian({ name: 'bicyclist' })).taughtClass;
  assert.throws(() => store.update(other.id, { name: 'PEDESTRIAN' }, 'bob'), code('conflict'));
  assert.deepEqual(
    store.list(model.sha256).map((cls) => cls.name),
    ['pedestrian', 'bicyclist'],
  );
  assert.equal(store.currentVersion(), 2);
  library.close();
});

test('export and import move taught classes to another library as one version', () => {
  const source = openStore();
  source.store.add(pedestrian());
  source.store.add(
    pedestrian({
      name: 'bicyclist',
      prototypes: [
        [0, 0.5, 0.5],
        [0, 0.4, 0.6],
      ],
      enabled: false,
    }),
  );
  const document = exportKnowledge(source.store, model);
  assert.equal(document.classes.length, 2);
  const target = openStore();
  target.store.add(pedestrian({ prototypes: [[9, 9, 9]] }));
  const outcome = importKnowledge(target.store, JSON.stringify(document), model, 'carol');
  assert.deepEqual(outcome, { imported: ['bicyclist'], skipped: ['pedestrian'], knowledgeVersion: 2 });
  const imported = target.store.list(model.sha256).find((cls) => cls.name === 'bicyclist')!;
  assert.deepEqual(imported.prototypes, [
    [0, 0.5, 0.5],
    [0, 0.4, 0.6],
  ]);
  assert.equal(imported.enabled, false);
  assert.equal(imported.createdBy, 'alice');
  assert.equal(imported.shots[0]?.frame, null);
  // The existing pedestrian was not overwritten.
  assert.deepEqual(target.store.list(model.sha256)[0]?.prototypes, [[9, 9, 9]]);
  source.library.close();
  target.library.close();
});

test('a knowledge file from another model, a corrupt file or a malformed prototype is refused and loses nothing', () => {
  const source = openStore();
  source.store.add(pedestrian());
  const text = JSON.stringify(exportKnowledge(source.store, model));
  const target = openStore();
  target.store.add(pedestrian({ name: 'kept' }));
  const refuse = (input: string, identity: ModelIdentity, expected: string, pattern: RegExp) =>
    assert.throws(
      () => importKnowledge(target.store, input, identity, 'carol'),
      (error: unknown) => code(expected)(error) && pattern.test((error as Error).message),
    );
  refuse(text, { ...model, sha256: 'c'.repeat(64) }, 'knowledge_model_mismatch', /sha256 aaaaaaaaaaaa/);
  refuse(text, { ...model, embeddingDim: 11 }, 'knowledge_model_mismatch', /embedding size 3.*embedding size 11/);
  refuse(text.slice(0, text.length / 2), model, 'invalid_knowledge_file', /not valid JSON/);
  refuse('{"format":"something-else"}', model, 'invalid_knowledge_file', /format/);
  const bad = JSON.parse(text) as { classes: { prototypes: number[][] }[] };
  bad.classes[0]!.prototypes = [[1, 2]];
  refuse(JSON.stringify(bad), model, 'invalid_knowledge_file', /not 3 finite numbers/);
  assert.deepEqual(
    target.store.list(model.sha256).map((cls) => cls.name),
    ['kept'],
  );
  assert.equal(target.store.currentVersion(), 1);
  source.library.close();
  target.library.close();
});

test('a change its check refuses (too many classes for the model) stores nothing: no class, no version', () => {
  const { library, store } = openStore();
  store.add(pedestrian());
  const document = JSON.stringify({
    ...exportKnowledge(store, model),
    classes: Array.from({ length: 3 }, (_, i) => ({ ...exportKnowledge(store, model).classes[0]!, name: `cone ${i}` })),
  });
  // A model with 252 built-in classes has room for 3 taught ones: pedestrian and 2 more.
  const check = (classes: unknown[]) => refuseTooManyClasses('wide-model', 252, classes.length);
  assert.throws(
    () => importKnowledge(store, document, model, 'bob', check),
    (error: unknown) =>
      error instanceof AppError &&
      error.code === 'too_many_classes' &&
      /wide-model can take 3 taught classes beside its 252 built-in ones; this would make 4/.test(error.message),
  );
  assert.deepEqual(
    store.list(model.sha256).map((cls) => cls.name),
    ['pedestrian'],
  );
  assert.equal(store.currentVersion(), 1);
  const disabled = store.update(store.list(model.sha256)[0]!.id, { enabled: false }, 'bob');
  assert.throws(
    () =>
      store.update(disabled.taughtClass.id, { enabled: true }, 'bob', () => {
        throw new AppError('too_many_classes', 'no room');
      }),
    code('too_many_classes'),
  );
  assert.equal(store.get(disabled.taughtClass.id).enabled, false);
  assert.equal(store.currentVersion(), 2);
  library.close();
});
