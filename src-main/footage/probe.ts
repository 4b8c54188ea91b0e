import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { AppError, errorMessage } from '../core/errors.js';
import type { FootageSource, ProbedSource } from './source.js';
import { ffmpegReason, ffmpegTools, runTool } from './ffmpeg.js';

const imageExtensions = new Set(['.jpg', '.jpeg', '.png']);

export interface ProbeOptions {
  /** Frame rate assumed for image folders, which carry no timestamps. */
  imageFps?: number;
}

/** Probes a video file or an image folder into what the library stores about a source. */
export async function probeSource(path: string, options: ProbeOptions = {}): Promise<ProbedSource> {
  const info = await statOrExplain(path);
  if (info.isDirectory()) return probeImageFolder(path, options.imageFps ?? 1);
  // A device (/dev/zero) would be hashed without end, a FIFO would hold a file-system thread forever.
  if (!info.isFile())
    throw new AppError(
      'footage_not_file',
      `${path} is not a regular file (a device, FIFO or socket): give a video file or an image folder`,
    );
  if (info.size === 0) throw new AppError('footage_empty', `${path} is empty (0 bytes): it holds no video`);
  return probeVideo(path);
}

async function statOrExplain(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : errorMessage(error);
    throw new AppError('footage_unreadable', `${path} ${why}: check the path and its permissions`);
  }
}

interface ProbeJson {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    start_time?: string;
    tags?: Record<string, string>;
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { duration?: string; start_time?: string; tags?: Record<string, string> };
}

async function probeVideo(path: string): Promise<ProbedSource> {
  const { ffprobe } = ffmpegTools();
  const result = await runTool(ffprobe, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    path,
  ]);
  if (result.code !== 0) {
    const reason = ffmpegReason(result.stderr);
    // Only a file that starts like an MP4/MOV was cut off before its index: ffmpeg says the same of any file
    // named .mp4, text included.
    const hint =
      /moov atom not found/i.test(reason) && (await startsLikeIsoMedia(path))
        ? ' (the recording was cut off before it was finalised; a tool like untrunc can rebuild it)'
        : '';
    throw new AppError('footage_not_video', `${path} is not a video ffmpeg can read: ${reason}${hint}`);
  }
  const probe = JSON.parse(result.stdout.toString()) as ProbeJson;
  const streams = probe.streams ?? [];
  const video = streams.find((stream) => stream.codec_type === 'video' && (stream.width ?? 0) > 0);
  if (!video) {
    const kinds = streams.map((stream) => stream.codec_type ?? 'unknown');
    throw new AppError(
      'footage_no_video_stream',
      `${path} has no video stream (it holds ${kinds.length ? kinds.join(', ') : 'no streams'})`,
    );
  }
  const fps = parseRate(video.avg_frame_rate) || parseRate(video.r_frame_rate);
  const durationSeconds = Number(video.duration ?? probe.format?.duration ?? 0);
  const rotation = normaliseRotation(
    video.side_data_list?.find((data) => data.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0),
  );
  const turned = rotation % 180 !== 0;
  return {
    path,
    kind: 'video',
    durationMs: durationSeconds * 1000,
    fps,
    width: (turned ? video.height : video.width) ?? 0,
    height: (turned ? video.width : video.height) ?? 0,
    rotation,
    createdAt: video.tags?.creation_time ?? probe.format?.tags?.creation_time ?? null,
    sha256: await hashFiles([path]),
    frameCount: Number(video.nb_frames) || Math.round(durationSeconds * fps),
    startMs: Number(video.start_time ?? probe.format?.start_time ?? 0) * 1000,
    codec: video.codec_name ?? null,
    images: null,
  };
}

/** ISO base media (MP4, MOV, 3GP) begins with a box: a 32-bit size, then a type such as ftyp, mdat or moov. */
async function startsLikeIsoMedia(path: string): Promise<boolean> {
  const head = Buffer.alloc(12);
  const file = await open(path, 'r');
  try {
    await file.read(head, 0, 12, 0);
  } finally {
    await file.close();
  }
  return ['ftyp', 'mdat', 'moov', 'free', 'skip', 'wide', 'pnot'].includes(head.toString('latin1', 4, 8));
}

/** The images of a folder, by extension, that are regular files (or links to them): a FIFO named x.jpg is none. */
async function imageNames(path: string): Promise<string[]> {
  const candidates = (await readdir(path)).filter((name) => imageExtensions.has(extname(name).toLowerCase()));
  const isFile = await Promise.all(
    candidates.map((name) =>
      stat(join(path, name)).then(
        (info) => info.isFile(),
        () => false,
      ),
    ),
  );
  return candidates.filter((_, i) => isFile[i]);
}

async function probeImageFolder(path: string, imageFps: number): Promise<ProbedSource> {
  const names = await imageNames(path);
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const first = names[0];
  if (!first) throw new AppError('footage_no_images', `The folder ${path} holds no .jpg or .png images`);
  const size = await imageSize(join(path, first));
  const stats = await stat(join(path, first));
  return {
    path,
    kind: 'image-folder',
    durationMs: (names.length * 1000) / imageFps,
    fps: imageFps,
    width: size.width,
    height: size.height,
    rotation: 0,
    createdAt: stats.mtime.toISOString(),
    sha256: await hashFiles(names.map((name) => join(path, name))),
    frameCount: names.length,
    startMs: 0,
    codec: extname(first).slice(1).toLowerCase(),
    images: names,
  };
}

async function imageSize(path: string): Promise<{ width: number; height: number }> {
  const { ffprobe } = ffmpegTools();
  const result = await runTool(ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    path,
  ]);
  const [width, height] = result.stdout.toString().trim().split(',').map(Number);
  if (result.code !== 0 || !width || !height)
    throw new AppError('footage_not_image', `${path} is not an image ffmpeg can read: ${ffmpegReason(result.stderr)}`);
  return { width, height };
}

/**
 * The digest of a source's files as they are now, computed as probing did: whether a copy found by path (a
 * worker's shared folder) holds what was imported.
 */
export function hashSource(source: Pick<FootageSource, 'kind' | 'path' | 'images'>): Promise<string> {
  return hashFiles(
    source.kind === 'video' ? [source.path] : (source.images ?? []).map((name) => join(source.path, name)),
  );
}

/** One digest over the files' bytes in order (a folder of images hashes as one source). */
async function hashFiles(paths: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) {
    if (paths.length > 1) hash.update(basename(path));
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

function parseRate(rate: string | undefined): number {
  const [num, den] = (rate ?? '0/1').split('/').map(Number);
  return num && den ? num / den : 0;
}

function normaliseRotation(degrees: number): number {
  return ((Math.round(degrees) % 360) + 360) % 360;
}
