import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isPlainName } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import { processAlive } from '../core/processes.js';

/** The file-system calls the writer makes; tests swap in a layer that fails part-way (a disk filling up). */
export interface ExportFs {
  stat(path: string): Promise<{ isDirectory(): boolean }>;
  access(path: string, mode: number): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { recursive: boolean; force: boolean }): Promise<void>;
}

export const nodeExportFs: ExportFs = {
  stat: (path) => fsp.stat(path),
  access: (path, mode) => fsp.access(path, mode),
  mkdir: (path, options) => fsp.mkdir(path, options),
  writeFile: (path, data) => fsp.writeFile(path, data),
  rename: (from, to) => fsp.rename(from, to),
  rm: (path, options) => fsp.rm(path, options),
};

/** Adds one file (path relative to the export folder) and returns its size. */
export type PutFile = (relativePath: string, data: Uint8Array | string) => Promise<number>;

/**
 * Writes a folder so that it appears complete or not at all: everything goes into a hidden sibling
 * `.<name>.partial-<pid>@<host>-<random>` in the same parent (same file system, so the final rename is
 * atomic), which is renamed to `<name>` only after the last file was written. On any failure the partial
 * folder is removed and the error says what went wrong in words a user can act on. Partial folders that a
 * killed process left in the parent are removed first. `write` gets the partial folder's path too, for tools that
 * write a file themselves (ffmpeg encoding a clip).
 */
export async function writeFolderAtomically<T>(
  parent: string,
  name: string,
  write: (put: PutFile, partialFolder: string) => Promise<T>,
  fs: ExportFs = nodeExportFs,
): Promise<{ path: string; bytes: number; value: T }> {
  if (!isPlainName(name))
    throw new AppError(
      'export_name_invalid',
      `The export folder name "${name}" must be a plain folder name inside ${parent}: no path separators, not . or ..`,
    );
  await checkParent(parent, fs);
  await removeAbandonedPartials(parent);
  const target = join(parent, name);
  if (await exists(target, fs)) {
    throw new AppError(
      'export_target_exists',
      `${target} already exists: choose another folder name, or move the old export away first`,
    );
  }
  const partial = join(parent, `.${name}.partial-${process.pid}@${HOST_TAG}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(partial, { recursive: false });
  } catch (error) {
    throw writeFailure(parent, error, 0);
  }
  let bytes = 0;
  const made = new Set<string>([partial]);
  const put: PutFile = async (relativePath, data) => {
    const file = join(partial, relativePath);
    const folder = dirname(file);
    if (!made.has(folder)) {
      await fs.mkdir(folder, { recursive: true });
      made.add(folder);
    }
    await fs.writeFile(file, data);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    bytes += size;
    return size;
  };
  try {
    const value = await write(put, partial);
    await fs.rename(partial, target);
    return { path: target, bytes, value };
  } catch (error) {
    await fs.rm(partial, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof AppError) throw error;
    throw writeFailure(parent, error, bytes);
  }
}

/** This machine in partial folder names: a pid only says something about processes of the host that wrote it. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const PARTIAL = /^\..+\.partial-(\d+)@([0-9a-f]{8})-[0-9a-f]{8}$/;

/**
 * Removes the partial folders of exports whose process is gone (killed mid-export): they never became an
 * export and never will. Those of live processes, or of other machines sharing the folder, stay.
 */
export async function removeAbandonedPartials(parent: string): Promise<string[]> {
  const entries = await fsp.readdir(parent).catch(() => [] as string[]);
  const abandoned = entries.filter((entry) => {
    const match = PARTIAL.exec(entry);
    return match !== null && match[2] === HOST_TAG && !processAlive(Number(match[1]));
  });
  for (const entry of abandoned)
    await fsp.rm(join(parent, entry), { recursive: true, force: true }).catch(() => undefined);
  return abandoned;
}

async function checkParent(parent: string, fs: ExportFs): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await fs.stat(parent)).isDirectory();
  } catch {
    throw new AppError(
      'export_folder_missing',
      `The export folder ${parent} does not exist: create it or pick another one`,
    );
  }
  if (!isDirectory)
    throw new AppError('export_folder_invalid', `${parent} is a file, not a folder: pick a folder to export into`);
  try {
    await fs.access(parent, constants.W_OK);
  } catch {
    throw new AppError(
      'export_folder_read_only',
      `The export folder ${parent} is not writable (read-only or no permission): pick another folder`,
    );
  }
}

async function exists(path: string, fs: ExportFs): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

function writeFailure(parent: string, error: unknown, bytesWritten: number): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  const after = bytesWritten > 0 ? ` after ${(bytesWritten / 1024 / 1024).toFixed(1)} MB` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError(
      'export_disk_full',
      `The disk holding ${parent} is full${after}: free some space or pick another folder. Nothing was left behind.`,
      { cause: error },
    );
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new AppError(
      'export_folder_read_only',
      `The export folder ${parent} is not writable (${code})${after}: pick another folder. Nothing was left behind.`,
      { cause: error },
    );
  }
  return new AppError(
    'export_write_failed',
    `Writing the export into ${parent} failed${after}: ${errorMessage(error)}. Nothing was left behind.`,
    { cause: error },
  );
}
