import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { AnalysisInfo } from '../../src-shared/contract/index.js';
import { defaultModelsDir } from '../../src-main/core/paths.js';
import { AnalysisService, runAnalysis } from '../../src-main/jobs/index.js';
import { openLibrary, type Library } from '../../src-main/library/index.js';
import { clip, tempDir, truncatedCopy, valDrive } from '../helpers/clips.js';
import Database from 'better-sqlite3';

/** Changes the library file behind the app's back, as an older build or a crash would have left it. */
function rewriteLibrary(path: string, sql: string, ...params: unknown[]): void {
  const file = new Database(path);
  file.prepare(sql).run(...params);
  file.close();
}

const model = 'camvid-open';
const modelsDir = defaultModelsDir();
const dir = tempDir('dml-jobs-');
let store: Library;
let service: AnalysisService;
const progress: AnalysisInfo[] = [];
let mkv: string;
let mp4: string;

before(async () => {
  store = await openLibrary(join(dir, 'library.sqlite'));
  service = new AnalysisService(store, modelsDir, (info) => progress.push(info));
  mkv = clip(dir, 'part1.mkv', 4, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  mp4 = clip(dir, 'part2.mp4', 3, ['-c:v', 'libx264', '-preset', 'ultrafast']);
});

after(async () => {
  await service.close();
  await store.close();
});

test('two clips are one timeline; sessions queued together run one after the other in a worker', async () => {
  const drive = await service.importSession([mkv, mp4]);
  const second = await service.importSession([mp4]);
  const first = await service.startAnalysis(drive.id, { model, sampleFps: null });
  const queued = await service.startAnalysis(second.id, { model, sampleFps: null });
  assert.equal((await store.analyses.get(queued.id)).status, 'queued');
  const [done, alsoDone] = await Promise.all([service.queue.waitFor(first.id), service.queue.waitFor(queued.id)]);
  assert.deepEqual(
    [done.status, done.framesDone, done.framesTotal, alsoDone.status, alsoDone.framesDone],
    ['done', 7, 7, 'done', 3],
  );
  assert.deepEqual(
    (await store.frames.timeline(first.id)).timesMs,
    Float64Array.of(0, 1000, 2000, 3000, 4000, 5000, 6000),
  );
  const firstFinished = progress.findIndex((info) => info.id === first.id && info.status === 'done');
  const secondStarted = progress.findIndex((info) => info.id === queued.id && info.status === 'running');
  assert.ok(firstFinished >= 0 && firstFinished < secondStarted, 'the second analysis starts after the first ends');
  assert.ok(progress.some((info) => info.id === first.id && info.fps > 0));
});

test('each stored frame has its summary, class map, OOD map and preview (4:3 footage: the model size)', async () => {
  const drive = await service.importSession([mp4], 'maps');
  const analysis = await service.startAnalysis(drive.id, { model, sampleFps: 1 });
  await service.queue.waitFor(analysis.id);
  const info = await store.analyses.plan(analysis.id);
  const frame = await store.frames.get(analysis.id, 1);
  assert.equal(frame.classAreas.length, info.classes.length);
  assert.ok(frame.score >= 0 && frame.score <= 1);
  const classMap = PNG.sync.read((await store.frames.map(analysis.id, 1, 'class_map'))!);
  const oodMap = PNG.sync.read((await store.frames.map(analysis.id, 1, 'ood_map'))!);
  const preview = jpeg.decode((await store.frames.map(analysis.id, 1, 'preview'))!);
  assert.deepEqual([preview.width, preview.height], [info.inputWidth, info.inputHeight]);
  assert.deepEqual([classMap.width, oodMap.width], [oodMap.width, classMap.width]);
  const classIndices = new Set<number>();
  for (let i = 0; i < classMap.data.length; i += 4) classIndices.add(classMap.data[i]!);
  assert.ok(
    [...classIndices].every((index) => index < info.classes.length || index === 255),
    `class indices ${[...classIndices].join(',')}`,
  );
  const areaSum = frame.classAreas.reduce((sum, area) => sum + area, 0) + frame.unknownFraction;
  assert.ok(Math.abs(areaSum - 1) < 1e-3, `class areas + unknown = ${areaSum}`);
});

test('a truncated drive is analysed as far as it decodes and marked partial with where it broke', async () => {
  const faststart = join(dir, 'faststart.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    valDrive,
    '-t',
    '30',
    '-c',
    'copy',
    '-movflags',
    '+faststart',
    faststart,
  ]);
  const cut = truncatedCopy(faststart, join(dir, 'cut.mp4'), 0.3);
  const drive = await service.importSession([cut]);
  const analysis = await service.startAnalysis(drive.id, { model, sampleFps: null });
  const done = await service.queue.waitFor(analysis.id);
  assert.equal(done.status, 'partial');
  assert.match(done.message ?? '', /cut\.mp4 broke at \d+\.0 s of 3\d\.0 s: frames after it could not be decoded/);
  const times = (await store.frames.timeline(analysis.id)).timesMs;
  assert.ok(times.length > 3 && times.length < 25, `${times.length} frames`);
  assert.equal(done.framesDone, times.length);
});

test('cancel stops after whole frames; resuming finishes with every frame once', async () => {
  const long = clip(dir, 'long.mp4', 30, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  const drive = await service.importSession([long]);
  const analysis = await service.startAnalysis(drive.id, { model, sampleFps: null });
  while ((await store.analyses.get(analysis.id)).framesDone === 0)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await service.cancel(analysis.id);
  const cancelled = await service.queue.waitFor(analysis.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(cancelled.framesDone > 0 && cancelled.framesDone < 30, `${cancelled.framesDone} frames before the cancel`);
  await service.resume(analysis.id);
  const done = await service.queue.waitFor(analysis.id);
  assert.deepEqual([done.status, done.framesDone], ['done', 30]);
  assert.deepEqual(
    (await store.frames.timeline(analysis.id)).timesMs,
    Float64Array.from({ length: 30 }, (_, i) => i * 1000),
  );
});

test('resuming an analysis begun before unknown regions is refused: one timeline, one frame-score rule', async () => {
  const drive = await service.importSession([mp4], 'old rule');
  const analysis = await service.startAnalysis(drive.id, { model, sampleFps: null });
  await service.queue.waitFor(analysis.id);
  rewriteLibrary(
    store.path,
    "UPDATE analyses SET status = 'running', frame_score = 'pixel-p90' WHERE id = ?",
    analysis.id,
  );
  const refused = await runAnalysis({ libraryPath: store.path, modelsDir, analysisId: analysis.id });
  assert.equal(refused.status, 'failed');
  assert.match(refused.message ?? '', /started by an older dmlreview, which scored frames by the 90th percentile/);
  assert.equal((await store.frames.timeline(analysis.id)).scores.length, 3);
});

test('resuming with a model that changed since the analysis started is refused; stored frames stay', async () => {
  const drive = await service.importSession([mp4], 'changed model');
  const analysis = await service.startAnalysis(drive.id, { model, sampleFps: null });
  await service.queue.waitFor(analysis.id);
  // As if the app had crashed after the first frames, and camvid-open.onnx had then been replaced.
  rewriteLibrary(
    store.path,
    "UPDATE analyses SET status = 'running', model_sha256 = ? WHERE id = ?",
    '0'.repeat(64),
    analysis.id,
  );
  const refused = await runAnalysis({ libraryPath: store.path, modelsDir, analysisId: analysis.id });
  assert.equal(refused.status, 'failed');
  assert.match(
    refused.message ?? '',
    /Model camvid-open changed since analysis \d+ started \(sha256 000000000000\.\.\. then, [0-9a-f]{12}\.\.\. now\): its frames are kept/,
  );
  assert.equal((await store.frames.timeline(analysis.id)).scores.length, 3);
});
