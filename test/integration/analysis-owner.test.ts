/**
 * Two processes, one analysis: real `dmlreview analyze` and `serve` processes on one library file. Exactly one
 * process runs an analysis; the other waits (saying who runs it) and takes over only if that one stops.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { cliEntry, repoRoot, runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { api, serve } from '../helpers/server.js';

const dir = tempDir('dml-owner-');
let drive: string;
const args = (library: string) => [
  'analyze',
  drive,
  '--library',
  library,
  '--model',
  'camvid-open',
  '--fps',
  '2',
  '--json',
];
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const owned =
  /dmlreview analyze: analysis 1 is being run by process \d+ on host .+ since .+; it resumes here if that process stops \(heartbeat older than 10 s\)/;

before(() => {
  // 20 s at 5 fps analysed at 2 fps: 40 frames, long enough for a second process to arrive mid-run.
  drive = clip(dir, 'drive.mp4', 20, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast']);
});

function query<T>(library: string, sql: string): T[] {
  const db = new Database(library, { readonly: true, timeout: 5000 });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const frames = (library: string) =>
  query<{ idx: number; time_ms: number; score: number }>(
    library,
    'SELECT idx, time_ms, score FROM frames ORDER BY idx',
  );

function framesDone(library: string): number {
  try {
    return query<{ n: number }>(library, 'SELECT coalesce(max(frames_done), 0) AS n FROM analyses')[0]!.n;
  } catch {
    return 0;
  }
}

function spawnAnalyze(library: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args(library)], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let reference: { idx: number; time_ms: number; score: number }[] = [];

test('an uninterrupted run, for reference', async () => {
  const library = join(dir, 'reference.sqlite');
  const result = await runCli(args(library), { timeoutMs: 300_000 });
  assert.equal(result.code, 0, result.stderr);
  reference = frames(library);
  assert.equal(reference.length, 40);
});

test('serve started while a CLI analyze runs watches it: the CLI ends done, the record is done, every frame once', async () => {
  const library = join(dir, 'serve-meanwhile.sqlite');
  const cli = spawnAnalyze(library);
  await until(() => framesDone(library) >= 4, 'the first frames');
  const server = await serve(['--library', library]);
  try {
    const result = await cli.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([lastJson(result.stdout).status, lastJson(result.stdout).frames], ['done', 40]);
    const [analysis] = query<{ status: string; message: string | null }>(
      library,
      'SELECT status, message FROM analyses',
    );
    assert.deepEqual(analysis, { status: 'done', message: null });
    assert.deepEqual(
      frames(library).map((row) => [row.idx, row.time_ms]),
      reference.map((row) => [row.idx, row.time_ms]),
    );
    // serve, which found it claimed when it started, reports it as the other process left it.
    const listed = await api(server, 'analysis.list', { sessionId: 1 });
    assert.equal((listed.body as unknown as { status: string }[])[0]?.status, 'done');
    assert.ok(server.alive());
  } finally {
    await server.stop();
  }
});

test('two reruns of an interrupted analysis at once: one runs it, the other waits, both report the same done analysis', async () => {
  const library = join(dir, 'rerun.sqlite');
  const first = spawnAnalyze(library);
  await until(() => framesDone(library) >= 8, 'the first frames');
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  const [a, b] = await Promise.all([spawnAnalyze(library).exited, spawnAnalyze(library).exited]);
  for (const result of [a, b]) {
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      [lastJson(result.stdout).analysis, lastJson(result.stdout).frames, lastJson(result.stdout).status],
      [1, 40, 'done'],
    );
    assert.doesNotMatch(result.stderr, /UNIQUE constraint/);
  }
  assert.ok(owned.test(a.stderr) !== owned.test(b.stderr), `exactly one waited:\n${a.stderr}\n---\n${b.stderr}`);
  const stored = frames(library);
  assert.deepEqual(
    stored.map((row) => [row.idx, row.time_ms]),
    reference.map((row) => [row.idx, row.time_ms]),
  );
  stored.forEach((row, i) => assert.ok(Math.abs(row.score - reference[i]!.score) < 1e-6, `frame ${row.idx}`));
});

test('two fresh analyze runs of the same files at once share one session and one analysis', async () => {
  const library = join(dir, 'fresh.sqlite');
  const [a, b] = await Promise.all([spawnAnalyze(library).exited, spawnAnalyze(library).exited]);
  for (const result of [a, b]) {
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([lastJson(result.stdout).session, lastJson(result.stdout).analysis], [1, 1]);
  }
  assert.deepEqual(query(library, 'SELECT count(*) AS n FROM sessions'), [{ n: 1 }]);
  assert.deepEqual(query(library, 'SELECT count(*) AS n FROM analyses'), [{ n: 1 }]);
  assert.equal(frames(library).length, 40);
});
