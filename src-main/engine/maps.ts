import { encodeGrayPng } from './png.js';
import type { FrameResult } from './types.js';

/** The class map as an 8-bit grayscale PNG at the output size: class index per pixel, 255 = unknown. */
export function encodeClassMapPng(result: Pick<FrameResult, 'classMap' | 'width' | 'height'>): Buffer {
  return encodeGrayPng(result.classMap, result.width, result.height);
}

/** OOD scores as 8-bit levels: round(clip(score, 0, 1) * 255) (the metric kernel computes the same). */
export function quantizeScores(scores: Float32Array): Uint8Array {
  const levels = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) levels[i] = Math.round(Math.min(1, Math.max(0, scores[i]!)) * 255);
  return levels;
}

/** The OOD map as an 8-bit grayscale PNG at the output size, from its levels (quantizeScores). */
export function encodeOodMapPng(map: { levels: Uint8Array; width: number; height: number }): Buffer {
  return encodeGrayPng(map.levels, map.width, map.height);
}
