import { AppError } from '../core/errors.js';
import { UNKNOWN_CLASS } from '../engine/index.js';
import { descriptorHeader, unpackDescriptors, type DescriptorColumns, type Library } from '../library/index.js';

/**
 * Every stored descriptor of one analysis packed into flat typed arrays, row r being one region: what the
 * search scans (boxes in pixels of the stored maps). At D = 9 a region costs 4 * 9 + 19 = 55 bytes here.
 */
export interface PackedAnalysis extends DescriptorColumns {
  analysisId: number;
  dim: number;
  scale: number;
  rows: number;
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

/**
 * Every region of an analysis read into columns, the arrays sized once from the blobs' lengths. A frame whose
 * blob disagrees with the first one's embedding size is refused as damaged.
 */
export async function packAnalysis(library: Library, analysisId: number): Promise<PackedAnalysis> {
  const shape = (await library.descriptors.shape(analysisId)) ?? { dim: 0, scale: 1, rows: 0, lastFrame: -1 };
  const packed = emptyPacked(analysisId, shape.dim, shape.scale, shape.rows);
  let row = 0;
  // Up to the last frame the shape counted: a running analysis may have stored more since.
  await library.descriptors.forEachFrame(
    analysisId,
    (frameIndex, blob) => {
      const where = `frame ${frameIndex} of analysis ${analysisId}`;
      const { dim, count } = descriptorHeader(blob, where);
      if (dim !== shape.dim || row + count > shape.rows) {
        throw new AppError(
          'library_corrupt',
          `The region descriptors of ${where} have embedding size ${dim}, the analysis's first frame ${shape.dim}: re-analyse the session`,
        );
      }
      row += unpackDescriptors(blob, where, frameIndex, packed, row);
    },
    shape.lastFrame,
  );
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
