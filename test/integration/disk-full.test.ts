/**
 * A disk that fills up during an analysis, for real: the library on a 2 MB tmpfs. The CLI stops with one
 * line, the frames stored stay as they were, and once there is room the same command resumes and ends with
 * exactly the frames of an uninterrupted run. Under `serve` the server keeps answering.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import type { AnalysisInfo } from '../../src-shared/contract/index.js';
import { runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { api, serve } from '../helpers/server.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

const dir = tempDir('dml-full-');
const analyze = (drive: string, library: string) =>
  runCli(['analyze', drive, '--library', library, '--model', 'camvid-open', '--fps', 'all', '--json'], {
    timeoutMs: 300_000,
  });
let drive: string;

before(() => {
  // 12 s at 5 fps, every frame analysed: 60 frames of about 80 kB of maps and preview each, so 2 MB holds ~20.
  drive = clip(dir, 'drive.mp4', 12, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast']);
});

function storedFrames(library: string): { idx: number; time_ms: number; score: number; ood: Buffer }[] {
  const db = new Database(library, { readonly: true });
  const rows = db
    .prepare(
      'SELECT f.idx, f.time_ms, f.score, m.ood_map AS ood FROM frames f JOIN frame_maps m USING (analysis_id, idx) ORDER BY idx',
    )
    .all() as { idx: number; time_ms: number; score: number; ood: Buffer }[];
  db.close();
  return rows;
}

test('analyze on a disk that fills up stops with one line; the stored frames stay; with room, the same command resumes exactly', async (t) => {
  const disk = mountTmpfs('size=2m');
  if (typeof disk === 'string') return t.skip(disk);
  try {
    const library = join(disk.dir, 'library.sqlite');
    const full = await analyze(drive, library);
    assert.equal(full.code, 1, full.stderr);
    const lines = full.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace: ${full.stderr}`);
    assert.match(
      lines[0]!,
      /^dmlreview analyze: The disk holding the library .*library\.sqlite is full: analysis 1 stopped after (\d+) frames, which are kept; free some space, then run the same analyze command again to resume it$/,
    );
    const kept = storedFrames(library);
    assert.ok(kept.length > 0 && kept.length < 60, `${kept.length} frames were stored before the disk filled`);
    assert.equal(Number(/after (\d+) frames/.exec(lines[0]!)![1]), kept.length);

    disk.remount('size=64m');
    const resumed = await analyze(drive, library);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.deepEqual([summary.analysis, summary.frames, summary.status], [1, 60, 'done']);
    const after = storedFrames(library);
    assert.deepEqual(after.slice(0, kept.length), kept, 'the frames stored before the disk filled are unchanged');

    const reference = join(dir, 'reference.sqlite');
    assert.equal((await analyze(drive, reference)).code, 0);
    const expected = storedFrames(reference);
    assert.deepEqual(
      after.map((row) => [row.idx, row.time_ms]),
      expected.map((row) => [row.idx, row.time_ms]),
    );
    after.forEach((row, i) => assert.ok(Math.abs(row.score - expected[i]!.score) < 1e-6, `frame ${row.idx}`));
    console.log(`DISK_FULL ${JSON.stringify({ storedWhenFull: kept.length, afterResume: after.length })}`);
  } finally {
    disk.unmount();
  }
});

test('under serve, an analysis that fills the disk fails with the disk-full message; the server keeps answering', async (t) => {
  const disk = mountTmpfs('size=2m');
  if (typeof disk === 'string') return t.skip(disk);
  const server = await serve(['--library', join(disk.dir, 'library.sqlite')]);
  try {
    const notifications = new WebSocket(`ws://127.0.0.1:${server.port}/api/notifications?token=${server.token}`);
    const failed = new Promise<AnalysisInfo>((resolve) =>
      notifications.on('message', (data: Buffer) => {
        const { name, payload } = JSON.parse(data.toString()) as { name: string; payload: AnalysisInfo };
        if (name === 'analysis.progress' && payload.status === 'failed') resolve(payload);
      }),
    );
    await new Promise((resolve, reject) => notifications.once('open', resolve).once('error', reject));
    const imported = await api(server, 'sessions.import', {
      paths: [drive],
      analyse: { model: 'camvid-open', sampleFps: null },
    });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    const info = await failed;
    notifications.close();
    assert.match(
      info.message ?? '',
      /The disk holding the library .* is full: analysis \d+ stopped after \d+ frames, which are kept/,
    );
    assert.ok(server.alive(), 'serve is still running');
    assert.equal((await api(server, 'health', {})).status, 200);
    const listed = await api(server, 'sessions.list', {});
    assert.equal(listed.status, 200, 'the library can still be browsed');
  } finally {
    await server.stop();
    disk.unmount();
  }
});
