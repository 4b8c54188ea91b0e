/**
 * What the fleet benchmark and the fleet's fault tests share: worker processes (the real `dmlreview worker`,
 * or the stand-in worker of bench/fleet-worker.ts) whose log lines land on one timeline, the faults they
 * inflict (kill -9, cutting a worker's connections), and the comparison of a run's stored frames with an
 * uninterrupted run's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { openLibrary } from '../src-main/library/index.js';
import { cliEntry, repoRoot } from '../test/helpers/cli.js';
import { processCpuSeconds } from '../test/helpers/proc-cpu.js';

/** What happened during a run, in order, with the time since the run began. */
export class Timeline {
  private readonly begin = performance.now();
  readonly events: { atMs: number; who: string; what: string }[] = [];

  note(who: string, what: string): void {
    this.events.push({ atMs: performance.now() - this.begin, who, what });
  }

  /** Resolves on the first event of `who` whose text matches, from now on or already noted. */
  async waitFor(who: string, text: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.events.some((event) => event.who === who && text.test(event.what))) {
      if (performance.now() > deadline) throw new Error(`${who} never logged ${text} in ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  }

  /** Who noted the latest event matching `text`. */
  latest(text: RegExp): string | undefined {
    return this.events.findLast((event) => text.test(event.what))?.who;
  }

  lines(): string[] {
    return this.events.map(({ atMs, who, what }) => `${(atMs / 1000).toFixed(2).padStart(7)} s  ${who}: ${what}`);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The line a worker logs once it takes jobs (jobs/fleet/worker.ts). */
export const WORKER_READY = /takes analysis chunks/;
/** The line a worker logs when it starts before its database answers. */
export const WORKER_WAITING = /waiting for it, trying again/;
/** The line a worker logs when it starts running a chunk. */
export const CHUNK_TAKEN = /chunk \d+ of analysis \d+ .*runs here/;

/** The engine a worker runs: the real model with one thread, or the stand-in (the captured file, pace). */
export type WorkerEngine = { real: true } | { captureFile: string; msPerFrame?: number };

/**
 * The connection string a worker gets: its name as `application_name`, so that its connections can be found
 * in pg_stat_activity (and cut).
 */
export function workerUrl(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return url.href;
}

/** One worker process; its stderr lines go to the timeline under its name. */
export class WorkerProcess {
  readonly exited: Promise<number | string | null>;
  private readonly child: ChildProcess;

  /** `core`: the one CPU core it (and its ffmpeg) may run on (taskset -c), as on a machine of its own. */
  constructor(
    readonly name: string,
    databaseUrl: string,
    engine: WorkerEngine,
    private readonly timeline: Timeline,
    core?: number,
  ) {
    const url = workerUrl(databaseUrl, name);
    const args =
      'real' in engine
        ? [cliEntry, 'worker', '--database', url, '--threads', '1']
        : [join(import.meta.dirname, 'fleet-worker.ts'), url, engine.captureFile, String(engine.msPerFrame ?? 0)];
    const command = [process.execPath, '--import', 'tsx', ...args];
    if (core !== undefined) command.unshift('taskset', '-c', String(core));
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => timeline.note(name, line));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        timeline.note(name, `exited (${signal ?? `status ${code}`})`);
        resolve(signal ?? code);
      }),
    );
  }

  /** CPU seconds it has used, ffmpeg's included (its exited children). */
  cpuSeconds(): number {
    return this.running ? processCpuSeconds(this.child.pid!, { children: true }) : 0;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill9(): void {
    this.timeline.note('bench', `kill -9 ${this.name} (pid ${this.child.pid})`);
    this.child.kill('SIGKILL');
  }

  /** Stops it as an operator does (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Ends every connection of the worker named `name` on the server (pg_terminate_backend); how many. */
export async function cutConnections(databaseUrl: string, name: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ cut: boolean }>(
      'SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    return rows.filter((row) => row.cut).length;
  } finally {
    await client.end();
  }
}

/** What an analysis stored: its status and frame count, and its timeline (every frame's time and score). */
export interface StoredRun {
  status: string;
  framesDone: number;
  /** Rows in the frames table. */
  frameRows: number;
  timesMs: number[];
  scores: number[];
}

export async function storedRun(databaseUrl: string, analysisId: number): Promise<StoredRun> {
  const store = await openLibrary(databaseUrl);
  try {
    const info = await store.analyses.get(analysisId);
    const { total } = await store.frames.top({ analysisId, offset: 0, limit: 1 });
    const timeline = await store.frames.timeline(analysisId);
    return {
      status: info.status,
      framesDone: info.framesDone,
      frameRows: total,
      timesMs: [...timeline.timesMs],
      scores: [...timeline.scores],
    };
  } finally {
    await store.close();
  }
}

/**
 * How `run` differs from the uninterrupted `reference`: frames missing or stored twice (by time), a count or a
 * status that differs, scores that differ. Empty when nothing was lost or duplicated.
 */
export function differences(reference: StoredRun, run: StoredRun): string[] {
  const found: string[] = [];
  if (run.status !== reference.status) found.push(`status ${run.status}, uninterrupted ${reference.status}`);
  for (const key of ['framesDone', 'frameRows'] as const) {
    if (run[key] !== reference[key]) found.push(`${key} ${run[key]}, uninterrupted ${reference[key]}`);
  }
  const expected = new Set(reference.timesMs);
  const seen = new Set<number>();
  const twice = run.timesMs.filter((time) => seen.has(time) || !seen.add(time));
  const missing = reference.timesMs.filter((time) => !seen.has(time));
  const extra = [...seen].filter((time) => !expected.has(time));
  if (twice.length > 0) found.push(`${twice.length} frames stored twice (times ${twice.slice(0, 5).join(', ')} ms...)`);
  if (missing.length > 0) found.push(`${missing.length} frames lost (times ${missing.slice(0, 5).join(', ')} ms...)`);
  if (extra.length > 0) found.push(`${extra.length} frames at times the uninterrupted run has not`);
  const scoreOff = reference.scores.filter(
    (score, i) => run.timesMs[i] !== reference.timesMs[i] || run.scores[i] !== score,
  );
  if (found.length === 0 && scoreOff.length > 0)
    found.push(`${scoreOff.length} frames with another time or score at their index`);
  return found;
}
