import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { AppError, errorMessage } from '../core/errors.js';
import { decodeImageBytes } from '../engine/index.js';
import type { RgbFrame } from '../engine/types.js';

/** The largest image taught from: an 8K frame (7680 x 4320) is 33 million pixels. */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** A photo of that size compresses far below this. */
export const MAX_IMAGE_BYTES = 100 * 2 ** 20;

/**
 * Reads an image file named in a request, checking before it decodes: only a regular .png/.jpg/.jpeg file,
 * at most MAX_IMAGE_BYTES, whose header says at most MAX_IMAGE_PIXELS. A device (/dev/zero) would be read
 * without end, a FIFO would hold one of the file-system threads every request shares, and a small PNG can
 * declare a 12000 x 12000 image: each is refused with what it is.
 */
export async function readImageFile(path: string): Promise<RgbFrame> {
  const type = imageType(path);
  const handle = await openForReading(path);
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new AppError(
        'image_invalid',
        `${path} is not a regular file (a folder, device or FIFO): name a .jpg or .png file`,
      );
    if (info.size > MAX_IMAGE_BYTES)
      throw new AppError('image_too_large', `Image ${path} is ${mb(info.size)}, over the ${mb(MAX_IMAGE_BYTES)} limit`);
    const bytes = await handle.readFile();
    const size = type === 'png' ? pngSize(bytes) : jpegSize(bytes);
    if (!size)
      throw new AppError(
        'image_invalid',
        `Image ${path} has no ${type.toUpperCase()} header: it is not the image its name says`,
      );
    if (size.width * size.height > MAX_IMAGE_PIXELS)
      throw new AppError(
        'image_too_large',
        `Image ${path} is ${size.width}x${size.height} pixels, over the ${MAX_IMAGE_PIXELS / 1e6} million pixel limit: scale it down first`,
      );
    return decodeImageBytes(bytes, path);
  } finally {
    await handle.close();
  }
}

function imageType(path: string): 'png' | 'jpeg' {
  const extension = extname(path).toLowerCase();
  if (extension === '.png') return 'png';
  if (extension === '.jpg' || extension === '.jpeg') return 'jpeg';
  throw new AppError('image_invalid', `Image ${path}: unsupported type "${extension}" (use .jpg or .png)`);
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    // Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer; reads of a
    // regular file are unaffected.
    return await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new AppError('image_missing', `Image ${path} cannot be read (${errorMessage(error)})`, { cause: error });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk, which must come first. */
export function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Width and height from a JPEG's start-of-frame marker, found by walking the segments before it. */
export function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  for (let offset = 2; offset + 4 <= bytes.length;) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    // Markers without a length: TEM and the restart markers.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    // SOF0..SOF15, but not DHT (C4), JPG (C8) or DAC (CC).
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) return undefined;
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    if (marker === 0xda || length < 2) return undefined; // image data before any frame header
    offset += 2 + length;
  }
  return undefined;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Nearest-neighbour resize of a one-byte-per-pixel map (labels, masks) to the model's output size. */
export function resizeNearest(
  values: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
): Uint8Array {
  if (width === toWidth && height === toHeight) return values;
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0; y < toHeight; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / toHeight)) * width;
    for (let x = 0; x < toWidth; x++)
      out[y * toWidth + x] = values[row + Math.min(width - 1, Math.floor(((x + 0.5) * width) / toWidth))]!;
  }
  return out;
}
