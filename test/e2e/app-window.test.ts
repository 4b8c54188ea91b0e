import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { chromiumPath } from '../helpers/browser.js';
import { repoRoot } from '../helpers/cli.js';

// `npm start` where Electron's binary cannot be had (these machines never reach its release host): the UI
// opens in an app window of the installed Chromium instead. Run for real on a virtual X display, as a user's
// desktop would run it: start, look at the window, close it, and the review server must be gone.
const screenshots = join(repoRoot, 'test-output', 'screenshots');
const SCREEN = { width: 1440, height: 900 };

function electronInstalled(): boolean {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path);
  } catch {
    return false;
  }
}

/** Xvfb on a display number it picks itself (-displayfd), so parallel runs never collide. */
async function startXvfb(): Promise<{ display: string; stop(): void }> {
  const found = spawnSync('sh', ['-c', 'command -v Xvfb']);
  if (found.status !== 0) throw new Error('Xvfb is not installed: apt-get install xvfb (.ci/run installs it)');
  const child = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', `${SCREEN.width}x${SCREEN.height}x24`, '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const number = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
  return { display: `:${number.trim()}`, stop: () => child.kill('SIGTERM') };
}

/** The whole X screen as a PNG, taken with ffmpeg's x11grab (ffmpeg is installed for the footage anyway). */
function grabScreen(display: string, out: string): PNG {
  const result = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'x11grab',
    '-video_size',
    `${SCREEN.width}x${SCREEN.height}`,
    '-i',
    `${display}.0+0,0`,
    '-frames:v',
    '1',
    out,
  ]);
  if (result.status !== 0) throw new Error(`x11grab failed: ${result.stderr.toString()}`);
  return PNG.sync.read(readFileSync(out));
}

/** The review server's URL, the first line of `dmlreview open` (after what npm start says before it). */
function serverUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/^http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(line)) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`npm start's script exited with ${code} before printing the URL`)));
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test(
  'npm start without Electron opens the library in a Chromium app window, and closing it stops the server',
  { timeout: 180_000, skip: electronInstalled() ? 'Electron is installed here: npm start opens it instead' : false },
  async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'main', 'cli.js')), 'the CLI is built (npm install / npm run build)');
    mkdirSync(screenshots, { recursive: true });
    const home = mkdtempSync(join(tmpdir(), 'dml-app-window-'));
    const xvfb = await startXvfb();
    try {
      // What `npm start` runs once it has built (the build is the test suite's own first step).
      const app = spawn(
        process.execPath,
        [join(repoRoot, 'scripts', 'start-electron.mjs'), '--library', join(home, 'library.sqlite')],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            DISPLAY: xvfb.display,
            DMLREVIEW_HOME: home,
            DMLREVIEW_BROWSER: chromiumPath,
            // Only for looking inside the window; the rest are the flags every headless test here uses.
            DMLREVIEW_BROWSER_FLAGS:
              '--remote-debugging-port=0 --disable-gpu --disable-background-networking --disable-component-update --disable-sync',
          },
        },
      );
      let output = '';
      app.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      app.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const url = await serverUrl(app);
      await waitFor('the launcher naming its browser', () =>
        /Opened dmlreview in a .+ app window/.test(output) ? true : undefined,
      );
      assert.match(output, /Could not download the Electron binary/, 'it says why Electron was not used');
      assert.match(
        output,
        new RegExp(`app window \\(${chromiumPath.replaceAll('/', '\\/')}\\)`),
        'it says which browser it used',
      );

      const portFile = join(home, 'app-window-profile', 'DevToolsActivePort');
      const port = await waitFor('the window to start', () =>
        existsSync(portFile) ? readFileSync(portFile, 'utf8').split('\n')[0] || undefined : undefined,
      );
      const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
      const page = await waitFor('the app page', () =>
        browser
          .contexts()
          .flatMap((context) => context.pages())
          .find((candidate) => candidate.url().startsWith(url.split('?')[0]!)),
      );
      await page.getByTestId('library-screen').waitFor({ timeout: 30_000 });
      await page.getByText('No drives yet.').waitFor();
      await page.waitForTimeout(500);

      const screen = grabScreen(xvfb.display, join(screenshots, 'app-window.png'));
      // The app's background (#111418) fills most of the window, and the screen is not one flat colour.
      let background = 0;
      const colours = new Set<number>();
      for (let i = 0; i < screen.data.length; i += 4) {
        const [r, g, b] = [screen.data[i]!, screen.data[i + 1]!, screen.data[i + 2]!];
        if (Math.abs(r - 0x11) <= 2 && Math.abs(g - 0x14) <= 2 && Math.abs(b - 0x18) <= 2) background++;
        colours.add((r << 16) | (g << 8) | b);
      }
      const share = background / (screen.width * screen.height);
      assert.ok(share > 0.3, `${(share * 100).toFixed(0)}% of the screen is the app's background`);
      assert.ok(colours.size > 50, `${colours.size} colours on screen: text and controls are drawn`);

      // Closing the window (its only page) ends the browser, and with it the review server.
      const exited = new Promise<number | null>((resolve) => app.once('exit', resolve));
      await page.close();
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
      ]);
      assert.equal(code, 0, `the launcher ended with ${code}: ${output}`);
      assert.match(output, /the review server has stopped/);
      await assert.rejects(fetch(url), 'nothing answers at the URL any more');
    } finally {
      xvfb.stop();
    }
  },
);
