import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { AppError } from '../core/errors.js';

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  /** Where they were found: a setting, PATH, or the bundled npm package. */
  origin: 'setting' | 'path' | 'bundled';
}

const exe = process.platform === 'win32' ? '.exe' : '';
let cached: FfmpegTools | undefined;

/**
 * Finds ffmpeg and ffprobe: the DMLREVIEW_FFMPEG / DMLREVIEW_FFPROBE settings (ffprobe defaults to the one
 * beside the configured ffmpeg), else PATH, else the binaries of @ffmpeg-installer/@ffprobe-installer.
 */
export function ffmpegTools(): FfmpegTools {
  cached ??= fromSetting() ?? fromPath() ?? fromBundle() ?? missing();
  return cached;
}

/** For tests and settings changes: the next call looks again. */
export function forgetFfmpegTools(): void {
  cached = undefined;
}

function fromSetting(): FfmpegTools | undefined {
  const ffmpeg = process.env.DMLREVIEW_FFMPEG;
  if (!ffmpeg) return undefined;
  const ffprobe = process.env.DMLREVIEW_FFPROBE ?? join(dirname(ffmpeg), `ffprobe${exe}`);
  for (const [name, path] of [
    ['DMLREVIEW_FFMPEG', ffmpeg],
    ['DMLREVIEW_FFPROBE', ffprobe],
  ] as const) {
    if (!isExecutable(path))
      throw new AppError(
        'ffmpeg_missing',
        `${name} points to ${path}, which is not an executable file: fix the setting or unset it to use ffmpeg from PATH`,
      );
  }
  return { ffmpeg, ffprobe, origin: 'setting' };
}

function fromPath(): FfmpegTools | undefined {
  const search = (name: string) =>
    (process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, `${name}${exe}`))
      .find(isExecutable);
  const ffmpeg = search('ffmpeg');
  const ffprobe = search('ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe, origin: 'path' } : undefined;
}

function fromBundle(): FfmpegTools | undefined {
  const require = createRequire(import.meta.url);
  try {
    const ffmpeg = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    const ffprobe = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
    // Packaged apps keep native binaries outside the asar archive.
    const unpacked = (path: string) => path.replace(`app.asar${join('/')}`, `app.asar.unpacked${join('/')}`);
    return isExecutable(unpacked(ffmpeg)) && isExecutable(unpacked(ffprobe))
      ? { ffmpeg: unpacked(ffmpeg), ffprobe: unpacked(ffprobe), origin: 'bundled' }
      : undefined;
  } catch {
    return undefined;
  }
}

function missing(): never {
  throw new AppError(
    'ffmpeg_missing',
    'ffmpeg and ffprobe were not found: install ffmpeg (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg), or set DMLREVIEW_FFMPEG to the ffmpeg executable, or run npm install @ffmpeg-installer/ffmpeg @ffprobe-installer/ffprobe',
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a tool to completion, collecting stdout as bytes and stderr as text. */
export function runTool(
  tool: string,
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64_000) stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(chunks), stderr }));
  });
}

/** The last few meaningful lines ffmpeg wrote: what a user needs to see why a file failed. */
export function ffmpegReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, '').trim())
    .filter(
      (line) => line && !line.startsWith('n:') && !/^(Input|Output|Stream|Duration|Metadata|Press|frame=)/.test(line),
    );
  return lines.slice(-2).join('; ') || 'no details';
}
