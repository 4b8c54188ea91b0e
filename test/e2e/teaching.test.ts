import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeLabelPng } from '../../src-main/engine/index.js';
import { displayColor } from '../../src-renderer/src/ui/colors.js';
import { chooseShots } from '../../src-main/evaluation/fewshot.js';
import { listCamvidSamples } from '../../src-main/evaluation/samples.js';
import { repoRoot } from '../helpers/cli.js';
import { camvidRoot } from '../helpers/models.js';
import {
  canvasPixels,
  lassoMiddleOfCloud,
  newestAnalysisDone,
  openReview,
  type Review,
  screenshots,
  waitForFrame,
} from './review-helpers.js';

// The teaching loop in the browser: paint a pedestrian the model calls unknown, teach it, re-analyse, and see it.
const MODEL = 'camvid-open';
const PEDESTRIAN = 9;
/** The teaching panel's default colour, #e040fb, as the dark theme draws it. */
const TAUGHT_RGB = displayColor([224, 64, 251]);
let review: Review | undefined;
let server: Review['server'];
let browser: Review['browser'];
let api: Review['api'];
const work = mkdtempSync(join(tmpdir(), 'dml-teach-e2e-'));
const frames = join(work, 'frames');
const otherDrive = join(work, 'other-drive');
let firstLabel = '';

const waitForAnalysis = (sessionId: number, count: number) => newestAnalysisDone(api, sessionId, count);

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  // Three val frames with the most pedestrian pixels, as a small image-folder drive.
  const pairs = (await chooseShots(listCamvidSamples(join(camvidRoot, 'val'), '--val'), PEDESTRIAN, 3)).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  mkdirSync(frames);
  for (const pair of pairs) copyFileSync(pair.image, join(frames, basename(pair.image)));
  // A second drive of the library, never analysed, to re-analyse with the taught class too.
  mkdirSync(otherDrive);
  copyFileSync(pairs[1]!.image, join(otherDrive, basename(pairs[1]!.image)));
  firstLabel = pairs[0]!.label;
  review = await openReview(join(work, 'library.sqlite'));
  ({ server, browser, api } = review);
});

after(() => review?.close());

test(
  'paint a pedestrian, teach it, re-analyse, and see the new class in the overlay',
  { timeout: 600_000 },
  async () => {
    const { page } = browser;
    const session = await api.call('sessions.import', { paths: [frames], analyse: { model: MODEL, sampleFps: null } });
    const first = await waitForAnalysis(session.id, 1);
    assert.equal(first.status, 'done', first.message ?? '');
    assert.ok(!first.classes.some((cls) => cls.name === 'pedestrian'));

    await page.goto(server.url);
    await page.getByTestId('open-session').first().click();
    await waitForFrame(page, 0);
    await page.getByTestId('tab-teach').click();
    await page.getByTestId('teach-add-frame').click();
    const canvas = page.getByTestId('mask-canvas');
    await canvas.waitFor();

    // Paint over the pedestrians of frame 0 (the label's pedestrian pixels, row by row with the brush).
    const label = await decodeLabelPng(firstLabel);
    const box = (await canvas.boundingBox())!;
    const scale = box.width / label.width;
    let strokes = 0;
    for (let y = 0; y < label.height; y += 6) {
      let start = -1;
      for (let x = 0; x <= label.width; x++) {
        const inside = x < label.width && label.data[y * label.width + x] === PEDESTRIAN;
        if (inside && start < 0) start = x;
        if (!inside && start >= 0) {
          await page.mouse.move(box.x + (start + 0.5) * scale, box.y + (y + 0.5) * scale);
          await page.mouse.down();
          await page.mouse.move(box.x + (x - 0.5) * scale, box.y + (y + 0.5) * scale, { steps: 3 });
          await page.mouse.up();
          strokes++;
          start = -1;
        }
      }
    }
    assert.ok(strokes > 3, `painted ${strokes} strokes`);
    await page.getByTestId('teach-undo').click();
    await page.getByTestId('teach-redo').click();
    await page.getByTestId('teach-name').fill('pedestrian');
    await page.getByTestId('teach-preview').click();
    await page.getByTestId('teach-preview-summary').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(screenshots, 'teaching-preview.png') });
    const other = await api.call('sessions.import', { paths: [otherDrive], name: 'other drive' });
    await page.getByTestId('teach-submit').click();
    const picker = page.getByTestId('teach-reanalyse-picker');
    assert.equal(
      await picker.getByTestId(`teach-reanalyse-session-${session.id}`).isChecked({ timeout: 60_000 }),
      true,
    );
    await picker.getByTestId(`teach-reanalyse-session-${other.id}`).check();
    await page.getByTestId('teach-reanalyse').click();

    const reanalysedOther = await waitForAnalysis(other.id, 1);
    assert.equal(reanalysedOther.status, 'done', reanalysedOther.message ?? '');
    assert.deepEqual([reanalysedOther.modelName, reanalysedOther.knowledgeVersion], [MODEL, 1]);
    const second = await waitForAnalysis(session.id, 2);
    assert.equal(second.status, 'done', second.message ?? '');
    assert.equal(second.knowledgeVersion, 1);
    const taught = second.classes.find((cls) => cls.name === 'pedestrian');
    assert.ok(taught?.taught, 'the new analysis carries the taught class');

    await page.getByTestId('analysis-select').selectOption(String(second.id));
    await waitForFrame(page, 0);
    await page.getByTestId('legend').getByText('pedestrian').waitFor();
    const overlay = await canvasPixels(page, 'overlay-classes');
    let taughtPixels = 0;
    for (let i = 0; i < overlay.data.length; i += 4) {
      if (
        overlay.data[i] === TAUGHT_RGB[0] &&
        overlay.data[i + 1] === TAUGHT_RGB[1] &&
        overlay.data[i + 2] === TAUGHT_RGB[2]
      )
        taughtPixels++;
    }
    assert.ok(taughtPixels > 100, `the overlay shows ${taughtPixels} pixels in the taught colour`);
    await page.screenshot({ path: join(screenshots, 'teaching-after.png') });
    assert.deepEqual(browser.consoleErrors, []);
  },
);

test(
  'the metric-space view shows 20,000 points of the frame and reports its frame rate',
  { timeout: 120_000 },
  async () => {
    const { page } = browser;
    await page.getByTestId('tab-metric-space').click();
    await page.getByTestId('metric-count').filter({ hasText: '20,000' }).waitFor({ timeout: 60_000 });
    await page.waitForTimeout(3000);
    const fps = Number((await page.getByTestId('metric-fps').innerText()).split(' ')[0]);
    assert.ok(fps > 0, 'the view renders');
    // The figure docs/performance.md reports for this machine's software renderer (SwiftShader, headless Chromium).
    writeFileSync(join(repoRoot, 'test-output', 'metric-space-fps.txt'), `${fps}\n`);
    process.stdout.write(`metric-space view: ${fps} fps with 20,000 points\n`);
    await page.screenshot({ path: join(screenshots, 'metric-space.png') });

    // A lasso around the middle of the cloud marks its points' pixels on the frame viewer.
    await lassoMiddleOfCloud(page);
    const lassoed = Number((await page.getByText(/points lassoed/).innerText()).replace(/[^0-9]/g, ''));
    assert.ok(lassoed > 100, `${lassoed} points lassoed`);
    const marks = await canvasPixels(page, 'overlay-marks');
    let marked = 0;
    for (let i = 3; i < marks.data.length; i += 4) if (marks.data[i]! > 0) marked++;
    assert.ok(marked > lassoed, `${marked} screen pixels marked for ${lassoed} lassoed points`);
    await page.screenshot({ path: join(screenshots, 'metric-space-lasso.png') });
    assert.deepEqual(browser.consoleErrors, []);
  },
);
