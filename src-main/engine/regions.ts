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

/**
 * First pass: provisional labels for the pixels whose value is in `include`, 8-neighbours joining when their
 * values are equal; joined through `parent` wherever two meet.
 */
function provisionalLabels(map: Uint8Array, include: Uint8Array, width: number, height: number) {
  const labels = new Int32Array(width * height);
  const parent = new Int32Array(width * height + 1);
  let next = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const value = map[i]!;
      if (!include[value]) continue;
      // Already-labelled 8-neighbours of the same value: west, north-west, north, north-east.
      const same = (j: number) => (map[j] === value ? labels[j]! : 0);
      const west = x > 0 ? same(i - 1) : 0;
      const northWest = x > 0 && y > 0 ? same(i - width - 1) : 0;
      const north = y > 0 ? same(i - width) : 0;
      const northEast = x + 1 < width && y > 0 ? same(i - width + 1) : 0;
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
  const include = new Uint8Array(256);
  include[value] = 1;
  return compactLabels(provisionalLabels(map, include, width, height));
}

/**
 * The 8-connected components of every value of a class map at once (a component holds one value), numbered
 * by their first pixel in raster order: the components of one value come in the order labelComponents gives.
 */
export function labelAllComponents(map: Uint8Array, width: number, height: number): Components {
  return compactLabels(provisionalLabels(map, new Uint8Array(256).fill(1), width, height));
}

function compactLabels({ labels, parent, next }: ReturnType<typeof provisionalLabels>): Components {
  const compact = new Int32Array(next);
  let count = 0;
  for (let label = 1; label < next; label++) {
    const root = findRoot(parent, label);
    compact[label] = root === label ? ++count : compact[root]!;
  }
  for (let i = 0; i < labels.length; i++) labels[i] = compact[labels[i]!]!;
  return { labels, count };
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
