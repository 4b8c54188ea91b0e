import { spawn } from 'node:child_process';
import { AppError } from '../core/errors.js';
import type { RgbFrame } from '../engine/index.js';
import { ffmpegTools } from '../footage/index.js';

/** P6 header: "P6", width, height, maxval, each followed by one whitespace byte (ffmpeg writes no comments). */
function parsePpm(bytes: Buffer, path: string): RgbFrame {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) throw new AppError('image_invalid', `Image ${path}: ffmpeg did not return a PPM image`);
  const width = Number(header[1]);
  const height = Number(header[2]);
  const data = bytes.subarray(header[0].length);
  if (data.length !== width * height * 3)
    throw new AppError(
      'image_invalid',
      `Image ${path}: ffmpeg returned ${data.length} bytes for ${width}x${height} RGB`,
    );
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Decodes a JPEG with ffmpeg's integer IDCT and exact colour conversion, which reproduces libjpeg (PIL, used
 * by training's evaluation) to about 0.04 grey levels on average, where jpeg-js differs by 0.5: enough to move
 * mIoU and AUROC by tenths of a point on CamVid.
 */
export function decodeJpegLikeLibjpeg(path: string): Promise<RgbFrame> {
  const args = [
    '-v',
    'error',
    '-idct',
    'int',
    '-i',
    path,
    '-sws_flags',
    'accurate_rnd+full_chroma_int',
    '-f',
    'image2pipe',
    '-vcodec',
    'ppm',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegTools().ffmpeg, args);
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(
          new AppError(
            'image_invalid',
            `Image ${path} cannot be decoded (ffmpeg: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`})`,
          ),
        );
      else {
        try {
          resolve(parsePpm(Buffer.concat(chunks), path));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
  });
}
