/**
 * COCO run-length encoding (pycocotools' maskApi.c): the mask read column by column (Fortran order), runs
 * alternating outside/inside starting with outside, so a mask whose first pixel is inside starts with a 0 run.
 */

export interface MaskRle {
  /** COCO's compressed RLE: { size: [height, width], counts: string }. */
  rle: { size: [number, number]; counts: string };
  /** Inside pixels. */
  area: number;
  /** [x, y, width, height] of the inside pixels, COCO's bbox; zeros for an empty mask. */
  bbox: [number, number, number, number];
}

/** The pixels of a row-major width x height array equal to `target`, as COCO RLE with area and box. */
export function encodeMask(values: ArrayLike<number>, width: number, height: number, target: number): MaskRle {
  const counts: number[] = [];
  let inside = false;
  let run = 0;
  let area = 0;
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let x = 0; x < width; x++)
    for (let y = 0; y < height; y++) {
      const here = values[y * width + x] === target;
      if (here !== inside) {
        counts.push(run);
        run = 0;
        inside = here;
      }
      run++;
      if (!here) continue;
      area++;
      left = Math.min(left, x);
      right = x;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  counts.push(run);
  const bbox: MaskRle['bbox'] = area ? [left, top, right - left + 1, bottom - top + 1] : [0, 0, 0, 0];
  return { rle: { size: [height, width], counts: compressCounts(counts) }, area, bbox };
}

/**
 * maskApi.c's rleToString: each count (from the third on, as the difference to the count two before) in
 * 5-bit groups, low first, 0x20 marking "more follows", sign in 0x10 of the last group, each plus 48.
 */
export function compressCounts(counts: readonly number[]): string {
  let text = '';
  counts.forEach((count, i) => {
    let x = i > 2 ? count - counts[i - 2]! : count;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      text += String.fromCharCode(c + 48);
    }
  });
  return text;
}
