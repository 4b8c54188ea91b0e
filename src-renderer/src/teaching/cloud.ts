import type { EmbeddingCloud } from '../../../src-shared/contract/index';

export interface DecodedCloud {
  width: number;
  height: number;
  count: number;
  dim: number;
  /** Positions scaled into about [-1, 1], x y z per point. */
  scaled: Float32Array;
  pixels: Uint32Array;
  classes: Uint8Array;
  explained: number[];
  classColors: [number, number, number][];
  classNames: string[];
  prototypes: (EmbeddingCloud['prototypes'][number] & { scaled: [number, number, number] })[];
}

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Decodes the wire form and scales points and prototypes by one factor so the cloud fits the view. */
export function decodeCloud(cloud: EmbeddingCloud): DecodedCloud {
  const positions = new Float32Array(bytesOf(cloud.positions).buffer);
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
    pixels: new Uint32Array(bytesOf(cloud.pixels).buffer),
    classes: bytesOf(cloud.classes),
    explained: cloud.explained,
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
