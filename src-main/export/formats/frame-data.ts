/**
 * One flagged frame as the interchange formats need it: the original from the footage, the class map scaled
 * to the source resolution by the overlays' rule, and the unknown regions large enough to score, each with its
 * pixels in the map (the stored regions keep boxes and scores, not pixels, so the components are found again
 * from the class map by the engine's own labelling and matched to the stored regions box for box).
 */
import type { AnalysisInfo, Flag, UnknownRegion } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { componentBoxes, labelComponents, UNKNOWN_CLASS } from '../../engine/index.js';
import type { Library } from '../../library/index.js';
import { decodeByteMap, pngSize, upsampleValues, type ByteMap } from '../images.js';

/** An unknown region of a frame that scores and its component label in FlaggedFrame.regionLabels. */
export interface ExportRegion {
  label: number;
  region: UnknownRegion;
}

export interface FlaggedFrame {
  frameIndex: number;
  timeMs: number;
  /** File name stem shared by every file of the frame: frame index and time, sortable. */
  stem: string;
  /** The flags on this frame, oldest first. */
  flags: Flag[];
  /** The original as a PNG at the source resolution. */
  original: Buffer;
  width: number;
  height: number;
  classMap: ByteMap;
  /** Map-resolution component label per cell (0 outside every unknown region). */
  regionLabels: Int32Array;
  regions: ExportRegion[];
}

export function frameStem(frameIndex: number, timeMs: number): string {
  return `${String(frameIndex).padStart(6, '0')}_t${String(Math.round(timeMs)).padStart(9, '0')}`;
}

/** A stored map PNG of the frame, or an error saying how to get one. */
export async function storedMapPng(
  library: Library,
  analysisId: number,
  frameIndex: number,
  kind: 'class_map' | 'ood_map',
): Promise<Buffer> {
  const png = await library.frames.map(analysisId, frameIndex, kind);
  if (!png)
    throw new AppError(
      'export_missing_maps',
      `Frame ${frameIndex} of analysis ${analysisId} has no stored maps: re-run the analysis, then export again`,
    );
  return png;
}

export async function loadFlaggedFrame(
  library: Library,
  analysis: AnalysisInfo,
  flags: Flag[],
  fullFrame: (analysisId: number, frameIndex: number) => Promise<Buffer>,
): Promise<FlaggedFrame> {
  const { frameIndex } = flags[0]!;
  const summary = await library.frames.get(analysis.id, frameIndex);
  const classMap = decodeByteMap(await storedMapPng(library, analysis.id, frameIndex, 'class_map'));
  const original = await fullFrame(analysis.id, frameIndex);
  const { width, height } = pngSize(original);
  const components = labelComponents(classMap.values, UNKNOWN_CLASS, classMap.width, classMap.height);
  return {
    frameIndex,
    timeMs: summary.timeMs,
    stem: frameStem(frameIndex, summary.timeMs),
    flags,
    original,
    width,
    height,
    classMap,
    regionLabels: components.labels,
    regions: await scoringRegions(library, analysis.id, frameIndex, classMap, components.labels, components.count),
  };
}

/**
 * Regions large enough to score (the frame-score rule's minimum size), whatever the event threshold: each goes
 * out with its score, so whoever reads the export picks by threshold. Specks (score 0) are left out.
 */
const scores = (region: UnknownRegion) => region.score > 0;

/** The stored regions that score, each matched to the component of the class map with its box. */
async function scoringRegions(
  library: Library,
  analysisId: number,
  frameIndex: number,
  classMap: ByteMap,
  labels: Int32Array,
  count: number,
): Promise<ExportRegion[]> {
  const stored = await library.frames.regions(analysisId, frameIndex);
  if (!stored.hasRegions)
    throw new AppError(
      'export_missing_regions',
      `Frame ${frameIndex} of analysis ${analysisId} was analysed before unknown regions were stored: re-run the analysis, then export again`,
    );
  const boxes = new Map<string, number>();
  const key = (box: { pixels: number; x: number; y: number; width: number; height: number }) =>
    `${box.pixels}:${box.x}:${box.y}:${box.width}:${box.height}`;
  componentBoxes({ labels, count }, classMap.width, classMap.height).forEach((box, i) => boxes.set(key(box), i + 1));
  return stored.regions.filter(scores).map((region) => {
    const label = boxes.get(key(region));
    if (label === undefined || stored.mapWidth !== classMap.width || stored.mapHeight !== classMap.height)
      throw new AppError(
        'library_corrupt',
        `The unknown regions stored for frame ${frameIndex} of analysis ${analysisId} do not match its class map: re-run the analysis`,
      );
    return { label, region };
  });
}

/** Class id per source pixel (UNKNOWN_CLASS where unknown), scaled by the overlays' rule. */
export function sourceClassIds(frame: FlaggedFrame): Uint8Array {
  return upsampleValues(frame.classMap.values, frame.classMap, frame.width, frame.height);
}

/** Region label per source pixel (0 outside every unknown region), scaled by the overlays' rule. */
export function sourceRegionLabels(frame: FlaggedFrame): Int32Array {
  return upsampleValues(frame.regionLabels, frame.classMap, frame.width, frame.height);
}
