// A fleet worker keeps its engine open from chunk to chunk (jobs/fleet/engine-cache.ts): one model load for the
// chunks of one model, a new one when the model changes, none left open when the worker stops.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureStandInFrame, openStandInEngine } from '../../bench/stand-in-engine.js';
import type { Engine } from '../../src-main/engine/types.js';
import { EngineCache } from '../../src-main/jobs/fleet/engine-cache.js';
import { valDrive } from '../helpers/clips.js';
import { testModelsDir } from '../helpers/models.js';

test('one engine for the chunks of one model; a new one for another model; disposed on close', async () => {
  const captured = await captureStandInFrame(testModelsDir, 'road', valDrive);
  const opened: { model: string; disposed: boolean }[] = [];
  const cache = new EngineCache(async (_dir, model) => {
    const engine = openStandInEngine(captured);
    const record = { model, disposed: false };
    opened.push(record);
    return Object.assign(Object.create(engine) as Engine, {
      dispose: async () => void (record.disposed = true),
    });
  });
  const first = await cache.factory(testModelsDir, 'road', { threads: 1 });
  await first.dispose(); // what the pipeline does after each chunk
  const second = await cache.factory(testModelsDir, 'road', { threads: 1 });
  assert.equal(opened.length, 1);
  assert.equal(opened[0]!.disposed, false);
  assert.equal(second.modelSha256, first.modelSha256);
  const frame = { width: 4, height: 2, data: new Uint8Array(24).fill(255) };
  assert.equal((await second.analyze(frame)).summary.score, 1, 'the kept engine still analyses');

  await cache.factory(testModelsDir, 'other', { threads: 1 });
  assert.deepEqual(
    opened.map((record) => [record.model, record.disposed]),
    [
      ['road', true],
      ['other', false],
    ],
  );
  await cache.close();
  assert.equal(opened[1]!.disposed, true);
});

test('a model that fails to open is opened again on the next chunk', async () => {
  let attempts = 0;
  const cache = new EngineCache(async () => {
    attempts += 1;
    throw new Error('model missing');
  });
  await assert.rejects(cache.factory('models', 'road', undefined), /model missing/);
  await assert.rejects(cache.factory('models', 'road', undefined), /model missing/);
  assert.equal(attempts, 2);
});
