import { PNG } from 'pngjs';
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

/** A stored class map PNG back to class indices (the grey level of each pixel). */
export function decodeClassMapPng(png: Uint8Array): { width: number; height: number; classMap: Uint8Array } {
  const image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  const classMap = new Uint8Array(image.width * image.height);
  for (let i = 0; i < classMap.length; i++) classMap[i] = image.data[i * 4]!;
  return { width: image.width, height: image.height, classMap };
}
