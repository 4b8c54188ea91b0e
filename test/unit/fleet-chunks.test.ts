/**
 * The fleet's chunks, on both databases: how a session is split, how chunk leases are held and lost, and how
 * the frames chunks stored in index ranges of their own are numbered contiguously at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FootageSource } from '../../src-main/footage/index.js';
import { planChunks } from '../../src-main/jobs/fleet/chunks.js';
import {
  CHUNK_INDEX_STRIDE,
  ChunkOwnedError,
  newOwner,
  openLibrary,
  STALE_AFTER_MS,
} from '../../src-main/library/index.js';
import { driveLikeFrame, syntheticVideo, writeSyntheticSession } from '../helpers/synthetic-library.js';
import { storeBackends, type StoreBackend } from '../helpers/store-backends.js';

const source = (position: number, offsetMs: number, seconds: number, kind: FootageSource['kind']): FootageSource => ({
  ...syntheticVideo(seconds * 2, 500, `/drive/${position}`),
  kind,
  position,
  offsetMs,
});

test('a session is one chunk per source; a long video is cut in ranges, the last between half and one and a half chunks', () => {
  const chunks = planChunks(
    [source(0, 0, 12, 'video'), source(1, 12_000, 8, 'video'), source(2, 20_000, 40, 'image-folder')],
    5,
  );
  assert.deepEqual(
    chunks.map(({ chunk, sourcePosition, fromMs, untilMs, firstIndex }) => [
      chunk,
      sourcePosition,
      fromMs,
      untilMs,
      firstIndex / CHUNK_INDEX_STRIDE,
    ]),
    [
      [0, 0, null, 5000, 0],
      [1, 0, 5000, null, 1],
      [2, 1, null, 17_000, 2],
      [3, 1, 17_000, null, 3],
      [4, 2, null, null, 4],
    ],
  );
  assert.deepEqual(
    planChunks([source(0, 0, 7, 'video')], 5).map((chunk) => [chunk.fromMs, chunk.untilMs]),
    [[null, null]],
  );
});

async function libraryWithAnalysis(backend: StoreBackend, now?: () => number) {
  const store = await openLibrary(await backend.newLocation(), now ? { now } : {});
  // A session and its analysis, no frames yet: the chunks write them.
  const { analysisId } = await writeSyntheticSession(store, { frames: 0, frame: driveLikeFrame });
  return { store, analysisId };
}

/** Frame `k` of the chunk whose frames start at `first`, at session index `sessionIndex`. */
function chunkFrame(first: number, k: number, sessionIndex: number) {
  const frame = driveLikeFrame(sessionIndex);
  return { ...frame, index: first + k, classMapPng: Buffer.from([sessionIndex, 1]) };
}

for (const backend of storeBackends) {
  test(
    `${backend.name}: frames stored by chunks out of order are numbered contiguously in timeline order, maps and flags with them`,
    { skip: backend.skip },
    async () => {
      const { store, analysisId } = await libraryWithAnalysis(backend);
      try {
        // Three chunks of 5, 3 and 4 frames (session frames 0-4, 5-7, 8-11), the last written first.
        const ranges = [
          { first: 0, from: 0, count: 5 },
          { first: CHUNK_INDEX_STRIDE, from: 5, count: 3 },
          { first: 2 * CHUNK_INDEX_STRIDE, from: 8, count: 4 },
        ];
        for (const { first, from, count } of [ranges[2]!, ranges[0]!, ranges[1]!])
          await store.frames.write(
            analysisId,
            Array.from({ length: count }, (_, k) => chunkFrame(first, k, from + k)),
          );
        await store.flags.add({ analysisId, frameIndex: CHUNK_INDEX_STRIDE + 1, category: 'hazard', note: 'debris' });
        // Before the end the timeline holds the first chunk's frames, each at its index.
        assert.deepEqual(
          [...(await store.frames.timeline(analysisId)).timesMs],
          [0, 1, 2, 3, 4].map((i) => driveLikeFrame(i).timeMs),
        );
        await store.transaction(() =>
          store.frames.renumber(
            analysisId,
            ranges.map((range) => range.first),
          ),
        );
        const expected = Array.from({ length: 12 }, (_, i) => driveLikeFrame(i));
        const timeline = await store.frames.timeline(analysisId);
        assert.deepEqual(
          [...timeline.timesMs],
          expected.map((frame) => frame.timeMs),
        );
        assert.deepEqual(
          [...timeline.scores],
          expected.map((frame) => frame.score),
        );
        for (const i of [0, 5, 6, 11]) {
          assert.equal((await store.frames.get(analysisId, i)).timeMs, expected[i]!.timeMs);
          assert.deepEqual([...(await store.frames.map(analysisId, i, 'class_map'))!], [i, 1]);
        }
        const [flag] = await store.flags.list((await store.analyses.get(analysisId)).sessionId);
        assert.equal(flag!.frameIndex, 6);
        assert.equal((await store.frames.top({ analysisId, offset: 0, limit: 100 })).total, 12);
        assert.equal((await store.analyses.get(analysisId)).framesDone, 12);
      } finally {
        await store.close();
      }
    },
  );

  test(
    `${backend.name}: while a later chunk runs, the chunks done so far are numbered from the start and the timeline shows them`,
    { skip: backend.skip },
    async () => {
      const { store, analysisId } = await libraryWithAnalysis(backend);
      try {
        // Chunks of 5, 3 and 4 frames; the first two done, the last still writing (2 of its frames so far).
        const firsts = [0, CHUNK_INDEX_STRIDE, 2 * CHUNK_INDEX_STRIDE];
        const write = (first: number, from: number, count: number, start = 0) =>
          store.frames.write(
            analysisId,
            Array.from({ length: count }, (_, k) => chunkFrame(first, start + k, from + start + k)),
          );
        await write(firsts[1]!, 5, 3);
        await write(firsts[0]!, 0, 5);
        await write(firsts[2]!, 8, 2);
        const timesOf = (count: number) => Array.from({ length: count }, (_, i) => driveLikeFrame(i).timeMs);
        for (let round = 0; round < 2; round++) {
          await store.transaction(() => store.frames.renumber(analysisId, firsts.slice(0, 2), firsts[2]));
          assert.deepEqual([...(await store.frames.timeline(analysisId)).timesMs], timesOf(8), `round ${round}`);
        }
        assert.equal((await store.frames.get(analysisId, 7)).timeMs, driveLikeFrame(7).timeMs);
        assert.deepEqual([...(await store.frames.map(analysisId, 6, 'class_map'))!], [6, 1]);
        // The running chunk's frames kept their range, and it writes on there.
        assert.equal((await store.frames.get(analysisId, firsts[2]! + 1)).timeMs, driveLikeFrame(9).timeMs);
        await write(firsts[2]!, 8, 2, 2);
        await store.transaction(() => store.frames.renumber(analysisId, firsts));
        const timeline = await store.frames.timeline(analysisId);
        assert.deepEqual([...timeline.timesMs], timesOf(12));
        assert.deepEqual(
          [...timeline.scores],
          Array.from({ length: 12 }, (_, i) => driveLikeFrame(i).score),
        );
        assert.equal((await store.frames.top({ analysisId, offset: 0, limit: 100 })).total, 12);
      } finally {
        await store.close();
      }
    },
  );

  test(
    `${backend.name}: a chunk's lease: one live holder; a stale one is taken over and listed as abandoned`,
    { skip: backend.skip },
    async () => {
      let clock = Date.now();
      const { store, analysisId } = await libraryWithAnalysis(backend, () => clock);
      try {
        await store.chunks.plan(analysisId, [
          { chunk: 0, sourcePosition: 0, fromMs: null, untilMs: null, firstIndex: 0 },
        ]);
        // A holder on another host: alive as long as it beats.
        const first = { ...newOwner(), host: 'other-host' };
        const second = newOwner();
        assert.equal((await store.chunks.claim(analysisId, 0, first)).status, 'running');
        await assert.rejects(store.chunks.claim(analysisId, 0, second), ChunkOwnedError);
        assert.deepEqual(await store.chunks.abandoned(), []);
        clock += STALE_AFTER_MS + 1;
        assert.deepEqual(
          (await store.chunks.abandoned()).map((chunk) => chunk.holder?.token),
          [first.token],
        );
        await store.chunks.claim(analysisId, 0, second);
        assert.equal(await store.chunks.beat(analysisId, 0, first.token), false, 'the first holder lost it');
        assert.equal(await store.chunks.holds(analysisId, 0, second.token), true);
        await store.transaction(() => store.chunks.complete(analysisId, 0, null));
        assert.equal((await store.chunks.claim(analysisId, 0, first)).status, 'done', 'a done chunk is left as it is');
        assert.deepEqual(await store.chunks.ended(), [analysisId]);
      } finally {
        await store.close();
      }
    },
  );
}
