export interface RegionBox {
  /** Pixels in the region. */
  pixels: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** 8-connected components of a mask: a label per pixel, 0 outside, 1..count numbered in raster order of each component's first pixel. */
export interface Components {
  labels: Int32Array;
  count: number;
}

function findRoot(parent: Int32Array, label: number): number {
  while (parent[label] !== label) {
    parent[label] = parent[parent[label]!]!;
    label = parent[label]!;
  }
  return label;
}

function union(parent: Int32Array, label: number, other: number): void {
  if (other === 0) return;
  const a = findRoot(parent, label);
  const b = findRoot(parent, other);
  if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
}

/** First pass: provisional labels, joined through `parent` wherever two meet. */
function provisionalLabels(map: Uint8Array, value: number, width: number, height: number) {
  const labels = new Int32Array(width * height);
  const parent = new Int32Array(width * height + 1);
  let next = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (map[i] !== value) continue;
      // Already-labelled 8-neighbours: west, north-west, north, north-east.
      const west = x > 0 ? labels[i - 1]! : 0;
      const northWest = x > 0 && y > 0 ? labels[i - width - 1]! : 0;
      const north = y > 0 ? labels[i - width]! : 0;
      const northEast = x + 1 < width && y > 0 ? labels[i - width + 1]! : 0;
      let label = west || northWest || north || northEast;
      if (label === 0) {
        label = next++;
        parent[label] = label;
      } else {
        union(parent, label, west);
        union(parent, label, northWest);
        union(parent, label, north);
        union(parent, label, northEast);
      }
      labels[i] = label;
    }
  }
  return { labels, parent, next };
}

/**
 * The 8-connected components of the pixels equal to `value` (two-pass labelling with union-find). Roots are
 * the smallest provisional label of each component, so numbering roots in label order numbers components by
 * their first pixel in raster order.
 */
export function labelComponents(map: Uint8Array, value: number, width: number, height: number): Components {
  const { labels, parent, next } = provisionalLabels(map, value, width, height);
  const compact = new Int32Array(next);
  let count = 0;
  for (let label = 1; label < next; label++) {
    const root = findRoot(parent, label);
    compact[label] = root === label ? ++count : compact[root]!;
  }
  for (let i = 0; i < labels.length; i++) labels[i] = compact[labels[i]!]!;
  return { labels, count };
}

/**
 * The 8-connected components of every value of a class map, as runs: each row cut into runs of one value, run r
 * covering pixels [start[r], end[r]) of row row[r] and belonging to component label[r] (1..count, numbered by
 * their first pixel in raster order, so the components of one value come in the order labelComponents gives).
 * Runs are in raster order.
 */
export interface ComponentRuns {
  count: number;
  runs: number;
  start: Int32Array;
  end: Int32Array;
  row: Int32Array;
  label: Int32Array;
  width: number;
}

/**
 * Union-find over runs, not pixels: a run joins the runs of the row above that touch it (overlapping, or
 * meeting at a corner) with the same value. A class map has a few dozen runs a row against 480 pixels, so this
 * is quicker than labelling pixel by pixel, and regions can be summed run by run (docs/benchmarks.md).
 */
export function componentRuns(map: Uint8Array, width: number, height: number): ComponentRuns {
  const pixels = width * height;
  // Run ids from 1 while joining (worst case one run a pixel); index 0 of the answer is run 1.
  const start = new Int32Array(pixels + 1);
  const end = new Int32Array(pixels + 1);
  const row = new Int32Array(pixels + 1);
  const parent = new Int32Array(pixels + 1);
  let runs = 0;
  let aboveFirst = 1;
  let aboveEnd = 1;
  for (let y = 0; y < height; y++) {
    const offset = y * width;
    const rowFirst = runs + 1;
    let above = aboveFirst;
    for (let x = 0; x < width;) {
      const value = map[offset + x]!;
      const first = x;
      while (x < width && map[offset + x] === value) x++;
      const id = ++runs;
      start[id] = first;
      end[id] = x;
      row[id] = y;
      parent[id] = id;
      // Runs above touch [first, x) when their last pixel reaches first - 1 and their first reaches x.
      while (above < aboveEnd && end[above]! < first) above++;
      for (let k = above; k < aboveEnd && start[k]! <= x; k++)
        if (map[offset - width + start[k]!] === value) union(parent, id, k);
    }
    aboveFirst = rowFirst;
    aboveEnd = runs + 1;
  }
  const label = new Int32Array(runs + 1);
  let count = 0;
  for (let id = 1; id <= runs; id++) {
    const root = findRoot(parent, id);
    label[id] = root === id ? ++count : label[root]!;
  }
  return {
    count,
    runs,
    start: start.subarray(1, runs + 1),
    end: end.subarray(1, runs + 1),
    row: row.subarray(1, runs + 1),
    label: label.subarray(1),
    width,
  };
}

/** The components of every value of a class map at once as a label per pixel (componentRuns). */
export function labelAllComponents(map: Uint8Array, width: number, height: number): Components {
  const { count, runs, start, end, row, label } = componentRuns(map, width, height);
  const labels = new Int32Array(width * height);
  for (let r = 0; r < runs; r++) labels.fill(label[r]!, row[r]! * width + start[r]!, row[r]! * width + end[r]!);
  return { labels, count };
}

/** Pixel count and bounding box of every component of componentRuns (index = label - 1). */
export function runBoxes({ count, runs, start, end, row, label }: ComponentRuns): RegionBox[] {
  const boxes = Array.from({ length: count }, () => ({ pixels: 0, x: Infinity, y: Infinity, right: 0, bottom: 0 }));
  for (let r = 0; r < runs; r++) {
    const box = boxes[label[r]! - 1]!;
    box.pixels += end[r]! - start[r]!;
    box.x = Math.min(box.x, start[r]!);
    box.right = Math.max(box.right, end[r]!);
    box.y = Math.min(box.y, row[r]!);
    box.bottom = Math.max(box.bottom, row[r]! + 1);
  }
  return boxes.map(({ pixels, x, y, right, bottom }) => ({ pixels, x, y, width: right - x, height: bottom - y }));
}

/** Pixel count and bounding box of every component (index = label - 1). */
export function componentBoxes({ labels, count }: Components, width: number, height: number): RegionBox[] {
  const boxes = Array.from({ length: count }, () => ({ pixels: 0, x: width, y: height, right: -1, bottom: -1 }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const label = labels[y * width + x]!;
      if (label === 0) continue;
      const box = boxes[label - 1]!;
      box.pixels++;
      if (x < box.x) box.x = x;
      if (x > box.right) box.right = x;
      if (y < box.y) box.y = y;
      if (y > box.bottom) box.bottom = y;
    }
  }
  return boxes.map(({ pixels, x, y, right, bottom }) => ({
    pixels,
    x,
    y,
    width: right - x + 1,
    height: bottom - y + 1,
  }));
}

/** The largest of some regions; ties go to the first (raster order of their first pixel). */
export function largestOf<T extends { pixels: number }>(regions: readonly T[]): T | null {
  let best: T | null = null;
  for (const region of regions) if (!best || region.pixels > best.pixels) best = region;
  return best;
}

/** The largest 8-connected region of pixels equal to `value`, or null when there is none. */
export function largestRegion(map: Uint8Array, value: number, width: number, height: number): RegionBox | null {
  return largestOf(componentBoxes(labelComponents(map, value, width, height), width, height));
}
