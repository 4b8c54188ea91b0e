/**
 * The engine's public surface, which analysis jobs, teaching and evaluation code against. The engine folder
 * owns the implementation (load.ts, preprocess.ts, metric-head.ts, summary.ts, maps.ts ...).
 */
import type { ClassInfo, FrameSummary, UnknownRegion } from '../../src-shared/contract/index.js';
import type { RgbFrame } from '../core/rgb-frame.js';
import type { FrameDescriptors } from './descriptors.js';

export type { RgbFrame, FrameDescriptors };

export type ScoreName = 'eds' | 'mmsp' | 'combined' | 'margin' | 'msp' | 'maxlogit';
export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'directml' | 'coreml';

/** A class added without retraining: one or more prototypes in the model's embedding space. */
export interface TaughtPrototype {
  name: string;
  color: [number, number, number];
  prototypes: number[][];
  /** Squared distance under which a pixel may join the class (and it must also beat every known prototype). */
  acceptanceRadius: number;
}

export interface FrameResult {
  /** Size of the maps below: the card's input size (a coarser model output is upsampled to it). */
  width: number;
  height: number;
  /** Class index per pixel (ClassInfo.index), UNKNOWN_CLASS where the pixel is unknown. */
  classMap: Uint8Array;
  /** Pixel OOD score under the active score, higher = more unknown: 0..1 (maxlogit: minus the largest logit). */
  oodMap: Float32Array;
  summary: Omit<FrameSummary, 'index' | 'timeMs' | 'flagged'>;
  /** Every 8-connected unknown region, in raster order of its first pixel; the summary's score is the best one's. */
  regions: UnknownRegion[];
  /** Closed-set prediction per pixel (nearest card prototype / largest logit), ignoring the threshold and taught classes. */
  nearestKnown: Uint8Array;
  /** D x height x width, only when asked for (teaching, the metric-space view). */
  embedding?: Float32Array;
  /** Mean embedding and spread of every unknown region and large class component (descriptors.ts); embedding models only. */
  descriptors?: FrameDescriptors | undefined;
  /** The class map and OOD map as PNGs (maps.ts), only when asked for (analysis jobs store them). */
  mapPngs?: { classMap: Buffer; oodMap: Buffer };
  /** The frame the caller lent (AnalyzeOptions.lendFrame), given back for reuse. */
  lentFrame?: RgbFrame;
}

export const UNKNOWN_CLASS = 255;

export interface AnalyzeOptions {
  /** Keep the D x h x w embedding in the result (teaching, metric-space view). */
  keepEmbedding?: boolean;
  /** Encode the class and OOD maps as PNGs, off the caller's thread (analysis jobs). */
  encodeMaps?: boolean;
  /**
   * Lend the frame's buffer instead of having it copied: it travels to the engine's thread as it is, the
   * caller's frame.data reads as empty meanwhile, and it comes back in the result's lentFrame (analysis jobs
   * read the next frames into it). A frame that is a view into a larger buffer is copied all the same.
   */
  lendFrame?: boolean;
}

/**
 * A loaded model ready to analyse frames. Obtained from engine/index.ts (openEngine); one per model and
 * execution provider, reused across frames.
 */
export interface Engine {
  readonly modelName: string;
  readonly modelSha256: string;
  /** Frames are resized to this size before inference; maps come back at the model's output size. */
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly embeddingDim: number;
  /** Known classes from the card followed by taught classes, in class-map index order. */
  readonly classes: ClassInfo[];
  /** Which execution provider runs, and why a preferred one was not used. */
  readonly provider: { name: string; notes: string[] };
  /** The OOD score in the maps and summaries, and the threshold above which a pixel is unknown. */
  readonly score: ScoreName;
  readonly threshold: number;
  /** Frames analysed side by side (engine.ts, OpenEngineOptions.lanes). */
  readonly laneCount: number;
  /** How many frames a caller should keep in flight to keep every lane busy. */
  readonly framesInFlight: number;
  analyze(frame: RgbFrame, options?: AnalyzeOptions): Promise<FrameResult>;
  /** Replaces the taught classes appended after the card's classes; no new .onnx needed. */
  setTaughtClasses(classes: TaughtPrototype[]): void;
  dispose(): Promise<void>;
}
