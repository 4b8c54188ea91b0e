// Small real clips made from the val drive with the system ffmpeg, for footage, jobs and CLI tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export const valDrive = join(repoRoot, '../shared/datasets/camvid/footage/0016E5-val.mp4');
export const valImages = join(repoRoot, '../shared/datasets/camvid/val/images');
export const valLabels = join(repoRoot, '../shared/datasets/camvid/val/labels');

export function tempDir(prefix = 'dml-clips-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Transcodes the first `seconds` of the val drive; extra ffmpeg output options pick codec and rate. */
export function clip(dir: string, name: string, seconds: number, options: string[]): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', valDrive, '-t', String(seconds), '-an', ...options, out]);
  return out;
}

/** A copy cut to the first `fraction` of its bytes, as a dashcam file ends when the power goes. */
export function truncatedCopy(path: string, out: string, fraction: number): string {
  const bytes = readFileSync(path);
  writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return out;
}

export function hasEncoder(name: string): boolean {
  return execFileSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).includes(` ${name} `);
}

/** What ffprobe finds in a video's first video stream, frames counted by decoding them all. */
export function probeVideo(path: string) {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames,avg_frame_rate:format=duration',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const parsed = JSON.parse(out) as {
    streams: { codec_name: string; width: number; height: number; nb_read_frames: string; avg_frame_rate: string }[];
    format: { duration: string };
  };
  const stream = parsed.streams[0]!;
  return { ...stream, frames: Number(stream.nb_read_frames), duration: Number(parsed.format.duration) };
}

/** The val drive (101 frames, 1 fps) looped as often as it takes to make `frames` frames, stream-copied. */
export function loopedValDrive(dir: string, frames: number): string {
  const out = join(dir, `val-${frames}.mp4`);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-stream_loop',
    '-1',
    '-i',
    valDrive,
    '-frames:v',
    String(frames),
    '-c',
    'copy',
    out,
  ]);
  return out;
}
