import { UNKNOWN_CLASS } from '../engine/index.js';
import { descriptorHeader, decodeDescriptors, type Library } from '../library/index.js';

/**
 * Every stored descriptor of one analysis packed into flat typed arrays, row r being one region: what the
 * search scans. At D = 9 a region costs 4 * 9 + 17 = 53 bytes here.
 */
export interface PackedAnalysis {
  analysisId: number;
  dim: number;
  scale: number;
  rows: number;
  /** rows x dim, row-major. */
  means: Float32Array;
  frameIndex: Int32Array;
  classIndex: Uint8Array;
  regionIndex: Uint16Array;
  pixels: Uint32Array;
  /** x, y, width, height per row, in pixels of the stored maps. */
  boxes: Uint16Array;
}

export const packedBytes = (packed: PackedAnalysis) =>
  packed.means.byteLength +
  packed.frameIndex.byteLength +
  packed.classIndex.byteLength +
  packed.regionIndex.byteLength +
  packed.pixels.byteLength +
  packed.boxes.byteLength;

export function emptyPacked(analysisId: number, dim: number, scale: number, rows: number): PackedAnalysis {
  return {
    analysisId,
    dim,
    scale,
    rows,
    means: new Float32Array(rows * dim),
    frameIndex: new Int32Array(rows),
    classIndex: new Uint8Array(rows),
    regionIndex: new Uint16Array(rows),
    pixels: new Uint32Array(rows),
    boxes: new Uint16Array(rows * 4),
  };
}

/** Reads an analysis's descriptors twice (sizes, then contents) so that each array is allocated once. */
export function packAnalysis(library: Library, analysisId: number): PackedAnalysis {
  let rows = 0;
  let dim = 0;
  let scale = 1;
  const where = (frameIndex: number) => `frame ${frameIndex} of analysis ${analysisId}`;
  library.descriptors.forEachFrame(analysisId, (frameIndex, blob) => {
    const header = descriptorHeader(blob, where(frameIndex));
    rows += header.count;
    dim = header.dim;
    scale = header.scale;
  });
  const packed = emptyPacked(analysisId, dim, scale, rows);
  let row = 0;
  library.descriptors.forEachFrame(analysisId, (frameIndex, blob) => {
    const { regions } = decodeDescriptors(blob, where(frameIndex), { means: packed.means, row });
    for (const region of regions) {
      packed.frameIndex[row] = frameIndex;
      packed.classIndex[row] = region.classIndex;
      packed.regionIndex[row] = region.regionIndex;
      packed.pixels[row] = region.pixels;
      packed.boxes.set([region.x, region.y, region.width, region.height], row * 4);
      row++;
    }
  });
  return packed;
}

export interface Neighbour {
  packed: PackedAnalysis;
  row: number;
  distance: number;
}

export interface ScanOptions {
  query: Float32Array;
  unknownOnly: boolean;
  maxDistance: number;
  /** Rows of this frame are left out (the query's own frame). */
  skipFrame: number;
}

/**
 * The nearest rows of an analysis by squared L2 distance, merged into `best` (kept sorted, at most `limit`):
 * an exact scan, which at this dimension beats any index up to millions of regions (docs/similar.md).
 */
export function scanNearest(packed: PackedAnalysis, options: ScanOptions, best: Neighbour[], limit: number): void {
  const { query, unknownOnly, skipFrame } = options;
  const { dim, means, classIndex, frameIndex, rows } = packed;
  // The distance a row must beat: the worst kept once `limit` are kept.
  let bound = best.length >= limit ? best[best.length - 1]!.distance : options.maxDistance;
  for (let row = 0, at = 0; row < rows; row++, at += dim) {
    if (unknownOnly && classIndex[row] !== UNKNOWN_CLASS) continue;
    let distance = 0;
    for (let d = 0; d < dim && distance <= bound; d++) {
      const diff = means[at + d]! - query[d]!;
      distance += diff * diff;
    }
    if (distance > bound || frameIndex[row] === skipFrame) continue;
    insertSorted(best, { packed, row, distance }, limit);
    if (best.length >= limit) bound = best[best.length - 1]!.distance;
  }
}

function insertSorted(best: Neighbour[], item: Neighbour, limit: number): void {
  let low = 0;
  let high = best.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (best[middle]!.distance <= item.distance) low = middle + 1;
    else high = middle;
  }
  best.splice(low, 0, item);
  if (best.length > limit) best.pop();
}
