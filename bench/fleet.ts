/**
 * `npm run bench -- fleet` and `npm run bench -- fleet-faults`: the fleet's figures on loopback, PostgreSQL
 * started here (a private cluster with fsync on, as a team's server runs; the faults stop and start it) or the
 * server DMLREVIEW_TEST_DATABASE_URL names (nothing is stopped then).
 *
 * fleet, by part (BENCH_FLEET_PARTS, comma-separated):
 * - workers: N `dmlreview worker --threads 1` processes (N = 1, 2) on the clip against N times the same clip
 *   analysed in one process of one model thread on an SQLite file, each bound to a core of its own where the
 *   machine allows (workersPart); total fps and the ratio;
 * - ceiling: the coordination ceiling, 1, 4 and 16 worker processes on the stand-in engine
 *   (bench/stand-in-engine.ts), frames per second the database and the queue absorb, PostgreSQL's CPU per frame;
 * - writers: the store alone, 1, 4 and 16 processes writing stand-in frames straight through the library.
 * fleet-faults: kill -9 a worker mid-chunk, PostgreSQL stopped for 10 s, a worker's connections cut; each run
 * compared with an uninterrupted one.
 *
 * Sizes: BENCH_FLEET_FRAMES (the workers' clip), BENCH_FLEET_CHUNK_SECONDS (its chunks), BENCH_FLEET_ROUNDS,
 * BENCH_FLEET_CEILING_FRAMES, BENCH_FLEET_CEILING_CHUNK_SECONDS, BENCH_FLEET_WRITER_FRAMES,
 * BENCH_FLEET_FAULT_FRAMES, BENCH_FLEET_FAULT_MS (the stand-in's pace in the fault runs); BENCH_GPU_FPS is the
 * rate assumed for one GPU worker; BENCH_FLEET_BLOB_STORAGE=EXTERNAL tries the writers without PostgreSQL's
 * compression attempt on the maps and previews.
 */
import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelsDir } from '../src-main/core/paths.js';
import { DEFAULT_MODEL, type OpenEngineOptions } from '../src-main/engine/index.js';
import { AnalysisService } from '../src-main/jobs/index.js';
import { openLibrary } from '../src-main/library/index.js';
import { loopedValDrive, valDrive } from '../test/helpers/clips.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { cutWorkerConnections, killWorker, postgresDownAtStart, runFaults, stopPostgres } from './fleet-faults.js';
import { sleep, Timeline, WORKER_READY, WorkerProcess, type WorkerEngine } from './fleet-harness.js';
import type { WriterReport } from './fleet-writer.js';
import { captureStandInFrame } from './stand-in-engine.js';
import { processCpuSeconds } from '../test/helpers/proc-cpu.js';

const PROCESS_COUNTS = [1, 4, 16];
const PARTS = (process.env.BENCH_FLEET_PARTS ?? 'workers,ceiling,writers').split(',');
const CLIP_FRAMES = Number(process.env.BENCH_FLEET_FRAMES ?? 200);
const CEILING_FRAMES = Number(process.env.BENCH_FLEET_CEILING_FRAMES ?? 1600);
const WRITER_FRAMES = Number(process.env.BENCH_FLEET_WRITER_FRAMES ?? 4800);
const FAULT_FRAMES = Number(process.env.BENCH_FLEET_FAULT_FRAMES ?? 300);
const FAULT_MS_PER_FRAME = Number(process.env.BENCH_FLEET_FAULT_MS ?? 40);
/** Footage per chunk: the val drive is 1 frame a second, so this many frames; 4 chunks of the workers' clip. */
const CHUNK_SECONDS = Number(process.env.BENCH_FLEET_CHUNK_SECONDS ?? 50);
const WORKER_ROUNDS = Number(process.env.BENCH_FLEET_ROUNDS ?? 2);
/** One chunk per worker at the most workers: each chunk costs its worker an ffmpeg start and a seek. */
const CEILING_CHUNK_SECONDS = Number(
  process.env.BENCH_FLEET_CEILING_CHUNK_SECONDS ?? Math.ceil(CEILING_FRAMES / Math.max(...PROCESS_COUNTS)),
);
/** The writers' frame_maps blob columns' STORAGE (PLAIN, MAIN, EXTERNAL, EXTENDED); default: the schema's. */
const BLOB_STORAGE = process.env.BENCH_FLEET_BLOB_STORAGE?.match(/^(PLAIN|MAIN|EXTERNAL|EXTENDED)$/i)?.[0];
/** How long the workers wait with nothing queued while PostgreSQL's CPU is read. */
const IDLE_SECONDS = 5;
const GPU_FPS = Number(process.env.BENCH_GPU_FPS ?? 100);
const MODEL = process.env.BENCH_MODEL ?? DEFAULT_MODEL;

interface Throughput {
  processes: number;
  fps: number;
  /** PostgreSQL's CPU per frame stored, undefined for a server this benchmark did not start. */
  serverCpuMs?: number;
  /** Every process's CPU per frame: this one's, the workers' (with their ffmpeg), PostgreSQL's. */
  totalCpuMs?: number;
  /** Of it, the workers' (with their ffmpeg); undefined where there are none. */
  workersCpuMs?: number;
  /** PostgreSQL's CPU ms a second while the workers wait with nothing queued (their polling and heartbeats). */
  idleServerCpuMs?: number;
}

/** CPU ms per frame over `work` (which returns how many frames it stored): PostgreSQL's, and everyone's. */
async function withCpu<T extends { frames: number }>(
  server: TestPostgres | undefined,
  workers: WorkerProcess[],
  work: () => Promise<T>,
): Promise<T & { serverCpuMs?: number; totalCpuMs: number; workersCpuMs?: number }> {
  const serverCpu = () => server?.cluster?.cpuSeconds();
  const thisCpu = () => processCpuSeconds(process.pid, { children: true });
  const workersCpu = () => workers.reduce((sum, worker) => sum + worker.cpuSeconds(), 0);
  // Read just before the end, while every worker is still alive.
  const [serverBefore, thisBefore, workersBefore] = [serverCpu(), thisCpu(), workersCpu()];
  const result = await work();
  const [serverAfter, thisAfter, workersAfter] = [serverCpu(), thisCpu(), workersCpu()];
  const perFrame = (seconds: number) => (seconds * 1000) / result.frames;
  const serverCpuMs =
    serverBefore === undefined || serverAfter === undefined ? undefined : perFrame(serverAfter - serverBefore);
  const workersCpuMs = workers.length > 0 ? perFrame(workersAfter - workersBefore) : undefined;
  return {
    ...result,
    serverCpuMs,
    workersCpuMs,
    totalCpuMs: perFrame(thisAfter - thisBefore) + (workersCpuMs ?? 0) + (serverCpuMs ?? 0),
  };
}

/** The clip analysed on `location` (an SQLite file, or a team database the workers serve), from queueing to done. */
async function analyse(
  location: string,
  clip: string,
  options: { engine?: OpenEngineOptions; chunkSeconds?: number },
): Promise<{ fps: number; frames: number }> {
  const store = await openLibrary(location);
  const service = new AnalysisService(store, defaultModelsDir(), () => undefined, options);
  try {
    const session = await service.importSession([clip]);
    const start = performance.now();
    const started = await service.startAnalysis(session.id, { model: MODEL });
    const finished = await service.queue.waitFor(started.id);
    if (finished.status !== 'done') throw new Error(`analysis ${finished.status}: ${finished.message}`);
    return { fps: finished.framesDone / ((performance.now() - start) / 1000), frames: finished.framesDone };
  } finally {
    await service.close();
    await store.close();
  }
}

/**
 * The clip analysed in this process on an SQLite file with one model thread; with `core`, every thread of the
 * process (the engine's, started during the analysis, included) bound to that core alone.
 */
async function localAnalysis(clip: string, core: number | undefined): Promise<Throughput> {
  const library = join(tempDir(), 'library.sqlite');
  if (core !== undefined) bindThisProcess(String(core));
  try {
    const local = await withCpu(undefined, [], () => analyse(library, clip, { engine: { threads: 1, lanes: 1 } }));
    return { processes: 1, ...local };
  } finally {
    if (core !== undefined) bindThisProcess(`0-${availableParallelism() - 1}`);
  }
}

/** Binds every thread of this process to `cores` (a taskset list); threads it starts later inherit it. */
function bindThisProcess(cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}

/** Whether each worker can be given a core of its own here (Linux's taskset, and a core per worker). */
function canBindCores(workers: number): boolean {
  if (availableParallelism() < workers) return false;
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * `count` workers started and ready, then the clip queued on their database and waited for. With `bindCores`,
 * worker i runs on core i alone.
 */
async function fleetAnalysis(
  server: TestPostgres,
  clip: string,
  chunkSeconds: number,
  engine: WorkerEngine,
  count: number,
  bindCores = false,
): Promise<Throughput> {
  const url = await server.createDatabase();
  await (await openLibrary(url)).close();
  const timeline = new Timeline();
  const workers = Array.from(
    { length: count },
    (_, i) => new WorkerProcess(`worker-${i + 1}`, url, engine, timeline, bindCores ? i : undefined),
  );
  try {
    await Promise.all(workers.map((worker) => timeline.waitFor(worker.name, WORKER_READY)));
    const idleBefore = server.cluster?.cpuSeconds();
    await sleep(IDLE_SECONDS * 1000);
    const idleServerCpuMs =
      idleBefore === undefined ? undefined : ((server.cluster!.cpuSeconds() - idleBefore) * 1000) / IDLE_SECONDS;
    const run = await withCpu(server, workers, () => analyse(url, clip, { chunkSeconds }));
    return { processes: count, idleServerCpuMs, ...run };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

/** Forks `count` writers, lets them open the library, then starts them at once. */
async function storeWriters(server: TestPostgres, captureFile: string, count: number): Promise<Throughput> {
  const url = await server.createDatabase();
  // Created once before the writers, so that they do not all migrate the new database at once.
  const store = await openLibrary(url);
  if (BLOB_STORAGE) {
    // An experiment on how PostgreSQL stores the maps and previews (EXTERNAL: no compression attempt).
    for (const column of ['class_map', 'ood_map', 'preview'])
      await store.executeSql(`ALTER TABLE frame_maps ALTER COLUMN ${column} SET STORAGE ${BLOB_STORAGE}`, []);
  }
  await store.close();
  const perWriter = Math.ceil(WRITER_FRAMES / count);
  const writers = Array.from({ length: count }, () =>
    fork(join(import.meta.dirname, 'fleet-writer.ts'), [url, captureFile, String(perWriter)], {
      execArgv: ['--import', 'tsx'],
    }),
  );
  await Promise.all(writers.map((writer) => nextMessage(writer)));
  const serverBefore = server.cluster?.cpuSeconds();
  const start = performance.now();
  for (const writer of writers) writer.send('go');
  const reports = (await Promise.all(writers.map((writer) => nextMessage(writer)))) as WriterReport[];
  const seconds = (performance.now() - start) / 1000;
  const serverAfter = server.cluster?.cpuSeconds();
  const frames = reports.reduce((sum, report) => sum + report.frames, 0);
  const perFrame = (cpuSeconds: number) => (cpuSeconds * 1000) / frames;
  const serverCpuMs =
    serverBefore === undefined || serverAfter === undefined ? undefined : perFrame(serverAfter - serverBefore);
  const writersCpuMs = perFrame(reports.reduce((sum, report) => sum + report.cpuSeconds, 0));
  return { processes: count, fps: frames / seconds, serverCpuMs, totalCpuMs: writersCpuMs + (serverCpuMs ?? 0) };
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
      `  ${String(row.processes).padStart(2)} ${what}: ${row.fps.toFixed(0).padStart(6)} frames/s; CPU per frame: PostgreSQL ${cpu}, all processes ${row.totalCpuMs?.toFixed(2)} ms` +
        (row.idleServerCpuMs === undefined
          ? ''
          : `; idle, PostgreSQL uses ${row.idleServerCpuMs.toFixed(0)} ms CPU a second (${(row.idleServerCpuMs / row.processes).toFixed(1)} per worker)`),
    );
  }
  const best = rows.reduce((a, b) => (b.fps > a.fps ? b : a));
  const saturated = rows.find((row) => row.fps >= 0.9 * best.fps)!;
  console.log(
    `  saturates at ${saturated.processes} ${what} (>= 90% of the best, ${best.fps.toFixed(0)} frames/s), on ${availableParallelism()} cores shared by PostgreSQL and the ${what}`,
  );
  const measured = rows.filter((row) => row.serverCpuMs !== undefined);
  if (measured.length === 0) return;
  const perCore = measured.map((row) => ({ processes: row.processes, fps: 1000 / row.serverCpuMs! }));
  const range = (values: number[], digits: number) =>
    `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
  console.log(
    `  one core of PostgreSQL absorbs ${perCore.map((row) => `${row.fps.toFixed(0)} frames/s with ${row.processes}`).join(', ')} ${what}: ` +
      `${range(
        perCore.map((row) => row.fps / GPU_FPS),
        1,
      )} GPU workers of an assumed ${GPU_FPS} fps each per core of the database server`,
  );
}

/**
 * N workers of one model thread against N times one process of one model thread on the same clip, in alternating
 * rounds. A process of one model thread still keeps more than one core busy (the engine's heads, ffmpeg, the
 * database), so on a machine of few cores each worker and the one process are bound to a core of their own
 * (taskset) where they can be: "N x one process" is then what N machines of one core each would do alone.
 */
async function workersPart(server: TestPostgres, clip: string): Promise<void> {
  const counts = [1, 2];
  const bind = canBindCores(Math.max(...counts));
  console.log(
    `workers: ${CLIP_FRAMES} frames (the val drive looped, chunks of ${CHUNK_SECONDS} s), ${MODEL}, 1 model thread a process, ` +
      `${bind ? 'each worker and the one process bound to a core of its own (taskset)' : 'not bound to cores (no taskset, or too few cores)'}; ` +
      `wall time from queueing to done, workers started beforehand; ${WORKER_ROUNDS} alternating rounds, medians; CPU of every process involved`,
  );
  const local: Throughput[] = [];
  const fleet = new Map<number, Throughput[]>(counts.map((count) => [count, []]));
  for (let round = 0; round < WORKER_ROUNDS; round++) {
    local.push(await localAnalysis(clip, bind ? 0 : undefined));
    for (const count of counts)
      fleet.get(count)!.push(await fleetAnalysis(server, clip, CHUNK_SECONDS, { real: true }, count, bind));
  }
  const one = medianRow(local);
  console.log(`  one process, SQLite: ${describeRun(one)}  [${local.map((row) => row.fps.toFixed(2)).join(', ')} fps]`);
  for (const count of counts) {
    const rows = fleet.get(count)!;
    const row = medianRow(rows);
    console.log(
      `  N=${count}: ${describeRun(row)}: workers ${row.workersCpuMs!.toFixed(0)} ms, PostgreSQL ${row.serverCpuMs?.toFixed(1) ?? 'n/a'} ms  [${rows.map((r) => r.fps.toFixed(2)).join(', ')} fps]` +
        `; workers / (N x one process): ${(row.fps / (count * one.fps)).toFixed(2)} (target >= 0.9)`,
    );
  }
}

/** The row of median frame rate (of an even number, the upper of the middle two). */
function medianRow(rows: Throughput[]): Throughput {
  return [...rows].sort((a, b) => a.fps - b.fps)[Math.floor(rows.length / 2)]!;
}

function describeRun(row: Throughput): string {
  const cores = (row.totalCpuMs! * row.fps) / 1000;
  return `${row.fps.toFixed(2)} fps, ${row.totalCpuMs!.toFixed(0)} ms CPU a frame (${cores.toFixed(2)} cores busy)`;
}

async function ceilingPart(server: TestPostgres, captureFile: string, clip: string): Promise<void> {
  console.log(
    `ceiling: ${CEILING_FRAMES} frames (the val drive looped, chunks of ${CEILING_CHUNK_SECONDS} s) on worker processes with the stand-in engine (instant; maps, regions and preview of one real ${MODEL} frame); each worker still decodes with ffmpeg`,
  );
  const rows: Throughput[] = [];
  for (const count of PROCESS_COUNTS)
    rows.push(await fleetAnalysis(server, clip, CEILING_CHUNK_SECONDS, { captureFile }, count));
  printCeiling('workers', rows);
}

async function writersPart(server: TestPostgres, captureFile: string): Promise<void> {
  console.log(
    `store alone: ${WRITER_FRAMES} stand-in frames in all through the library (batches of 16), writer processes on sessions of their own`,
  );
  const rows: Throughput[] = [];
  for (const count of PROCESS_COUNTS) rows.push(await storeWriters(server, captureFile, count));
  printCeiling('writers', rows);
}

/** A durable private server (or the given one) for `work`, or why there is none. */
async function onPostgres(work: (server: TestPostgres) => Promise<void>): Promise<void> {
  const unavailable = postgresUnavailable();
  if (unavailable) {
    console.log(`not measured: ${unavailable}`);
    return;
  }
  const server = await startPostgres({ durable: true });
  try {
    await work(server);
  } finally {
    await server.stop();
  }
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'dml-bench-fleet-'));

export const fleetBench = {
  name: 'fleet',
  run: () =>
    onPostgres(async (server) => {
      const captureFile = await captureStandInFrame(defaultModelsDir(), MODEL, valDrive);
      if (PARTS.includes('workers')) await workersPart(server, loopedValDrive(tempDir(), CLIP_FRAMES));
      if (PARTS.includes('ceiling')) await ceilingPart(server, captureFile, loopedValDrive(tempDir(), CEILING_FRAMES));
      if (PARTS.includes('writers')) await writersPart(server, captureFile);
    }),
};

export const fleetFaultsBench = {
  name: 'fleet-faults',
  run: () =>
    onPostgres(async (server) => {
      const captureFile = await captureStandInFrame(defaultModelsDir(), MODEL, valDrive);
      console.log(
        `${FAULT_FRAMES} frames (the val drive looped), 2 stand-in workers at ${FAULT_MS_PER_FRAME} ms a frame, queued with analyze --database --wait --json`,
      );
      const run = {
        server,
        clip: loopedValDrive(tempDir(), FAULT_FRAMES),
        model: MODEL,
        engine: { captureFile, msPerFrame: FAULT_MS_PER_FRAME },
        workers: 2,
        chunkSeconds: CHUNK_SECONDS,
      };
      await runFaults(run, [killWorker, stopPostgres(10), cutWorkerConnections, postgresDownAtStart(5)]);
    }),
};
