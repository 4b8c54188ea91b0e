import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { AppError } from '../../src-main/core/errors.js';
import { ffmpegTools, forgetFfmpegTools } from '../../src-main/footage/index.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  forgetFfmpegTools();
});

test('the DMLREVIEW_FFMPEG setting wins, with the ffprobe beside it', () => {
  process.env.DMLREVIEW_FFMPEG = '/usr/bin/ffmpeg';
  assert.deepEqual(ffmpegTools(), { ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe', origin: 'setting' });
});

test('a setting that points nowhere is a clear error naming the setting', () => {
  process.env.DMLREVIEW_FFMPEG = '/opt/nowhere/ffmpeg';
  assert.throws(
    ffmpegTools,
    (error: unknown) =>
      error instanceof AppError &&
      error.code === 'ffmpeg_missing' &&
      /DMLREVIEW_FFMPEG points to \/opt\/nowhere\/ffmpeg/.test(error.message),
  );
});

test('without a setting, ffmpeg on PATH is used', () => {
  delete process.env.DMLREVIEW_FFMPEG;
  process.env.PATH = '/usr/bin';
  assert.equal(ffmpegTools().origin, 'path');
});

test('with nothing on PATH, the bundled npm binaries are the fallback', () => {
  delete process.env.DMLREVIEW_FFMPEG;
  process.env.PATH = '/nonexistent';
  const tools = ffmpegTools();
  assert.equal(tools.origin, 'bundled');
  assert.match(tools.ffmpeg, /@ffmpeg-installer/);
});
