// `npm start`: opens the Electron app. Electron downloads its binary on first run; where that is impossible
// (an offline machine), say so and point to browser mode instead of failing obscurely.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const electronDir = join(root, 'node_modules', 'electron');

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function fail(message) {
  console.error(
    `\n${message}\n\nBrowser mode needs no Electron binary:  npm run serve   (then open the URL it prints)\n`,
  );
  process.exit(1);
}

if (!electronBinary()) {
  console.log('Fetching the Electron binary (first run only)...');
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    stdio: 'inherit',
    timeout: 300_000,
  });
  if (install.status !== 0 || !electronBinary()) {
    fail('Could not download the Electron binary (no connection to its release host?).');
  }
}

if (!existsSync(join(root, 'native', 'electron', 'better_sqlite3.node'))) {
  console.log('Building better-sqlite3 for Electron (first run only)...');
  const native = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron-native.mjs')], {
    stdio: 'inherit',
  });
  if (native.status !== 0)
    fail('Could not build better-sqlite3 for Electron (needs Electron headers from the internet and a C++ toolchain).');
}

const child = spawn(electronBinary(), [join(root, 'dist', 'electron', 'main.cjs')], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
