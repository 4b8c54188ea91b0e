import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src-main/core/errors.js';
import { openLibrary } from '../../src-main/library/index.js';
import { exportKnowledge, importKnowledge, type ModelIdentity } from '../../src-main/teaching/knowledge-file.js';
import { refuseTooManyClasses, type NewTaughtClass } from '../../src-main/library/knowledge.js';

const model: ModelIdentity = { name: 'camvid-open', sha256: 'a'.repeat(64), embeddingDim: 3 };

import { queryNumber, storeBackends, type StoreBackend } from '../helpers/store-backends.js';

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

for (const backend of storeBackends) knowledgeTests(backend);

function knowledgeTests(backend: StoreBackend): void {
  const it = (name: string, fn: () => Promise<void>) => test(`${backend.name}: ${name}`, { skip: backend.skip }, fn);
  const openStore = async () => {
    const library = await openLibrary(await backend.newLocation());
    return { library, store: library.knowledge };
  };

  it('the knowledge base is library migration 3 and records who taught what from which frames', async () => {
    const { library, store } = await openStore();
    assert.ok((await queryNumber(library.path, 'SELECT max(version) FROM schema_migrations')) >= 3);
    assert.equal(await store.currentVersion(), null);
    assert.deepEqual(await store.activePrototypes(model.sha256), { version: null, classes: [] });
    const { taughtClass, version } = await store.add(pedestrian());
    assert.equal(version, 1);
    assert.equal(taughtClass.createdBy, 'alice');
    assert.deepEqual(taughtClass.shots, [
      { frame: { analysisId: 4, frameIndex: 17 }, description: 'analysis 4, frame 17', pixels: 3 },
    ]);
    assert.deepEqual((await store.activePrototypes(model.sha256)).classes, [
      { name: 'pedestrian', color: [220, 20, 60], prototypes: [[0.5, 0.5, 0]], acceptanceRadius: 1.2 },
    ]);
    // Another model's embedding space never sees this class.
    assert.deepEqual((await store.activePrototypes('b'.repeat(64))).classes, []);
    await library.close();
  });

  it('rename, recolour, disable and delete each make a new version; old versions still explain old analyses', async () => {
    const { library, store } = await openStore();
    const { taughtClass } = await store.add(pedestrian());
    const renamed = await store.update(taughtClass.id, { name: 'person', color: [1, 2, 3] }, 'bob');
    assert.equal(renamed.version, 2);
    assert.equal(renamed.taughtClass.name, 'person');
    assert.deepEqual(renamed.taughtClass.color, [1, 2, 3]);
    const disabled = await store.update(taughtClass.id, { enabled: false }, 'bob');
    assert.equal(disabled.taughtClass.enabled, false);
    assert.deepEqual((await store.activePrototypes(model.sha256)).classes, []);
    const deleted = await store.delete(taughtClass.id, 'bob');
    assert.equal(deleted, 4);
    assert.deepEqual(await store.list(model.sha256), []);
    // Version 2, which an analysis may have recorded, still holds the class as it was then.
    assert.equal((await store.activePrototypes(model.sha256, 2)).classes[0]?.name, 'person');
    await assert.rejects(() => store.update(taughtClass.id, { name: 'x' }, 'bob'), code('not_found'));
    await assert.rejects(() => store.activePrototypes(model.sha256, 99), code('not_found'));
    await library.close();
  });

  it('a class name that exists (any case) is refused and nothing is stored', async () => {
    const { library, store } = await openStore();
    await store.add(pedestrian());
    await assert.rejects(
      () => store.add(pedestrian({ name: 'Pedestrian' })),
      (error: unknown) => code('conflict')(error) && /already exists/.test((error as Error).message),
    );
    const other = (await store.add(pedestrian({ name: 'bicyclist' }))).taughtClass;
    await assert.rejects(() => store.update(other.id, { name: 'PEDESTRIAN' }, 'bob'), code('conflict'));
    assert.deepEqual(
      (await store.list(model.sha256)).map((cls) => cls.name),
      ['pedestrian', 'bicyclist'],
    );
    assert.equal(await store.currentVersion(), 2);
    await library.close();
  });

  it('export and import move taught classes to another library as one version', async () => {
    const source = await openStore();
    await source.store.add(pedestrian());
    await source.store.add(
      pedestrian({
        name: 'bicyclist',
        prototypes: [
          [0, 0.5, 0.5],
          [0, 0.4, 0.6],
        ],
        enabled: false,
      }),
    );
    const document = await exportKnowledge(source.store, model);
    assert.equal(document.classes.length, 2);
    const target = await openStore();
    await target.store.add(pedestrian({ prototypes: [[9, 9, 9]] }));
    const outcome = await importKnowledge(target.store, JSON.stringify(document), model, 'carol');
    assert.deepEqual(outcome, { imported: ['bicyclist'], skipped: ['pedestrian'], knowledgeVersion: 2 });
    const imported = (await target.store.list(model.sha256)).find((cls) => cls.name === 'bicyclist')!;
    assert.deepEqual(imported.prototypes, [
      [0, 0.5, 0.5],
      [0, 0.4, 0.6],
    ]);
    assert.equal(imported.enabled, false);
    assert.equal(imported.createdBy, 'alice');
    assert.equal(imported.shots[0]?.frame, null);
    // The existing pedestrian was not overwritten.
    assert.deepEqual((await target.store.list(model.sha256))[0]?.prototypes, [[9, 9, 9]]);
    await source.library.close();
    await target.library.close();
  });

  it('a knowledge file from another model, a corrupt file or a malformed prototype is refused and loses nothing', async () => {
    const source = await openStore();
    await source.store.add(pedestrian());
    const text = JSON.stringify(await exportKnowledge(source.store, model));
    const target = await openStore();
    await target.store.add(pedestrian({ name: 'kept' }));
    const refuse = (input: string, identity: ModelIdentity, expected: string, pattern: RegExp) =>
      assert.rejects(
        () => importKnowledge(target.store, input, identity, 'carol'),
        (error: unknown) => code(expected)(error) && pattern.test((error as Error).message),
      );
    await refuse(text, { ...model, sha256: 'c'.repeat(64) }, 'knowledge_model_mismatch', /sha256 aaaaaaaaaaaa/);
    await refuse(
      text,
      { ...model, embeddingDim: 11 },
      'knowledge_model_mismatch',
      /embedding size 3.*embedding size 11/,
    );
    await refuse(text.slice(0, text.length / 2), model, 'invalid_knowledge_file', /not valid JSON/);
    await refuse('{"format":"something-else"}', model, 'invalid_knowledge_file', /format/);
    const bad = JSON.parse(text) as { classes: { prototypes: number[][] }[] };
    bad.classes[0]!.prototypes = [[1, 2]];
    await refuse(JSON.stringify(bad), model, 'invalid_knowledge_file', /not 3 finite numbers/);
    assert.deepEqual(
      (await target.store.list(model.sha256)).map((cls) => cls.name),
      ['kept'],
    );
    assert.equal(await target.store.currentVersion(), 1);
    await source.library.close();
    await target.library.close();
  });

  it('a change its check refuses (too many classes for the model) stores nothing: no class, no version', async () => {
    const { library, store } = await openStore();
    await store.add(pedestrian());
    const exported = await exportKnowledge(store, model);
    const document = JSON.stringify({
      ...exported,
      classes: Array.from({ length: 3 }, (_, i) => ({ ...exported.classes[0]!, name: `cone ${i}` })),
    });
    // A model with 252 built-in classes has room for 3 taught ones: pedestrian and 2 more.
    const check = (classes: unknown[]) => refuseTooManyClasses('wide-model', 252, classes.length);
    await assert.rejects(
      () => importKnowledge(store, document, model, 'bob', check),
      (error: unknown) =>
        error instanceof AppError &&
        error.code === 'too_many_classes' &&
        /wide-model can take 3 taught classes beside its 252 built-in ones; this would make 4/.test(error.message),
    );
    assert.deepEqual(
      (await store.list(model.sha256)).map((cls) => cls.name),
      ['pedestrian'],
    );
    assert.equal(await store.currentVersion(), 1);
    const disabled = await store.update((await store.list(model.sha256))[0]!.id, { enabled: false }, 'bob');
    await assert.rejects(
      () =>
        store.update(disabled.taughtClass.id, { enabled: true }, 'bob', () => {
          throw new AppError('too_many_classes', 'no room');
        }),
      code('too_many_classes'),
    );
    assert.equal((await store.get(disabled.taughtClass.id)).enabled, false);
    assert.equal(await store.currentVersion(), 2);
    await library.close();
  });
}
