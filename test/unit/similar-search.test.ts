import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import type { AppError } from '../../src-main/core/errors.js';
import { encodeClassMapPng, UNKNOWN_CLASS } from '../../src-main/engine/index.js';
import { openLibrary, type Library, type StoredFrame } from '../../src-main/library/index.js';
import { SimilarSearch, similarityOf } from '../../src-main/similar/index.js';
import { driveLikeFrame, writeSyntheticSession } from '../helpers/synthetic-library.js';

// Maps of 48 x 36 cells (the size floor is 5 pixels there) over 480 x 360 source frames: a cell is 10 x 10 pixels.
const MAP_W = 48;
const MAP_H = 36;
const ROAD = 3;
const SCALE = 2;
const MODEL_A = 'a'.repeat(64);
const MODEL_B = 'b'.repeat(64);

/** A frame of road with one 6 x 6 unknown block at (bx, by) whose mean embedding is `vector`. */
function frameWith(index: number, vector: number[], block = { bx: 10, by: 12 }, describe = true): StoredFrame {
  const classMap = new Uint8Array(MAP_W * MAP_H).fill(ROAD);
  for (let y = block.by; y < block.by + 6; y++)
    for (let x = block.bx; x < block.bx + 6; x++) classMap[y * MAP_W + x] = UNKNOWN_CLASS;
  const region: UnknownRegion = {
    pixels: 36,
    x: block.bx,
    y: block.by,
    width: 6,
    height: 6,
    meanScore: 0.75,
    border: [],
    drivable: 'on',
    inSky: false,
    place: 'road',
    score: 0.75,
  };
  const box = { x: block.bx, y: block.by, width: 6, height: 6, pixels: 36 };
  const road = { x: 0, y: 0, width: MAP_W, height: MAP_H, pixels: MAP_W * MAP_H - 36 };
  return {
    ...driveLikeFrame(index),
    classMapPng: encodeClassMapPng({ classMap, width: MAP_W, height: MAP_H }),
    regions: { mapWidth: MAP_W, mapHeight: MAP_H, regions: [region] },
    descriptors: describe
      ? {
          dim: 2,
          scale: SCALE,
          regions: [
            { ...road, classIndex: ROAD, regionIndex: 0, meanScore: 0.1, spread: 0.5 },
            { ...box, classIndex: UNKNOWN_CLASS, regionIndex: 0, meanScore: 0.75, spread: 0.25 },
          ],
          means: Float32Array.from([10, 10, ...vector]),
        }
      : undefined,
  };
}

async function session(store: Library, name: string, vectors: number[][], model = MODEL_A, describe = true) {
  return await writeSyntheticSession(store, {
    name,
    frames: vectors.length,
    frame: (index) => frameWith(index, vectors[index]!, undefined, describe),
    analysis: { modelName: model === MODEL_A ? 'model-a' : 'model-b', modelSha256: model },
  });
}

async function fixture() {
  const store = await openLibrary(join(mkdtempSync(join(tmpdir(), 'dml-similar-')), 'library.sqlite'));
  // Stored as int8 with a step of largest / 127: distances come back within a few hundredths.
  const a = await session(store, 'drive a', [
    [0, 0],
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 0],
  ]);
  const b = await session(store, 'drive b', [
    [0.5, 0],
    [1.5, 0],
    [2.5, 0],
  ]);
  const other = await session(store, 'drive c', [[0, 0]], MODEL_B);
  const old = await session(store, 'drive d', [[0, 0]], MODEL_A, false);
  return { store, a, b, other, old, search: new SimilarSearch(store) };
}

const request = (analysisId: number, frameIndex = 0) => ({
  analysisId,
  frameIndex,
  query: { kind: 'region' as const, regionIndex: 0 },
  among: 'unknown' as const,
  limit: 5,
});

test('ranks the regions of every analysis of the same model by squared distance, the query frame left out', async () => {
  const { a, other, old, search } = await fixture();
  const answer = await search.find(request(a.analysisId));
  const ranked = answer.results.map((result) => [result.sessionName, result.frameIndex]);
  assert.deepEqual(ranked, [
    ['drive b', 0],
    ['drive a', 1],
    ['drive b', 1],
    ['drive a', 2],
    ['drive b', 2],
  ]);
  const expected = [0.25, 1, 2.25, 4, 6.25];
  answer.results.forEach((result, i) => {
    assert.ok(Math.abs(result.distance - expected[i]!) < 0.05, `${result.distance} vs ${expected[i]}`);
    assert.equal(result.similarity, similarityOf(result.distance, SCALE));
    assert.deepEqual(result.box, { x: 100, y: 120, width: 60, height: 60 });
    assert.equal(result.kind, 'unknown');
    assert.equal(result.regionIndex, 0);
    assert.equal(result.eventId, null);
  });
  assert.equal(answer.similarityScale, SCALE);
  assert.deepEqual(answer.query.box, { x: 100, y: 120, width: 60, height: 60 });
  assert.deepEqual(answer.searched, { analyses: 2, regions: 2 * (5 + 3) });
  assert.deepEqual(
    answer.skipped.map((skipped) => [skipped.analysisId, skipped.reason]),
    [
      [other.analysisId, 'other-model'],
      [old.analysisId, 'no-descriptors'],
    ],
  );
  assert.match(
    answer.skipped[1]!.message,
    new RegExp(
      `re-analyse the session to search it \\(dmlreview analyze "/synthetic.mp4" --model model-a --fps 2 --new; or API analysis.start \\{ sessionId: ${old.sessionId} \\}\\)`,
    ),
  );
});

test('a cut-off distance, a point under the region, and class components when asked for', async () => {
  const { a, search } = await fixture();
  const near = await search.find({ ...request(a.analysisId), maxDistance: 2.3 });
  assert.equal(near.results.length, 3);
  const byPoint = await search.find({ ...request(a.analysisId), query: { kind: 'point', x: 125, y: 175 } });
  assert.deepEqual(byPoint.results, (await search.find(request(a.analysisId))).results);
  await assert.rejects(
    search.find({ ...request(a.analysisId), query: { kind: 'point', x: 5, y: 5 } }),
    (error: AppError) =>
      error.code === 'similar_no_region' &&
      /\(5, 5\) of frame 0 of analysis \d+ is on no unknown region/.test(error.message),
  );
  const roads = await search.find({ ...request(a.analysisId), query: { kind: 'point', x: 5, y: 5 }, among: 'all' });
  assert.equal(roads.query.kind, 'class');
  assert.equal(roads.query.classIndex, ROAD);
  assert.ok(
    roads.results.every((result) => result.kind === 'class' && result.classIndex === ROAD && result.distance < 0.01),
  );
});

test('a search sees frames written after the previous one (the cache follows the analysis)', async () => {
  const { store, a, search } = await fixture();
  await search.find(request(a.analysisId));
  const cached = search.cachedBytes;
  assert.ok(cached > 0);
  await store.frames.write(a.analysisId, [frameWith(5, [0.125, 0])]);
  const answer = await search.find(request(a.analysisId));
  assert.deepEqual([answer.results[0]!.sessionName, answer.results[0]!.frameIndex], ['drive a', 5]);
});

test('a memory budget smaller than an analysis still searches it, keeping nothing', async () => {
  const { store, a } = await fixture();
  const search = new SimilarSearch(store, { cacheBytes: 10 });
  assert.equal((await search.find(request(a.analysisId))).results.length, 5);
  assert.equal(search.cachedBytes, 0);
});

test('errors name the analysis, the frame or the region, and say how to get descriptors', async () => {
  const { old, a, search } = await fixture();
  await assert.rejects(
    search.find(request(old.analysisId)),
    (error: AppError) =>
      error.code === 'similar_no_descriptors' &&
      error.message.includes(`Analysis ${old.analysisId} of session ${old.sessionId}`) &&
      /re-analyse/.test(error.message),
  );
  await assert.rejects(search.find(request(999)), /Analysis 999 was not found/);
  await assert.rejects(search.find(request(a.analysisId, 99)), /Frame 99 of analysis \d+ was not found/);
  await assert.rejects(
    search.find({ ...request(a.analysisId), query: { kind: 'region', regionIndex: 3 } }),
    /has 1 unknown regions; there is no region 3/,
  );
  await assert.rejects(
    search.find({ ...request(a.analysisId), query: { kind: 'point', x: 480, y: 0 } }),
    /outside frame 0 of analysis \d+, which is 480x360 source pixels/,
  );
});
