import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RgbFrame } from '../core/rgb-frame.js';
import type { FootageSource } from './source.js';
import { ffmpegReason, ffmpegTools } from './ffmpeg.js';
import type { FrameBuffers } from './frame-buffers.js';

export interface DecodedFrame {
  sourceIndex: number;
  /** Position among the frames sampled from this source. */
  frameInSource: number;
  /** Time on the session timeline: the source's offset plus the frame's own presentation time. */
  timeMs: number;
  rgb: RgbFrame;
  /** The same frame as JPEG (quality ~85) at the footage's aspect ratio, stored as the frame's preview. */
  previewJpeg: Buffer;
}

export interface DecodeOptions {
  width: number;
  height: number;
  /** Frames per second to sample; null decodes every frame. */
  sampleFps: number | null;
  /** Sampled frames to pass over without yielding them (resume). */
  skipFrames?: number;
  /**
   * Session time of the last of those frames. A video then seeks to it instead of decoding from the start,
   * so resuming late in a long drive is quick.
   */
  lastSkippedMs?: number;
  /**
   * Only the frames from this session time on, up to `untilMs` (not included): one chunk of a long video
   * (jobs/fleet). The frames of consecutive ranges are exactly those of the whole video; see decodeVideo.
   */
  fromMs?: number;
  untilMs?: number;
  signal?: AbortSignal;
  /** Where video frames are read into; without it, each frame gets a buffer of its own. */
  buffers?: FrameBuffers;
}

/** How a source's decoding ended; filled in when the frame iterator finishes. */
export interface DecodeOutcome {
  complete: boolean;
  /** Where and why decoding stopped early, for the user. */
  message: string | null;
  framesSampled: number;
}

/**
 * Sampling rule shared by videos and image folders: a frame is taken when it is the first one in its cell of
 * the 1/sampleFps grid. It depends only on the frame's own time and its predecessor's, so a resumed decode
 * samples exactly the frames an uninterrupted one would.
 */
export const gridSelectFilter = (fps: number) =>
  `select='isnan(prev_selected_t)+gte(floor(t*${fps})-floor(prev_selected_t*${fps}),1)'`;

/** An estimate for progress bars; the analysis stores the true count when it ends. */
export function expectedFrames(source: FootageSource, sampleFps: number | null): number {
  if (!sampleFps || sampleFps >= source.fps) return source.frameCount;
  return Math.min(source.frameCount, Math.ceil((source.durationMs / 1000) * sampleFps));
}

export function decodeSource(
  source: FootageSource,
  options: DecodeOptions,
  outcome: DecodeOutcome,
): AsyncGenerator<DecodedFrame> {
  return source.kind === 'video' ? decodeVideo(source, options, outcome) : decodeImages(source, options, outcome);
}

async function* decodeVideo(
  source: FootageSource,
  options: DecodeOptions,
  outcome: DecodeOutcome,
): AsyncGenerator<DecodedFrame> {
  const end: FfmpegEnd = { code: null, lastPtsMs: source.startMs, problems: [] };
  const select = options.sampleFps ? [gridSelectFilter(options.sampleFps)] : [];
  const skip = options.skipFrames ?? 0;
  const resumeAfterMs = skip > 0 ? options.lastSkippedMs : undefined;
  const { fromMs, untilMs } = options;
  const input = [
    ...decoderThreads(source, options.sampleFps),
    ...videoInput(source, resumeAfterMs ?? rangeSeek(fromMs, options)),
  ];
  for await (const frame of ffmpegFrames(input, select, options, end)) {
    const timeMs = source.offsetMs + frame.ptsMs - source.startMs;
    if (untilMs !== undefined && timeMs >= untilMs) {
      // The next range's first frame: this range is complete (the rest of the video is that range's to judge).
      outcome.complete = true;
      return;
    }
    if (fromMs !== undefined && timeMs < fromMs) continue;
    if (resumeAfterMs !== undefined) {
      // The seek lands at or a little before the last stored frame: frames up to it are stored already. From
      // the first frame of the next sampling cell on, the grid rule picks exactly what an uninterrupted run did.
      if (timeMs <= resumeAfterMs + 0.5) continue;
      if (outcome.framesSampled < skip) outcome.framesSampled = skip;
    }
    const frameInSource = outcome.framesSampled++;
    if (frameInSource < skip) continue;
    yield { sourceIndex: source.position, frameInSource, timeMs, rgb: frame.rgb, previewJpeg: frame.jpeg };
  }
  if (options.signal?.aborted) return;
  judgeVideoEnd(source, options, outcome, end);
}

/**
 * Where a range's decoding starts: more than one sampling cell (and a second) before it. ffmpeg selects the
 * first frame it decodes whatever its cell, and from there the first frame of every following cell, exactly as
 * a decode from the start does; frames before `fromMs` are then passed over. Starting a whole cell early keeps
 * that first, arbitrary pick out of the range. (A video with no frame at all in that second before the range
 * could still put it inside: dashcam files have no such gaps.)
 */
function rangeSeek(fromMs: number | undefined, options: DecodeOptions): number | undefined {
  if (fromMs === undefined) return undefined;
  const cellMs = options.sampleFps ? 1000 / options.sampleFps : 0;
  return fromMs - cellMs - 1000;
}

/**
 * ffmpeg's input options. -copyts keeps the stream's own timestamps (ffmpeg would otherwise shift them by the
 * file's start time, which need not be the video stream's start); -ss seeks relative to the file's start, a
 * millisecond early because pts_time is printed rounded.
 */
function videoInput(source: FootageSource, seekMs: number | undefined): string[] {
  if (seekMs === undefined) return ['-copyts', '-i', source.path];
  const clipSeconds = Math.max(0, seekMs - source.offsetMs - 1) / 1000;
  return ['-ss', clipSeconds.toFixed(6), '-copyts', '-i', source.path];
}

/**
 * One decoding thread when nearly every decoded frame is analysed: the engine is then several times slower
 * than that thread, and ffmpeg's frame threads would only add CPU (0.5 ms a frame here: copies and hand-overs
 * between threads) that the model could use. Sampling 2 of 30 frames a second decodes 15 frames per analysed
 * one, which one thread could not keep up with: ffmpeg then chooses its threads as before. The frames decoded
 * are the same either way.
 */
function decoderThreads(source: FootageSource, sampleFps: number | null): string[] {
  // A video whose frame rate is unknown, sampled: assume many frames decoded per analysed one.
  const decodedPerAnalysed = !sampleFps ? 1 : source.fps > 0 ? source.fps / sampleFps : Infinity;
  return decodedPerAnalysed <= SINGLE_THREAD_DECODES ? ['-threads', '1'] : [];
}

/** Decoded frames per analysed one up to which a single decoding thread keeps ahead of the engine. */
const SINGLE_THREAD_DECODES = 2;

interface FfmpegEnd {
  code: number | null;
  lastPtsMs: number;
  problems: string[];
}

/**
 * One ffmpeg process decoding to the model size, with three outputs read side by side: raw RGB frames on
 * stdout (the engine's input), a JPEG of each frame on fd 3 (the stored preview: ffmpeg's encoder costs a
 * fraction of a JavaScript one), and showinfo's true timestamps on stderr. Only stdout is read with
 * backpressure (rawFrames), so ffmpeg stays a few frames ahead of the consumer at most.
 */
async function* ffmpegFrames(
  input: string[],
  select: string[],
  options: DecodeOptions,
  end: FfmpegEnd,
): AsyncGenerator<{ ptsMs: number; rgb: RgbFrame; jpeg: Buffer }> {
  // showinfo's timestamps are all that is read from it: not its checksums, a pass over every frame (0.3 ms).
  const sampled = [...select, 'showinfo=checksum=0', 'split=2[model][preview]'].join(',');
  // The engine gets the frame stretched to the model's input; the preview keeps the footage's own shape
  // (long side PREVIEW_LONG_SIDE), so a 16:9 drive is shown as 16:9 however square the model's input is.
  const graph = [
    `[0:v:0]${sampled}`,
    `[model]scale=${options.width}:${options.height}:flags=bilinear,format=rgb24[raw]`,
    `[preview]${previewScale},format=yuvj420p[jpeg]`,
  ].join(';');
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    ...input,
    '-filter_complex',
    graph,
    '-map',
    '[raw]',
    '-vsync',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
    '-map',
    '[jpeg]',
    '-vsync',
    'passthrough',
    '-c:v',
    'mjpeg',
    '-q:v',
    '4',
    '-f',
    'image2pipe',
    '-flush_packets',
    '1',
    'pipe:3',
  ];
  const child = spawn(ffmpegTools().ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const abort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort);
  const timestamps = new ArrivalQueue<number>();
  createInterface({ input: child.stderr! })
    .on('line', (line) => {
      const pts = /Parsed_showinfo.*\bpts_time:\s*(\S+)/.exec(line);
      if (pts) timestamps.push(Number(pts[1]) * 1000);
      else if (/error|invalid|corrupt|truncat|partial|missing/i.test(line) && end.problems.length < 20)
        end.problems.push(line);
    })
    .on('close', () => timestamps.end());
  const previews = new ArrivalQueue<Buffer>();
  splitJpegs(child.stdio[3] as Readable, previews);

  const frames = rawFrames(child.stdout!, options.width * options.height * 3, options.buffers);
  try {
    for (let data = await frames.next(); data; data = await frames.next()) {
      const [ptsMs, jpeg] = [await timestamps.next(), await previews.next()];
      if (ptsMs === undefined || jpeg === undefined) break;
      end.lastPtsMs = ptsMs;
      yield { ptsMs, rgb: { width: options.width, height: options.height, data }, jpeg };
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  end.code = await closed;
}

/** The long side of the stored preview JPEG, in pixels. */
export const PREVIEW_LONG_SIDE = 480;
/**
 * Fits the frame, at its display aspect ratio, inside a PREVIEW_LONG_SIDE square (even sizes, as 4:2:0 JPEG
 * needs). It works per frame, so an image folder of mixed sizes gets each image's own shape.
 */
const previewScale = `scale=${PREVIEW_LONG_SIDE}:${PREVIEW_LONG_SIDE}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bilinear,setsar=1`;

/** How many whole frames may wait unread: enough that ffmpeg can always reach the JPEG of the frame being paired. */
const FRAMES_AHEAD = 4;

/**
 * Cuts stdout into frames. Reading pauses once FRAMES_AHEAD frames wait, and resumes as they are taken, so
 * ffmpeg is held back (memory stays flat) without ever being stopped before it writes the JPEG being waited for.
 */
function rawFrames(
  stream: Readable,
  frameBytes: number,
  buffers: FrameBuffers | undefined,
): { next(): Promise<Uint8Array | undefined> } {
  const newFrame = () => buffers?.take(frameBytes) ?? new Uint8Array(frameBytes);
  const frames = new ArrivalQueue<Uint8Array>();
  let waiting = 0;
  let frame = newFrame();
  let filled = 0;
  stream.on('data', (chunk: Buffer) => {
    for (let offset = 0; offset < chunk.length;) {
      const take = Math.min(frameBytes - filled, chunk.length - offset);
      frame.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled < frameBytes) continue;
      frames.push(frame);
      frame = newFrame();
      filled = 0;
      if (++waiting >= FRAMES_AHEAD) stream.pause();
    }
  });
  stream.on('close', () => frames.end());
  return {
    next: async () => {
      const next = await frames.next();
      if (next && --waiting < FRAMES_AHEAD) stream.resume();
      return next;
    },
  };
}

/** Cuts ffmpeg's image2pipe MJPEG stream into JPEG files (start of image FFD8 ... end of image FFD9). */
function splitJpegs(stream: Readable, out: ArrivalQueue<Buffer>): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (let end = pending.indexOf(END_OF_IMAGE); end >= 0; end = pending.indexOf(END_OF_IMAGE)) {
      out.push(Buffer.from(pending.subarray(0, end + 2)));
      pending = pending.subarray(end + 2);
    }
  });
  stream.on('close', () => out.end());
}

// Inside JPEG entropy-coded data every 0xFF byte is followed by 0x00, so FFD9 only ever marks the end.
const END_OF_IMAGE = Buffer.from([0xff, 0xd9]);

function judgeVideoEnd(source: FootageSource, options: DecodeOptions, outcome: DecodeOutcome, end: FfmpegEnd): void {
  const decodedMs = end.lastPtsMs - source.startMs;
  const step = 1000 / Math.min(options.sampleFps ?? source.fps, source.fps || 1);
  const missingMs = source.durationMs - decodedMs;
  const cutShort = outcome.framesSampled === 0 || missingMs > Math.max(2.5 * step, 1000);
  outcome.complete = end.code === 0 && !cutShort;
  if (outcome.complete) return;
  const reason = end.problems.length ? ffmpegReason(end.problems.join('\n')) : `ffmpeg exited with code ${end.code}`;
  outcome.message =
    outcome.framesSampled === 0
      ? `${basename(source.path)}: no frame could be decoded (${reason})`
      : `${basename(source.path)} broke at ${(decodedMs / 1000).toFixed(1)} s of ${(source.durationMs / 1000).toFixed(1)} s: frames after it could not be decoded (${reason})`;
}

/**
 * An image folder, one image a frame. An image that does not decode, or decodes with errors (a truncated
 * JPEG comes out partly grey), is skipped and reported; the images after it are still analysed.
 */
async function* decodeImages(
  source: FootageSource,
  options: DecodeOptions,
  outcome: DecodeOutcome,
): AsyncGenerator<DecodedFrame> {
  const skipped: string[] = [];
  for (const image of sampledImages(source, options)) {
    if (options.signal?.aborted) return;
    const frameInSource = outcome.framesSampled++;
    if (alreadyStored(image.sessionMs, frameInSource, options)) continue;
    const decoded = await decodeImage(join(source.path, image.name), options);
    if ('problem' in decoded) {
      skipped.push(`${image.name} at ${(image.clipMs / 1000).toFixed(1)} s (${decoded.problem})`);
      continue;
    }
    yield { sourceIndex: source.position, frameInSource, timeMs: image.sessionMs, ...decoded };
  }
  outcome.complete = skipped.length === 0;
  if (skipped.length > 0) outcome.message = describeSkipped(source.path, skipped);
}

/** The folder's images on the sampling grid, with their times. */
function* sampledImages(source: FootageSource, options: DecodeOptions) {
  const stepMs = 1000 / source.fps;
  let previousCell = Number.NEGATIVE_INFINITY;
  for (const [position, name] of (source.images ?? []).entries()) {
    const clipMs = position * stepMs;
    if (options.sampleFps) {
      const cell = Math.floor((clipMs / 1000) * options.sampleFps);
      if (cell <= previousCell) continue;
      previousCell = cell;
    }
    yield { name, clipMs, sessionMs: source.offsetMs + clipMs };
  }
}

/**
 * On resume, images up to the last stored one are stored already. Judged by time: an image skipped as bad
 * stored no frame, so counting stored frames would land on the wrong image.
 */
function alreadyStored(sessionMs: number, frameInSource: number, options: DecodeOptions): boolean {
  if (options.lastSkippedMs !== undefined) return sessionMs <= options.lastSkippedMs + 0.5;
  return frameInSource < (options.skipFrames ?? 0);
}

function describeSkipped(folder: string, skipped: string[]): string {
  const listed = skipped.slice(0, 5).join('; ');
  const more = skipped.length > 5 ? `; and ${skipped.length - 5} more` : '';
  return `${skipped.length} image${skipped.length === 1 ? '' : 's'} in ${folder} could not be decoded and ${skipped.length === 1 ? 'was' : 'were'} skipped, the others were analysed: ${listed}${more}`;
}

async function decodeImage(
  path: string,
  options: DecodeOptions,
): Promise<{ rgb: RgbFrame; previewJpeg: Buffer } | { problem: string }> {
  const end: FfmpegEnd = { code: null, lastPtsMs: 0, problems: [] };
  let decoded: { rgb: RgbFrame; previewJpeg: Buffer } | undefined;
  for await (const frame of ffmpegFrames(['-i', path], [], options, end))
    decoded ??= { rgb: frame.rgb, previewJpeg: frame.jpeg };
  if (end.code !== 0 || !decoded)
    return {
      problem: end.problems.length ? ffmpegReason(end.problems.join('\n')) : `ffmpeg exited with code ${end.code}`,
    };
  // ffmpeg decodes a damaged image as far as it can and only warns: a frame with warnings is no frame to trust.
  if (end.problems.length > 0) return { problem: ffmpegReason(end.problems.join('\n')) };
  return decoded;
}

/** Values arriving on one pipe, awaited by the reader of another, whichever comes first. */
class ArrivalQueue<T> {
  private readonly values: T[] = [];
  private waiting: ((value: T | undefined) => void) | undefined;
  private ended = false;

  push(value: T): void {
    if (this.waiting) {
      this.waiting(value);
      this.waiting = undefined;
    } else this.values.push(value);
  }

  end(): void {
    this.ended = true;
    this.waiting?.(undefined);
    this.waiting = undefined;
  }

  next(): Promise<T | undefined> {
    if (this.values.length) return Promise.resolve(this.values.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}
