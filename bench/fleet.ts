/**
 * `npm run bench -- fleet`: the fleet's figures on loopback, PostgreSQL started here (a private cluster with
 * fsync on, as a team's server runs) or the server DMLREVIEW_TEST_DATABASE_URL names.
 * - writers: the store's write ceiling, 1, 4 and 16 writer processes storing stand-in frames (one real frame's
 *   maps, regions and preview: bench/stand-in-engine.ts) through the library, and PostgreSQL's CPU per frame;
 * - local: the same clip analysed in one process on an SQLite file with 1 and 2 model threads, the baseline
 *   of the workers' figures.
 * BENCH_FLEET_PARTS picks parts (comma-separated); BENCH_FLEET_FRAMES sets the clip's length,
 * BENCH_FLEET_WRITER_FRAMES the frames the writers store in all, BENCH_GPU_FPS the GPU worker's assumed rate.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelsDir } from '../src-main/core/paths.js';
import { DEFAULT_MODEL } from '../src-main/engine/index.js';
import { AnalysisService } from '../src-main/jobs/index.js';
import { openLibrary } from '../src-main/library/index.js';
import { loopedValDrive, valDrive } from '../test/helpers/clips.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import type { WriterReport } from './fleet-writer.js';
import { captureStandInFrame } from './stand-in-engine.js';

const PARTS = (process.env.BENCH_FLEET_PARTS ?? 'writers,local').split(',');
const CLIP_FRAMES = Number(process.env.BENCH_FLEET_FRAMES ?? 200);
const WRITER_FRAMES = Number(process.env.BENCH_FLEET_WRITER_FRAMES ?? 4800);
const GPU_FPS = Number(process.env.BENCH_GPU_FPS ?? 100);
const MODEL = process.env.BENCH_MODEL ?? DEFAULT_MODEL;
const WRITER_COUNTS = [1, 4, 16];

interface Throughput {
  processes: number;
  fps: number;
  /** PostgreSQL's CPU per frame stored, undefined for a server this benchmark did not start. */
  serverCpuMs?: number;
}

/** Forks `count` writers, lets them open the library, then starts them at once; frames per second in all. */
async function storeWriters(server: TestPostgres, captureFile: string, count: number): Promise<Throughput> {
  const url = await server.createDatabase();
  // Created once before the writers, so that they do not all migrate the new database at once.
  await (await openLibrary(url)).close();
  const perWriter = Math.ceil(WRITER_FRAMES / count);
  const writers = Array.from({ length: count }, () =>
    fork(join(import.meta.dirname, 'fleet-writer.ts'), [url, captureFile, String(perWriter)], {
      execArgv: ['--import', 'tsx'],
    }),
  );
  await Promise.all(writers.map((writer) => nextMessage(writer)));
  const cpuBefore = server.cluster?.cpuSeconds();
  const start = performance.now();
  for (const writer of writers) writer.send('go');
  const reports = (await Promise.all(writers.map((writer) => nextMessage(writer)))) as WriterReport[];
  const seconds = (performance.now() - start) / 1000;
  const frames = reports.reduce((sum, report) => sum + report.frames, 0);
  const cpuAfter = server.cluster?.cpuSeconds();
  return {
    processes: count,
    fps: frames / seconds,
    serverCpuMs: cpuBefore === undefined ? undefined : ((cpuAfter! - cpuBefore) * 1000) / frames,
  };
}

function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`benchmark process ${child.pid} exited with ${code}`));
    child.once('exit', exited);
    child.once('message', (message) => {
      child.off('exit', exited);
      resolve(message);
    });
  });
}

/** A row per process count, then where adding processes stops paying and what that means for GPU workers. */
function printCeiling(what: string, rows: Throughput[]): void {
  for (const row of rows) {
    const cpu = row.serverCpuMs === undefined ? 'n/a' : `${row.serverCpuMs.toFixed(2)} ms`;
    console.log(
      `  ${String(row.processes).padStart(2)} ${what}: ${row.fps.toFixed(0).padStart(6)} frames/s; PostgreSQL CPU per frame ${cpu}`,
    );
  }
  const best = rows.reduce((a, b) => (b.fps > a.fps ? b : a));
  const saturated = rows.find((row) => row.fps >= 0.9 * best.fps)!;
  console.log(
    `  saturates at ${saturated.processes} ${what} (>= 90% of the best, ${best.fps.toFixed(0)} frames/s, on this machine's ${availableParallelism()} cores shared by PostgreSQL and the ${what})`,
  );
  const cpu = Math.min(...rows.map((row) => row.serverCpuMs ?? Infinity));
  const perCore = cpu === Infinity ? undefined : 1000 / cpu;
  console.log(
    `  one PostgreSQL serves ~${Math.floor(best.fps / GPU_FPS)} GPU workers at an assumed ${GPU_FPS} fps each from the measured ceiling` +
      (perCore
        ? `; by its CPU per frame, each core it has absorbs ~${perCore.toFixed(0)} frames/s (~${Math.floor(perCore / GPU_FPS)} GPU workers)`
        : ''),
  );
}

async function writersPart(server: TestPostgres, captureFile: string): Promise<void> {
  console.log(
    `store ceiling: ${WRITER_FRAMES} stand-in frames in all through the library (batches of 16, maps and preview of one real ${MODEL} frame), writer processes on their own sessions`,
  );
  const rows: Throughput[] = [];
  for (const count of WRITER_COUNTS) rows.push(await storeWriters(server, captureFile, count));
  printCeiling('writers', rows);
}

/** The clip analysed in this process on an SQLite file with `threads` model threads (one lane each). */
async function localAnalysis(clip: string, threads: number): Promise<{ fps: number; frames: number }> {
  const store = await openLibrary(join(mkdtempSync(join(tmpdir(), 'dml-bench-fleet-')), 'library.sqlite'));
  const service = new AnalysisService(store, defaultModelsDir(), () => undefined, {
    engine: { threads, lanes: threads },
  });
  try {
    const session = await service.importSession([clip]);
    const start = performance.now();
    const started = await service.startAnalysis(session.id, { model: MODEL });
    const finished = await service.queue.waitFor(started.id);
    if (finished.status !== 'done') throw new Error(`local analysis ${finished.status}: ${finished.message}`);
    return { fps: finished.framesDone / ((performance.now() - start) / 1000), frames: finished.framesDone };
  } finally {
    await service.close();
    await store.close();
  }
}

async function localPart(clip: string): Promise<void> {
  console.log(
    `local: ${CLIP_FRAMES} frames of the val drive looped, ${MODEL}, one process, SQLite, wall time from queueing to done`,
  );
  for (const threads of [1, 2]) {
    const { fps, frames } = await localAnalysis(clip, threads);
    console.log(
      `  ${threads} model thread${threads > 1 ? 's' : ''} (${threads} lane${threads > 1 ? 's' : ''}): ${fps.toFixed(2)} fps (${frames} frames)`,
    );
  }
}

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dml-bench-fleet-'));
  const clip = loopedValDrive(dir, CLIP_FRAMES);
  if (PARTS.includes('local')) await localPart(clip);
  if (!PARTS.includes('writers')) return;
  const unavailable = postgresUnavailable();
  if (unavailable) {
    console.log(`PostgreSQL parts not measured: ${unavailable}`);
    return;
  }
  const captureFile = await captureStandInFrame(defaultModelsDir(), MODEL, valDrive);
  const server = await startPostgres({ durable: true });
  try {
    await writersPart(server, captureFile);
  } finally {
    await server.stop();
  }
}

export const fleetBench = { name: 'fleet', run };
