/**
 * A frame's unknown regions as one little-endian blob (frame_regions.regions): a 6-byte header (format 1,
 * map width, map height: u16 each), then 22 bytes per region: pixels u32; x, y, width, height u16; mean score
 * and score f32; border bits u8 (1 top, 2 right, 4 bottom, 8 left); placement u8 (bits 0-1 drivable: 0 away,
 * 1 beside, 2 on; bit 2 in sky; bits 3-4 place: 0 road, 1 elsewhere, 2 sky-or-top). A val frame's 20-50
 * regions take about 1 kB, a third of its class-map PNG.
 */
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';

const FORMAT = 1;
const HEADER_BYTES = 6;
const REGION_BYTES = 22;
const BORDERS: UnknownRegion['border'] = ['top', 'right', 'bottom', 'left'];
const DRIVABLE: UnknownRegion['drivable'][] = ['away', 'beside', 'on'];
const PLACES: UnknownRegion['place'][] = ['road', 'elsewhere', 'sky-or-top'];

export interface StoredRegions {
  mapWidth: number;
  mapHeight: number;
  regions: UnknownRegion[];
}

export function encodeRegions({ mapWidth, mapHeight, regions }: StoredRegions): Buffer {
  const blob = Buffer.alloc(HEADER_BYTES + REGION_BYTES * regions.length);
  blob.writeUInt16LE(FORMAT, 0);
  blob.writeUInt16LE(mapWidth, 2);
  blob.writeUInt16LE(mapHeight, 4);
  regions.forEach((region, i) => {
    const at = HEADER_BYTES + i * REGION_BYTES;
    blob.writeUInt32LE(region.pixels, at);
    blob.writeUInt16LE(region.x, at + 4);
    blob.writeUInt16LE(region.y, at + 6);
    blob.writeUInt16LE(region.width, at + 8);
    blob.writeUInt16LE(region.height, at + 10);
    blob.writeFloatLE(region.meanScore, at + 12);
    blob.writeFloatLE(region.score, at + 16);
    blob.writeUInt8(
      BORDERS.reduce((bits, side, bit) => bits | (region.border.includes(side) ? 1 << bit : 0), 0),
      at + 20,
    );
    const placement = DRIVABLE.indexOf(region.drivable) | (region.inSky ? 4 : 0) | (PLACES.indexOf(region.place) << 3);
    blob.writeUInt8(placement, at + 21);
  });
  return blob;
}

/** Regions as stored; `where` names the frame in the error a damaged blob raises. */
export function decodeRegions(blob: Buffer, where: string): StoredRegions {
  if (
    blob.length < HEADER_BYTES ||
    (blob.length - HEADER_BYTES) % REGION_BYTES !== 0 ||
    blob.readUInt16LE(0) !== FORMAT
  ) {
    throw new AppError(
      'library_corrupt',
      `The unknown regions of ${where} are damaged (${blob.length} bytes, format ${blob.length >= 2 ? blob.readUInt16LE(0) : '?'}; expected format ${FORMAT}, 6 + 22 per region)`,
    );
  }
  const regions: UnknownRegion[] = [];
  for (let at = HEADER_BYTES; at < blob.length; at += REGION_BYTES) {
    const borderBits = blob.readUInt8(at + 20);
    const placement = blob.readUInt8(at + 21);
    regions.push({
      pixels: blob.readUInt32LE(at),
      x: blob.readUInt16LE(at + 4),
      y: blob.readUInt16LE(at + 6),
      width: blob.readUInt16LE(at + 8),
      height: blob.readUInt16LE(at + 10),
      meanScore: blob.readFloatLE(at + 12),
      score: blob.readFloatLE(at + 16),
      border: BORDERS.filter((_, bit) => borderBits & (1 << bit)),
      drivable: DRIVABLE[placement & 3] ?? 'away',
      inSky: (placement & 4) !== 0,
      place: PLACES[(placement >> 3) & 3] ?? 'elsewhere',
    });
  }
  return { mapWidth: blob.readUInt16LE(2), mapHeight: blob.readUInt16LE(4), regions };
}
