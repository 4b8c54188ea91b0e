// `npm start`: opens the Electron app. Electron downloads its binary on first run; where that is impossible
// (an offline machine) or its native module cannot be built, the same UI opens in an app window of an
// installed Chrome, Edge or Chromium instead (`dmlreview open`), which says which browser it used.
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

/** Runs `command` with this script's stdio and ends with its exit code. */
function runToEnd(command, args) {
  const child = spawn(command, args, { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

function openInBrowser(reason) {
  console.log(`\n${reason}\nOpening the app in a browser window instead (dmlreview open)...\n`);
  runToEnd(process.execPath, [join(root, 'bin', 'dmlreview.js'), 'open', ...process.argv.slice(2)]);
}

function electronReady() {
  if (!electronBinary()) {
    console.log('Fetching the Electron binary (first run only)...');
    const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
      stdio: 'inherit',
      timeout: 120_000,
    });
    if (install.status !== 0 || !electronBinary())
      return 'Could not download the Electron binary (no connection to its release host?).';
  }
  if (!existsSync(join(root, 'native', 'electron', 'better_sqlite3.node'))) {
    console.log('Building better-sqlite3 for Electron (first run only)...');
    const native = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron-native.mjs')], {
      stdio: 'inherit',
    });
    if (native.status !== 0)
      return 'Could not build better-sqlite3 for Electron (needs Electron headers from the internet and a C++ toolchain).';
  }
  return undefined;
}

const problem = electronReady();
if (problem) openInBrowser(problem);
else runToEnd(electronBinary(), [join(root, 'dist', 'electron', 'main.cjs')]);
