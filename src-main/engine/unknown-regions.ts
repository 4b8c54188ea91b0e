/**
 * Unknown regions and the frame score made from them. A reviewer looks for a thing on the road, not for
 * pixels: the frame score is the score of the frame's most object-like unknown region, not a percentile of
 * pixel scores, which large uncertain areas (sky, trees, horizon, class boundaries) dominate.
 *
 * The rule, in one paragraph (docs/events.md, "Unknown regions and the frame score"; the same rule in
 * training/dmlnet/regions.py):
 * unknown pixels form 8-connected regions. A region smaller than 500 pixels at 480x360 (scaled with the map's
 * pixel count; SegmentMeIfYouCan's smallest predicted component) scores 0. Otherwise its score is its mean
 * pixel OOD score times a placement weight: 1 when it lies on or beside the drivable area (half or more of its
 * boundary against a drivable class, or a drivable pixel within its own height of it: a person at the kerb is
 * about their own height from the road), 0.5 when it lies in the sky (half or more of its boundary against
 * sky) or touches the top border (sky, treetops, overhead structure: no hazard on the road), 0.75 elsewhere.
 * The frame score is the highest region score, 0 without regions.
 */
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { componentBoxes, labelComponents, type Components } from './regions.js';
import { UNKNOWN_CLASS } from './types.js';

/** The map size the minimum region size is stated at: the shipped models' 480x360 output. */
const REFERENCE_PIXELS = 480 * 360;
/** SegmentMeIfYouCan drops predicted components under 500 pixels; the reviewer cannot see a thing smaller. */
export const MIN_REGION_PIXELS_AT_REFERENCE = 500;
/** Share of a region's boundary that puts it "on" the drivable area or "in" the sky: the majority of it. */
const MAJORITY = 0.5;
/** Three tiers a quarter apart: by the road counts fully, sky or top border half, anywhere else in between. */
export const PLACE_WEIGHTS: Record<UnknownRegion['place'], number> = { road: 1, elsewhere: 0.75, 'sky-or-top': 0.5 };

/** Class indices that decide where a region lies, found from the model card's class names. */
export interface RegionPlaces {
  drivable: number[];
  sky: number[];
}

const normalise = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z]+/g, ' ')
    .trim();

/** CamVid and Cityscapes say `road`; Mapillary `Road`, `Lane Marking - General`, `Crosswalk - Plain`; BDD `road`. */
export function isDrivableName(name: string): boolean {
  const words = normalise(name);
  return /^(road|drivable|lane marking|crosswalk|parking)\b/.test(words);
}

export function regionPlaces(classes: readonly { index: number; name: string }[]): RegionPlaces {
  return {
    drivable: classes.filter((cls) => isDrivableName(cls.name)).map((cls) => cls.index),
    sky: classes.filter((cls) => normalise(cls.name) === 'sky').map((cls) => cls.index),
  };
}

/** The smallest region that can score, for a map of this many pixels (500 at 480x360). */
export function minRegionPixels(width: number, height: number): number {
  return Math.max(1, Math.round((MIN_REGION_PIXELS_AT_REFERENCE * width * height) / REFERENCE_PIXELS));
}

/** "No such class in the frame": far beyond any map, and + 1 cannot overflow. */
const INFINITY = 1 << 30;

/**
 * Chessboard distance of every pixel to the nearest pixel whose class is in `classes` (two raster passes over
 * the 8-neighbours, exact for this metric; written out, since a helper call per neighbour cost too much, see
 * docs/benchmarks.md); INFINITY everywhere when the frame has none.
 */
export function chessboardDistance(classMap: Uint8Array, classes: readonly number[], width: number, height: number) {
  const member = new Uint8Array(256);
  for (const index of classes) member[index] = 1;
  const d = new Int32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = member[classMap[i]!] ? 0 : INFINITY;
  for (let y = 0; y < height; y++)
    for (let x = 0, i = y * width; x < width; x++, i++) {
      let best = d[i]!;
      if (best === 0) continue;
      if (x > 0) best = Math.min(best, d[i - 1]! + 1);
      if (y > 0) {
        best = Math.min(best, d[i - width]! + 1);
        if (x > 0) best = Math.min(best, d[i - width - 1]! + 1);
        if (x + 1 < width) best = Math.min(best, d[i - width + 1]! + 1);
      }
      d[i] = best;
    }
  for (let y = height - 1; y >= 0; y--)
    for (let x = width - 1, i = y * width + x; x >= 0; x--, i--) {
      let best = d[i]!;
      if (best === 0) continue;
      if (x + 1 < width) best = Math.min(best, d[i + 1]! + 1);
      if (y + 1 < height) {
        best = Math.min(best, d[i + width]! + 1);
        if (x + 1 < width) best = Math.min(best, d[i + width + 1]! + 1);
        if (x > 0) best = Math.min(best, d[i + width - 1]! + 1);
      }
      d[i] = best;
    }
  return d;
}

/** Per region: OOD score sum, nearest drivable pixel, and its 4-neighbour boundary against known pixels. */
interface Tally {
  scoreSum: number;
  nearestDrivable: number;
  boundary: number;
  drivableBoundary: number;
  skyBoundary: number;
}

function tallyRegions(
  { labels, count }: Components,
  classMap: Uint8Array,
  ood: Float32Array,
  places: RegionPlaces,
  width: number,
  height: number,
): Tally[] {
  const tallies = Array.from({ length: count }, () => ({
    scoreSum: 0,
    nearestDrivable: INFINITY,
    boundary: 0,
    drivableBoundary: 0,
    skyBoundary: 0,
  }));
  const drivable = new Uint8Array(256);
  const sky = new Uint8Array(256);
  for (const index of places.drivable) drivable[index] = 1;
  for (const index of places.sky) sky[index] = 1;
  const distance = chessboardDistance(classMap, places.drivable, width, height);
  const touch = (tally: Tally, x: number, y: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const cls = classMap[y * width + x]!;
    if (cls === UNKNOWN_CLASS) return;
    tally.boundary++;
    tally.drivableBoundary += drivable[cls]!;
    tally.skyBoundary += sky[cls]!;
  };
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (labels[i] === 0) continue;
      const tally = tallies[labels[i]! - 1]!;
      tally.scoreSum += ood[i]!;
      if (distance[i]! < tally.nearestDrivable) tally.nearestDrivable = distance[i]!;
      touch(tally, x, y - 1);
      touch(tally, x + 1, y);
      touch(tally, x, y + 1);
      touch(tally, x - 1, y);
    }
  return tallies;
}

function borders(box: { x: number; y: number; width: number; height: number }, width: number, height: number) {
  const touched: UnknownRegion['border'] = [];
  if (box.y === 0) touched.push('top');
  if (box.x + box.width === width) touched.push('right');
  if (box.y + box.height === height) touched.push('bottom');
  if (box.x === 0) touched.push('left');
  return touched;
}

/** Where a region lies, and so its weight: the sky-or-top discount wins over the road. */
export function regionPlace(region: Pick<UnknownRegion, 'border' | 'drivable' | 'inSky'>): UnknownRegion['place'] {
  if (region.inSky || region.border.includes('top')) return 'sky-or-top';
  return region.drivable === 'away' ? 'elsewhere' : 'road';
}

/** Every 8-connected unknown region of a frame with its size, box, mean score, placement and score. */
export function findUnknownRegions(
  classMap: Uint8Array,
  ood: Float32Array,
  places: RegionPlaces,
  width: number,
  height: number,
): UnknownRegion[] {
  const components = labelComponents(classMap, UNKNOWN_CLASS, width, height);
  const boxes = componentBoxes(components, width, height);
  const tallies = tallyRegions(components, classMap, ood, places, width, height);
  const minPixels = minRegionPixels(width, height);
  return boxes.map((box, i) => {
    const tally = tallies[i]!;
    // float32, as stored (library/region-codec.ts), so what the engine returns is what the library gives back.
    const meanScore = Math.fround(tally.scoreSum / box.pixels);
    const share = (part: number) => (tally.boundary > 0 ? part / tally.boundary : 0);
    const facts = {
      ...box,
      meanScore,
      border: borders(box, width, height),
      drivable:
        share(tally.drivableBoundary) >= MAJORITY
          ? ('on' as const)
          : tally.nearestDrivable <= box.height
            ? ('beside' as const)
            : ('away' as const),
      inSky: share(tally.skyBoundary) >= MAJORITY,
    };
    const place = regionPlace(facts);
    return { ...facts, place, score: box.pixels >= minPixels ? Math.fround(PLACE_WEIGHTS[place] * meanScore) : 0 };
  });
}

/** The frame score: the highest region score, 0 without a region large enough to score. */
export function regionFrameScore(regions: readonly Pick<UnknownRegion, 'score'>[]): number {
  let best = 0;
  for (const region of regions) if (region.score > best) best = region.score;
  return best;
}
