import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisInfo, ClipResult, SessionInfo } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import { decodeSource, ffmpegReason, ffmpegTools, type DecodedFrame, type FootageSource } from '../footage/index.js';
import type { Library } from '../library/index.js';
import { nodeExportFs, writeFolderAtomically, type ExportFs } from './atomic.js';
import { createBand, heldFrame } from './clip-band.js';
import { compositeOverlay, decodeByteMap, EXPORT_OVERLAY_STYLE, type ByteMap, type OverlayStyle } from './images.js';
import { pickAnalysis, safeName } from './session-pick.js';

export interface ClipRequest {
  sessionId: number;
  analysisId?: number;
  /** An event of the analysis, clipped with CLIP_CONTEXT_MS each side; or a range of session time. */
  eventId?: number;
  fromMs?: number;
  toMs?: number;
  /** Existing folder the clip folder is created in. */
  folder: string;
  name?: string;
  overlay?: OverlayStyle;
}

export interface ClipDependencies {
  library: Library;
  onProgress?: (done: number, total: number) => void;
  fs?: ExportFs;
  now?: () => Date;
}

/** Footage shown before an event starts and after it ends, so the clip shows what led to it. */
export const CLIP_CONTEXT_MS = 1000;
/** Longer ranges are refused: a clip is for showing an event to someone, not for re-encoding a drive. */
export const CLIP_MAX_MS = 10 * 60_000;
export const CLIP_VIDEO = 'clip.mp4';
export const CLIP_METADATA = 'clip.json';
export const CLIP_FORMAT = 'dmlreview-clip/1';

interface ClipPlan {
  session: SessionInfo;
  analysis: AnalysisInfo;
  eventId: number | null;
  fromMs: number;
  toMs: number;
  sources: FootageSource[];
  fps: number;
}

/**
 * Writes `clip.mp4` (H.264, the footage's frame rate and size, the overlay burnt in, a band below with the
 * time, the score and the score strip with a playhead) and `clip.json` (what the clip shows, and the session
 * time of each of its frames) into a new folder, atomically. Every frame of the footage in the range is decoded;
 * a frame between analysed frames shows the overlay and score of the last analysed frame before it.
 */
export async function exportClip(request: ClipRequest, deps: ClipDependencies): Promise<ClipResult> {
  const plan = await planClip(request, deps.library);
  const createdAt = (deps.now?.() ?? new Date()).toISOString();
  const what = plan.eventId !== null ? `event${plan.eventId}` : `${Math.round(plan.fromMs)}-${Math.round(plan.toMs)}ms`;
  const name = request.name ?? `dmlreview-${safeName(plan.session.name)}-clip-${what}`;
  const style = request.overlay ?? EXPORT_OVERLAY_STYLE;
  const written = await writeFolderAtomically(
    request.folder,
    name,
    async (put, partialFolder) => {
      const encoded = await encodeClip(plan, style, deps, join(partialFolder, CLIP_VIDEO));
      const metadata = {
        format: CLIP_FORMAT,
        createdAt,
        session: { id: plan.session.id, name: plan.session.name },
        analysis: { id: plan.analysis.id, model: plan.analysis.modelName, sampleFps: plan.analysis.sampleFps },
        eventId: plan.eventId,
        fromMs: plan.fromMs,
        toMs: plan.toMs,
        fps: plan.fps,
        width: encoded.width,
        height: encoded.height,
        pictureHeight: encoded.pictureHeight,
        overlay: style,
        frames: encoded.framesMs.length,
        framesMs: encoded.framesMs,
      };
      const metadataBytes = await put(CLIP_METADATA, `${JSON.stringify(metadata, null, 2)}\n`);
      const videoBytes = (await stat(join(partialFolder, CLIP_VIDEO))).size;
      return { ...encoded, bytes: videoBytes + metadataBytes };
    },
    deps.fs ?? nodeExportFs,
  );
  const clip = written.value;
  return {
    path: written.path,
    video: CLIP_VIDEO,
    metadata: CLIP_METADATA,
    eventId: plan.eventId,
    fromMs: plan.fromMs,
    toMs: plan.toMs,
    frames: clip.framesMs.length,
    fps: plan.fps,
    width: clip.width,
    height: clip.height,
    bytes: clip.bytes,
  };
}

/** The analysis, range and footage a request names, refused with a reason when they do not fit together. */
async function planClip(request: ClipRequest, library: Library): Promise<ClipPlan> {
  const session = await library.sessions.get(request.sessionId);
  let analysisId = request.analysisId;
  let range: { fromMs: number; toMs: number };
  let eventId: number | null = null;
  if (request.eventId !== undefined) {
    const event = await library.events.get(request.eventId);
    if (analysisId !== undefined && event.analysisId !== analysisId)
      throw new AppError(
        'invalid_request',
        `Event ${event.id} belongs to analysis ${event.analysisId}, not to analysis ${analysisId}`,
      );
    analysisId = event.analysisId;
    eventId = event.id;
    range = {
      fromMs: Math.max(0, event.startMs - CLIP_CONTEXT_MS),
      toMs: Math.min(session.durationMs, event.endMs + CLIP_CONTEXT_MS),
    };
  } else if (request.fromMs !== undefined && request.toMs !== undefined) {
    range = { fromMs: request.fromMs, toMs: Math.min(request.toMs, session.durationMs) };
  } else {
    throw new AppError('invalid_request', 'A clip needs an event, or a range (from and to, in ms of session time)');
  }
  const analysis = await pickAnalysis(library, session, analysisId);
  if (range.fromMs >= range.toMs)
    throw new AppError(
      'clip_range_invalid',
      `The clip range ${range.fromMs}-${range.toMs} ms is empty: "from" must be before "to" and inside the session (0-${Math.round(session.durationMs)} ms)`,
    );
  if (range.toMs - range.fromMs > CLIP_MAX_MS)
    throw new AppError(
      'clip_range_invalid',
      `The clip range is ${((range.toMs - range.fromMs) / 1000).toFixed(0)} s long; clips are at most ${CLIP_MAX_MS / 60_000} minutes: pick a shorter range`,
    );
  const sources = (await library.sessions.sources(session.id)).filter(
    (source) => source.offsetMs < range.toMs && source.offsetMs + source.durationMs > range.fromMs,
  );
  if (!sources.length)
    throw new AppError('clip_range_invalid', `No footage of session "${session.name}" lies in the clip range`);
  return { session, analysis, eventId, ...range, sources, fps: sources[0]!.fps };
}

/** Maps of one analysed frame, decoded once for all the frames that hold it. */
interface HeldMaps {
  index: number;
  classMap: ByteMap;
  oodMap: ByteMap | undefined;
}

async function encodeClip(plan: ClipPlan, style: OverlayStyle, deps: ClipDependencies, output: string) {
  const { library } = deps;
  const { width, height } = plan.session;
  // 4:2:0 video needs even sizes: an odd picture gets one black column or row.
  const canvasWidth = width + (width % 2);
  const pictureHeight = height + (height % 2);
  const timeline = await library.frames.timeline(plan.analysis.id);
  const threshold = (await library.analyses.eventSettings(plan.analysis.id)).threshold;
  const band = createBand(canvasWidth, pictureHeight, { ...plan, ...timeline, threshold });
  const canvasHeight = pictureHeight + band.height;
  const encoder = startEncoder(output, canvasWidth, canvasHeight, plan.fps);
  const total = Math.max(1, Math.round(((plan.toMs - plan.fromMs) * plan.fps) / 1000));
  const framesMs: number[] = [];
  let held: HeldMaps | undefined;
  try {
    for await (const frame of footageFrames(plan, width, height)) {
      const index = heldFrame(timeline.timesMs, frame.timeMs);
      if (index >= 0 && held?.index !== index) held = await loadMaps(library, plan.analysis.id, index, style);
      const canvas = { width: canvasWidth, height: canvasHeight, data: new Uint8Array(canvasWidth * canvasHeight * 4) };
      drawPicture(canvas, frame, held, plan.analysis, style);
      band.draw(canvas, pictureHeight, frame.timeMs, index >= 0 ? timeline.scores[index]! : null);
      await encoder.write(canvas.data);
      framesMs.push(frame.timeMs);
      deps.onProgress?.(Math.min(framesMs.length, total), total);
    }
    if (!framesMs.length)
      throw new AppError(
        'clip_no_frames',
        `No frame of the footage could be decoded between ${plan.fromMs} and ${plan.toMs} ms`,
      );
    await encoder.finish();
  } finally {
    encoder.abort();
  }
  deps.onProgress?.(total, total);
  return { framesMs, width: canvasWidth, height: canvasHeight, pictureHeight };
}

/** Every frame of the footage in [fromMs, toMs), at the session's size, source after source. */
async function* footageFrames(plan: ClipPlan, width: number, height: number): AsyncGenerator<DecodedFrame> {
  for (const source of plan.sources) {
    const startMs = Math.max(plan.fromMs, source.offsetMs);
    const outcome = { complete: false, message: null, framesSampled: 0 };
    // The decoder's resume seek: frames up to `lastSkippedMs` count as done, so decoding starts at startMs.
    const frames = decodeSource(
      source,
      { width, height, sampleFps: null, skipFrames: 1, lastSkippedMs: startMs - 1 },
      outcome,
    );
    for await (const frame of frames) {
      if (frame.timeMs >= plan.toMs - 0.5) break;
      yield frame;
    }
  }
}

async function loadMaps(library: Library, analysisId: number, index: number, style: OverlayStyle): Promise<HeldMaps> {
  const classPng = await library.frames.map(analysisId, index, 'class_map');
  const oodPng = style.heat ? await library.frames.map(analysisId, index, 'ood_map') : undefined;
  if (!classPng || (style.heat && !oodPng))
    throw new AppError(
      'export_missing_maps',
      `Frame ${index} of analysis ${analysisId} has no stored maps: re-run the analysis, then export the clip again`,
    );
  return { index, classMap: decodeByteMap(classPng), oodMap: oodPng ? decodeByteMap(oodPng) : undefined };
}

/** The decoded frame with the held overlay, into the top of the canvas. */
function drawPicture(
  canvas: { width: number; data: Uint8Array },
  frame: DecodedFrame,
  held: HeldMaps | undefined,
  analysis: AnalysisInfo,
  style: OverlayStyle,
): void {
  const { width, height, data } = frame.rgb;
  const rgba = new Uint8Array(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    rgba[pixel * 4] = data[pixel * 3]!;
    rgba[pixel * 4 + 1] = data[pixel * 3 + 1]!;
    rgba[pixel * 4 + 2] = data[pixel * 3 + 2]!;
    rgba[pixel * 4 + 3] = 255;
  }
  const picture = held
    ? compositeOverlay({ width, height, data: rgba }, held.classMap, analysis.classes, style, held.oodMap).data
    : rgba;
  for (let row = 0; row < height; row++)
    canvas.data.set(picture.subarray(row * width * 4, (row + 1) * width * 4), row * canvas.width * 4);
}

/** ffmpeg reading RGBA frames on stdin and writing an H.264 mp4 that plays everywhere (yuv420p, faststart). */
function startEncoder(output: string, width: number, height: number, fps: number) {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
    '-an',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '18',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    output,
  ];
  const child = spawn(ffmpegTools().ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64_000) stderr += chunk.toString();
  });
  // A broken pipe shows as ffmpeg's exit, reported with its own words below.
  child.stdin.on('error', () => undefined);
  const closed = new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.on('error', () => resolve(null));
  });
  const failure = () => {
    const reason = ffmpegReason(stderr);
    const full = /No space left/i.test(stderr);
    return new AppError(
      full ? 'export_disk_full' : 'clip_encode_failed',
      full
        ? `The disk filled up while encoding the clip: free some space or pick another folder. Nothing was left behind.`
        : `ffmpeg could not encode the clip (${reason}): check that its build has the libx264 encoder (ffmpeg -encoders)`,
    );
  };
  return {
    async write(frame: Uint8Array): Promise<void> {
      if (child.exitCode !== null) throw failure();
      if (!child.stdin.write(frame))
        await Promise.race([new Promise((resolve) => child.stdin.once('drain', resolve)), closed]);
      if (child.exitCode !== null) throw failure();
    },
    async finish(): Promise<void> {
      child.stdin.end();
      if ((await closed) !== 0) throw failure();
    },
    abort(): void {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
