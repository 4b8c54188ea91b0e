/**
 * The embedding "magic wand": from a clicked pixel, the 4-connected region whose embeddings lie within a
 * distance of the clicked pixel's embedding. In a metric space trained to pull a class together, this
 * follows object boundaries far better than a colour wand.
 */
import { AppError } from '../core/errors.js';
import type { EmbeddingMap } from './prototypes.js';

export interface WandRequest {
  embedding: EmbeddingMap;
  width: number;
  height: number;
  x: number;
  y: number;
  /** Euclidean (not squared) distance in embedding units: the slider's value. */
  maxDistance: number;
}

/** Returns a mask (1 = selected) over width x height, always including the clicked pixel. */
export function wandSelect(request: WandRequest): Uint8Array {
  const { embedding, width, height, x, y } = request;
  const { dim, pixels, data } = embedding;
  if (width * height !== pixels)
    throw new AppError('invalid_request', `Wand: ${width}x${height} does not match the embedding's ${pixels} pixels`);
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
    throw new AppError('invalid_request', `Wand: pixel (${x}, ${y}) is outside the ${width}x${height} map`);
  }
  const limit = request.maxDistance * request.maxDistance;
  const seed = y * width + x;
  const seedVector = Array.from({ length: dim }, (_, c) => data[c * pixels + seed] as number);
  const within = (p: number) => {
    let sum = 0;
    for (let c = 0; c < dim; c++) {
      const diff = (data[c * pixels + p] as number) - (seedVector[c] as number);
      sum += diff * diff;
      if (sum > limit) return false;
    }
    return true;
  };
  const mask = new Uint8Array(pixels);
  const stack = new Int32Array(pixels);
  let top = 0;
  stack[top++] = seed;
  mask[seed] = 1;
  while (top > 0) {
    const p = stack[--top] as number;
    const px = p % width;
    const neighbours = [px > 0 ? p - 1 : -1, px < width - 1 ? p + 1 : -1, p - width, p + width];
    for (const q of neighbours) {
      if (q < 0 || q >= pixels || mask[q] || !within(q)) continue;
      mask[q] = 1;
      stack[top++] = q;
    }
  }
  return mask;
}
