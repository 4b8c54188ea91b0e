import type { CloudAxes, EmbeddingCloud } from '../../../src-shared/contract/index';

export interface ScaledCloud {
  width: number;
  height: number;
  count: number;
  dim: number;
  /** Positions scaled into about [-1, 1], x y z per point. */
  scaled: Float32Array;
  pixels: Uint32Array;
  classes: Uint8Array;
  /** How the points were placed, as asked. */
  axes: CloudAxes;
  explained: number[];
  neighboursKept: number | null;
  classColors: [number, number, number][];
  classNames: string[];
  prototypes: (EmbeddingCloud['prototypes'][number] & { scaled: [number, number, number] })[];
}

/** Scales points and prototypes by one factor so the cloud fits the view. */
export function scaleCloud(cloud: EmbeddingCloud, axes: CloudAxes): ScaledCloud {
  const { positions } = cloud;
  let extent = 1e-9;
  for (const value of positions) extent = Math.max(extent, Math.abs(value));
  for (const prototype of cloud.prototypes)
    for (const value of prototype.position) extent = Math.max(extent, Math.abs(value));
  const scale = 1 / extent;
  return {
    width: cloud.width,
    height: cloud.height,
    count: cloud.count,
    dim: cloud.dim,
    scaled: positions.map((value) => value * scale),
    pixels: cloud.pixels,
    classes: cloud.classes,
    axes,
    explained: cloud.explained,
    neighboursKept: cloud.neighboursKept,
    classColors: cloud.classColors,
    classNames: cloud.classNames,
    prototypes: cloud.prototypes.map((prototype) => ({
      ...prototype,
      scaled: prototype.position.map((value) => value * scale) as [number, number, number],
    })),
  };
}

/** Even-odd point-in-polygon test in screen coordinates (the lasso). */
export function insidePolygon(x: number, y: number, polygon: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
