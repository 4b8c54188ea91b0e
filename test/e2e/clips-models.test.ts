import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isAnalysisFinished, type AnalysisInfo } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';
import { probeVideo } from '../helpers/clips.js';
import { e2eModel, openReview, waitForFrame, type Review } from './review-helpers.js';

// The Clip button of the anomaly browser on a real analysed drive (the highway clip at 5 fps), and the models
// screen's card, as a reviewer uses them in the browser.
const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const work = mkdtempSync(join(tmpdir(), 'dml-clips-e2e-'));
let review: Review | undefined;

before(async () => {
  review = await openReview(join(work, 'library.sqlite'));
});

after(async () => {
  await review?.close();
});

async function analysed(sessionId: number): Promise<AnalysisInfo> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const [analysis] = await review!.api.call('analysis.list', { sessionId });
    if (analysis && isAnalysisFinished(analysis.status)) return analysis;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the analysis did not finish in 5 minutes');
}

test('the Clip button of an event writes an mp4 with the overlay as on screen', { timeout: 420_000 }, async () => {
  const { api, browser, server } = review!;
  const { page } = browser;
  const session = await api.call('sessions.import', { paths: [highway], analyse: { model: e2eModel(), sampleFps: 5 } });
  const analysis = await analysed(session.id);
  assert.equal(analysis.status, 'done');
  // Every analysed frame above threshold 0: one event over the whole drive, whatever the model scores.
  const { events } = await api.call('events.list', {
    analysisId: analysis.id,
    settings: { threshold: 0, hysteresis: 0, minGapMs: 1000, minFrames: 1, minDurationMs: 0 },
  });
  assert.equal(events.length, 1);
  const out = join(work, 'clips');
  mkdirSync(out);

  await page.goto(`${server.url}#/session/${session.id}`);
  await page.evaluate((folder) => localStorage.setItem('dmlreview.exportFolder', folder), out);
  await page.reload();
  await waitForFrame(page);
  // Heat off, opacity down one step: the clip must be made with what the screen shows.
  await page.keyboard.press('h');
  await page.keyboard.press('[');
  await page.getByTestId('tab-anomalies').click();
  await page.getByTestId('event-row').first().getByTestId('clip-button').click();
  await page.getByTestId('toast-info').filter({ hasText: 'Clip written' }).waitFor({ timeout: 240_000 });

  const [folder] = readdirSync(out);
  assert.ok(folder, 'a clip folder was written');
  const metadata = JSON.parse(readFileSync(join(out, folder, 'clip.json'), 'utf8')) as {
    eventId: number;
    frames: number;
    overlay: { classes: boolean; heat: boolean; outline: boolean; opacity: number };
  };
  assert.equal(metadata.eventId, events[0]!.id);
  assert.equal(metadata.overlay.heat, false, 'heat was switched off on screen');
  assert.ok(metadata.overlay.opacity < 0.55, `opacity ${metadata.overlay.opacity} is the lowered one`);
  const frames = probeVideo(join(out, folder, 'clip.mp4')).frames;
  assert.equal(frames, metadata.frames);
  assert.equal(metadata.frames, 38, 'the event spans the whole 1.52 s drive at 25 fps');
});

test('the models screen shows the card of a model and says how to add an evaluation report', async () => {
  const { page } = review!.browser;
  await page.getByTestId('models-link').click();
  await page.getByTestId('models-screen').waitFor();
  const model = e2eModel();
  await page.getByTestId(`model-item-${model}`).click();
  const card = page.getByTestId('model-card');
  await card.locator('h2', { hasText: model }).waitFor();
  assert.match(await page.getByTestId('no-report').innerText(), new RegExp(`--report .*reports/${model}`));
});
