import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { PNG } from 'pngjs';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { decodeLabelPng } from '../../src-main/engine/index.js';
import { findUnknownRegions, regionPlaces } from '../../src-main/engine/unknown-regions.js';
import { openLibrary, type Library } from '../../src-main/library/index.js';
import { cliEntry, repoRoot, runCli } from '../helpers/cli.js';
import { clip, tempDir, valDrive, valLabels } from '../helpers/clips.js';

const dir = tempDir('dml-cli-');
const model = ['--model', 'camvid-open'];
let drive: string;

before(() => {
  // 20 s at 5 fps, analysed at 2 fps: 40 frames, the sampling rule exercised on resume too.
  drive = clip(dir, 'drive.mp4', 20, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast']);
});

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

function storedFrames(library: string): { idx: number; time_ms: number; score: number }[] {
  const db = new Database(library, { readonly: true });
  const rows = db.prepare('SELECT idx, time_ms, score FROM frames ORDER BY analysis_id, idx').all() as {
    idx: number;
    time_ms: number;
    score: number;
  }[];
  db.close();
  return rows;
}

function framesDone(library: string): number {
  try {
    const db = new Database(library, { readonly: true, timeout: 1000 });
    const done = db.prepare('SELECT coalesce(max(frames_done), 0) FROM analyses').pluck().get() as number;
    db.close();
    return done;
  } catch {
    return 0;
  }
}

test('analyze killed with SIGKILL mid-run, then rerun, stores exactly the frames of an uninterrupted run', async () => {
  const reference = join(dir, 'reference.sqlite');
  const uninterrupted = await runCli(['analyze', drive, '--library', reference, ...model, '--fps', '2', '--json']);
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
  assert.deepEqual(lastJson(uninterrupted.stdout), {
    session: 1,
    analysis: 1,
    frames: 40,
    events: lastJson(uninterrupted.stdout).events,
    partial: false,
    status: 'done',
    message: null,
  });

  const library = join(dir, 'killed.sqlite');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cliEntry, 'analyze', drive, '--library', library, ...model, '--fps', '2', '--json'],
    { cwd: repoRoot, stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Some frames are committed, the rest are not yet analysed or in flight. Killed early, since two engine
  // lanes analyse the rest of this short drive in about two seconds.
  while (framesDone(library) < 8) await new Promise((resolve) => setTimeout(resolve, 20));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const survivors = storedFrames(library).length;
  assert.ok(survivors >= 8 && survivors < 40, `${survivors} frames survived the kill`);

  const resumed = await runCli(['analyze', drive, '--library', library, ...model, '--fps', '2', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(lastJson(resumed.stdout), { ...lastJson(uninterrupted.stdout) });
  const expected = storedFrames(reference);
  const actual = storedFrames(library);
  assert.deepEqual(
    actual.map((row) => [row.idx, row.time_ms]),
    expected.map((row) => [row.idx, row.time_ms]),
  );
  actual.forEach((row, i) =>
    assert.ok(
      Math.abs(row.score - expected[i]!.score) < 1e-6,
      `frame ${row.idx} score ${row.score} vs ${expected[i]!.score}`,
    ),
  );
});

test('the val drive end to end: analyze, then events ranked by peak score, sessions and frames', async () => {
  const library = join(dir, 'val.sqlite');
  const analysed = await runCli(['analyze', valDrive, '--library', library, ...model, '--json'], {
    timeoutMs: 240_000,
  });
  assert.equal(analysed.code, 0, analysed.stderr);
  const summary = lastJson(analysed.stdout);
  assert.deepEqual([summary.session, summary.frames, summary.partial], [1, 101, false]);

  const listed = await runCli(['events', '--session', '1', '--library', library, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const events = JSON.parse(listed.stdout) as {
    start_ms: number;
    end_ms: number;
    peak_ms: number;
    peak_score: number;
  }[];
  assert.equal(events.length, summary.events);
  assert.ok(events.length > 0, 'the val drive has events');
  for (const [i, event] of events.entries()) {
    assert.ok(event.start_ms <= event.peak_ms && event.peak_ms <= event.end_ms, JSON.stringify(event));
    if (i > 0) assert.ok(events[i - 1]!.peak_score >= event.peak_score, 'ranked by peak score');
  }

  const sessions = JSON.parse((await runCli(['sessions', '--library', library, '--json'])).stdout) as {
    latestAnalysis: { framesDone: number };
  }[];
  assert.equal(sessions[0]!.latestAnalysis.framesDone, 101);
  const frames = JSON.parse(
    (await runCli(['frames', '--session', '1', '--library', library, '--top', '5', '--json'])).stdout,
  ) as { time_ms: number; score: number }[];
  assert.equal(frames.length, 5);
  assert.equal(frames[0]!.score, events[0]!.peak_score, 'the top frame is the top event peak');

  const again = await runCli(['analyze', valDrive, '--library', library, ...model, '--json']);
  assert.deepEqual(lastJson(again.stdout), summary, 'rerunning a finished analysis reports it without redoing it');
  await expectRegionsAndEvents(library);
});

/** Class ids of the val labels the open model never saw: pedestrian, bicyclist. */
const UNSEEN = [9, 10];

/**
 * The val drive's stored regions describe its stored maps, frame scores are their best region's, events
 * persist, and the peak of the drive's top event is outlined on a pedestrian or bicyclist of the labels.
 */
async function expectRegionsAndEvents(library: string) {
  const store = await openLibrary(library);
  try {
    const analysis = (await store.analyses.latest(1))!;
    assert.equal(analysis.frameScore, 'regions');
    for (let index = 0; index < analysis.framesDone; index++) await expectFrameRegions(store, analysis.id, index);
    const settings = await store.analyses.eventSettings(analysis.id);
    const { scores, timesMs } = await store.frames.timeline(analysis.id);
    const events = await store.events.list(analysis.id);
    for (const event of events) {
      const first = timesMs.indexOf(event.startMs);
      assert.ok(event.frameCount >= settings.minFrames && event.endMs - event.startMs >= settings.minDurationMs);
      for (let i = first; i < first + event.frameCount; i++)
        assert.ok(scores[i]! >= settings.threshold - settings.hysteresis, `frame ${i} of an event`);
    }
    const top = events[0]!;
    const regions = (await store.frames.regions(analysis.id, top.peakFrame)).regions;
    const best = regions.reduce((a, b) => (b.score > a.score ? b : a));
    const label = await decodeLabelPng(join(valLabels, readdirSync(valLabels).sort()[top.peakFrame]!));
    let onUnseen = 0;
    for (let y = best.y; y < best.y + best.height; y++)
      for (let x = best.x; x < best.x + best.width; x++)
        if (UNSEEN.includes(label.data[y * label.width + x]!)) onUnseen++;
    assert.ok(onUnseen > 0, `the top event's peak region (frame ${top.peakFrame}) is on a pedestrian or bicyclist`);
  } finally {
    await store.close();
  }
}

/** Regions from the stored maps again: boxes and places from the class map, means from the 8-bit OOD map. */
async function expectFrameRegions(store: Library, analysisId: number, index: number) {
  const stored = await store.frames.regions(analysisId, index);
  assert.ok(stored.hasRegions, `frame ${index} has regions`);
  const classMap = PNG.sync.read((await store.frames.map(analysisId, index, 'class_map'))!);
  const oodMap = PNG.sync.read((await store.frames.map(analysisId, index, 'ood_map'))!);
  const classes = Uint8Array.from({ length: classMap.width * classMap.height }, (_, p) => classMap.data[p * 4]!);
  const levels = Float32Array.from({ length: classes.length }, (_, p) => oodMap.data[p * 4]! / 255);
  const places = regionPlaces((await store.analyses.get(analysisId)).classes);
  const again = findUnknownRegions(classes, levels, places, classMap.width, classMap.height);
  const facts = ({ meanScore: _m, score: _s, ...rest }: UnknownRegion) => rest;
  type Placed = Pick<UnknownRegion, 'pixels' | 'x' | 'y'>;
  const byPixels = (a: Placed, b: Placed) => b.pixels - a.pixels || a.y - b.y || a.x - b.x;
  assert.deepEqual(stored.regions.map(facts).sort(byPixels), again.map(facts).sort(byPixels));
  const sorted = [...again].sort(byPixels);
  [...stored.regions].sort(byPixels).forEach((region, i) => {
    assert.ok(Math.abs(region.meanScore - sorted[i]!.meanScore) <= 0.5 / 255 + 1e-6, `frame ${index} mean score`);
  });
  const best = stored.regions.reduce((score, region) => Math.max(score, region.score), 0);
  assert.equal(
    (await store.frames.get(analysisId, index)).score,
    best,
    `frame ${index}: the frame score is the best region's`,
  );
}

test('analyze refuses a file that is not a video in one line and stores nothing', async () => {
  const library = join(dir, 'bad.sqlite');
  const notVideo = join(dir, 'notes.mp4');
  writeFileSync(notVideo, 'meeting notes\n'.repeat(50));
  const result = await runCli(['analyze', notVideo, '--library', library, ...model, '--json']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^dmlreview analyze: .*notes\.mp4 is not a video ffmpeg can read/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.equal((await runCli(['sessions', '--library', library, '--json'])).stdout.trim(), '[]');
});

test('events without --session is a usage error', async () => {
  const result = await runCli(['events', '--library', join(dir, 'x.sqlite')]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--session ID is required/);
});
