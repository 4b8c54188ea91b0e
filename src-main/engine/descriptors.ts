/**
 * Region descriptors: what "find more like this" searches (docs/similar.md). For every unknown region and
 * every large component of a known class, the mean embedding of its pixels and how far its pixels spread
 * around that mean, with its size, box and mean OOD score. One labelling of the class map and one pass over
 * the embedding accumulate every region's sums at once.
 *
 * Size floor: both kinds need at least minRegionPixels (500 px at 480x360, the size under which an unknown
 * region does not score). Smaller components are mostly slivers along class boundaries whose mean mixes two
 * classes, and a reviewer cannot see what they would find.
 */
import { componentRuns, runBoxes, type ComponentRuns, type RegionBox } from './regions.js';
import type { MetricKernel } from './metric-kernel.js';
import { minRegionPixels } from './unknown-regions.js';

export interface RegionDescriptor extends RegionBox {
  /** UNKNOWN_CLASS for an unknown region, else the class of the component. */
  classIndex: number;
  /**
   * Which region of its frame: for unknown regions the index among the frame's unknown regions in raster order
   * of their first pixel (the order findUnknownRegions gives and frame_regions stores); for a class, the index
   * among that class's components in the same order.
   */
  regionIndex: number;
  /** Mean OOD score of its pixels. */
  meanScore: number;
  /** Root mean square distance of its pixels' embeddings to their mean. */
  spread: number;
}

/** A frame's descriptors: the regions, and their mean embeddings as one regions x dim row-major array. */
export interface FrameDescriptors {
  dim: number;
  /** The similarity scale of the model's embedding space (prototypeSpacing). */
  scale: number;
  regions: RegionDescriptor[];
  means: Float32Array;
}

/**
 * The squared distance between neighbouring classes: the median, over the card's prototypes, of the squared
 * distance to the nearest other one. A similarity of 1/2 means as far apart as two neighbouring known classes
 * (docs/similar.md, "Similarity").
 */
export function prototypeSpacing(prototypes: readonly (readonly number[])[]): number {
  const nearest = prototypes.map((row, i) => {
    let best = Infinity;
    prototypes.forEach((other, j) => {
      if (j === i) return;
      let d = 0;
      for (let k = 0; k < row.length; k++) d += (row[k]! - other[k]!) ** 2;
      best = Math.min(best, d);
    });
    return best;
  });
  const sorted = nearest.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return 1;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The class of every component of componentRuns (index = label - 1) and its index among that class's
 * components, in raster order of their first pixels: how a descriptor names its region (RegionDescriptor).
 */
export function numberComponents(
  { count, runs, start, row, label, width }: ComponentRuns,
  classMap: Uint8Array,
): { classIndex: number; regionIndex: number }[] {
  const numbered = new Array<{ classIndex: number; regionIndex: number }>(count);
  const seenOfClass = new Int32Array(256);
  // Runs are in raster order, so a component's first run holds its first pixel.
  for (let r = 0; r < runs; r++) {
    if (numbered[label[r]! - 1]) continue;
    const classIndex = classMap[row[r]! * width + start[r]!]!;
    numbered[label[r]! - 1] = { classIndex, regionIndex: seenOfClass[classIndex]!++ };
  }
  return numbered;
}

/**
 * The descriptors of a frame. `embedding` is the model output, dim x pixels channel-major; `classMap` and
 * `ood` the head's maps at width x height.
 */
export function describeRegions(
  embedding: Float32Array,
  dim: number,
  classMap: Uint8Array,
  ood: Float32Array,
  size: { width: number; height: number; scale: number },
  kernel: Pick<MetricKernel, 'sumRuns'>,
): FrameDescriptors {
  const { width, height, scale } = size;
  const runs = componentRuns(classMap, width, height);
  const boxes = runBoxes(runs);
  const floor = minRegionPixels(width, height);
  // Component label -> descriptor slot (-1: under the floor).
  const slotOf = new Int32Array(runs.count + 1).fill(-1);
  const regions: RegionDescriptor[] = [];
  numberComponents(runs, classMap).forEach(({ classIndex, regionIndex }, i) => {
    const box = boxes[i]!;
    if (box.pixels < floor) return;
    slotOf[i + 1] = regions.length;
    regions.push({ ...box, classIndex, regionIndex, meanScore: 0, spread: 0 });
  });
  const count = regions.length;
  const pixelRuns = {
    first: new Int32Array(runs.runs),
    last: new Int32Array(runs.runs),
    slot: new Int32Array(runs.runs),
  };
  const scores = new Float64Array(count);
  for (let r = 0; r < runs.runs; r++) {
    const slot = slotOf[runs.label[r]!]!;
    const first = runs.row[r]! * width + runs.start[r]!;
    const last = runs.row[r]! * width + runs.end[r]!;
    pixelRuns.first[r] = first;
    pixelRuns.last[r] = last;
    pixelRuns.slot[r] = slot;
    if (slot < 0) continue;
    let score = 0;
    for (let p = first; p < last; p++) score += ood[p]!;
    scores[slot]! += score;
  }
  // Each run is a contiguous slice of every embedding plane: the kernel sums them 4 pixels at a time.
  const { sums, squares } = kernel.sumRuns(embedding, dim, pixelRuns, count);
  const means = new Float32Array(count * dim);
  regions.forEach((region, slot) => {
    const n = region.pixels;
    let meanSquare = 0;
    for (let d = 0; d < dim; d++) {
      const mean = sums[slot * dim + d]! / n;
      means[slot * dim + d] = mean;
      meanSquare += mean * mean;
    }
    // E||x - m||^2 = E||x||^2 - ||m||^2; rounding can take it a hair below 0.
    region.spread = Math.fround(Math.sqrt(Math.max(0, squares[slot]! / n - meanSquare)));
    region.meanScore = Math.fround(scores[slot]! / n);
  });
  return { dim, scale, regions, means };
}
