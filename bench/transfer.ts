/**
 * `npm run bench -- transfer`: push and pull (library/transfer.ts) of one session of FRAMES drive-like frames
 * (2 kB maps and preview each) between an SQLite file and a PostgreSQL database on loopback (started as the
 * tests start it); then the same push again, which finds everything there and copies nothing.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyLibrarySessions, openLibrary, type Library } from '../src-main/library/index.js';
import { postgresUnavailable, testPostgres } from '../test/helpers/postgres.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';

const FRAMES = Number(process.env.BENCH_TRANSFER_FRAMES ?? 20_000);

async function timed(what: string, from: Library, to: Library, bytes: number): Promise<void> {
  const start = performance.now();
  const report = await copyLibrarySessions(from, to, []);
  const seconds = (performance.now() - start) / 1000;
  const frames = report.analyses.reduce((sum, analysis) => sum + analysis.frames, 0);
  if (frames === 0) return void console.log(`${what}: nothing to copy, checked in ${(seconds * 1000).toFixed(0)} ms`);
  console.log(
    `${what}: ${frames} frames in ${seconds.toFixed(2)} s (${(frames / seconds).toFixed(0)} frames/s, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s of the file)`,
  );
}

async function run(): Promise<void> {
  const unavailable = postgresUnavailable();
  if (unavailable) return void console.log(`not measured: ${unavailable}`);
  const dir = mkdtempSync(join(tmpdir(), 'dml-bench-transfer-'));
  const filePath = join(dir, 'local.sqlite');
  const file = await openLibrary(filePath);
  const server = await testPostgres();
  const team = await openLibrary(await server.createDatabase());
  const pulled = await openLibrary(join(dir, 'pulled.sqlite'));
  try {
    const { analysisId } = await writeSyntheticSession(file, { frames: FRAMES, frame: driveLikeFrame });
    await file.analyses.update(analysisId, { status: 'done' });
    const bytes = statSync(filePath).size;
    await timed('push, file to PostgreSQL', file, team, bytes);
    await timed('push again (all there, nothing copied)', file, team, bytes);
    await timed('pull, PostgreSQL to a new file', team, pulled, bytes);
  } finally {
    await Promise.all([file.close(), team.close(), pulled.close()]);
    await server.stop();
  }
}

export const transferBench = { name: 'transfer', run };
