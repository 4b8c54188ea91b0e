import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnalysisInfo, SessionInfo } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';
import { e2eModel, openReview, screenshots, waitForFrame, type Review } from './review-helpers.js';

// Playback from the source video: a 25 fps H.264 drive analysed at 2 fps plays at its own rate, its frames
// between the analysed ones shown under the last analysed overlay; a codec the browser lacks falls back to
// the analysed frames, with a note.
const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const work = mkdtempSync(join(tmpdir(), 'dml-playback-e2e-'));
const figures: Record<string, unknown> = {};
let review: Review | undefined;
let times: number[] = [];

/** The 1.5 s highway clip eight times over (12.2 s at 25 fps), made with the system ffmpeg. */
function loopedHighway(codec: string[], name: string): string {
  const out = join(work, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '7', '-i', highway, '-an', ...codec, out]);
  return out;
}

async function importAnalysed(path: string): Promise<{ session: SessionInfo; analysis: AnalysisInfo }> {
  const api = review!.api;
  const session = await api.call('sessions.import', { paths: [path], analyse: { model: e2eModel(), sampleFps: 2 } });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const [analysis] = await api.call('analysis.list', { sessionId: session.id });
    if (analysis && !['queued', 'running'].includes(analysis.status)) {
      assert.equal(analysis.status, 'done', analysis.message ?? '');
      return { session, analysis };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the analysis of ${path} did not finish in 5 minutes`);
}

/** The video's drive time, whether it is on screen, and the analysed frame the viewer shows, read at once. */
function sample() {
  return review!.browser.page.evaluate(() => {
    const video = document.querySelector('[data-testid="source-video"]') as HTMLVideoElement;
    const viewer = document.querySelector('[data-testid="frame-viewer"]');
    return {
      wallMs: performance.now(),
      videoMs: video.currentTime * 1000,
      showing: video.dataset.showing === 'true' && getComputedStyle(video).visibility === 'visible',
      shownFrame: Number(viewer?.getAttribute('data-frame-index')),
      hud: document.querySelector('[data-testid="hud"]')?.textContent ?? '',
    };
  });
}

/** Plays for `wallMs` of page time and returns the video's rate against it (1 = the chosen speed, exactly). */
async function measureRate(wallMs: number): Promise<number> {
  const start = await sample();
  await review!.browser.page.waitForTimeout(wallMs);
  const end = await sample();
  return (end.videoMs - start.videoMs) / (end.wallMs - start.wallMs);
}

const frameAtOrBefore = (ms: number) => times.findLastIndex((time) => time <= ms);

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  review = await openReview(join(work, 'library.sqlite'));
});

after(async () => {
  writeFileSync(join(repoRoot, 'test-output', 'playback.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await review?.close();
  rmSync(work, { recursive: true, force: true });
});

test('a 25 fps drive analysed at 2 fps plays from its video at the chosen rate', { timeout: 400_000 }, async () => {
  const drive = loopedHighway(
    ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-pix_fmt', 'yuv420p'],
    'h264.mp4',
  );
  const { session, analysis } = await importAnalysed(drive);
  times = (await review!.api.call('timeline.get', { analysisId: analysis.id })).timesMs;
  assert.ok(times.length >= 23 && times.length <= 26, `2 fps of 12.2 s is 24 or 25 frames, not ${times.length}`);
  const { page, consoleErrors } = review!.browser;
  await page.goto(`${review!.server.url}#/session/${session.id}`);
  await waitForFrame(page, 0);
  await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.readyState! >= 1);
  assert.equal(await page.getByTestId('playback-note').count(), 0, 'an H.264 drive plays from its video');

  await page.keyboard.press('l');
  await page.waitForFunction(() => document.querySelector('video')?.dataset.showing === 'true', null, {
    timeout: 10_000,
  });
  const rate1 = await measureRate(2000);
  figures.rateAt1x = rate1;
  await page.getByTestId('play-speed').selectOption('2');
  const rate2 = (await measureRate(1200)) / 2;
  figures.rateAt2xPerSpeed = rate2;

  await page.getByTestId('play-speed').selectOption('1');
  // The speed list took the focus: keys go to the page again once it lets go.
  await page.getByTestId('play-speed').blur();

  // Frames between the analysed ones are the video's, under the overlay of an analysed frame: the one at or
  // before the video's time, or an earlier one while that loads (on this loaded machine loads lag; the lag
  // is recorded), never a later one.
  let between = 0;
  const lags: number[] = [];
  for (let round = 0; round < 8; round++) {
    const now = await sample();
    assert.ok(now.showing, 'the video is on screen while playing');
    const before = frameAtOrBefore(now.videoMs);
    const after = times[before + 1] ?? Infinity;
    if (now.videoMs > times[before]! + 1 && now.videoMs < after - 1) between++;
    assert.ok(
      now.shownFrame <= before,
      `at ${now.videoMs.toFixed(0)} ms the overlay is frame ${now.shownFrame}, ahead of ${before}`,
    );
    lags.push(before - now.shownFrame);
    await page.waitForTimeout(90);
  }
  figures.samplesBetweenAnalysedFrames = `${between} of 8`;
  figures.overlayLagFrames = lags;
  assert.ok(between >= 5, `${between} of 8 samples fell between analysed frames`);
  const overlayOpacity = await page
    .getByTestId('overlay-classes')
    .evaluate((canvas) => getComputedStyle(canvas).opacity);
  assert.ok(Number(overlayOpacity) > 0, 'the class overlay is drawn over the video');
  await page.screenshot({ path: join(screenshots, 'playback-video.png') });

  await page.keyboard.press('k');
  const stopped = await sample();
  await page.waitForFunction(() => document.querySelector('video')?.dataset.showing === 'false');
  const nearest = times.reduce(
    (best, time, i) => (Math.abs(time - stopped.videoMs) < Math.abs(times[best]! - stopped.videoMs) ? i : best),
    0,
  );
  const snapped = await waitForFrame(page);
  assert.ok(
    Math.abs(snapped - nearest) <= 1,
    `paused at ${stopped.videoMs.toFixed(0)} ms on frame ${snapped}, nearest ${nearest}`,
  );
  figures.pausedAtMs = stopped.videoMs;
  figures.pausedOnFrame = snapped;

  // Backward play has no video to run on: it steps through analysed frames, and says so.
  await page.keyboard.press('j');
  await page.getByTestId('playback-note').filter({ hasText: 'Backward' }).waitFor();
  assert.equal((await sample()).showing, false);
  await page.keyboard.press('k');
  await page.keyboard.press('Alt+ArrowLeft');
  await waitForFrame(page, 0);
  console.log(`playback rate at 1x: ${rate1.toFixed(3)}, at 2x per unit speed: ${rate2.toFixed(3)}`);
  // Generous: on a loaded machine the figure is recorded (test-output/playback.json), not held tight.
  assert.ok(Math.abs(rate1 - 1) < 0.2, `the video ran at ${rate1.toFixed(3)}x real time at 1x`);
  assert.ok(Math.abs(rate2 - 1) < 0.2, `the video ran at ${(rate2 * 2).toFixed(3)}x real time at 2x`);
  assert.deepEqual(consoleErrors, []);
});

test(
  'a codec the browser cannot decode falls back to the analysed frames, with a note',
  { timeout: 400_000 },
  async () => {
    const drive = loopedHighway(['-c:v', 'mpeg4', '-q:v', '8'], 'mpeg4.mp4');
    const { session } = await importAnalysed(drive);
    const { page, consoleErrors } = review!.browser;
    await page.goto(`${review!.server.url}#/session/${session.id}`);
    await waitForFrame(page, 0);
    const note = page.getByTestId('playback-note');
    await note.waitFor({ timeout: 10_000 });
    const text = await note.innerText();
    figures.fallbackNote = text;
    assert.match(text, /cannot play the source video \(mpeg4\).*analysed frames/);
    await page.keyboard.press('l');
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="hud"]')?.getAttribute('data-frame-index')) >= 2,
    );
    assert.equal((await sample()).showing, false, 'no video is shown');
    await page.keyboard.press('k');
    await page.screenshot({ path: join(screenshots, 'playback-fallback.png') });
    assert.deepEqual(consoleErrors, []);
  },
);
