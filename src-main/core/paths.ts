import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder holding dmlreview's package.json. Found by walking up from this module, because the code runs
 * from src-main/ (tests, tsx), from dist/ (built CLI) and from inside an Electron asar.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (
      existsSync(candidate) &&
      (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'dmlreview'
    ) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('Cannot find the dmlreview package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Where shipped models live: the resources folder of a packaged app, else models/ in the checkout. */
export function defaultModelsDir(): string {
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources && existsSync(join(resources, 'models'))) return join(resources, 'models');
  return join(packageRoot(), 'models');
}

/** The built renderer (vite output). */
export function rendererDir(): string {
  return join(packageRoot(), 'dist', 'renderer');
}

/** The per-user data folder, following each platform's convention. */
export function userDataDir(): string {
  if (process.env.DMLREVIEW_HOME) return process.env.DMLREVIEW_HOME;
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'dmlreview');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'dmlreview');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'dmlreview');
}

export function defaultLibraryPath(): string {
  return join(userDataDir(), 'library.sqlite');
}
