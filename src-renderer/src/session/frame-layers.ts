import { mediaPaths, type ApiClient, type ClassInfo, type FrameRegions } from '../../../src-shared/contract/index';
import { HEAT_RAMP } from '../../../src-shared/heat-ramp';
import { isOutlinedRegion, outlinedUnknown } from '../../../src-shared/region-view';
import { displayColor } from '../ui/colors';

/** Class index of pixels the model calls unknown (engine UNKNOWN_CLASS). */
export const UNKNOWN_INDEX = 255;

/** Everything the viewer draws for one frame, decoded once and cached. */
export interface FrameLayers {
  key: string;
  image: ImageBitmap;
  mapWidth: number;
  mapHeight: number;
  /** Class index per map pixel. */
  classMap: Uint8Array;
  /** round(score * 255) per map pixel. */
  oodMap: Uint8Array;
  /** The frame's unknown regions (none for analyses made before regions were stored). */
  regions: FrameRegions;
}

const CACHE_SIZE = 48;
const cache = new Map<string, Promise<FrameLayers>>();

/** Decodes a frame's preview and maps, sharing work between concurrent callers and keeping recent frames. */
export function loadFrameLayers(api: ApiClient, analysisId: number, frameIndex: number): Promise<FrameLayers> {
  const key = `${analysisId}/${frameIndex}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const loading = decodeLayers(api, analysisId, frameIndex, key);
  cache.set(key, loading);
  loading.catch(() => cache.delete(key));
  while (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
  }
  return loading;
}

async function decodeLayers(api: ApiClient, analysisId: number, frameIndex: number, key: string): Promise<FrameLayers> {
  const [image, classes, ood, regions] = await Promise.all([
    fetchBitmap(api.mediaUrl(mediaPaths.frame(analysisId, frameIndex))),
    fetchBitmap(api.mediaUrl(mediaPaths.classMap(analysisId, frameIndex))),
    fetchBitmap(api.mediaUrl(mediaPaths.oodMap(analysisId, frameIndex))),
    api.call('frames.regions', { analysisId, frameIndex }),
  ]);
  const classMap = firstChannel(classes);
  const oodMap = firstChannel(ood);
  return { key, image, mapWidth: classes.width, mapHeight: classes.height, classMap, oodMap, regions };
}

async function fetchBitmap(url: string): Promise<ImageBitmap> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not load ${url.split('?')[0]} (${response.status})`);
  // No colour management: the maps carry numbers (class ids, scores), not colours.
  return createImageBitmap(await response.blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

/** The grey value of every pixel of an 8-bit greyscale PNG, as the browser decoded it. */
function firstChannel(bitmap: ImageBitmap): Uint8Array {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('No 2D canvas');
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const values = new Uint8Array(bitmap.width * bitmap.height);
  for (let pixel = 0; pixel < values.length; pixel++) values[pixel] = rgba[pixel * 4] ?? 0;
  return values;
}

/** RGBA per class index, in the dark theme's display colours; unknown and unnamed indices stay transparent. */
export function classPalette(classes: ClassInfo[]): Uint8ClampedArray {
  const palette = new Uint8ClampedArray(256 * 4);
  for (const info of classes) palette.set([...displayColor(info.color), 255], info.index * 4);
  return palette;
}

export function paintClasses(layers: FrameLayers, palette: Uint8ClampedArray): ImageData {
  const image = new ImageData(layers.mapWidth, layers.mapHeight);
  const out = image.data;
  const map = layers.classMap;
  for (let pixel = 0; pixel < map.length; pixel++) {
    const base = (map[pixel] ?? 0) * 4;
    out[pixel * 4] = palette[base] ?? 0;
    out[pixel * 4 + 1] = palette[base + 1] ?? 0;
    out[pixel * 4 + 2] = palette[base + 2] ?? 0;
    out[pixel * 4 + 3] = palette[base + 3] ?? 0;
  }
  return image;
}

export function paintHeat(layers: FrameLayers): ImageData {
  const image = new ImageData(layers.mapWidth, layers.mapHeight);
  const out = image.data;
  const map = layers.oodMap;
  for (let pixel = 0; pixel < map.length; pixel++)
    out.set(HEAT_RAMP.subarray((map[pixel] ?? 0) * 4, (map[pixel] ?? 0) * 4 + 4), pixel * 4);
  return image;
}

/**
 * Unknown pixels to outline: with regions, only those of regions that reach the event threshold (region-view.ts),
 * so specks, boundary noise and the weak regions of an ordinary frame stay off the picture; analyses from before
 * regions outline every unknown pixel.
 */
export function outlineMask(layers: FrameLayers, threshold: number): Uint8Array {
  const { classMap, mapWidth, regions } = layers;
  if (regions.hasRegions) return outlinedUnknown(classMap, mapWidth, regions.regions, threshold);
  return classMap.map((value) => (value === UNKNOWN_INDEX ? 1 : 0));
}

/**
 * Draws the border of the outlined unknown pixels as crisp line segments between map cells, scaled to the
 * canvas, so the outline stays sharp however small the map is.
 */
export function drawUnknownOutline(
  context: CanvasRenderingContext2D,
  layers: FrameLayers,
  threshold: number,
  scaleX: number,
  scaleY: number,
): void {
  const { mapWidth: width, mapHeight: height } = layers;
  const mask = outlineMask(layers, threshold);
  const unknown = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] === 1;
  context.beginPath();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!unknown(x, y)) continue;
      if (!unknown(x, y - 1)) segment(context, x, y, x + 1, y, scaleX, scaleY);
      if (!unknown(x, y + 1)) segment(context, x, y + 1, x + 1, y + 1, scaleX, scaleY);
      if (!unknown(x - 1, y)) segment(context, x, y, x, y + 1, scaleX, scaleY);
      if (!unknown(x + 1, y)) segment(context, x + 1, y, x + 1, y + 1, scaleX, scaleY);
    }
  }
  context.stroke();
}

/** The regions the viewer boxes, the frame score's region first (it is drawn last, on top). */
export function boxedRegions(layers: FrameLayers, threshold: number) {
  return layers.regions.regions
    .filter((region) => isOutlinedRegion(region, threshold))
    .sort((a, b) => b.score - a.score);
}

/** Where a region lies, in words (a region's label and its menu). */
export const PLACE_LABEL = { road: 'by the road', elsewhere: 'off the road', 'sky-or-top': 'sky / top' } as const;

/**
 * A box around every region that reaches the event threshold, labelled with its score and where it lies; the best one, whose score
 * is the frame score, in orange and thicker, the others thin yellow.
 */
export function drawRegionBoxes(
  context: CanvasRenderingContext2D,
  layers: FrameLayers,
  threshold: number,
  scaleX: number,
  scaleY: number,
  ratio: number,
): void {
  const boxed = boxedRegions(layers, threshold);
  context.font = `${Math.round(11 * ratio)}px sans-serif`;
  context.textBaseline = 'bottom';
  for (const [rank, region] of [...boxed.entries()].reverse()) {
    const best = rank === 0;
    context.lineWidth = (best ? 2.5 : 1.2) * ratio;
    context.strokeStyle = best ? '#ff8a00' : '#ffe14d';
    context.fillStyle = context.strokeStyle;
    const [x, y] = [region.x * scaleX, region.y * scaleY];
    context.strokeRect(x, y, region.width * scaleX, region.height * scaleY);
    const label = `${region.score.toFixed(2)} · ${PLACE_LABEL[region.place]}`;
    context.fillText(label, x + 2 * ratio, Math.max(12 * ratio, y - 2 * ratio));
  }
}

function segment(
  context: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  sx: number,
  sy: number,
) {
  context.moveTo(x0 * sx, y0 * sy);
  context.lineTo(x1 * sx, y1 * sy);
}
