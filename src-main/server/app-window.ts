import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AppError } from '../core/errors.js';

/** An installed Chromium-family browser that can open a page as an app window (`--app=URL`). */
export interface AppBrowser {
  name: string;
  path: string;
}

/** Executable names on PATH (Linux), in the order they are preferred. */
const PATH_NAMES: [string, string][] = [
  ['Google Chrome', 'google-chrome'],
  ['Google Chrome', 'google-chrome-stable'],
  ['Microsoft Edge', 'microsoft-edge'],
  ['Microsoft Edge', 'microsoft-edge-stable'],
  ['Chromium', 'chromium'],
  ['Chromium', 'chromium-browser'],
];

/** Where the browsers install themselves on macOS and Windows (they are not on PATH there). */
function installedPaths(): [string, string][] {
  if (process.platform === 'darwin') {
    return [
      ['Google Chrome', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
      ['Microsoft Edge', '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge'],
      ['Chromium', '/Applications/Chromium.app/Contents/MacOS/Chromium'],
    ];
  }
  if (process.platform !== 'win32') return [];
  const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter(
    (root): root is string => Boolean(root),
  );
  return roots.flatMap((root): [string, string][] => [
    ['Google Chrome', join(root, 'Google', 'Chrome', 'Application', 'chrome.exe')],
    ['Microsoft Edge', join(root, 'Microsoft', 'Edge', 'Application', 'msedge.exe')],
    ['Chromium', join(root, 'Chromium', 'Application', 'chrome.exe')],
  ]);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The browser for the app window: DMLREVIEW_BROWSER if set (a path), else the first of Chrome, Edge and
 * Chromium found. Throws, naming what was looked for, when none is installed.
 */
export function findAppBrowser(): AppBrowser {
  const chosen = process.env.DMLREVIEW_BROWSER;
  if (chosen) {
    if (!existsSync(chosen)) throw new AppError('browser_missing', `DMLREVIEW_BROWSER=${chosen} does not exist`);
    return { name: chosen.split(/[\\/]/).pop() ?? chosen, path: chosen };
  }
  for (const [name, path] of installedPaths()) if (existsSync(path)) return { name, path };
  for (const [name, command] of PATH_NAMES) {
    const path = onPath(command);
    if (path) return { name, path };
  }
  throw new AppError(
    'browser_missing',
    'No Chrome, Edge or Chromium is installed to open the app window in: install one, set DMLREVIEW_BROWSER ' +
      'to its path, or run `dmlreview serve` and open the URL it prints in any browser',
  );
}

/**
 * Opens `url` as an app window (no tabs or address bar) with a profile folder of its own, so it is a separate
 * browser process from the user's everyday one and ends when its window closes. Extra flags come from
 * DMLREVIEW_BROWSER_FLAGS (space-separated).
 */
export function openAppWindow(browser: AppBrowser, url: string, profileDir: string): ChildProcess {
  const extra = (process.env.DMLREVIEW_BROWSER_FLAGS ?? '').split(/\s+/).filter(Boolean);
  // Chromium refuses to start as root unless its sandbox is off; only then is it turned off.
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const args = [
    `--app=${url}`,
    `--user-data-dir=${profileDir}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--window-size=1440,900',
    ...(root ? ['--no-sandbox'] : []),
    ...extra,
  ];
  return spawn(browser.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
