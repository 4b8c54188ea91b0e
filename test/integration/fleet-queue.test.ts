/**
 * The fleet: analyses queued on a team database (PostgreSQL) as chunk jobs (pg-boss) and run by real
 * `dmlreview worker` processes, with the real engine, ffmpeg and small clips of the val drive. Every run must
 * store exactly what a local `analyze` of the same files stores in an SQLite file: the same frames (index,
 * source, time, score), timeline and events, and print the same JSON.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AnalysisService } from '../../src-main/jobs/index.js';
import { openLibrary } from '../../src-main/library/index.js';
import { cliEntry, repoRoot, runCli } from '../helpers/cli.js';
import { testModelsDir } from '../helpers/models.js';
import { clip, tempDir } from '../helpers/clips.js';
import { postgresUnavailable, testPostgres } from '../helpers/postgres.js';
import { queryLibrary, queryNumber } from '../helpers/store-backends.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
const dir = tempDir('dml-fleet-');
let drive: string[] = [];
/** Two sources, the first cut into two time ranges: 4 chunks of about 5 s. */
const analyzeArgs = (files: string[]) => ['analyze', ...files, '--model', 'camvid-open', '--fps', '2', '--json'];
const CHUNKING = ['--chunk-seconds', '5'];

interface FrameRow {
  idx: number;
  source_index: number;
  time_ms: number;
  score: number;
}
interface Stored {
  json: Record<string, unknown>;
  frames: FrameRow[];
  events: unknown[];
  timeline: { times: number[]; scores: number[] };
}
let reference: Stored;
const workers: ChildProcess[] = [];

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

before(async () => {
  // 12 s and 8 s at 5 fps, sampled at 2 fps: 24 + 16 frames.
  drive = [
    clip(dir, 'a.mp4', 12, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10']),
    clip(dir, 'b.mp4', 8, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10']),
  ];
  const library = join(dir, 'local.sqlite');
  const local = await runCli([...analyzeArgs(drive), '--library', library], { timeoutMs: 300_000 });
  assert.equal(local.code, 0, local.stderr);
  reference = await stored(library, lastJson(local.stdout));
});

after(async () => {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  if (!skip) await (await testPostgres()).stop();
});

async function stored(location: string, json: Record<string, unknown>): Promise<Stored> {
  const analysis = Number(json.analysis);
  const frames = (
    await queryLibrary<FrameRow>(
      location,
      `SELECT idx, source_index, time_ms, score FROM frames WHERE analysis_id = ${analysis} ORDER BY idx`,
    )
  ).map((row) => ({
    idx: Number(row.idx),
    source_index: Number(row.source_index),
    time_ms: Number(row.time_ms),
    score: Number(row.score),
  }));
  const events = (
    await queryLibrary<Record<string, unknown>>(
      location,
      `SELECT start_frame, end_frame, start_ms, end_ms, peak_frame, peak_ms, peak_score, frame_count FROM events WHERE analysis_id = ${analysis} ORDER BY start_frame`,
    )
  ).map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])));
  const chunks = await queryLibrary<{ times: Uint8Array; scores: Uint8Array }>(
    location,
    `SELECT times, scores FROM timeline_chunks WHERE analysis_id = ${analysis} ORDER BY chunk`,
  );
  const floats = (blobs: Uint8Array[]) => blobs.flatMap((blob) => [...new Float64Array(Uint8Array.from(blob).buffer)]);
  return {
    json,
    frames,
    events,
    timeline: { times: floats(chunks.map((c) => c.times)), scores: floats(chunks.map((c) => c.scores)) },
  };
}

/** What must equal the local run: everything but the ids the two libraries gave. */
function assertSameAsLocal(fleet: Stored): void {
  const { session: _s, analysis: _a, ...printed } = fleet.json;
  const { session: _rs, analysis: _ra, ...expected } = reference.json;
  assert.deepEqual(printed, expected);
  assert.equal(fleet.frames.length, reference.frames.length);
  assert.deepEqual(fleet.frames, reference.frames);
  assert.deepEqual(fleet.timeline, reference.timeline);
  assert.deepEqual(fleet.events, reference.events);
}

interface WorkerProcess {
  child: ChildProcess;
  log: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

function startWorker(database: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cliEntry, 'worker', '--database', database, '--threads', '1'],
    { cwd: repoRoot },
  );
  workers.push(child);
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, log: () => log, exited };
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A fresh database with the drive queued as one chunk per source (a stop lands inside a chunk), a worker on it. */
async function queueOneChunkPerSource() {
  const database = await (await testPostgres()).createDatabase();
  const queued = await runCli([...analyzeArgs(drive), '--database', database, '--chunk-seconds', '60']);
  assert.equal(queued.code, 0, queued.stderr);
  const worker = startWorker(database);
  const done = () => queryNumber(database, 'SELECT frames_done FROM analyses');
  return { database, worker, done };
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
  worker.child.kill('SIGTERM');
  const { code } = await worker.exited;
  assert.equal(code, 0, worker.log());
  assert.match(worker.log(), /stopped/);
}

test(
  'a worker analyses a multi-source drive in chunks: analyze --database --wait --json prints and stores what a local analyze does',
  { skip },
  async () => {
    const database = await (await testPostgres()).createDatabase();
    const worker = startWorker(database);
    const fleet = await runCli([...analyzeArgs(drive), '--database', database, '--wait', ...CHUNKING], {
      timeoutMs: 300_000,
    });
    assert.equal(fleet.code, 0, `${fleet.stderr}\n${worker.log()}`);
    assertSameAsLocal(await stored(database, lastJson(fleet.stdout)));
    // The drive ran as 4 chunks (the first source cut in two time ranges), each done.
    const chunks = await queryLibrary(
      database,
      'SELECT chunk, source_position, status FROM analysis_chunks ORDER BY chunk',
    );
    assert.deepEqual(
      chunks.map((row) => ({
        chunk: Number(row.chunk),
        source_position: Number(row.source_position),
        status: row.status,
      })),
      [0, 1, 2, 3].map((chunk) => ({ chunk, source_position: chunk < 2 ? 0 : 1, status: 'done' })),
    );
    assert.equal((worker.log().match(/runs here/g) ?? []).length, 4, worker.log());
    await stopWorker(worker);
  },
);

test(
  'two workers share one drive: each runs some of its chunks, and the result is the local one',
  { skip },
  async () => {
    const database = await (await testPostgres()).createDatabase();
    const queued = await runCli([...analyzeArgs(drive), '--database', database, ...CHUNKING]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.equal(lastJson(queued.stdout).status, 'queued');
    const pair = [startWorker(database), startWorker(database)];
    const waited = await runCli([...analyzeArgs(drive), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(waited.code, 0, waited.stderr);
    assertSameAsLocal(await stored(database, lastJson(waited.stdout)));
    for (const worker of pair) assert.match(worker.log(), /runs here/, worker.log());
    await Promise.all(pair.map(stopWorker));
  },
);

test(
  'kill -9 a worker mid-chunk: another worker resumes the chunk from its last stored frame, nothing lost or duplicated',
  { skip },
  async () => {
    const { database, worker: first, done } = await queueOneChunkPerSource();
    await until(async () => (await done()) >= 6, 'frames stored by the first worker');
    first.child.kill('SIGKILL');
    await first.exited;
    const stoppedAt = await done();
    assert.ok(stoppedAt < reference.frames.length, `the first worker finished before the kill (${stoppedAt})`);
    const second = startWorker(database);
    const waited = await runCli([...analyzeArgs(drive), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(waited.code, 0, `${waited.stderr}\n${second.log()}`);
    assertSameAsLocal(await stored(database, lastJson(waited.stdout)));
    assert.match(second.log(), new RegExp(`its worker \\(process ${first.child.pid} on .+\\) stopped; queued again`));
    await stopWorker(second);
  },
);

test(
  'a source the worker cannot reach fails its chunk with the path and host; the worker keeps serving',
  { skip },
  async () => {
    const database = await (await testPostgres()).createDatabase();
    const moved = join(dir, 'moved.mp4');
    copyFileSync(drive[1]!, moved);
    const queued = await runCli([...analyzeArgs([moved]), '--database', database]);
    assert.equal(queued.code, 0, queued.stderr);
    renameSync(moved, `${moved}.away`);
    const worker = startWorker(database);
    const status = () =>
      queryLibrary<{ status: string; message: string | null }>(
        database,
        'SELECT status, message FROM analyses WHERE id = 1',
      );
    await until(async () => (await status())[0]?.status === 'failed', 'the analysis to fail');
    const message = String((await status())[0]!.message);
    assert.ok(message.includes(moved) && message.includes(hostname()), message);
    assert.match(worker.log(), new RegExp(`failed on ${hostname()}: .*${moved.replaceAll('.', '\\.')} cannot be read`));
    assert.equal(worker.child.exitCode, null, 'the worker is still running');
    // The file is back: the same command resumes the analysis on the same worker.
    renameSync(`${moved}.away`, moved);
    const resumed = await runCli([...analyzeArgs([moved]), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(resumed.code, 0, `${resumed.stderr}\n${worker.log()}`);
    const json = lastJson(resumed.stdout);
    assert.equal(json.analysis, 1);
    assert.equal(json.status, 'done');
    // The same frames as the second source of the local run (there it starts later on the session timeline).
    const frames = (await stored(database, json)).frames;
    const expected = reference.frames.filter((frame) => frame.source_index === 1);
    assert.deepEqual(
      frames.map((frame) => [frame.idx, frame.score]),
      expected.map((frame, i) => [i, frame.score]),
    );
    const shift = expected[0]!.time_ms - frames[0]!.time_ms;
    assert.deepEqual(
      frames.map((frame) => frame.time_ms + shift),
      expected.map((frame) => frame.time_ms),
    );
    await stopWorker(worker);
  },
);

test(
  'SIGTERM stops a worker mid-chunk cleanly: the chunk is queued again at once and another worker finishes it',
  { skip },
  async () => {
    const { database, worker: first, done } = await queueOneChunkPerSource();
    await until(async () => (await done()) >= 6, 'frames stored by the first worker');
    await stopWorker(first);
    assert.match(first.log(), /chunk 0 of analysis 1 stopped here; queued again, to resume from its last stored frame/);
    assert.ok((await done()) < reference.frames.length, 'the first worker finished before it was stopped');
    const second = startWorker(database);
    const waited = await runCli([...analyzeArgs(drive), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(waited.code, 0, `${waited.stderr}\n${second.log()}`);
    assertSameAsLocal(await stored(database, lastJson(waited.stdout)));
    await stopWorker(second);
  },
);

test(
  'a worker whose database connections are cut reconnects and finishes, nothing lost or duplicated',
  { skip },
  async () => {
    const { database, worker, done } = await queueOneChunkPerSource();
    // Every connection to the database but the one cutting them, twice while frames are being written.
    const cut = () =>
      queryLibrary(
        database,
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    await until(async () => (await done()) >= 4, 'frames stored');
    await cut();
    await until(async () => (await done()) >= 14, 'frames stored after the first cut');
    await cut();
    const waited = await runCli([...analyzeArgs(drive), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(waited.code, 0, `${waited.stderr}\n${worker.log()}`);
    assertSameAsLocal(await stored(database, lastJson(waited.stdout)));
    assert.equal(worker.child.exitCode, null, worker.log());
    await stopWorker(worker);
  },
);

test(
  'an analysis cancelled mid-run stops its worker chunk; the same analyze command resumes it to the local result',
  { skip },
  async () => {
    const { database, worker, done } = await queueOneChunkPerSource();
    await until(async () => (await done()) >= 4, 'frames stored');
    const store = await openLibrary(database);
    try {
      const service = new AnalysisService(store, testModelsDir, () => undefined);
      assert.equal((await service.cancel(1)).status, 'cancelled');
      await service.close();
      // The worker stops the chunk within a heartbeat and writes no more.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const stopped = await done();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(await done(), stopped);
      assert.ok(stopped < reference.frames.length);
      assert.equal((await store.analyses.get(1)).status, 'cancelled');
    } finally {
      await store.close();
    }
    const resumed = await runCli([...analyzeArgs(drive), '--database', database, '--wait'], { timeoutMs: 300_000 });
    assert.equal(resumed.code, 0, `${resumed.stderr}\n${worker.log()}`);
    assertSameAsLocal(await stored(database, lastJson(resumed.stdout)));
    assert.equal(worker.child.exitCode, null, worker.log());
    await stopWorker(worker);
  },
);

test('analyze: --database with --library, or --wait without --database, is a usage error', async () => {
  const both = await runCli([
    ...analyzeArgs(drive),
    '--library',
    join(dir, 'x.sqlite'),
    '--database',
    'postgresql://u@h/db',
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--library and --database both name a library/);
  const wait = await runCli([...analyzeArgs(drive), '--wait']);
  assert.equal(wait.code, 2);
  assert.match(wait.stderr, /--wait and --chunk-seconds are for an analysis queued on a team database/);
  const worker = await runCli(['worker']);
  assert.equal(worker.code, 2);
  assert.match(worker.stderr, /--database URL is required/);
});
