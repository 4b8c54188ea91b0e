import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { largestOf } from './regions.js';
import { UNKNOWN_CLASS, type FrameResult } from './types.js';
import { findUnknownRegions, regionFrameScore, type RegionPlaces } from './unknown-regions.js';

/**
 * The frame score before unknown regions (analyses marked 'pixel-p90'): this percentile of the pixel OOD
 * score. Kept to compare the two rules (scripts/check-events-vs-labels.ts). Not the top: in every frame the
 * highest 1% are class boundaries, so high percentiles measure edges, not objects; but any percentile is
 * dominated by large uncertain areas (sky, trees, horizon), which is why frames now score by region.
 */
export const FRAME_SCORE_PERCENTILE = 90;
export const HISTOGRAM_BINS = 4096;

/** What the frame summary needs besides the class map, gathered while the head writes it. */
export interface FrameTallies {
  /** Pixels per class index (256 entries, UNKNOWN_CLASS included). */
  classCounts: Uint32Array;
  /** Pixels per OOD score bin: bin floor(score * 4096) of the score clipped to [0, 1), 4096 bins. */
  scoreHistogram: Uint32Array;
}

/** The histogram bin of a score: floor(score * 4096), scores clipped to [0, 1). */
export function scoreBin(score: number): number {
  return score > 0 ? Math.min(HISTOGRAM_BINS - 1, Math.floor(score * HISTOGRAM_BINS)) : 0;
}

/** The tallies of a finished class map and OOD map (the kernel gathers the same while scoring). */
export function tallyFrame(classMap: Uint8Array, scores: Float32Array): FrameTallies {
  const classCounts = new Uint32Array(256);
  for (let i = 0; i < classMap.length; i++) classCounts[classMap[i]!]!++;
  const scoreHistogram = new Uint32Array(HISTOGRAM_BINS);
  for (let i = 0; i < scores.length; i++) scoreHistogram[scoreBin(scores[i]!)]!++;
  return { classCounts, scoreHistogram };
}

/** The q-th percentile of the scores in a histogram: within 1/4096 of the exact value (the bin's upper edge). */
export function histogramPercentile(histogram: Uint32Array, q: number): number {
  let total = 0;
  for (let bin = 0; bin < histogram.length; bin++) total += histogram[bin]!;
  const rank = Math.ceil((q / 100) * total);
  let seen = 0;
  for (let bin = 0; bin < histogram.length; bin++) {
    seen += histogram[bin]!;
    if (seen >= rank) return (bin + 1) / histogram.length;
  }
  return 1;
}

/** The old frame score: the 90th percentile of the frame's pixel scores. */
export function pixelPercentileScore(tallies: FrameTallies): number {
  return histogramPercentile(tallies.scoreHistogram, FRAME_SCORE_PERCENTILE);
}

/** What the frame summary needs besides the maps: the class map's size and classes, and the region places. */
export interface SummaryContext {
  width: number;
  height: number;
  classCount: number;
  places: RegionPlaces;
}

/**
 * The per-frame record and the frame's unknown regions: frame score (the best region's, unknown-regions.ts),
 * unknown area, largest unknown region (8-connected) and class areas.
 */
export function summarizeFrame(
  classMap: Uint8Array,
  ood: Float32Array,
  tallies: FrameTallies,
  { width, height, classCount, places }: SummaryContext,
): { summary: FrameResult['summary']; regions: UnknownRegion[] } {
  const pixels = width * height;
  const counts = tallies.classCounts;
  const regions = counts[UNKNOWN_CLASS]! > 0 ? findUnknownRegions(classMap, ood, places, width, height) : [];
  const region = largestOf(regions);
  const summary = {
    score: regionFrameScore(regions),
    unknownFraction: counts[UNKNOWN_CLASS]! / pixels,
    largestRegion: region && {
      area: region.pixels / pixels,
      x: region.x,
      y: region.y,
      width: region.width,
      height: region.height,
    },
    classAreas: Array.from({ length: classCount }, (_, index) => counts[index]! / pixels),
  };
  return { summary, regions };
}
