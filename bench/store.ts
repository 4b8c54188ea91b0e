/**
 * `npm run bench -- store`: the library's two hot paths, straight on the store. The analysis writer's batched
 * inserts (FRAMES frames in batches of 16, the writer's default, 2 kB maps and preview each) and the timeline's
 * packed read (`frames.timeline` of those frames, median of RUNS). On an SQLite file always; on PostgreSQL too
 * when one is at hand (DMLREVIEW_TEST_DATABASE_URL, or Debian's package for a private cluster, as the tests).
 * Written with `await` on every call, so the same file also measures a build whose library is synchronous.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLibrary } from '../src-main/library/index.js';
import { postgresUnavailable, testPostgres } from '../test/helpers/postgres.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';

const FRAMES = Number(process.env.BENCH_STORE_FRAMES ?? 100_000);
const RUNS = Number(process.env.BENCH_STORE_RUNS ?? 15);
const BATCH = 16;
/**
 * BENCH_STORE_BLOBS=analysis stores blobs of a real analysis's sizes (model `road` on the val drive: class map
 * 4.9 kB, OOD map 72.7 kB, preview 30.9 kB) instead of 2 kB each: what the writer of `npm run bench -- jobs`
 * stores, where the blobs' pages, not the statements, are most of the work.
 */
const BLOBS = process.env.BENCH_STORE_BLOBS === 'analysis' ? analysisBlobs() : undefined;

function analysisBlobs() {
  const bytes = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24));
  return { classMapPng: bytes(4_900), oodMapPng: bytes(72_700), previewJpeg: bytes(30_900) };
}

const frame = (index: number) => (BLOBS ? { ...driveLikeFrame(index), ...BLOBS } : driveLikeFrame(index));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function measure(name: string, location: string): Promise<void> {
  const store = await openLibrary(location);
  try {
    const cpuBefore = process.cpuUsage();
    const { analysisId, insertSeconds } = await writeSyntheticSession(store, {
      frames: FRAMES,
      frame,
      batch: BATCH,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerFrame = (cpu.user + cpu.system) / FRAMES;
    const runs: number[] = [];
    for (let run = -1; run < RUNS; run++) {
      const start = performance.now();
      const timeline = await store.frames.timeline(analysisId);
      if (timeline.scores.length !== FRAMES) throw new Error(`timeline of ${timeline.scores.length} frames`);
      if (run >= 0) runs.push(performance.now() - start);
    }
    console.log(
      `${name}: writer ${((insertSeconds * 1e6) / FRAMES).toFixed(0)} us a frame (${(FRAMES / insertSeconds).toFixed(0)} frames/s, batches of ${BATCH}, ${BLOBS ? "an analysis's" : '2 kB'} blobs), ` +
        `${cpuPerFrame.toFixed(0)} us of this process's CPU a frame; ` +
        `timeline of ${FRAMES} frames ${median(runs).toFixed(2)} ms (median of ${RUNS})`,
    );
  } finally {
    await store.close();
  }
}

async function run(): Promise<void> {
  await measure('SQLite', join(mkdtempSync(join(tmpdir(), 'dml-bench-store-')), 'library.sqlite'));
  const unavailable = postgresUnavailable();
  if (unavailable) {
    console.log(`PostgreSQL: not measured, ${unavailable}`);
    return;
  }
  const server = await testPostgres();
  try {
    await measure('PostgreSQL (loopback)', await server.createDatabase());
  } finally {
    await server.stop();
  }
}

export const storeBench = { name: 'store', run };
