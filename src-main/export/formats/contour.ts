/**
 * The outline of an unknown region as one polygon, for formats that take polygons (CVAT). The region is traced
 * at the map's resolution along cell edges and its corners are moved to the source pixel edges the overlays'
 * scaling gives each cell, so the polygon covers exactly the source pixels the region covers. A polygon has
 * no holes: holes in a region are filled (with 4-connected background, the dual of 8-connected regions).
 */
import { nearestCells } from '../images.js';

export type Point = [number, number];

/**
 * Corners of the outline of the 8-connected component `label` in a width x height label map, in cell-edge
 * coordinates, clockwise on screen (inside on the right of each edge), starting at its first cell's top-left.
 * Diagonal neighbours stay joined: at a corner two diagonal cells share, the trace turns towards the next one.
 */
export function traceOutline(labels: Int32Array, label: number, width: number, height: number): Point[] {
  const filled = filledRegion(labels, label, width, height);
  const inside = (x: number, y: number) =>
    x >= filled.left && y >= filled.top && x < filled.right && y < filled.bottom
      ? filled.cells[(y - filled.top) * filled.width + (x - filled.left)] === 1
      : false;
  const start = filled.first;
  const corners: Point[] = [];
  let [x, y] = start;
  let [dx, dy] = [1, 0];
  do {
    // Left of heading (dx, dy) on screen (y down) is (dy, -dx); the two cells ahead lie either side of it.
    const [lx, ly] = [dy, -dx];
    const cell = (sx: number, sy: number): [number, number] => [x + (dx + sx > 0 ? 0 : -1), y + (dy + sy > 0 ? 0 : -1)];
    let next: [number, number];
    if (inside(...cell(lx, ly))) next = [lx, ly];
    else if (inside(...cell(-lx, -ly))) next = [dx, dy];
    else next = [-lx, -ly];
    if (next[0] !== dx || next[1] !== dy || corners.length === 0) corners.push([x, y]);
    [dx, dy] = next;
    x += dx;
    y += dy;
  } while (x !== start[0] || y !== start[1]);
  return corners;
}

/** The component with its holes filled, in its bounding box plus one cell of margin, and its first cell. */
function filledRegion(labels: Int32Array, label: number, width: number, height: number) {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (labels[y * width + x] === label) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
  if (right < 0) throw new RangeError(`No cell has label ${label}`);
  // One cell of margin all round, so the outside is connected around the region.
  const box = { left: left - 1, top: top - 1, width: right - left + 3, height: bottom - top + 3 };
  const outside = new Uint8Array(box.width * box.height);
  const member = (bx: number, by: number) => {
    const x = bx + box.left;
    const y = by + box.top;
    return x >= 0 && y >= 0 && x < width && y < height && labels[y * width + x] === label;
  };
  const stack = [0];
  outside[0] = 1;
  while (stack.length) {
    const i = stack.pop()!;
    const bx = i % box.width;
    const by = (i - bx) / box.width;
    for (const [nx, ny] of [
      [bx + 1, by],
      [bx - 1, by],
      [bx, by + 1],
      [bx, by - 1],
    ] as const) {
      if (nx < 0 || ny < 0 || nx >= box.width || ny >= box.height) continue;
      const j = ny * box.width + nx;
      if (outside[j] || member(nx, ny)) continue;
      outside[j] = 1;
      stack.push(j);
    }
  }
  const cells = outside.map((value) => 1 - value);
  const firstIndex = cells.indexOf(1);
  const first: Point = [(firstIndex % box.width) + box.left, Math.floor(firstIndex / box.width) + box.top];
  return {
    cells,
    left: box.left,
    top: box.top,
    right: box.left + box.width,
    bottom: box.top + box.height,
    width: box.width,
    first,
  };
}

/**
 * Map cell edges moved to source pixel edges: edge c of `cells` goes to the first of `size` source pixels
 * whose cell (nearestCells) is c or later.
 */
export function cellEdges(size: number, cells: number): Int32Array {
  const cellOf = nearestCells(size, cells);
  const edges = new Int32Array(cells + 1).fill(size);
  for (let i = size - 1; i >= 0; i--) edges[cellOf[i]!] = i;
  for (let c = cells - 1; c >= 0; c--) edges[c] = Math.min(edges[c]!, edges[c + 1]!);
  return edges;
}
