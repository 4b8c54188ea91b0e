// A small file system a test can fill or make read-only: a tmpfs mount (root only).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Remounts with other options (a new size, ro), keeping the files. */
  remount(options: string): void;
  unmount(): void;
}

/** Mounts a tmpfs with `options` (e.g. `size=2m`), or returns why it cannot be, for t.skip. */
export function mountTmpfs(options: string): Tmpfs | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'dml-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return `mount failed here: ${String(error).split('\n')[0]}`;
  }
  return {
    dir,
    remount: (changed) => execFileSync('mount', ['-o', `remount,${changed}`, dir], { stdio: 'pipe' }),
    unmount: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
