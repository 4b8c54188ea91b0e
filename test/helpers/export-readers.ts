// Readers for the export formats, written from the formats' specifications rather than from the writers, so a
// round trip through them checks the files, not the writer against itself.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** A single-channel PNG's values, row-major (grey, or the red channel of a colour PNG). */
export function readLabelPng(path: string): { width: number; height: number; values: Uint8Array } {
  const png = PNG.sync.read(readFileSync(path));
  const values = new Uint8Array(png.width * png.height);
  for (let i = 0; i < values.length; i++) values[i] = png.data[i * 4]!;
  return { width: png.width, height: png.height, values };
}

/** pycocotools' rleFrString: COCO's compressed counts back to run lengths. */
export function decompressCounts(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(x);
  }
  return counts;
}

/** A COCO RLE ({size: [h, w], counts}, compressed or not) as a row-major 0/1 mask. */
export function decodeCocoRle(rle: { size: [number, number]; counts: string | number[] }): Uint8Array {
  const [height, width] = rle.size;
  const counts = typeof rle.counts === 'string' ? decompressCounts(rle.counts) : rle.counts;
  const mask = new Uint8Array(width * height);
  let at = 0;
  counts.forEach((run, i) => {
    if (i % 2 === 1)
      for (let j = at; j < at + run; j++) {
        // Column-major position j: column floor(j / height), row j % height.
        mask[(j % height) * width + Math.floor(j / height)] = 1;
      }
    at += run;
  });
  if (at !== width * height) throw new Error(`RLE covers ${at} pixels, not ${width}x${height}`);
  return mask;
}

export interface CvatPolygon {
  label: string;
  points: [number, number][];
  attributes: Record<string, string>;
}

export interface CvatImage {
  id: number;
  name: string;
  width: number;
  height: number;
  polygons: CvatPolygon[];
}

const unescape = (value: string) =>
  value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** The <image> elements of a CVAT for images 1.1 file, with their polygons. */
export function readCvatImages(xml: string): CvatImage[] {
  const images: CvatImage[] = [];
  for (const image of xml.matchAll(/<image ([^>]*)>([\s\S]*?)<\/image>/g)) {
    const attrs = attributesOf(image[1]!);
    const polygons = [...image[2]!.matchAll(/<polygon ([^>]*)>([\s\S]*?)<\/polygon>/g)].map((polygon) => {
      const own = attributesOf(polygon[1]!);
      const attributes = Object.fromEntries(
        [...polygon[2]!.matchAll(/<attribute name="([^"]*)">([^<]*)<\/attribute>/g)].map((m) => [
          m[1]!,
          unescape(m[2]!),
        ]),
      );
      const points = own.points!.split(';').map((pair) => pair.split(',').map(Number) as [number, number]);
      return { label: own.label!, points, attributes };
    });
    images.push({
      id: Number(attrs.id),
      name: attrs.name!,
      width: Number(attrs.width),
      height: Number(attrs.height),
      polygons,
    });
  }
  return images;
}

function attributesOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, unescape(m[2]!)]));
}

/** The pixels whose centres lie inside the polygon (even-odd rule), row-major. */
export function fillPolygon(points: readonly [number, number][], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const crossings: number[] = [];
    for (let i = 0; i < points.length; i++) {
      const [x1, y1] = points[i]!;
      const [x2, y2] = points[(i + 1) % points.length]!;
      if (y1 <= cy === y2 <= cy) continue;
      crossings.push(x1 + ((cy - y1) * (x2 - x1)) / (y2 - y1));
    }
    crossings.sort((a, b) => a - b);
    for (let i = 0; i + 1 < crossings.length; i += 2)
      for (let x = Math.ceil(crossings[i]! - 0.5); x + 0.5 < crossings[i + 1]!; x++) mask[y * width + x] = 1;
  }
  return mask;
}

/** The mask plus every pixel not 4-connected to the image border through unmasked pixels. */
export function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  const outside = new Uint8Array(mask.length);
  const stack: number[] = [];
  const visit = (i: number) => {
    if (!mask[i] && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    visit(x);
    visit((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    visit(y * width);
    visit(y * width + width - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) visit(i - 1);
    if (x < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i < (height - 1) * width) visit(i + width);
  }
  return outside.map((value) => 1 - value);
}
