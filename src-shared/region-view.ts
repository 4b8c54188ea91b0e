/**
 * What the frame viewer outlines of a frame's unknown regions (src-renderer/src/session/FrameViewer.tsx), here
 * so the figures of scripts/check-events-vs-labels.ts measure exactly what a reviewer is shown.
 */
import type { UnknownRegion } from './contract/index.js';

/** Class index of unknown pixels in stored class maps. */
const UNKNOWN = 255;

/**
 * A region is boxed and outlined when its score reaches the event threshold in use: those are the regions that
 * make a frame an anomaly. Weaker ones (uncertain verges, shadows and horizons of an ordinary drive) stay in the
 * heat map only, so a frame with no anomaly shows no outline, and moving the threshold line moves both the
 * events and what is outlined. Specks too small to score (score 0) are never outlined.
 */
export function isOutlinedRegion(region: Pick<UnknownRegion, 'score'>, threshold: number): boolean {
  return region.score > 0 && region.score >= threshold;
}

/**
 * Unknown pixels the viewer outlines: those inside the box of an outlined region. A speck inside such a box is
 * outlined with it (the viewer has boxes, not the regions' labels), one outside every box is not.
 */
export function outlinedUnknown(
  classMap: Uint8Array,
  width: number,
  regions: readonly Pick<UnknownRegion, 'score' | 'x' | 'y' | 'width' | 'height'>[],
  threshold: number,
): Uint8Array {
  const mask = new Uint8Array(classMap.length);
  for (const region of regions) {
    if (!isOutlinedRegion(region, threshold)) continue;
    for (let y = region.y; y < region.y + region.height; y++)
      for (let x = region.x; x < region.x + region.width; x++) {
        const i = y * width + x;
        if (classMap[i] === UNKNOWN) mask[i] = 1;
      }
  }
  return mask;
}
