import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

/**
 * better-sqlite3 is compiled per ABI: node_modules holds the Node build (tests, CLI, review server) and
 * native/electron/ the Electron build (`npm run native:electron`, packaged under resources/native/electron).
 * Keeping them apart means starting the app never breaks the tests, nor the reverse.
 */
export function sqliteNativeBinding(): string | undefined {
  if (!process.versions.electron) return undefined;
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    resources && join(resources, 'native', 'electron', 'better_sqlite3.node'),
    join(packageRoot(), 'native', 'electron', 'better_sqlite3.node'),
  ].filter((path): path is string => Boolean(path));
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      `The Electron build of better-sqlite3 is missing (looked in ${candidates.join(', ')}): run npm run native:electron`,
    );
  return found;
}
