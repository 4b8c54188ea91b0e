/**
 * Mask editing for the teaching panel, free of React and the DOM so it is unit-tested: brush and eraser
 * strokes, polygon fill, and an undo/redo history of whole masks (a 480x360 mask is 170 KB; 50 steps fit).
 */

export interface MaskSize {
  width: number;
  height: number;
}

/** Sets every pixel within `radius` of (cx, cy) to value. */
export function stampDisc(
  mask: Uint8Array,
  size: MaskSize,
  cx: number,
  cy: number,
  radius: number,
  value: 0 | 1,
): void {
  const r = Math.max(0.5, radius);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(size.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(size.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * size.width + x] = value;
    }
  }
}

/** A brush stroke segment: discs every half radius along the line, so fast drags leave no gaps. */
export function strokeSegment(
  mask: Uint8Array,
  size: MaskSize,
  from: [number, number],
  to: [number, number],
  radius: number,
  value: 0 | 1,
): void {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    stampDisc(mask, size, from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, radius, value);
  }
}

/** Marks pixels whose centre lies inside the polygon (even-odd rule). */
export function fillPolygon(mask: Uint8Array, size: MaskSize, points: [number, number][], value: 0 | 1): void {
  if (points.length < 3) return;
  const ys = points.map((point) => point[1]);
  const top = Math.max(0, Math.floor(Math.min(...ys)));
  const bottom = Math.min(size.height - 1, Math.ceil(Math.max(...ys)));
  for (let y = top; y <= bottom; y++) {
    const cy = y + 0.5;
    const crossings: number[] = [];
    points.forEach((a, i) => {
      const b = points[(i + 1) % points.length]!;
      if ((a[1] <= cy && b[1] > cy) || (b[1] <= cy && a[1] > cy))
        crossings.push(a[0] + ((cy - a[1]) / (b[1] - a[1])) * (b[0] - a[0]));
    });
    crossings.sort((p, q) => p - q);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(crossings[k]! - 0.5));
      const x1 = Math.min(size.width - 1, Math.floor(crossings[k + 1]! - 0.5));
      for (let x = x0; x <= x1; x++) mask[y * size.width + x] = value;
    }
  }
}

export function countMarked(mask: Uint8Array): number {
  let count = 0;
  for (const bit of mask) count += bit;
  return count;
}

/** Whole-mask snapshots: commit after each completed stroke, polygon or wand click. */
export class MaskHistory {
  private readonly past: Uint8Array[] = [];
  private readonly future: Uint8Array[] = [];
  mask: Uint8Array;

  constructor(
    readonly size: MaskSize,
    private readonly limit = 50,
  ) {
    this.mask = new Uint8Array(size.width * size.height);
  }

  /** Call before changing `mask` in place; the change becomes one undo step. */
  checkpoint(): void {
    this.past.push(this.mask.slice());
    if (this.past.length > this.limit) this.past.shift();
    this.future.length = 0;
  }

  /** Replaces the mask as one undo step. */
  replace(next: Uint8Array): void {
    this.checkpoint();
    this.mask = next;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  undo(): void {
    const previous = this.past.pop();
    if (!previous) return;
    this.future.push(this.mask);
    this.mask = previous;
  }

  redo(): void {
    const next = this.future.pop();
    if (!next) return;
    this.past.push(this.mask);
    this.mask = next;
  }
}
