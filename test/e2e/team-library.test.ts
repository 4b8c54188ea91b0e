// The app opens a team library (a `serve --database` server on PostgreSQL, its URL and token) as well as its
// own file, and says which one is open.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { runCli, startServeProcess } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { postgresUnavailable, testPostgres } from '../helpers/postgres.js';
import { apiFor, screenshots, waitForFrame } from './review-helpers.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
const token = 'e2e-team-token-0123456789';
const dir = tempDir('dml-team-e2e-');
const ownLibrary = join(dir, 'own.sqlite');
let own: Awaited<ReturnType<typeof startServeProcess>> | undefined;
let team: Awaited<ReturnType<typeof startServeProcess>> | undefined;
let browser: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  mkdirSync(screenshots, { recursive: true });
  // The team's library: a drive analysed on a desktop and pushed to the team database.
  const analysed = join(dir, 'analysed.sqlite');
  const drive = clip(dir, 'team-drive.mp4', 6, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  const analysis = await runCli(['analyze', drive, '--library', analysed, '--model', 'camvid-open', '--fps', '1']);
  assert.equal(analysis.code, 0, analysis.stderr);
  const database = await (await testPostgres()).createDatabase();
  const pushed = await runCli(['push', '--library', analysed, '--database', database]);
  assert.equal(pushed.code, 0, pushed.stderr);
  team = await startServeProcess(['--database', database], { env: { DMLREVIEW_TOKEN: token } });
  // The app's own library, empty.
  own = await startServeProcess(['--library', ownLibrary]);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await own?.stop();
  await team?.stop();
  if (!skip) await (await testPostgres()).stop();
});

test('the app shows its own library file, opens a team library with its token, and goes back', { skip }, async () => {
  const { page, consoleErrors } = browser!;
  const teamOrigin = new URL(team!.url).origin;
  await page.goto(own!.url);
  const indicator = page.getByTestId('library-indicator');
  await indicator.filter({ hasText: ownLibrary }).waitFor({ timeout: 15_000 });
  assert.equal(await indicator.getAttribute('data-kind'), 'own');
  await page.getByText('No drives yet.').waitFor();

  // A wrong token: the team server refuses it, and the app says so, offering the form again.
  await indicator.click();
  await page.getByTestId('team-address').fill(teamOrigin);
  await page.getByTestId('team-token').fill('not-the-team-token');
  await page.getByTestId('team-connect').click();
  const refused = page.getByTestId('library-error');
  await refused.waitFor({ timeout: 15_000 });
  assert.match(
    await refused.innerText(),
    new RegExp(`team server ${teamOrigin} refused the access token`),
    consoleErrors.join('\n'),
  );
  // The browser logs the 401 itself; what follows must log nothing.
  consoleErrors.length = 0;

  // The URL serve printed, with its token, is enough.
  const form = page.getByTestId('library-choice-form').last();
  await form.getByTestId('team-address').fill(team!.url);
  await form.getByTestId('team-connect').click();
  await page.getByTestId('session-row').waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).searchParams.get('team'), teamOrigin);
  assert.equal(await indicator.getAttribute('data-kind'), 'team');
  assert.match(await indicator.innerText(), new RegExp(`Team library · ${new URL(teamOrigin).host}`));
  // Footage is imported by the paths the team server sees, not this machine's.
  await page.getByPlaceholder(/a path the team server sees/).waitFor();
  const teamSessions = await apiFor(team!.url).call('sessions.list', {});
  assert.deepEqual(
    await page.getByTestId('open-session').allInnerTexts(),
    teamSessions.map((session) => session.name),
  );
  // The thumbnail and the frames come from the team server (cross-origin, with the token).
  const thumbnail = page.locator('img.thumb').first();
  await page.waitForFunction(() => document.querySelector<HTMLImageElement>('img.thumb')?.naturalWidth);
  assert.match((await thumbnail.getAttribute('src')) ?? '', new RegExp(`^${teamOrigin}/media/`));
  await page.getByTestId('open-session').first().click();
  await waitForFrame(page);
  await page.screenshot({ path: join(screenshots, 'team-library.png') });

  await page.goto(own!.url);
  await page.getByTestId('session-row').waitFor({ timeout: 15_000 });
  assert.equal(await indicator.getAttribute('data-kind'), 'team', 'the choice is kept when the page is loaded again');
  await indicator.click();
  await page.getByTestId('own-library').click();
  await indicator.filter({ hasText: ownLibrary }).waitFor({ timeout: 15_000 });
  assert.equal(new URL(page.url()).searchParams.get('team'), null);
  await page.getByText('No drives yet.').waitFor();
  assert.deepEqual(consoleErrors, []);
});
