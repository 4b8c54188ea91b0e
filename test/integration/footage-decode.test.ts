import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AppError } from '../../src-main/core/errors.js';
import {
  decodeSource,
  extractFullFrame,
  probeSource,
  type DecodeOptions,
  type DecodeOutcome,
} from '../../src-main/footage/index.js';
import type { FootageSource, ProbedSource } from '../../src-main/footage/index.js';
import { clip, hasEncoder, tempDir, truncatedCopy, valDrive, valImages } from '../helpers/clips.js';
import { repoRoot } from '../helpers/cli.js';

const dir = tempDir('dml-footage-');
const asStored = (source: ProbedSource, position = 0, offsetMs = 0): FootageSource => ({
  ...source,
  position,
  offsetMs,
});

async function decodeAll(
  source: FootageSource,
  sampleFps: number | null,
  resume: Pick<DecodeOptions, 'skipFrames' | 'lastSkippedMs'> = {},
  size = { width: 96, height: 72 },
) {
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const frames = [];
  for await (const frame of decodeSource(source, { ...size, sampleFps, ...resume }, outcome)) frames.push(frame);
  return { frames, outcome, times: frames.map((frame) => frame.timeMs) };
}

async function expectRefused(path: string, code: string, mention: RegExp) {
  await assert.rejects(probeSource(path), (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, mention);
    return true;
  });
}

let fiveFps: string;
before(() => {
  fiveFps = clip(dir, 'five-fps.mp4', 4, ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast']);
});

test('the val drive probes as 101 s of 480x360 H.264 at 1 fps with its hash', async () => {
  const source = await probeSource(valDrive);
  assert.equal(source.kind, 'video');
  assert.deepEqual(
    [source.durationMs, source.fps, source.width, source.height, source.frameCount, source.codec],
    [101_000, 1, 480, 360, 101, 'h264'],
  );
  assert.match(source.sha256, /^[0-9a-f]{64}$/);
});

test('a 16:9 drive gives the engine the model-size frame and stores its preview at 16:9', async () => {
  const wide = asStored(await probeSource(join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4')));
  assert.deepEqual([wide.width, wide.height], [1280, 720]);
  const { frames } = await decodeAll(wide, 5, {}, { width: 480, height: 360 });
  assert.ok(frames.length >= 7);
  for (const frame of frames) {
    assert.deepEqual([frame.rgb.width, frame.rgb.height], [480, 360]);
    const preview = jpeg.decode(frame.previewJpeg);
    assert.deepEqual([preview.width, preview.height], [480, 270]);
  }
});

test('every frame of the val drive decodes, to a slow reader, with its true timestamp and JPEG preview', async () => {
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const times: number[] = [];
  const source = asStored(await probeSource(valDrive));
  for await (const frame of decodeSource(source, { width: 480, height: 360, sampleFps: null }, outcome)) {
    times.push(frame.timeMs);
    assert.equal(frame.rgb.data.length, 480 * 360 * 3);
    const preview = jpeg.decode(frame.previewJpeg);
    assert.deepEqual([preview.width, preview.height], [480, 360]);
    // An engine takes its time: ffmpeg must wait without stalling on its two outputs.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(
    times,
    Array.from({ length: 101 }, (_, i) => i * 1000),
  );
  assert.deepEqual(outcome, { complete: true, message: null, framesSampled: 101 });
});

test('sampling keeps the first frame of each 1/fps cell, with the frame its own time', async () => {
  const source = asStored(await probeSource(fiveFps));
  const { times } = await decodeAll(source, 2);
  assert.deepEqual(times, [0, 600, 1000, 1600, 2000, 2600, 3000, 3600]);
  assert.equal((await decodeAll(source, null)).frames.length, 20);
});

test('a resumed decode passes over the stored frames and yields exactly the rest', async () => {
  const source = asStored(await probeSource(fiveFps), 1, 50_000);
  const whole = await decodeAll(source, 2);
  const rest = await decodeAll(source, 2, { skipFrames: 3 });
  assert.deepEqual(rest.times, whole.times.slice(3));
  assert.deepEqual(
    rest.frames.map((frame) => frame.frameInSource),
    [3, 4, 5, 6, 7],
  );
  assert.deepEqual(Buffer.from(rest.frames[0]!.rgb.data), Buffer.from(whole.frames[3]!.rgb.data));
  assert.equal(rest.times[0], 50_000 + 1600);
});

test('a resumed video seeks to its last stored frame and yields exactly the rest, whatever the file start time', async () => {
  // Keyframes every 5 frames, so the seek really lands mid-stream; timestamps start at 5 s, as in a cut clip.
  const options = ['-vf', 'fps=5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-output_ts_offset', '5'];
  const source = asStored(await probeSource(clip(dir, 'offset-gop.mp4', 8, options)), 1, 50_000);
  assert.equal(source.startMs, 5000);
  const whole = await decodeAll(source, 2);
  assert.deepEqual(whole.times.slice(0, 3), [50_000, 50_600, 51_000]);
  for (const stored of [1, 4, 9]) {
    const rest = await decodeAll(source, 2, { skipFrames: stored, lastSkippedMs: whole.times[stored - 1] });
    assert.deepEqual(rest.times, whole.times.slice(stored), `resumed after ${stored} frames`);
    assert.deepEqual(
      rest.frames.map((frame) => frame.frameInSource),
      whole.frames.slice(stored).map((frame) => frame.frameInSource),
    );
    assert.deepEqual(Buffer.from(rest.frames[0]!.rgb.data), Buffer.from(whole.frames[stored]!.rgb.data));
  }
});

const containers: { name: string; codec: string; encoder: string; options: string[] }[] = [
  { name: 'drive.mkv', codec: 'h264', encoder: 'libx264', options: ['-c:v', 'libx264', '-preset', 'ultrafast'] },
  {
    name: 'drive.mov',
    codec: 'hevc',
    encoder: 'libx265',
    options: ['-c:v', 'libx265', '-preset', 'ultrafast', '-tag:v', 'hvc1', '-x265-params', 'log-level=error'],
  },
  {
    name: 'drive.webm',
    codec: 'vp9',
    encoder: 'libvpx-vp9',
    options: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'],
  },
  { name: 'drive.avi', codec: 'mjpeg', encoder: 'mjpeg', options: ['-c:v', 'mjpeg', '-q:v', '5'] },
];

for (const container of containers) {
  test(
    `${container.name} (${container.codec}) probes and decodes every frame`,
    { skip: !hasEncoder(container.encoder) && `this ffmpeg has no ${container.encoder}` },
    async () => {
      const path = clip(dir, container.name, 5, container.options);
      const source = await probeSource(path);
      assert.equal(source.codec, container.codec);
      assert.deepEqual([source.width, source.height], [480, 360]);
      const { times, outcome } = await decodeAll(asStored(source), null);
      assert.deepEqual(times, [0, 1000, 2000, 3000, 4000]);
      assert.equal(outcome.complete, true);
    },
  );
}

test('rotation metadata is read and the size reported as displayed', async () => {
  const path = join(dir, 'rotated.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', fiveFps, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', path]);
  const source = await probeSource(path);
  assert.equal(source.rotation, 90);
  assert.deepEqual([source.width, source.height], [360, 480]);
});

test('an image folder is one source in natural name order, jpg and png mixed', async () => {
  const folder = join(dir, 'images');
  mkdirSync(folder);
  const names = ['0016E5_07959.jpg', '0016E5_07961.jpg', '0016E5_07963.jpg'];
  symlinkSync(join(valImages, names[0]!), join(folder, 'frame10.jpg'));
  symlinkSync(join(valImages, names[1]!), join(folder, 'frame2.jpg'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', join(valImages, names[2]!), join(folder, 'frame1.png')]);
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  const source = await probeSource(folder);
  assert.deepEqual(source.images, ['frame1.png', 'frame2.jpg', 'frame10.jpg']);
  assert.deepEqual([source.kind, source.frameCount, source.durationMs, source.width], ['image-folder', 3, 3000, 480]);
  const { times, outcome } = await decodeAll(asStored(source), null);
  assert.deepEqual(times, [0, 1000, 2000]);
  assert.equal(outcome.complete, true);
  // Their rate when the user gives it: a camera that saved 4 images a second.
  const fast = asStored(await probeSource(folder, { imageFps: 4 }));
  assert.deepEqual([fast.fps, fast.durationMs], [4, 750]);
  assert.deepEqual((await decodeAll(fast, null)).times, [0, 250, 500]);
  assert.deepEqual((await decodeAll(fast, 2)).times, [0, 500]);
});

test('a truncated mp4 decodes up to the break and says where it broke', async () => {
  const faststart = join(dir, 'faststart.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', valDrive, '-c', 'copy', '-movflags', '+faststart', faststart]);
  const cut = truncatedCopy(faststart, join(dir, 'cut.mp4'), 0.4);
  const source = await probeSource(cut);
  const { frames, outcome } = await decodeAll(asStored(source), null);
  assert.ok(frames.length > 10 && frames.length < 101, `decoded ${frames.length} frames`);
  assert.equal(outcome.complete, false);
  assert.match(
    outcome.message ?? '',
    new RegExp(`cut\\.mp4 broke at ${frames.at(-1)!.timeMs / 1000}\\.0 s of 101\\.0 s: .*Invalid data`),
  );
});

test('a truncated mp4 whose index was never written is refused with what happened', async () => {
  const cut = truncatedCopy(valDrive, join(dir, 'no-index.mp4'), 0.5);
  await expectRefused(cut, 'footage_not_video', /no-index\.mp4 is not a video .*moov atom not found.*cut off/);
});

test('a file that is not a video is refused', async () => {
  const path = join(dir, 'report.mp4');
  writeFileSync(path, 'Quarterly report\n'.repeat(100));
  await expectRefused(path, 'footage_not_video', /report\.mp4 is not a video ffmpeg can read/);
  // ffmpeg says "moov atom not found" of any file named .mp4: only one that starts like an MP4 was cut off.
  await assert.rejects(probeSource(path), (error: Error) => !/cut off|untrunc/.test(error.message));
});

test('a zero-length file is refused', async () => {
  const path = join(dir, 'empty.mp4');
  writeFileSync(path, '');
  await expectRefused(path, 'footage_empty', /empty\.mp4 is empty \(0 bytes\)/);
});

test('a path that does not exist is refused', async () => {
  await expectRefused(join(dir, 'nowhere', 'drive.mp4'), 'footage_unreadable', /drive\.mp4 does not exist/);
});

test('a file with no video stream is refused naming what it holds', async () => {
  const path = join(dir, 'audio.m4a');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', path]);
  await expectRefused(path, 'footage_no_video_stream', /audio\.m4a has no video stream \(it holds audio\)/);
});

test('a folder with no images is refused', async () => {
  const folder = join(dir, 'empty-folder');
  mkdirSync(folder);
  await expectRefused(folder, 'footage_no_images', /holds no \.jpg or \.png images/);
});

test('the full-resolution frame at an analysed time is the frame decoded at that time', async () => {
  const source = asStored(await probeSource(fiveFps), 0, 0);
  const { frames } = await decodeAll(source, 2, {}, { width: 480, height: 360 });
  const wanted = frames[3]!;
  const png = PNG.sync.read(await extractFullFrame([source], wanted.timeMs));
  assert.deepEqual([png.width, png.height], [480, 360]);
  let difference = 0;
  for (let i = 0, j = 0; i < wanted.rgb.data.length; i += 3, j += 4)
    difference += Math.abs(png.data[j]! - wanted.rgb.data[i]!);
  assert.ok(difference / (480 * 360) < 1, `mean red difference ${difference / (480 * 360)}`);
  const neighbour = frames[4]!;
  let other = 0;
  for (let i = 0, j = 0; i < neighbour.rgb.data.length; i += 3, j += 4)
    other += Math.abs(png.data[j]! - neighbour.rgb.data[i]!);
  assert.ok(other > difference * 10 + 1000, 'the neighbouring frame differs far more');
});

test('an image folder with an unreadable and a truncated image skips and reports those two, and analyses every other', async () => {
  const folder = join(dir, 'damaged-images');
  mkdirSync(folder);
  const names = ['0016E5_07959.jpg', '0016E5_07961.jpg', '0016E5_07963.jpg', '0016E5_07965.jpg', '0016E5_07967.jpg'];
  names.forEach((name, i) => symlinkSync(join(valImages, name), join(folder, `frame${i}.jpg`)));
  // frame1: not an image at all; frame3: a JPEG cut after a third of its bytes (ffmpeg decodes it partly grey).
  rmSync(join(folder, 'frame1.jpg'));
  writeFileSync(join(folder, 'frame1.jpg'), 'not a jpeg');
  rmSync(join(folder, 'frame3.jpg'));
  truncatedCopy(join(valImages, names[3]!), join(folder, 'frame3.jpg'), 0.33);
  const source = asStored(await probeSource(folder));
  const { times, outcome } = await decodeAll(source, null);
  assert.deepEqual(times, [0, 2000, 4000], 'the images after a bad one are still decoded');
  assert.equal(outcome.complete, false);
  assert.match(
    outcome.message ?? '',
    /^2 images in .*damaged-images could not be decoded and were skipped, the others were analysed: frame1\.jpg at 1\.0 s \(.+\); frame3\.jpg at 3\.0 s \(.+\)$/,
  );
  // A resume after frame2 (stored at 2000 ms) goes on with frame4, not with the bad frame3.
  const rest = await decodeAll(source, null, { skipFrames: 2, lastSkippedMs: 2000 });
  assert.deepEqual(rest.times, [4000]);
});

test('a device or a FIFO given as footage is refused at once, without reading it', async () => {
  const fifo = join(dir, 'camera.mp4');
  execFileSync('mkfifo', [fifo]);
  await expectRefused(fifo, 'footage_not_file', /camera\.mp4 is not a regular file \(a device, FIFO or socket\)/);
  await expectRefused('/dev/zero', 'footage_not_file', /\/dev\/zero is not a regular file/);
});

test('an image folder keeps only regular files: a FIFO named like an image is left out', async () => {
  const folder = join(dir, 'with-fifo');
  mkdirSync(folder);
  symlinkSync(join(valImages, '0016E5_07959.jpg'), join(folder, 'a.jpg'));
  execFileSync('mkfifo', [join(folder, 'b.jpg')]);
  const source = await probeSource(folder);
  assert.deepEqual(source.images, ['a.jpg']);
});
