import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnalysisInfo, Flag, SessionInfo } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';
import { e2eModel, newestAnalysisDone, openReview, type Review, screenshots, waitForFrame } from './review-helpers.js';
import type { Page } from 'playwright-core';

// The review screens on a 16:9 drive (1280x720, 25 fps, every frame analysed), as a reviewer meets them:
// the frame's shape, re-analysis after teaching, switching analyses, playback, the threshold, the report.
const wideDrive = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
let review: Review | undefined;
let server: Review['server'];
let browser: Review['browser'];
let api: Review['api'];
let session: SessionInfo;
let first: AnalysisInfo;
let reanalysed: AnalysisInfo;
const work = mkdtempSync(join(tmpdir(), 'dml-screens-e2e-'));
const figures: Record<string, unknown> = {};

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  review = await openReview(join(work, 'library.sqlite'));
  ({ server, browser, api } = review);
});

after(async () => {
  writeFileSync(join(repoRoot, 'test-output', 'review-screens.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await review?.close();
});

const shot = (name: string) => browser.page.screenshot({ path: join(screenshots, `${name}.png`) });

const waitForAnalysis = (sessionId: number, count: number) => newestAnalysisDone(api, sessionId, count);

/** Width / height of an element as laid out on the page. */
async function shownAspect(testId: string): Promise<number> {
  const box = await browser.page.getByTestId(testId).first().boundingBox();
  if (!box) throw new Error(`${testId} is not visible`);
  return box.width / box.height;
}

const flagsOf = async (analysisId: number): Promise<Flag[]> =>
  (await api.call('flags.list', { sessionId: session.id })).filter((flag) => flag.analysisId === analysisId);

test('a 16:9 drive is shown at 16:9 in the viewer and the lists', { timeout: 400_000 }, async () => {
  const { page } = browser;
  await page.goto(server.url);
  await page.getByTestId('library-screen').waitFor();
  // A failed import keeps what was typed, so a typo is fixed instead of typed again.
  const typo = `${wideDrive}.missing`;
  await page.getByTestId('import-path').fill(typo);
  await page.getByTestId('import-submit').click();
  await page.getByTestId('toast-error').filter({ hasText: 'does not exist' }).waitFor();
  assert.equal(await page.getByTestId('import-path').inputValue(), typo);
  // The refused request is logged by Chromium as a failed resource; nothing else may be.
  assert.ok(
    browser.consoleErrors.every((message) => /Failed to load resource.*status of 4\d\d/.test(message)),
    browser.consoleErrors.join('\n'),
  );
  browser.consoleErrors.length = 0;
  await page.getByTestId('import-path').fill(wideDrive);
  const model = e2eModel();
  await page.locator(`[data-testid=import-model] option[value="${model}"]`).waitFor({ state: 'attached' });
  await page.getByTestId('import-model').selectOption(model);
  await page.getByTestId('import-submit').click();
  await page.getByTestId('session-row').waitFor({ timeout: 60_000 });
  const [imported] = await api.call('sessions.list', {});
  assert.ok(imported, 'the drive was imported');
  session = imported;
  first = await waitForAnalysis(session.id, 1);
  assert.equal(first.status, 'done', first.message ?? '');
  assert.equal(first.sampleFps, null, 'an empty sample rate analyses every frame');
  assert.equal(first.framesDone, 38);
  await shot('wide-library');

  await page.getByTestId('open-session').first().click();
  await waitForFrame(page, 0);
  const source = 1280 / 720;
  const viewer = await shownAspect('frame-viewer');
  figures.viewerAspect = viewer;
  assert.ok(Math.abs(viewer / source - 1) < 0.01, `the viewer shows ${viewer.toFixed(3)}, the footage is ${source}`);
  const preview = await page.getByTestId('frame-image').evaluate((canvas) => {
    const element = canvas as HTMLCanvasElement;
    return element.width / element.height;
  });
  assert.ok(Math.abs(preview / source - 1) < 0.01, `the stored preview is ${preview.toFixed(3)} wide per unit high`);
  // The frame list always has rows (an ordinary highway clip may rightly hold no event).
  await page.getByTestId('browse-frames').click();
  const thumb = await shownAspect('thumb');
  assert.ok(Math.abs(thumb / source - 1) < 0.03, `a frame-list thumbnail shows ${thumb.toFixed(3)}`);
  await shot('wide-session');
  assert.deepEqual(browser.consoleErrors, []);
});

test('playback runs at the footage rate, with speeds and J / K / L', async () => {
  const { page } = browser;
  await page.keyboard.press('Home');
  await waitForFrame(page, 0);
  const started = Date.now();
  await page.keyboard.press('l');
  await page.waitForTimeout(1000);
  await page.keyboard.press('k');
  const seconds = (Date.now() - started) / 1000;
  const reached = Number(await page.getByTestId('hud').getAttribute('data-frame-index'));
  figures.playbackRealTimeShare = reached / 25 / seconds;
  // 25 fps: a second of playback is 25 frames; the old timer-per-frame playback reached about 10.
  assert.ok(reached >= 18 && reached <= 37, `${seconds.toFixed(2)} s at 1x reached frame ${reached}`);

  await page.getByTestId('play-speed').selectOption('0.5');
  await page.keyboard.press('Home');
  await page.keyboard.press(' ');
  await page.waitForTimeout(1000);
  await page.keyboard.press(' ');
  const half = Number(await page.getByTestId('hud').getAttribute('data-frame-index'));
  assert.ok(half >= 8 && half <= 18, `a second at 0.5x reached frame ${half}`);

  await page.keyboard.press('End');
  await page.keyboard.press('j');
  await page.waitForTimeout(500);
  await page.keyboard.press('k');
  const back = Number(await page.getByTestId('hud').getAttribute('data-frame-index'));
  assert.ok(back < 37 && back >= 20, `half a second of J from the end is frame ${back}`);
  await page.keyboard.press('Alt+ArrowLeft');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="hud"]')?.getAttribute('data-frame-index') === '0',
  );
  assert.deepEqual(browser.consoleErrors, []);
});

test(
  'teaching paints in the main viewer, and re-analysing keeps the sampling and the flags',
  { timeout: 400_000 },
  async () => {
    const { page } = browser;
    // Two flags, at 0.2 s and 1.2 s.
    for (const frame of [5, 30]) {
      await page.keyboard.press('Home');
      for (let step = 0; step < frame; step++) await page.keyboard.press('ArrowRight');
      await waitForFrame(page, frame);
      await page.keyboard.press('f');
      await page.getByTestId('flag-dialog').waitFor();
      await page.getByTestId('flag-note').fill(`flag at frame ${frame}`);
      await page.keyboard.press('Enter');
      await page.getByTestId('flag-dialog').waitFor({ state: 'detached' });
    }
    const flagged = await flagsOf(first.id);
    assert.deepEqual(
      flagged.map((flag) => flag.frameIndex),
      [5, 30],
    );

    await page.getByTestId('tab-teach').click();
    await page.getByTestId('teach-add-frame').click();
    const mask = page.getByTestId('mask-canvas');
    await mask.waitFor();
    const [maskBox, viewerBox] = [await mask.boundingBox(), await page.getByTestId('frame-viewer').boundingBox()];
    assert.ok(maskBox && viewerBox);
    assert.ok(
      Math.abs(maskBox.width - viewerBox.width) < 2 && Math.abs(maskBox.height - viewerBox.height) < 2,
      `the mask covers the whole frame in the viewer: ${maskBox.width}x${maskBox.height} in ${viewerBox.width}x${viewerBox.height}`,
    );
    assert.ok(maskBox.width > 700, `the mask is painted at full size (${maskBox.width} px wide), not a thumbnail`);
    // Zoom in around the middle, paint a stroke, and see the painted pixels counted.
    const [cx, cy] = [maskBox.x + maskBox.width * 0.5, maskBox.y + maskBox.height * 0.6];
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="frame-viewer"]')?.getAttribute('data-zoom')) > 1.5,
    );
    await page.mouse.down();
    await page.mouse.move(cx + 120, cy, { steps: 8 });
    await page.mouse.up();
    const painted = Number(((await page.locator('.shot-chip').first().innerText()).match(/(\d+) px/) ?? [])[1]);
    assert.ok(painted > 50, `the stroke marked ${painted} pixels`);
    await shot('wide-teaching');
    await page.getByTestId('zoom-reset').click();
    await page.getByTestId('teach-name').fill('lane marking');
    await page.getByTestId('teach-submit').click();
    const picker = page.getByTestId('teach-reanalyse-picker');
    await picker.waitFor({ timeout: 60_000 });
    await page.getByTestId('teach-reanalyse').click();

    reanalysed = await waitForAnalysis(session.id, 2);
    assert.equal(reanalysed.status, 'done', reanalysed.message ?? '');
    assert.equal(reanalysed.knowledgeVersion, 1);
    assert.equal(reanalysed.sampleFps, first.sampleFps, 'the re-analysis keeps the sampling it follows');
    assert.equal(reanalysed.framesDone, first.framesDone);
    const carried = await flagsOf(reanalysed.id);
    assert.deepEqual(
      carried.map((flag) => [flag.timeMs, flag.note]),
      flagged.map((flag) => [flag.timeMs, flag.note]),
      'the flags came along to the same frames',
    );
    assert.deepEqual(browser.consoleErrors, []);
  },
);

test('switching analyses keeps the playhead at its time', async () => {
  const { page } = browser;
  const sparse = await api.call('analysis.start', { sessionId: session.id, sampleFps: 4 });
  const done = await waitForAnalysis(session.id, 3);
  assert.equal(done.id, sparse.id);
  await page.getByTestId('tab-anomalies').click();
  await page.getByTestId('analysis-select').selectOption(String(reanalysed.id));
  await waitForFrame(page);
  // The keys drive the playhead, not the selector that keeps the focus after a choice.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Home');
  for (let step = 0; step < 30; step++) await page.keyboard.press('ArrowRight');
  await waitForFrame(page, 30);
  const before = (await api.call('timeline.get', { analysisId: reanalysed.id })).timesMs[30]!;

  await page.getByTestId('analysis-select').selectOption(String(sparse.id));
  const times = (await api.call('timeline.get', { analysisId: sparse.id })).timesMs;
  const nearest = times.reduce((best, t, i) => (Math.abs(t - before) < Math.abs(times[best]! - before) ? i : best), 0);
  assert.equal(await waitForFrame(page, nearest), nearest, `frame ${nearest} of ${times.length} holds ${before} ms`);
  assert.ok(Math.abs(times[nearest]! - before) <= 125, 'within half a 4 fps step of where it was');
  await shot('wide-switched');
  assert.deepEqual(browser.consoleErrors, [], 'no frame of the old index was asked for (a 404 is a console error)');
});

test('the threshold moves finely, takes a typed value, and counts events while it moves', async () => {
  const { page } = browser;
  await page.getByTestId('analysis-select').selectOption(String(reanalysed.id));
  await waitForFrame(page);
  const before = await api.call('events.list', { analysisId: reanalysed.id });
  const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
  let lineY: number | undefined;
  for (let y = box.y + 14; y < box.y + box.height - 20 && lineY === undefined; y += 1) {
    await page.mouse.move(box.x + box.width * 0.5, y);
    if ((await page.getByTestId('timeline-canvas').evaluate((element) => element.style.cursor)) === 'ns-resize')
      lineY = y;
  }
  assert.ok(lineY !== undefined, 'the threshold line can be grabbed');
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, lineY - 6, { steps: 3 });
  await page.getByTestId('threshold-live-count').filter({ hasText: /event/ }).waitFor();
  const live = await page.getByTestId('threshold-live-count').innerText();
  await page.mouse.up();
  await page.waitForFunction(
    (old) => !document.querySelector('[data-testid="status-counts"]')?.textContent?.includes(`above ${old}`),
    before.settings.threshold.toFixed(3),
  );
  const dragged = await api.call('events.list', { analysisId: reanalysed.id });
  const moved = dragged.settings.threshold - before.settings.threshold;
  figures.thresholdSixPixelDrag = moved;
  assert.ok(moved > 0 && moved < 0.03, `a 6 px drag moved the threshold by ${moved.toFixed(4)}`);
  assert.match(live, new RegExp(`${dragged.events.length} events?`), `while dragging it said ${live}`);

  const typed = Math.round((before.settings.threshold - 0.01) * 1000) / 1000;
  await page.getByTestId('threshold-input').fill(String(typed));
  const preview = await api.call('events.preview', {
    analysisId: reanalysed.id,
    settings: { ...before.settings, threshold: typed },
  });
  await page
    .getByTestId('threshold-live-count')
    .filter({ hasText: new RegExp(`→ ${preview.count} events?$`) })
    .waitFor();
  await page.keyboard.press('Enter');
  await page
    .getByTestId('status-counts')
    .filter({ hasText: `above ${typed.toFixed(3)}` })
    .waitFor();
  assert.equal((await api.call('events.list', { analysisId: reanalysed.id })).settings.threshold, typed);
  await shot('wide-threshold');
  assert.deepEqual(browser.consoleErrors, []);
});

/** At least three prototype labels are shown and no two overlap. */
async function assertLabelsApart(page: Page): Promise<void> {
  const labels = await page.locator('.metric-label').evaluateAll((elements) =>
    elements
      .filter((element) => (element as HTMLElement).style.display !== 'none')
      .map((element) => element.getBoundingClientRect())
      .map(({ left, top, right, bottom }) => ({ left, top, right, bottom })),
  );
  assert.ok(labels.length >= 3, `${labels.length} labels shown`);
  for (const [i, a] of labels.entries())
    for (const b of labels.slice(i + 1))
      assert.ok(
        a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top,
        'no two prototype labels overlap',
      );
}

test(
  'the metric space draws its first points soon, fills the window, keeps labels apart, and lays out by neighbours',
  { timeout: 120_000 },
  async () => {
    const { page } = browser;
    const started = Date.now();
    await page.getByTestId('tab-metric-space').click();
    await page.getByTestId('metric-count').waitFor({ timeout: 60_000 });
    figures.metricFirstPointsMs = Date.now() - started;
    await page.getByTestId('metric-count').filter({ hasText: '20,000' }).waitFor({ timeout: 60_000 });
    figures.metricAllPointsMs = Date.now() - started;
    await page.getByTestId('metric-fullscreen').click();
    await page.waitForTimeout(1500);
    const stage = (await page.locator('.metric-stage').boundingBox())!;
    assert.ok(stage.width > 1200, `the full view is ${stage.width} px wide`);
    await assertLabelsApart(page);
    await shot('wide-metric-space');
    // The neighbours layout: fewer points, the share of neighbours it keeps instead of the variance.
    await page.getByTestId('metric-axes').selectOption('neighbours');
    await page.getByTestId('metric-progress').filter({ hasText: 'Arranging' }).waitFor({ timeout: 30_000 });
    const arranged = page
      .getByTestId('metric-count')
      .filter({ hasText: /5,000 pixels · neighbours layout keeps \d+%/ });
    await arranged.waitFor({ timeout: 60_000 });
    const kept = Number(/keeps (\d+)%/.exec((await arranged.textContent())!)![1]);
    assert.ok(kept > 40 && kept <= 100, `the neighbours layout keeps ${kept}%`);
    // Classes with no pixel in the sample get no prototype label (the layout has no place for them); the caption
    // counts them and its tooltip names them. A CamVid street lacks several of road's 19 Cityscapes classes.
    const absent = Number(/(\d+) class(?:es)? not in this sample/.exec((await arranged.textContent())!)?.[1] ?? 0);
    const unplaced = ((await arranged.getAttribute('title')) ?? '').split(': ')[1]?.split(', ') ?? [];
    assert.equal(unplaced.length, absent);
    if (e2eModel() === 'road') assert.ok(absent > 0, 'some Cityscapes class is missing from a CamVid frame');
    const labelled = await page.locator('.metric-label').allTextContents();
    assert.ok(labelled.length > 0);
    for (const name of unplaced) assert.ok(!labelled.includes(name), `${name} is labelled though not in the sample`);
    await page.waitForTimeout(1500);
    await assertLabelsApart(page);
    await shot('wide-metric-space-neighbours');
    await page.getByTestId('metric-axes').selectOption('pca');
    await page
      .getByTestId('metric-count')
      .filter({ hasText: /20,000 pixels · PCA explains/ })
      .waitFor({ timeout: 60_000 });
    await page.keyboard.press('Escape');
    assert.deepEqual(browser.consoleErrors, []);
  },
);

test('the export folder is named without the video extension, and the report shows 16:9 thumbnails', async () => {
  const { page } = browser;
  const target = mkdtempSync(join(tmpdir(), 'dml-screens-export-'));
  await page.getByTestId('tab-export').click();
  await page.getByTestId('export-folder').fill(target);
  await page.getByTestId('export-run').click();
  const result = page.getByTestId('export-result');
  await result.waitFor({ timeout: 120_000 });
  const [folder] = readdirSync(target);
  assert.ok(folder && !folder.includes('.mp4'), `the export folder is ${folder}`);
  assert.match(folder, /^dmlreview-udacity-highway-/);
  await page.goto(`file://${join(target, folder, 'report.html')}`);
  await page.locator('svg[aria-label="OOD score timeline"]').waitFor();
  const sizes = await page
    .locator('img')
    .evaluateAll((elements) =>
      elements.map((element) => [
        (element as HTMLImageElement).naturalWidth,
        (element as HTMLImageElement).naturalHeight,
      ]),
    );
  assert.equal(sizes.length, 4, 'two flags, a frame and an overlay each');
  for (const [width, height] of sizes) {
    assert.ok(Math.abs(width! / height! / (1280 / 720) - 1) < 0.01, `a report thumbnail is ${width}x${height}`);
  }
  await page.screenshot({ path: join(screenshots, 'wide-report.png'), fullPage: true });
  assert.deepEqual(browser.consoleErrors, []);
});
