import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { appVersion } from '../../src-main/core/version.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { repoRoot, startServeProcess } from '../helpers/cli.js';

const shots = join(repoRoot, 'test-output', 'screenshots');
let server: Awaited<ReturnType<typeof startServeProcess>>;
let browser: BrowserSession;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServeProcess(['--library', join(mkdtempSync(join(tmpdir(), 'dml-e2e-')), 'library.sqlite')]);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the renderer loads from the review server and shows the main side version', async () => {
  const { page, consoleErrors } = browser;
  await page.goto(server.url);
  await page.getByTestId('version').filter({ hasText: appVersion() }).waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('version').innerText(), new RegExp(`v${appVersion().replaceAll('.', '\\.')}`));
  await page.screenshot({ path: join(shots, 'start.png') });
  assert.deepEqual(consoleErrors, []);
});
