/**
 * A frame's region descriptors (engine/descriptors.ts) as one little-endian blob (frame_descriptors.descriptors):
 * a 12-byte header (format 1 and the embedding size D: u16 each; the region count: u32; the model's similarity
 * scale: f32), then 28 + D bytes per region: class index u8 (255 unknown), 0 u8, region index u16, pixels u32;
 * x, y, width, height u16; mean OOD score, spread and the mean's quantisation step: f32; the mean embedding as D
 * int8 values (value = step * int8, step = largest |component| / 127). At D = 9 a region takes 37 bytes; the
 * int8 rounding moves a squared distance by well under 1% of a class spacing (docs/similar.md).
 */
import type { RegionDescriptor } from '../engine/index.js';
import { AppError } from '../core/errors.js';

const FORMAT = 1;
const HEADER_BYTES = 12;
const FIXED_BYTES = 28;

/** What a frame's blob holds: the descriptors with their means as one regions x dim Float32Array. */
export interface StoredDescriptors {
  dim: number;
  scale: number;
  regions: RegionDescriptor[];
  means: Float32Array;
}

export function encodeDescriptors({ dim, scale, regions, means }: StoredDescriptors): Buffer {
  const regionBytes = FIXED_BYTES + dim;
  const blob = Buffer.alloc(HEADER_BYTES + regionBytes * regions.length);
  blob.writeUInt16LE(FORMAT, 0);
  blob.writeUInt16LE(dim, 2);
  blob.writeUInt32LE(regions.length, 4);
  blob.writeFloatLE(scale, 8);
  regions.forEach((region, i) => {
    const at = HEADER_BYTES + i * regionBytes;
    blob.writeUInt8(region.classIndex, at);
    blob.writeUInt16LE(region.regionIndex, at + 2);
    blob.writeUInt32LE(region.pixels, at + 4);
    blob.writeUInt16LE(region.x, at + 8);
    blob.writeUInt16LE(region.y, at + 10);
    blob.writeUInt16LE(region.width, at + 12);
    blob.writeUInt16LE(region.height, at + 14);
    blob.writeFloatLE(region.meanScore, at + 16);
    blob.writeFloatLE(region.spread, at + 20);
    let largest = 0;
    for (let d = 0; d < dim; d++) largest = Math.max(largest, Math.abs(means[i * dim + d]!));
    const step = largest > 0 ? largest / 127 : 1;
    blob.writeFloatLE(step, at + 24);
    for (let d = 0; d < dim; d++) blob.writeInt8(Math.round(means[i * dim + d]! / step), at + FIXED_BYTES + d);
  });
  return blob;
}

function refuseDamaged(blob: Buffer, where: string): void {
  const format = blob.length >= 2 ? blob.readUInt16LE(0) : -1;
  const dim = blob.length >= 4 ? blob.readUInt16LE(2) : 0;
  const count = blob.length >= 8 ? blob.readUInt32LE(4) : 0;
  if (format === FORMAT && blob.length === HEADER_BYTES + count * (FIXED_BYTES + dim)) return;
  throw new AppError(
    'library_corrupt',
    `The region descriptors of ${where} are damaged (${blob.length} bytes, format ${format}; expected format ${FORMAT}): re-analyse the session`,
  );
}

/** The header alone: how many regions and of what size, without decoding them. */
export function descriptorHeader(blob: Buffer, where: string): { dim: number; count: number; scale: number } {
  refuseDamaged(blob, where);
  return { dim: blob.readUInt16LE(2), count: blob.readUInt32LE(4), scale: blob.readFloatLE(8) };
}

/**
 * Decodes a frame's blob, writing the means into `means` from row `row` on when given (the search packs every
 * frame of an analysis into one array), else into an array of its own.
 */
export function decodeDescriptors(
  blob: Buffer,
  where: string,
  into?: { means: Float32Array; row: number },
): StoredDescriptors {
  const { dim, count, scale } = descriptorHeader(blob, where);
  const means = into?.means ?? new Float32Array(count * dim);
  const base = (into?.row ?? 0) * dim;
  const regions: RegionDescriptor[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * (FIXED_BYTES + dim);
    const step = blob.readFloatLE(at + 24);
    for (let d = 0; d < dim; d++) means[base + i * dim + d] = step * blob.readInt8(at + FIXED_BYTES + d);
    regions.push({
      classIndex: blob.readUInt8(at),
      regionIndex: blob.readUInt16LE(at + 2),
      pixels: blob.readUInt32LE(at + 4),
      x: blob.readUInt16LE(at + 8),
      y: blob.readUInt16LE(at + 10),
      width: blob.readUInt16LE(at + 12),
      height: blob.readUInt16LE(at + 14),
      meanScore: blob.readFloatLE(at + 16),
      spread: blob.readFloatLE(at + 20),
    });
  }
  return { dim, scale, regions, means };
}
