// Builds better-sqlite3 for Electron's ABI into native/electron/, leaving node_modules' Node build alone so
// that the tests, CLI and review server keep working (src-main/core/native.ts picks the right one).
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rebuild } from '@electron/rebuild';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const electronVersion = require('electron/package.json').version;

const work = mkdtempSync(join(tmpdir(), 'dmlreview-native-'));
try {
  // Rebuild a copy of the package, not node_modules itself.
  const copy = join(work, 'node_modules', 'better-sqlite3');
  cpSync(join(root, 'node_modules', 'better-sqlite3'), copy, { recursive: true });
  rmSync(join(copy, 'build'), { recursive: true, force: true });
  cpSync(join(root, 'package.json'), join(work, 'package.json'));
  await rebuild({ buildPath: work, electronVersion, onlyModules: ['better-sqlite3'], force: true });
  const target = join(root, 'native', 'electron');
  mkdirSync(target, { recursive: true });
  cpSync(join(copy, 'build', 'Release', 'better_sqlite3.node'), join(target, 'better_sqlite3.node'));
  console.log(`better-sqlite3 built for Electron ${electronVersion}: ${join(target, 'better_sqlite3.node')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
