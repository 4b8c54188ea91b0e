import { PNG } from 'pngjs';
import { AppError, errorMessage } from '../core/errors.js';
import type { RgbFrame } from '../engine/types.js';

/** An analysed frame comes back from footage extraction as a PNG in memory. */
export function decodePngFrame(bytes: Buffer, name: string): RgbFrame {
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (error) {
    throw new AppError('image_invalid', `${name} cannot be decoded (${errorMessage(error)})`, { cause: error });
  }
  const pixels = png.width * png.height;
  const data = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) data.set(png.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { width: png.width, height: png.height, data };
}

/** Nearest-neighbour resize of a one-byte-per-pixel map (labels, masks) to the model's output size. */
export function resizeNearest(
  values: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
): Uint8Array {
  if (width === toWidth && height === toHeight) return values;
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0; y < toHeight; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / toHeight)) * width;
    for (let x = 0; x < toWidth; x++)
      out[y * toWidth + x] = values[row + Math.min(width - 1, Math.floor(((x + 0.5) * width) / toWidth))]!;
  }
  return out;
}
