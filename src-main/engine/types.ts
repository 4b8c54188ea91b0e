/**
 * The engine's public surface, which analysis jobs, teaching and evaluation code against. The engine folder
 * owns the implementation (load.ts, preprocess.ts, metric-head.ts, summary.ts, maps.ts ...).
 */
import type { ClassInfo, FrameSummary } from '../../src-shared/contract/index.js';

/** An RGB frame, 8 bits per channel, interleaved (as ffmpeg's rgb24 writes it). */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ScoreName = 'eds' | 'mmsp' | 'combined' | 'msp' | 'maxlogit';
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
  /** Size of the maps below: the model's output size. */
  width: number;
  height: number;
  /** Class index per pixel (ClassInfo.index), UNKNOWN_CLASS where the pixel is unknown. */
  classMap: Uint8Array;
  /** Pixel OOD score in 0..1 under the active score. */
  oodMap: Float32Array;
  summary: Omit<FrameSummary, 'index' | 'timeMs' | 'flagged'>;
  /** D x height x width, only when asked for (teaching, the metric-space view). */
  embedding?: Float32Array;
}

export const UNKNOWN_CLASS = 255;
