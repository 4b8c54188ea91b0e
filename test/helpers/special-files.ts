// Files that must never be read whole: devices, FIFOs, a PNG declaring far more pixels than its bytes hold.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { constants, createDeflate, crc32 } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid 8-bit grayscale PNG of width x height black pixels: rows of zeros compress about 1000:1, so
 * 12000 x 12000 (144 MB of pixels, 576 MB once decoded to RGBA) is a file of about 140 kB.
 */
export async function pngBomb(path: string, width = 12_000, height = 12_000): Promise<string> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, grayscale, deflate, adaptive filters, no interlace
  const deflate = createDeflate({ level: constants.Z_BEST_COMPRESSION });
  const compressed: Buffer[] = [];
  deflate.on('data', (data: Buffer) => compressed.push(data));
  // Rows of filter byte 0 and black pixels, written 500 at a time.
  const rows = Buffer.alloc((width + 1) * 500);
  for (let y = 0; y < height; y += 500) {
    const data = rows.subarray(0, (width + 1) * Math.min(500, height - y));
    if (!deflate.write(data)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await finished(deflate);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const file = createWriteStream(path);
  file.end(
    Buffer.concat([
      signature,
      chunk('IHDR', header),
      chunk('IDAT', Buffer.concat(compressed)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
  await finished(file);
  return path;
}

export interface SpecialFiles {
  /** A FIFO named like an image: opening it for reading blocks until a writer comes. */
  fifo: string;
  /** An endless device. */
  zero: string;
  /** A 12000 x 12000 PNG in about 140 kB. */
  bomb: string;
  /** A folder named like an image. */
  folder: string;
  /** Text named like an image. */
  text: string;
}

export async function specialFiles(dir: string): Promise<SpecialFiles> {
  const fifo = join(dir, 'frame.png');
  execFileSync('mkfifo', [fifo]);
  const folder = join(dir, 'folder.jpg');
  mkdirSync(folder);
  const text = join(dir, 'notes.png');
  writeFileSync(text, 'not an image\n');
  return { fifo, zero: '/dev/zero', bomb: await pngBomb(join(dir, 'bomb.png')), folder, text };
}
