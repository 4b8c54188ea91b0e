import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import type { RgbFrame } from '../core/rgb-frame.js';
import type { FootageSource } from './source.js';
import { ffmpegReason, ffmpegTools, runTool } from './ffmpeg.js';

/** How ffmpeg hands a frame back: a PNG at full resolution, or raw RGB scaled as the analysis scaled it. */
type FrameOutput = { format: 'png' } | { format: 'rgb'; width: number; height: number };

function outputArgs(output: FrameOutput): string[] {
  if (output.format === 'png') return ['-f', 'image2pipe', '-vcodec', 'png'];
  return ['-vf', `scale=${output.width}:${output.height}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24'];
}

/** One frame shown at a session time, decoded by ffmpeg from the source that holds it. */
async function extractFrame(sources: FootageSource[], sessionTimeMs: number, output: FrameOutput): Promise<Buffer> {
  const source = sourceAt(sources, sessionTimeMs);
  const clipMs = sessionTimeMs - source.offsetMs;
  const input =
    source.kind === 'video'
      ? // Seek a millisecond early: pts_time is printed rounded, and the seek keeps the first frame at or after it.
        ['-ss', (Math.max(0, clipMs - 1) / 1000).toFixed(6), '-i', source.path]
      : ['-i', join(source.path, imageAt(source, clipMs))];
  const result = await runTool(ffmpegTools().ffmpeg, [
    '-v',
    'error',
    '-nostdin',
    ...input,
    '-frames:v',
    '1',
    ...outputArgs(output),
    'pipe:1',
  ]);
  if (result.code !== 0 || result.stdout.length === 0) {
    throw new AppError(
      'footage_extract_failed',
      `No frame at ${(sessionTimeMs / 1000).toFixed(3)} s could be decoded from ${source.path}: ${ffmpegReason(result.stderr)}`,
    );
  }
  return result.stdout;
}

/**
 * The original full-resolution frame shown at a session time, as PNG (export needs the real pixels, not the
 * model-size copy). Times come from the analysis, so the frame is the one that was analysed.
 */
export function extractFullFrame(sources: FootageSource[], sessionTimeMs: number): Promise<Buffer> {
  return extractFrame(sources, sessionTimeMs, { format: 'png' });
}

/**
 * The frame shown at a session time as the engine saw it: raw RGB scaled by ffmpeg to the model input, as an
 * analysis decodes it. Teaching and the metric space need no more, and skip encoding and decoding a
 * full-resolution PNG (about half the time of a 1280x720 frame).
 */
export async function extractScaledFrameRgb(
  sources: FootageSource[],
  sessionTimeMs: number,
  width: number,
  height: number,
): Promise<RgbFrame> {
  const data = await extractFrame(sources, sessionTimeMs, { format: 'rgb', width, height });
  if (data.length !== width * height * 3)
    throw new AppError(
      'footage_extract_failed',
      `The frame at ${sessionTimeMs} ms came back as ${data.length} bytes, not ${width}x${height} RGB`,
    );
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A small JPEG of the first frame, stored with the session for the library screen. */
export async function makeThumbnail(
  source: FootageSource | { kind: FootageSource['kind']; path: string; images: string[] | null },
): Promise<Buffer | null> {
  const file = source.kind === 'video' ? source.path : join(source.path, source.images?.[0] ?? '');
  const result = await runTool(ffmpegTools().ffmpeg, [
    '-v',
    'error',
    '-nostdin',
    '-i',
    file,
    '-frames:v',
    '1',
    '-vf',
    'scale=320:-2',
    '-f',
    'image2pipe',
    '-vcodec',
    'mjpeg',
    '-q:v',
    '5',
    'pipe:1',
  ]);
  return result.code === 0 && result.stdout.length > 0 ? result.stdout : null;
}

function sourceAt(sources: FootageSource[], sessionTimeMs: number): FootageSource {
  const source = sources.findLast((candidate) => candidate.offsetMs <= sessionTimeMs) ?? sources[0];
  if (!source) throw new AppError('not_found', 'The session has no source files');
  return source;
}

function imageAt(source: FootageSource, clipMs: number): string {
  const images = source.images ?? [];
  const index = Math.min(images.length - 1, Math.max(0, Math.round((clipMs * source.fps) / 1000)));
  return images[index] ?? '';
}
