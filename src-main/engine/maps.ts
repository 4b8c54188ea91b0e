import { encodeGrayPng } from './png.js';
import type { FrameResult } from './types.js';

/** The class map as an 8-bit grayscale PNG at the output size: class index per pixel, 255 = unknown. */
export function encodeClassMapPng(result: Pick<FrameResult, 'classMap' | 'width' | 'height'>): Buffer {
  return encodeGrayPng(result.classMap, result.width, result.height);
}

/** The OOD map as an 8-bit grayscale PNG at the output size: round(score * 255), scores clipped to [0, 1]. */
export function encodeOodMapPng(result: Pick<FrameResult, 'oodMap' | 'width' | 'height'>): Buffer {
  const { oodMap } = result;
  const bytes = new Uint8Array(oodMap.length);
  for (let i = 0; i < oodMap.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, oodMap[i]!)) * 255);
  return encodeGrayPng(bytes, result.width, result.height);
}
