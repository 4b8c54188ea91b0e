import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AppError, errorMessage } from '../core/errors.js';
import type { RgbFrame } from './types.js';

async function readImageBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new AppError('image_missing', `Image ${path} cannot be read (${errorMessage(error)})`, { cause: error });
  }
}

function decodeOrExplain<T>(path: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw new AppError('image_invalid', `Image ${path} cannot be decoded (${errorMessage(error)})`, { cause: error });
  }
}

/** RGBA (pngjs, jpeg-js output) -> interleaved RGB. */
function dropAlpha(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    rgb[i * 3] = rgba[j]!;
    rgb[i * 3 + 1] = rgba[j + 1]!;
    rgb[i * 3 + 2] = rgba[j + 2]!;
  }
  return rgb;
}

/** Decodes a .jpg/.jpeg/.png file into an RGB frame (alpha dropped). */
export async function decodeImageFile(path: string): Promise<RgbFrame> {
  return decodeImageBytes(await readImageBytes(path), path);
}

/** Decodes the bytes of a .jpg/.jpeg/.png file already read (`path` gives the type and names it in errors). */
export function decodeImageBytes(bytes: Buffer, path: string): RgbFrame {
  const extension = extname(path).toLowerCase();
  if (extension === '.png') {
    const png = decodeOrExplain(path, () => PNG.sync.read(bytes));
    return { width: png.width, height: png.height, data: dropAlpha(png.data, png.width * png.height) };
  }
  if (extension === '.jpg' || extension === '.jpeg') {
    const image = decodeOrExplain(path, () => jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false }));
    return { width: image.width, height: image.height, data: image.data };
  }
  throw new AppError('image_invalid', `Image ${path}: unsupported type "${extension}" (use .jpg or .png)`);
}

/** Decodes a single-channel 8-bit label PNG (grayscale; pngjs expands it, so the red channel holds the value). */
export async function decodeLabelPng(path: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const bytes = await readImageBytes(path);
  const png = decodeOrExplain(path, () => PNG.sync.read(bytes));
  const colorType = bytes[25];
  if (colorType !== 0 && colorType !== 4) {
    throw new AppError(
      'label_invalid',
      `Label ${path} is not a grayscale PNG (colour type ${colorType}): save one class id per pixel as 8-bit grayscale`,
    );
  }
  const pixels = png.width * png.height;
  const data = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) data[i] = png.data[i * 4]!;
  return { width: png.width, height: png.height, data };
}
