/**
 * The fleet's faults, for `npm run bench -- fleet-faults` and the fault tests: a run of workers on a clip,
 * queued with `dmlreview analyze --database URL --wait --json` as a user does, with a fault struck once the
 * first frames are stored: a worker killed with -9, PostgreSQL stopped for a while (`pg_ctl stop -m fast`,
 * then started), a worker's connections cut (pg_terminate_backend). What the run stored is compared with an
 * uninterrupted run's.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { openLibrary } from '../src-main/library/index.js';
import { cliEntry, repoRoot } from '../test/helpers/cli.js';
import type { TestPostgres } from '../test/helpers/postgres.js';
import {
  CHUNK_TAKEN,
  cutConnections,
  differences,
  sleep,
  storedRun,
  Timeline,
  WORKER_READY,
  WORKER_WAITING,
  WorkerProcess,
  type StoredRun,
  type WorkerEngine,
} from './fleet-harness.js';

export interface FleetRun {
  server: TestPostgres;
  clip: string;
  model: string;
  engine: WorkerEngine;
  workers: number;
  /** Footage per chunk (analyze --chunk-seconds). */
  chunkSeconds: number;
  /** The longest the run may take, faults included. */
  timeoutMs?: number;
}

export interface Fault {
  name: string;
  /** Frames stored before it strikes; 'start': as the workers start, before the clip is queued. */
  when: { afterFrames: number } | 'start';
  /** Sets the stage before the workers are started (a fault struck at the start). */
  before?(context: Omit<FaultContext, 'workers'>): Promise<void>;
  strike(context: FaultContext): Promise<void>;
}

interface FaultContext {
  timeline: Timeline;
  workers: WorkerProcess[];
  server: TestPostgres;
  databaseUrl: string;
}

export interface FleetRunResult {
  stored: StoredRun;
  timeline: Timeline;
  /** Seconds from queueing to `analyze --wait` returning. */
  seconds: number;
}

/** The worker that took a chunk last: the one sure to be running one. */
function busyWorker({ workers, timeline }: FaultContext): WorkerProcess {
  const name = timeline.latest(CHUNK_TAKEN);
  return workers.find((worker) => worker.name === name) ?? workers[0]!;
}

/** kill -9 of a worker mid-chunk (frames of it stored, more to come). */
export const killWorker: Fault = {
  name: 'kill -9 a worker mid-chunk',
  when: { afterFrames: 20 },
  strike: async (context) => busyWorker(context).kill9(),
};

/** PostgreSQL stopped (`pg_ctl stop -m fast`) for `seconds`, then started again. */
export function stopPostgres(seconds: number): Fault {
  return {
    name: `PostgreSQL stopped for ${seconds} s`,
    when: { afterFrames: 20 },
    async strike({ server, timeline }) {
      await stopServer(server, timeline);
      timeline.note('bench', `PostgreSQL stopped; starting it again in ${seconds} s`);
      await sleep(seconds * 1000);
      await startServer(server, timeline);
    },
  };
}

/** The workers started while PostgreSQL is down: they wait for it, and it starts `seconds` after they said so. */
export function postgresDownAtStart(seconds: number): Fault {
  return {
    name: `workers started while PostgreSQL is down, started ${seconds} s later`,
    when: 'start',
    before: ({ server, timeline }) => stopServer(server, timeline),
    async strike({ server, timeline, workers }) {
      await Promise.all(workers.map((worker) => timeline.waitFor(worker.name, WORKER_WAITING)));
      await sleep(seconds * 1000);
      await startServer(server, timeline);
    },
  };
}

function clusterOf(server: TestPostgres): NonNullable<TestPostgres['cluster']> {
  if (!server.cluster)
    throw new Error('PostgreSQL can be stopped only when the benchmark started it (no DMLREVIEW_TEST_DATABASE_URL)');
  return server.cluster;
}

async function stopServer(server: TestPostgres, timeline: Timeline): Promise<void> {
  timeline.note('bench', 'pg_ctl stop -m fast');
  await clusterOf(server).stopServer();
}

async function startServer(server: TestPostgres, timeline: Timeline): Promise<void> {
  await clusterOf(server).startServer();
  timeline.note('bench', 'PostgreSQL started');
}

/** Every connection of the first worker ended by the server (pg_terminate_backend). */
export const cutWorkerConnections: Fault = {
  name: "a worker's connections cut",
  when: { afterFrames: 20 },
  async strike(context) {
    const { name } = busyWorker(context);
    const cut = await cutConnections(context.databaseUrl, name);
    context.timeline.note('bench', `pg_terminate_backend on ${cut} connections of ${name}`);
  },
};

/** Runs the clip on the fleet, with `fault` struck once its first frames are stored. */
export async function fleetRun(run: FleetRun, fault?: Fault): Promise<FleetRunResult> {
  const databaseUrl = await run.server.createDatabase();
  // The tables exist before the workers and the queueing process all open the new database.
  await (await openLibrary(databaseUrl)).close();
  const timeline = new Timeline();
  const context = { timeline, server: run.server, databaseUrl };
  await fault?.before?.(context);
  const workers = Array.from(
    { length: run.workers },
    (_, i) => new WorkerProcess(`worker-${i + 1}`, databaseUrl, run.engine, timeline),
  );
  try {
    if (fault?.when === 'start') await fault.strike({ ...context, workers });
    await Promise.all(workers.map((worker) => timeline.waitFor(worker.name, WORKER_READY)));
    const start = performance.now();
    const queued = queueAndWait(databaseUrl, run, timeline);
    queued.catch(() => undefined); // awaited below, after the fault
    if (fault && fault.when !== 'start') {
      await framesStored(databaseUrl, fault.when.afterFrames, queued);
      await fault.strike({ ...context, workers });
    }
    const analysisId = await queued;
    const seconds = (performance.now() - start) / 1000;
    return { stored: await storedRun(databaseUrl, analysisId), timeline, seconds };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

/** `dmlreview analyze CLIP --database URL --wait --json`: the analysis id it prints. */
async function queueAndWait(databaseUrl: string, run: FleetRun, timeline: Timeline): Promise<number> {
  const args = ['analyze', run.clip, '--database', databaseUrl, '--wait', '--json', '--model', run.model];
  args.push('--chunk-seconds', String(run.chunkSeconds));
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot });
  timeline.note('analyze', 'queued the clip (analyze --database --wait --json)');
  createInterface({ input: child.stderr }).on('line', (line) => timeline.note('analyze', line));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  timeline.note('analyze', `exited with ${code}`);
  if (code !== 0) throw new Error(`analyze --wait exited with ${code}:\n${timeline.lines().join('\n')}`);
  return (JSON.parse(stdout) as { analysis: number }).analysis;
}

/** Resolves once `count` frames are stored; rejects if the run ends first. */
async function framesStored(databaseUrl: string, count: number, run: Promise<unknown>): Promise<void> {
  let ended = false;
  void run.finally(() => (ended = true)).catch(() => undefined);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM frames');
      if (Number(rows[0]!.n) >= count) return;
      if (ended) throw new Error(`the run ended before ${count} frames were stored: no fault struck`);
      await sleep(100);
    }
  } finally {
    await client.end();
  }
}

/** Each fault after an uninterrupted run of the same work; what happened and what differs. */
export async function runFaults(run: FleetRun, faults: Fault[]): Promise<void> {
  const reference = await fleetRun(run);
  console.log(
    `uninterrupted: ${reference.stored.framesDone} frames, ${reference.stored.status}, ${reference.seconds.toFixed(1)} s`,
  );
  for (const fault of faults) {
    console.log(`\n-- ${fault.name} --`);
    const result = await fleetRun(run, fault).catch((error: unknown) => error as Error);
    if (result instanceof Error) {
      console.log(`  the run did not finish: ${result.message}`);
      continue;
    }
    for (const line of result.timeline.lines()) console.log(`  ${line}`);
    const found = differences(reference.stored, result.stored);
    console.log(
      `  finished in ${result.seconds.toFixed(1)} s: ${result.stored.framesDone} frames, ${result.stored.status}; ` +
        (found.length === 0
          ? 'nothing lost, nothing duplicated (times and scores equal the uninterrupted run)'
          : found.join('; ')),
    );
  }
}
