import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ClassInfo } from '../../src-shared/contract/index.js';
import { HEAT_RAMP } from '../../src-shared/heat-ramp.js';
import { UNKNOWN_CLASS } from '../engine/types.js';

/** An RGBA image, 8 bits per channel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A single-channel 8-bit map (class ids or scaled scores). */
export interface ByteMap {
  width: number;
  height: number;
  values: Uint8Array;
}

export function decodePng(png: Uint8Array): RgbaImage {
  const image = PNG.sync.read(Buffer.from(png));
  return { width: image.width, height: image.height, data: image.data };
}

export function decodeJpeg(data: Uint8Array): RgbaImage {
  const image = jpeg.decode(data, { useTArray: true, formatAsRGBA: true });
  return { width: image.width, height: image.height, data: image.data };
}

/** The grey values of an 8-bit map PNG as stored by the engine (class ids, or round(score * 255)). */
export function decodeByteMap(png: Uint8Array): ByteMap {
  const image = decodePng(png);
  const values = new Uint8Array(image.width * image.height);
  for (let pixel = 0; pixel < values.length; pixel++) values[pixel] = image.data[pixel * 4] ?? 0;
  return { width: image.width, height: image.height, values };
}

export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 6 });
}

export function encodeJpeg(image: RgbaImage, quality = 82): Buffer {
  return jpeg.encode({ width: image.width, height: image.height, data: Buffer.from(image.data) }, quality).data;
}

/**
 * The image shrunk so its long side is at most `longSide`, keeping its aspect ratio; each output pixel is the
 * mean of the source pixels it covers (a box filter: no aliasing on a 4K frame shrunk to a thumbnail).
 */
export function shrink(image: RgbaImage, longSide: number): RgbaImage {
  const scale = Math.min(1, longSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const out = new Uint8Array(width * height * 4);
  const sums = new Float64Array(4);
  for (let y = 0; y < height; y++) {
    const [y0, y1] = cellSpan(y, height, image.height);
    for (let x = 0; x < width; x++) {
      const [x0, x1] = cellSpan(x, width, image.width);
      sums.fill(0);
      for (let sy = y0; sy < y1; sy++)
        for (let sx = x0; sx < x1; sx++)
          for (let c = 0; c < 4; c++) sums[c]! += image.data[(sy * image.width + sx) * 4 + c]!;
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 4; c++) out[(y * width + x) * 4 + c] = Math.round(sums[c]! / count);
    }
  }
  return { width, height, data: out };
}

/** The source rows (or columns) output cell i of n covers, at least one. */
function cellSpan(i: number, n: number, source: number): [number, number] {
  const start = Math.floor((i * source) / n);
  return [start, Math.max(start + 1, Math.floor(((i + 1) * source) / n))];
}

const CLASS_ALPHA = 0.45;
const UNKNOWN_TINT: [number, number, number] = [255, 40, 40];
const UNKNOWN_ALPHA = 0.55;
const OUTLINE: [number, number, number] = [0, 240, 255];

/** Which layers to draw and how opaque, as the viewer's overlay toggles (C, H, O) and opacity ([ ]) set them. */
export interface OverlayStyle {
  classes: boolean;
  heat: boolean;
  outline: boolean;
  /** Opacity of the class colours and of the heat map, 0..1. */
  opacity: number;
}

/** What the flagged-frame export's overlay images show: class colours, unknown pixels tinted and outlined. */
export const EXPORT_OVERLAY_STYLE: OverlayStyle = { classes: true, heat: false, outline: true, opacity: CLASS_ALPHA };

/**
 * For each of `size` pixels along one axis of an image, the map cell (of `cells` along that axis) it shows:
 * nearest neighbour, so every pixel shows the class the engine stored for its cell. The overlays and every
 * export format scale maps to the source by this one rule.
 */
export function nearestCells(size: number, cells: number): Int32Array {
  const cellOf = new Int32Array(size);
  for (let i = 0; i < size; i++) cellOf[i] = Math.min(cells - 1, Math.floor((i * cells) / size));
  return cellOf;
}

/** Per-cell values of a mapWidth x mapHeight map (class ids, region labels) scaled to width x height by nearestCells. */
export function upsampleValues<T extends Uint8Array | Int32Array>(
  values: T,
  map: { width: number; height: number },
  width: number,
  height: number,
): T {
  const columnCell = nearestCells(width, map.width);
  const rowCell = nearestCells(height, map.height);
  const out = new (values.constructor as new (length: number) => T)(width * height);
  for (let y = 0; y < height; y++) {
    const row = rowCell[y]! * map.width;
    for (let x = 0; x < width; x++) out[y * width + x] = values[row + columnCell[x]!]!;
  }
  return out;
}

export function upsampleMap(map: ByteMap, width: number, height: number): ByteMap {
  return { width, height, values: upsampleValues(map.values, map, width, height) };
}

/** Width and height from a PNG's header, without decoding it. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * The frame with the overlay layers drawn over it, in the viewer's order: class colours (unknown pixels tinted
 * red), the OOD heat map (needs `oodMap`), the border of the unknown pixels in cyan; the maps scaled to the
 * frame by nearestCells.
 */
export function compositeOverlay(
  frame: RgbaImage,
  classMap: ByteMap,
  classes: readonly ClassInfo[],
  style: OverlayStyle = EXPORT_OVERLAY_STYLE,
  oodMap?: ByteMap,
): RgbaImage {
  const palette = new Map(classes.map((info) => [info.index, info.color] as const));
  const { width, height } = frame;
  const out = new Uint8Array(frame.data);
  const scaledClasses = upsampleMap(classMap, width, height).values;
  const heat = style.heat && oodMap ? upsampleMap(oodMap, width, height).values : undefined;
  const classAt = (x: number, y: number) => scaledClasses[y * width + x]!;
  const unknownAlpha = Math.min(1, (style.opacity * UNKNOWN_ALPHA) / CLASS_ALPHA);
  const isUnknown = (x: number, y: number) => classAt(x, y) === UNKNOWN_CLASS;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = classAt(x, y);
      const offset = (y * width + x) * 4;
      out[offset + 3] = 255;
      if (style.classes) {
        const color = value === UNKNOWN_CLASS ? UNKNOWN_TINT : palette.get(value);
        if (color) blend(out, offset, color, value === UNKNOWN_CLASS ? unknownAlpha : style.opacity);
      }
      if (heat) {
        const ramp = heat[y * width + x]! * 4;
        blend(
          out,
          offset,
          [HEAT_RAMP[ramp]!, HEAT_RAMP[ramp + 1]!, HEAT_RAMP[ramp + 2]!],
          (HEAT_RAMP[ramp + 3]! / 255) * style.opacity,
        );
      }
      const edge =
        style.outline &&
        value === UNKNOWN_CLASS &&
        ((x > 0 && !isUnknown(x - 1, y)) ||
          (x < width - 1 && !isUnknown(x + 1, y)) ||
          (y > 0 && !isUnknown(x, y - 1)) ||
          (y < height - 1 && !isUnknown(x, y + 1)));
      if (edge) blend(out, offset, OUTLINE, 1);
    }
  }
  return { width, height, data: out };
}

function blend(data: Uint8Array, offset: number, color: readonly [number, number, number], alpha: number): void {
  for (let channel = 0; channel < 3; channel++) {
    data[offset + channel] = Math.round(data[offset + channel]! * (1 - alpha) + color[channel]! * alpha);
  }
}
