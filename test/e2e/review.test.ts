import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { mediaPaths, type AnalysisInfo } from '../../src-shared/contract/index.js';
import { detectEvents } from '../../src-main/library/events.js';
import { displayColor } from '../../src-renderer/src/ui/colors.js';
import { valDrive } from '../helpers/clips.js';
import {
  canvasPixels,
  e2eModel,
  openReview,
  type Review,
  screenshots,
  scrubTimeline,
  waitForFrame,
} from './review-helpers.js';

// One reviewer's day on the real val drive, in order: each step builds on the one before.
let review: Review | undefined;
let server: Review['server'];
let browser: Review['browser'];
let api: Review['api'];
const work = mkdtempSync(join(tmpdir(), 'dml-review-e2e-'));
let analysis: AnalysisInfo;

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  review = await openReview(join(work, 'library.sqlite'));
  ({ server, browser, api } = review);
});

after(() => review?.close());

const shot = (name: string) => browser.page.screenshot({ path: join(screenshots, `${name}.png`) });

/** Orange (#ff8a00) as the outline canvas draws the best region's box, give or take antialiasing. */
const isOrange = (r: number, g: number, b: number, a: number) => a > 200 && r > 220 && g > 100 && g < 175 && b < 60;

/**
 * The viewer boxes every stored region that reaches the event threshold in use, and the best one, the frame
 * score's, in orange along its stored box: its left edge at mid height is orange on the outline canvas. Where
 * `mustBox` is set the frame must have such a region (an event's peak), so the orange check always runs there.
 */
async function expectRegionBoxes(page: Review['browser']['page'], frameIndex: number, mustBox = false) {
  const stored = await api.call('frames.regions', { analysisId: analysis.id, frameIndex });
  assert.ok(stored.hasRegions, 'a new analysis stores regions');
  const { settings } = await api.call('events.list', { analysisId: analysis.id });
  const byScore = stored.regions.filter((region) => region.score > 0).sort((a, b) => b.score - a.score);
  const summary = await api.call('frames.get', { analysisId: analysis.id, frameIndex });
  assert.equal(summary.score, byScore[0]?.score ?? 0, 'the frame score is the best region score');
  const reaching = byScore.filter((region) => region.score >= settings.threshold);
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="frame-viewer"]')?.getAttribute('data-regions-boxed') === want,
    String(reaching.length),
    { timeout: 10_000 },
  );
  const best = reaching[0];
  assert.ok(best || !mustBox, `frame ${frameIndex} has a region at or above the threshold ${settings.threshold}`);
  if (!best) return;
  const canvas = await canvasPixels(page, 'overlay-outline');
  const [sx, sy] = [canvas.width / stored.mapWidth, canvas.height / stored.mapHeight];
  const y = Math.round((best.y + best.height / 2) * sy);
  const x0 = Math.round(best.x * sx);
  let orange = 0;
  for (let x = Math.max(0, x0 - 3); x <= Math.min(canvas.width - 1, x0 + 3); x++) {
    const at = (y * canvas.width + x) * 4;
    if (isOrange(canvas.data[at]!, canvas.data[at + 1]!, canvas.data[at + 2]!, canvas.data[at + 3]!)) orange++;
  }
  assert.ok(orange > 0, `the best region's box (${best.x},${best.y} ${best.width}x${best.height}) is drawn orange`);
  console.log(
    `region check: frame ${frameIndex}, ${reaching.length} boxes at threshold ${settings.threshold.toFixed(3)}, best ${best.score.toFixed(3)} (${best.place})`,
  );
}

test('import the val drive and watch the progress bar reach the end', { timeout: 600_000 }, async () => {
  const { page } = browser;
  await page.goto(server.url);
  await page.getByTestId('library-screen').waitFor();
  await shot('library-empty');
  await page.getByTestId('import-path').fill(valDrive);
  const model = e2eModel();
  await page.locator(`[data-testid=import-model] option[value="${model}"]`).waitFor({ state: 'attached' });
  await page.getByTestId('import-model').selectOption(model);
  await page.getByTestId('import-submit').click();
  const progress = page.getByTestId('analysis-progress').first();
  await progress.waitFor({ timeout: 30_000 });

  // Poll the bar as the user sees it: it must move through intermediate values and end full.
  const seen = new Set<number>();
  let total = 0;
  let status = '';
  const deadline = Date.now() + 540_000;
  let midShot = false;
  while (Date.now() < deadline) {
    status = (await progress.getAttribute('data-status')) ?? '';
    const done = Number(await progress.getAttribute('data-done'));
    total = Number(await progress.getAttribute('data-total'));
    seen.add(done);
    if (!midShot && done > 0 && done < total) {
      await shot('library-progress');
      midShot = true;
    }
    if (status !== 'running' && status !== 'queued') break;
    await page.waitForTimeout(250);
  }
  assert.equal(status, 'done', `analysis ended as ${status}`);
  assert.equal(total, 101, 'the val drive has 101 frames at 1 fps');
  assert.ok(seen.has(total), 'the bar reached the end');
  assert.ok(
    [...seen].some((done) => done > 0 && done < total),
    `the bar showed progress on the way: ${[...seen].join(',')}`,
  );
  await shot('library');

  const [session] = await api.call('sessions.list', {});
  assert.ok(session?.latestAnalysis);
  analysis = session.latestAnalysis;
  assert.equal(analysis.modelName, model);
  assert.deepEqual(browser.consoleErrors, []);
});

test('open the session, scrub, and see the stored class map drawn pixel for pixel', async () => {
  const { page } = browser;
  await page.getByTestId('open-session').first().click();
  await page.getByTestId('session-screen').waitFor();
  assert.equal(await waitForFrame(page), 0);
  await shot('session-start');

  await scrubTimeline(page, 0.1, 0.62);
  // The viewer still reports frame 0 as ready until the scrub's state lands: wait for it to move first.
  await page.waitForFunction(
    () => document.querySelector('[data-testid="frame-viewer"]')?.getAttribute('data-frame-index') !== '0',
    null,
    { timeout: 20_000 },
  );
  const shown = await waitForFrame(page);
  assert.ok(shown >= 55 && shown <= 70, `scrubbing to 62% of a 101-frame drive shows frame ${shown}`);
  await shot('session-scrubbed');

  const canvas = await canvasPixels(page, 'overlay-classes');
  const stored = PNG.sync.read(await api.media(mediaPaths.classMap(analysis.id, shown)));
  assert.equal(canvas.width, stored.width);
  assert.equal(canvas.height, stored.height);
  // Drawn in the dark theme's display colour of each class (ui/colors.ts), the same for every pixel of it.
  const colours = new Map(analysis.classes.map((info) => [info.index, displayColor(info.color)]));
  let mismatches = 0;
  let unknown = 0;
  for (let pixel = 0; pixel < stored.width * stored.height; pixel++) {
    const index = stored.data[pixel * 4]!;
    const colour = colours.get(index);
    const drawn = canvas.data.slice(pixel * 4, pixel * 4 + 4);
    const expected = colour ? [...colour, 255] : [0, 0, 0, 0];
    if (!colour) unknown++;
    if (drawn.some((value, channel) => value !== expected[channel])) mismatches++;
  }
  assert.equal(
    mismatches,
    0,
    `${mismatches} of ${stored.width * stored.height} overlay pixels differ from the stored class map`,
  );
  console.log(
    `overlay check: frame ${shown}, ${stored.width}x${stored.height} pixels match the class map (${unknown} unknown, drawn transparent)`,
  );
  await expectRegionBoxes(page, shown);

  // Keys move the playhead; the overlay toggles and the key list answer.
  await page.keyboard.press('ArrowRight');
  assert.equal(await waitForFrame(page, shown + 1), shown + 1);
  await page.keyboard.press('Shift+ArrowLeft');
  assert.equal(await waitForFrame(page, shown - 9), shown - 9);
  await page.keyboard.press('c');
  assert.equal(await page.getByTestId('overlay-classes').evaluate((element) => getComputedStyle(element).opacity), '0');
  await page.keyboard.press('c');
  await page.keyboard.press('?');
  await page.getByTestId('key-help').waitFor();
  await shot('keys');
  await page.keyboard.press('Escape');
  await page.getByTestId('key-help').waitFor({ state: 'detached' });
  await page.keyboard.press('Home');
  assert.equal(await waitForFrame(page, 0), 0);

  // Space plays at the drive's pace (1 fps here) and pauses again.
  await page.keyboard.press(' ');
  await page.waitForTimeout(2600);
  await page.keyboard.press(' ');
  const played = await waitForFrame(page);
  assert.ok(played >= 1 && played <= 5, `two and a half seconds of playback reached frame ${played}`);
  assert.deepEqual(browser.consoleErrors, []);
});

test('dragging the threshold line recomputes and stores the events', async () => {
  const { page } = browser;
  const before = await api.call('events.list', { analysisId: analysis.id });
  const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
  // The line is where the plot's own axis puts it: find it by scanning for the grab cursor.
  let lineY: number | undefined;
  for (let y = box.y + 14; y < box.y + box.height - 16 && lineY === undefined; y += 2) {
    await page.mouse.move(box.x + box.width * 0.5, y);
    if ((await page.getByTestId('timeline-canvas').evaluate((element) => element.style.cursor)) === 'ns-resize')
      lineY = y;
  }
  assert.ok(lineY !== undefined, 'the threshold line can be grabbed');
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 16, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction(
    (old) => !document.querySelector('.statusbar')?.textContent?.includes(`above ${old}`),
    before.settings.threshold.toFixed(2),
  );
  const after = await api.call('events.list', { analysisId: analysis.id });
  assert.ok(
    after.settings.threshold > before.settings.threshold,
    `threshold ${before.settings.threshold} -> ${after.settings.threshold}`,
  );
  assert.equal(after.settings.hysteresis, before.settings.hysteresis);
  assert.ok(after.events.every((event) => event.peakScore > after.settings.threshold));
  await shot('threshold-raised');
  assert.deepEqual(browser.consoleErrors, []);
});

test('N and P visit every event in drive order and back, from an event that starts at frame 0', async () => {
  const { page } = browser;
  // Events in separate runs (no hysteresis, no merging) with the first one starting at frame 0 and peaking
  // later: the drive's own scores decide the threshold, found as the detector finds the events.
  const { timesMs, scores } = await api.call('timeline.get', { analysisId: analysis.id });
  const frames = Array.from(scores, (score, index) => ({ index, timeMs: timesMs[index]!, score }));
  const settings = [...new Set(scores)]
    .sort((a, b) => b - a)
    .map((score) => ({ threshold: score - 1e-6, hysteresis: 0, minGapMs: 0, minFrames: 1, minDurationMs: 0 }))
    .find((candidate) => {
      const spans = detectEvents(frames, candidate);
      return spans.length >= 3 && spans[0]!.startFrame === 0 && spans[0]!.peakFrame > 0;
    });
  assert.ok(settings, 'the val drive has a threshold giving 3+ events, the first starting at frame 0');
  const { events } = await api.call('events.list', { analysisId: analysis.id, settings });
  const peaks = events.map((event) => event.peakFrame).sort((a, b) => a - b);
  await page.reload();
  await page
    .getByTestId('status-counts')
    .filter({ hasText: `${events.length} events` })
    .waitFor();
  await page.keyboard.press('Home');
  assert.equal(await waitForFrame(page, 0), 0);
  const forward: number[] = [];
  for (let press = 0; press < peaks.length + 1; press++) {
    await page.keyboard.press('n');
    forward.push(await waitForFrame(page, peaks[Math.min(press, peaks.length - 1)]));
  }
  assert.deepEqual(forward, [...peaks, peaks[peaks.length - 1]], 'N stops at the last event');
  const back: number[] = [];
  for (let press = peaks.length - 2; press >= 0; press--) {
    await page.keyboard.press('p');
    back.push(await waitForFrame(page, peaks[press]));
  }
  assert.deepEqual(back, peaks.slice(0, -1).reverse());
  await expectRegionBoxes(page, peaks[0]!, true);
  await shot('events-stepped');
  assert.deepEqual(browser.consoleErrors, []);
});

test('flag two frames with notes and see them listed', async () => {
  const { page } = browser;
  await scrubTimeline(page, 0.3, 0.4, 4);
  const first = await waitForFrame(page);
  await page.keyboard.press('f');
  await page.getByTestId('flag-dialog').waitFor();
  await page.getByTestId('flag-note').fill('cyclist close to the kerb, "check"');
  await shot('flag-dialog');
  await page.keyboard.press('Enter');
  await page.getByTestId('flag-dialog').waitFor({ state: 'detached' });

  for (let step = 0; step < 3; step++) await page.keyboard.press('Shift+ArrowRight');
  const second = await waitForFrame(page, first + 30);
  await page.getByTestId('flag-frame').click();
  await page.getByText('unknown-object', { exact: true }).first().click();
  await page.getByTestId('flag-note').fill('object on the pavement');
  await page.getByTestId('flag-save').click();

  await page.getByTestId('tab-flags').click();
  await page.getByTestId('flag-row').nth(1).waitFor();
  await shot('flags');
  const flags = await api.call('flags.list', { sessionId: analysis.sessionId });
  assert.deepEqual(
    flags.map((flag) => [flag.frameIndex, flag.category, flag.note]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [first, 'hazard', 'cyclist close to the kerb, "check"'],
      [second, 'unknown-object', 'object on the pavement'],
    ],
  );
  await page.getByTestId('tab-anomalies').click();
  await page.getByTestId('browse-frames').click();
  await page.getByTestId('frame-row').first().waitFor();
  await shot('anomalies-frames');
  assert.deepEqual(browser.consoleErrors, []);
});

test('export the flags and open the offline report', async () => {
  const { page } = browser;
  const target = mkdtempSync(join(tmpdir(), 'dml-review-export-'));
  await page.getByTestId('tab-export').click();
  await page.getByTestId('export-folder').fill(target);
  await page.getByTestId('export-name').fill('e2e-export');
  await page.getByTestId('export-run').click();
  const result = page.getByTestId('export-result');
  await result.waitFor({ timeout: 120_000 });
  await shot('export');
  const folder = await result.getAttribute('data-path');
  assert.equal(folder, join(target, 'e2e-export'));
  assert.deepEqual(readdirSync(target), ['e2e-export'], 'no partial folder left beside it');

  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as {
    analysis: { model: string; modelSha256: string };
    rows: {
      frameIndex: number;
      note: string;
      score: number;
      unknownFraction: number;
      files: Record<string, string>;
      frameWidth: number;
      frameHeight: number;
    }[];
  };
  assert.equal(manifest.analysis.model, analysis.modelName);
  assert.equal(manifest.analysis.modelSha256, analysis.modelSha256);
  assert.equal(manifest.rows.length, 2);
  const session = await api.call('sessions.get', { sessionId: analysis.sessionId });
  for (const row of manifest.rows) {
    const summary = await api.call('frames.get', { analysisId: analysis.id, frameIndex: row.frameIndex });
    assert.ok(Math.abs(row.score - summary.score) < 1e-5);
    const original = PNG.sync.read(readFileSync(join(folder, row.files.frame!)));
    assert.deepEqual(
      [original.width, original.height],
      [session.width, session.height],
      'the original is the footage size',
    );
    assert.deepEqual(
      readFileSync(join(folder, row.files.classMap!)),
      await api.media(mediaPaths.classMap(analysis.id, row.frameIndex)),
    );
    assert.deepEqual(
      readFileSync(join(folder, row.files.oodMap!)),
      await api.media(mediaPaths.oodMap(analysis.id, row.frameIndex)),
    );
    const overlay = PNG.sync.read(readFileSync(join(folder, row.files.overlay!)));
    assert.deepEqual([overlay.width, overlay.height], [session.width, session.height]);
  }
  const csv = readFileSync(join(folder, 'manifest.csv'), 'utf8').trimEnd().split('\r\n');
  assert.equal(csv.length, 3);
  assert.ok(csv.some((line) => line.includes('"cyclist close to the kerb, ""check"""')));

  // The same flags as COCO, through the panel's format choice.
  await page.getByTestId('export-format').selectOption('coco');
  await page.getByTestId('export-semantic').check();
  await page.getByTestId('export-name').fill('e2e-coco');
  await page.getByTestId('export-run').click();
  await page
    .locator(`[data-testid="export-result"][data-path="${join(target, 'e2e-coco')}"]`)
    .waitFor({ timeout: 120_000 });
  await page.getByTestId('export-result').locator('code', { hasText: 'annotations.json' }).waitFor();
  const coco = JSON.parse(readFileSync(join(target, 'e2e-coco', 'annotations.json'), 'utf8')) as {
    images: { width: number; height: number }[];
    categories: { name: string }[];
  };
  assert.equal(coco.images.length, 2);
  assert.deepEqual([coco.images[0]!.width, coco.images[0]!.height], [session.width, session.height]);
  assert.deepEqual(
    coco.categories.map((category) => category.name),
    ['unknown', ...analysis.classes.map((info) => info.name)],
    'the known classes as semantic categories, as ticked',
  );

  await page.goto(`file://${join(folder, 'report.html')}`);
  await page.locator('svg[aria-label="OOD score timeline"]').waitFor();
  const images = await page
    .locator('img')
    .evaluateAll((elements) => elements.map((element) => (element as HTMLImageElement).naturalWidth));
  assert.equal(images.length, 4);
  assert.ok(
    images.every((width) => width > 0),
    'every inline thumbnail decodes',
  );
  await page.screenshot({ path: join(screenshots, 'report.png'), fullPage: true });
  assert.deepEqual(browser.consoleErrors, []);
});
