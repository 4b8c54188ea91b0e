export interface RegionBox {
  /** Pixels in the region. */
  pixels: number;
  x: number;
  y: number;
  width: number;
  height: number;
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
 * The largest 8-connected region of pixels equal to `value` (two-pass labelling with union-find), or null
 * when there is none. Ties go to the region met first in raster order.
 */
export function largestRegion(map: Uint8Array, value: number, width: number, height: number): RegionBox | null {
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
  if (next === 1) return null;
  const count = new Int32Array(next);
  const minX = new Int32Array(next).fill(width);
  const minY = new Int32Array(next).fill(height);
  const maxX = new Int32Array(next).fill(-1);
  const maxY = new Int32Array(next).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const label = labels[y * width + x]!;
      if (label === 0) continue;
      const root = findRoot(parent, label);
      count[root]!++;
      if (x < minX[root]!) minX[root] = x;
      if (x > maxX[root]!) maxX[root] = x;
      if (y < minY[root]!) minY[root] = y;
      if (y > maxY[root]!) maxY[root] = y;
    }
  }
  let best = 0;
  for (let label = 1; label < next; label++) if (count[label]! > count[best]!) best = label;
  return {
    pixels: count[best]!,
    x: minX[best]!,
    y: minY[best]!,
    width: maxX[best]! - minX[best]! + 1,
    height: maxY[best]! - minY[best]! + 1,
  };
}
