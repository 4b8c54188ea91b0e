/**
 * A stand-in engine for the fleet benchmark and the fleet's fault tests, never for analysis: it answers every
 * frame at once with one real frame's result (maps, regions, descriptors, summary) that the real model
 * computed once, so that what a run measures is the database and the queue, not the model. Only the frame's
 * score changes, derived from the frame's own pixels, so that a frame stored twice or at the wrong time shows
 * in a comparison of scores as it would with the real model.
 *
 * The captured result is kept in a file (v8 serialization: typed arrays and buffers as they are) that worker
 * processes load, so the model runs once per benchmark, not once per worker.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { openEngine, readModelCard } from '../src-main/engine/index.js';
import type { AnalyzeOptions, Engine, FrameResult, RgbFrame } from '../src-main/engine/types.js';
import { decodeSource, probeSource, type DecodedFrame, type DecodeOutcome } from '../src-main/footage/index.js';
import type { StoredFrame } from '../src-main/library/index.js';
import { ANALYZE_OPTIONS } from '../src-main/jobs/pipeline.js';

/** What the stand-in needs to pose as the model: the real engine's description and one frame's result. */
interface CapturedFrame {
  engine: Pick<Engine, 'modelName' | 'modelSha256' | 'inputWidth' | 'inputHeight' | 'embeddingDim' | 'classes'> &
    Pick<Engine, 'score' | 'threshold'>;
  result: Omit<FrameResult, 'lentFrame' | 'embedding'>;
  /** The frame's preview as decoding made it, for writers that store frames without decoding. */
  previewJpeg: Uint8Array;
}

/** Frames of the clip looked at for the one to capture: the one with the most unknown regions is kept. */
const CANDIDATE_FRAMES = 8;

/**
 * Runs the real model `modelName` on the first frames of `clip` and keeps the result of the frame with the
 * most unknown regions in a file (reused while the model is unchanged); returns the file's path.
 */
export async function captureStandInFrame(modelsDir: string, modelName: string, clip: string): Promise<string> {
  const card = await readModelCard(modelsDir, modelName);
  const file = join(tmpdir(), `dmlreview-stand-in-${modelName}-${card.sha256.slice(0, 16)}.v8`);
  if (existsSync(file)) return file;
  const engine = await openEngine(modelsDir, modelName, { threads: 1, lanes: 1 });
  try {
    let best: { result: FrameResult; previewJpeg: Buffer } | undefined;
    for (const frame of await firstFrames(clip, engine.inputWidth, engine.inputHeight)) {
      const result = await engine.analyze(frame.rgb, { encodeMaps: ANALYZE_OPTIONS.encodeMaps });
      if (!best || result.regions.length > best.result.regions.length)
        best = { result, previewJpeg: frame.previewJpeg };
    }
    const { lentFrame: _lent, embedding: _embedding, ...result } = best!.result;
    const captured: CapturedFrame = {
      engine: {
        modelName: engine.modelName,
        modelSha256: engine.modelSha256,
        inputWidth: engine.inputWidth,
        inputHeight: engine.inputHeight,
        embeddingDim: engine.embeddingDim,
        classes: engine.classes,
        score: engine.score,
        threshold: engine.threshold,
      },
      result,
      previewJpeg: best!.previewJpeg,
    };
    // Written aside and renamed, so that a worker never reads half a file.
    const partial = join(mkdtempSync(join(tmpdir(), 'dml-stand-in-')), 'frame.v8');
    writeFileSync(partial, serialize(captured));
    renameSync(partial, file);
    return file;
  } finally {
    await engine.dispose();
  }
}

async function firstFrames(clip: string, width: number, height: number): Promise<DecodedFrame[]> {
  const source = { ...(await probeSource(clip)), position: 0, offsetMs: 0 };
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeSource(source, { width, height, sampleFps: null }, outcome)) {
    frames.push(frame);
    if (frames.length === CANDIDATE_FRAMES) break;
  }
  return frames;
}

function readCapture(file: string): CapturedFrame {
  const captured = deserialize(readFileSync(file)) as CapturedFrame;
  const { mapPngs } = captured.result;
  // v8 gives a Buffer back as a plain Uint8Array.
  return {
    ...captured,
    result: {
      ...captured.result,
      mapPngs: mapPngs && { classMap: Buffer.from(mapPngs.classMap), oodMap: Buffer.from(mapPngs.oodMap) },
    },
    previewJpeg: Buffer.from(captured.previewJpeg),
  };
}

export interface StandInOptions {
  /**
   * How long each frame takes, as a real engine's would (frames in flight overlap as in one lane): 0 answers at
   * once (the coordination ceiling); the fault runs pace frames so that a chunk is still running when they strike.
   */
  msPerFrame?: number;
}

/** The stand-in engine answering with the result captureStandInFrame kept in `file`. */
export function openStandInEngine(file: string, options: StandInOptions = {}): Engine {
  const captured = readCapture(file);
  return new StandInEngine(captured.engine, captured.result, options.msPerFrame ?? 0);
}

/**
 * Frame `index` as an analysis would store the captured one, `frameMs` apart: for writers that go straight to
 * the store, without decoding or a queue. The score varies by index as a drive's does.
 */
export function standInStoredFrames(file: string, frameMs = 500): (index: number) => StoredFrame {
  const { result, previewJpeg } = readCapture(file);
  const { summary, mapPngs } = result;
  return (index) => ({
    index,
    sourceIndex: 0,
    timeMs: index * frameMs,
    score: (Math.sin(index * 12.9898) + 1) / 2,
    unknownFraction: summary.unknownFraction,
    largestRegion: summary.largestRegion,
    classAreas: summary.classAreas,
    regions: { mapWidth: result.width, mapHeight: result.height, regions: result.regions },
    descriptors: result.descriptors,
    classMapPng: mapPngs!.classMap,
    oodMapPng: mapPngs!.oodMap,
    previewJpeg,
  });
}

class StandInEngine implements Engine {
  readonly modelName: string;
  readonly modelSha256: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly embeddingDim: number;
  readonly classes: Engine['classes'];
  readonly score: Engine['score'];
  readonly threshold: number;
  readonly provider = { name: 'stand-in', notes: ['benchmark stand-in: one captured frame, no model'] };
  readonly laneCount = 1;
  readonly framesInFlight = 2;

  constructor(
    description: CapturedFrame['engine'],
    private readonly result: CapturedFrame['result'],
    private readonly msPerFrame: number,
  ) {
    ({
      modelName: this.modelName,
      modelSha256: this.modelSha256,
      inputWidth: this.inputWidth,
      inputHeight: this.inputHeight,
      embeddingDim: this.embeddingDim,
      classes: this.classes,
      score: this.score,
      threshold: this.threshold,
    } = description);
  }

  /** When the frame in the lane now is done: paced frames queue behind each other as in one lane. */
  private laneFreeAt = 0;

  analyze(frame: RgbFrame, options: AnalyzeOptions = {}): Promise<FrameResult> {
    const result: FrameResult = {
      ...this.result,
      summary: { ...this.result.summary, score: pixelScore(frame) },
      ...(options.lendFrame ? { lentFrame: frame } : {}),
    };
    if (this.msPerFrame <= 0) return Promise.resolve(result);
    const now = performance.now();
    this.laneFreeAt = Math.max(now, this.laneFreeAt) + this.msPerFrame;
    return new Promise((resolve) => setTimeout(() => resolve(result), this.laneFreeAt - now));
  }

  setTaughtClasses(): void {
    // The captured result has the classes it was captured with; a benchmark teaches nothing.
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** A score in 0..1 that depends on the frame's pixels: one byte in 97 of the frame, averaged. */
function pixelScore({ data }: RgbFrame): number {
  let sum = 0;
  let count = 0;
  for (let at = 0; at < data.length; at += 97, count++) sum += data[at]!;
  return count === 0 ? 0 : sum / count / 255;
}
