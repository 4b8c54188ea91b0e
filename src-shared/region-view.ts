/**
 * What the frame viewer outlines of a frame's unknown regions (src-renderer/src/session/FrameViewer.tsx), here
 * so the figures of scripts/check-events-vs-labels.ts measure exactly what a reviewer is shown.
 */
import type { UnknownRegion } from './contract/index.js';

/** Class index of unknown pixels in stored class maps. */
const UNKNOWN = 255;

/** A region large enough to score (the frame-score rule's minimum size) is boxed and outlined; specks are not. */
export function isOutlinedRegion(region: Pick<UnknownRegion, 'score'>): boolean {
  return region.score > 0;
}

/**
 * Unknown pixels the viewer outlines: those inside the box of an outlined region. A speck inside such a box is
 * outlined with it (the viewer has boxes, not the regions' labels), one outside every box is not.
 */
export function outlinedUnknown(
  classMap: Uint8Array,
  width: number,
  regions: readonly Pick<UnknownRegion, 'score' | 'x' | 'y' | 'width' | 'height'>[],
): Uint8Array {
  const mask = new Uint8Array(classMap.length);
  for (const region of regions) {
    if (!isOutlinedRegion(region)) continue;
    for (let y = region.y; y < region.y + region.height; y++)
      for (let x = region.x; x < region.x + region.width; x++) {
        const i = y * width + x;
        if (classMap[i] === UNKNOWN) mask[i] = 1;
      }
  }
  return mask;
}
