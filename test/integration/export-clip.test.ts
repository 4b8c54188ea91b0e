import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { createDispatcher, handlers, type Dispatch } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import type { AppContext } from '../../src-main/api/context.js';
import { bandHeight } from '../../src-main/export/clip-band.js';
import type { ClipResult, ExportResult } from '../../src-shared/contract/index.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { probeVideo, tempDir } from '../helpers/clips.js';
import { e2eModel } from '../e2e/review-helpers.js';

// Event clips on a real analysed drive: the highway clip (1280x720, 25 fps, 38 frames) analysed at 5 fps, so
// most clip frames lie between analysed frames and hold the last analysed overlay.
const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const work = tempDir('dml-clip-int-');
const libraryPath = join(work, 'library.sqlite');
// Mean absolute difference (0..255, over RGB) allowed between a clip frame and the export's overlay PNG: the
// decoded pictures are identical, what differs is H.264's loss (CRF 18, 4:2:0 chroma) on the sharp, saturated
// class edges and outlines. Measured 4.3 here; the frame six later (moving traffic, another overlay) gives 14+.
const MAX_MEAN_DIFFERENCE = 6;
let context: AppContext;
let dispatch: Dispatch;
let sessionId = 0;
let analysisId = 0;

async function call(method: string, payload: unknown) {
  const result = await dispatch(method, payload);
  if (!result.ok) throw new Error(`${method}: ${result.error.message}`);
  return result.value;
}

/** Frame `index` of a video as raw RGB. */
function videoFrame(path: string, index: number, width: number, height: number): Buffer {
  const data = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      path,
      '-vf',
      `select=eq(n\\,${index})`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(data.length, width * height * 3, `frame ${index} of ${path}`);
  return data;
}

before(async () => {
  context = await createApp({ host: 'review-server', libraryPath });
  dispatch = createDispatcher(handlers, context);
  const session = (await call('sessions.import', {
    paths: [highway],
    analyse: { model: e2eModel(), sampleFps: 5 },
  })) as { id: number };
  sessionId = session.id;
  const analysis = (await context.library.analyses.latest(sessionId))!;
  await context.analyses.queue.waitFor(analysis.id);
  const analysed = await context.library.analyses.get(analysis.id);
  assert.equal(analysed.status, 'done', analysed.message ?? '');
  analysisId = analysis.id;
});

after(() => context?.close());

test('a range clip has every footage frame at the source rate and size; a frame equals the export overlay', async () => {
  const session = await context.library.sessions.get(sessionId);
  const timeline = await context.library.frames.timeline(analysisId);
  // An analysed frame in the middle: the clip frame shown at its time must be the export's overlay image.
  const flaggedIndex = 3;
  await call('flags.add', { analysisId, frameIndex: flaggedIndex });
  const out = join(work, 'range');
  mkdirSync(out);
  const exported = (await call('export.flagged', { sessionId, folder: out, name: 'frames' })) as ExportResult;
  const progress: number[] = [];
  const stop = context.notifications.subscribe((name, payload) => {
    if (name === 'export.clipProgress') progress.push((payload as { done: number }).done);
  });
  const clip = (await call('export.clip', {
    sessionId,
    fromMs: 0,
    toMs: session.durationMs,
    folder: out,
    name: 'clip',
  })) as ClipResult;
  stop();

  const sourceFrames = probeVideo(highway).frames;
  assert.equal(sourceFrames, 38);
  const video = join(clip.path, clip.video);
  const probed = probeVideo(video);
  assert.equal(probed.codec_name, 'h264');
  assert.equal(probed.frames, sourceFrames, 'every frame of the footage is in the clip');
  assert.equal(clip.frames, sourceFrames);
  assert.equal(probed.avg_frame_rate, '25/1');
  assert.ok(Math.abs(probed.duration - sourceFrames / 25) < 0.05, `duration ${probed.duration}`);
  assert.deepEqual([probed.width, probed.height], [1280, 720 + bandHeight(720)]);
  assert.deepEqual([clip.width, clip.height], [probed.width, probed.height]);
  assert.ok(progress.length >= sourceFrames && progress.at(-1) === progress.at(-1), 'progress was reported');

  const metadata = JSON.parse(readFileSync(join(clip.path, clip.metadata), 'utf8')) as { framesMs: number[] };
  const atFlag = metadata.framesMs.findIndex((ms) => Math.abs(ms - timeline.timesMs[flaggedIndex]!) < 0.5);
  assert.ok(atFlag > 0, 'the flagged frame time is one of the clip frames');
  const overlayFile = exported.frames[0]!.overlay;
  assert.ok(overlayFile, 'the folder export writes an overlay per flagged frame');
  const overlay = PNG.sync.read(readFileSync(join(exported.path, overlayFile)));
  const frame = videoFrame(video, atFlag, clip.width, clip.height);
  const difference = (rgb: Buffer) => {
    let sum = 0;
    for (let y = 0; y < overlay.height; y++)
      for (let x = 0; x < overlay.width; x++)
        for (let c = 0; c < 3; c++)
          sum += Math.abs(rgb[(y * clip.width + x) * 3 + c]! - overlay.data[(y * overlay.width + x) * 4 + c]!);
    return sum / (overlay.width * overlay.height * 3);
  };
  const same = difference(frame);
  console.log(`clip frame ${atFlag} vs export overlay: mean abs difference ${same.toFixed(2)}`);
  assert.ok(same < MAX_MEAN_DIFFERENCE, `mean abs difference ${same.toFixed(2)}`);
  // The bound tells frames apart: the frame six later (moving traffic, another held overlay) is over it.
  const other = difference(videoFrame(video, atFlag + 6, clip.width, clip.height));
  assert.ok(other > MAX_MEAN_DIFFERENCE, `frame ${atFlag + 6} differs by ${other.toFixed(2)}`);
});

test('`export --clip EVENT_ID` clips the event with a second each side; bad requests leave nothing', async () => {
  const events = await context.library.events.recompute(analysisId, {
    threshold: 0,
    hysteresis: 0,
    minGapMs: 1000,
    minFrames: 1,
    minDurationMs: 0,
  });
  const event = events[0]!;
  const out = join(work, 'event');
  mkdirSync(out);
  const common = ['--session', String(sessionId), '--out', out, '--library', libraryPath];
  const ok = await runCli(['export', ...common, '--clip', String(event.id), '--overlay', 'heat,outline', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const clip = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as ClipResult;
  assert.equal(clip.eventId, event.id);
  assert.equal(clip.fromMs, Math.max(0, event.startMs - 1000));
  const probed = probeVideo(join(clip.path, clip.video));
  assert.equal(probed.frames, clip.frames);
  assert.equal(clip.frames, Math.round(((clip.toMs - clip.fromMs) * 25) / 1000));

  const unknownEvent = await runCli(['export', ...common, '--clip', '99999']);
  assert.equal(unknownEvent.code, 1);
  assert.equal(unknownEvent.stderr.trim().split('\n').length, 1, unknownEvent.stderr);
  assert.match(unknownEvent.stderr, /event 99999/i);
  const backwards = await runCli(['export', ...common, '--from', '1200', '--to', '400']);
  assert.equal(backwards.code, 1);
  assert.match(backwards.stderr, /^dmlreview export: The clip range 1200-400 ms is empty/);
  const badLayer = await runCli(['export', ...common, '--from', '0', '--to', '400', '--overlay', 'glow']);
  assert.equal(badLayer.code, 2, 'a usage error');
  assert.match(badLayer.stderr, /--overlay takes classes, heat, outline/);
  assert.deepEqual(readdirSync(out), [clip.path.split('/').at(-1)], 'only the finished clip folder is there');
});
