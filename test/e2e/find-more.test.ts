import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AnalysisInfo, SessionInfo, SimilarResult } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';
import {
  lassoMiddleOfCloud,
  newestAnalysisDone,
  reviewForThisFile,
  screenshots,
  waitForFrame,
} from './review-helpers.js';

// "Find more like this" as a reviewer uses it: the highway clip imported twice as two drives, analysed every
// frame by camvid-open (whose unknown regions are what is searched), the second also by road (another model:
// not searched, and said so). Click an outlined region, search, cut the list, open a result, flag results.
const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const model = 'camvid-open';
const review = reviewForThisFile('find-more');

const finished = (sessionId: number, count: number) => newestAnalysisDone(review().api, sessionId, count);

async function importAnalysed(name: string): Promise<{ session: SessionInfo; analysis: AnalysisInfo }> {
  const session = await review().api.call('sessions.import', {
    paths: [highway],
    name,
    analyse: { model, sampleFps: null },
  });
  const analysis = await finished(session.id, 1);
  assert.equal(analysis.status, 'done', analysis.message ?? '');
  return { session, analysis };
}

/**
 * The best scored unknown region of an analysis that is an object rather than the sky (its box at most a
 * quarter of the frame), made an outlined one: the event threshold is stored at its score (the viewer outlines
 * the regions that reach it). Its frame, index and centre (fractions of the frame).
 */
async function outlinedRegion(analysis: AnalysisInfo) {
  const { api } = review();
  let best: { frameIndex: number; regionIndex: number; centre: [number, number]; score: number } | undefined;
  for (let frameIndex = 0; frameIndex < analysis.framesDone; frameIndex++) {
    const frame = await api.call('frames.regions', { analysisId: analysis.id, frameIndex });
    frame.regions.forEach((region, regionIndex) => {
      const small = region.width * region.height <= (frame.mapWidth * frame.mapHeight) / 4;
      if (!small || region.pixels < 50 || region.score <= (best?.score ?? 0)) return;
      const centre: [number, number] = [
        (region.x + region.width / 2) / frame.mapWidth,
        (region.y + region.height / 2) / frame.mapHeight,
      ];
      best = { frameIndex, regionIndex, centre, score: region.score };
    });
  }
  if (!best) throw new Error(`no scored unknown region in analysis ${analysis.id}`);
  const { settings } = await api.call('events.list', { analysisId: analysis.id });
  const threshold = Math.floor(best.score * 1000) / 1000;
  await api.call('events.list', { analysisId: analysis.id, settings: { ...settings, threshold } });
  return best;
}

const keyOf = (result: Pick<SimilarResult, 'analysisId' | 'frameIndex' | 'similarity'>) =>
  `${result.analysisId}/${result.frameIndex}/${result.similarity.toFixed(6)}`;

test(
  'a clicked region finds its like in both drives; a result opens in its drive and is flagged',
  { timeout: 600_000 },
  async () => {
    const { api, browser, server } = review();
    const { page, consoleErrors } = browser;
    const first = await importAnalysed('highway one');
    const second = await importAnalysed('highway two');
    await api.call('analysis.start', { sessionId: second.session.id, model: 'road', sampleFps: 5 });
    const other = await finished(second.session.id, 2);
    assert.equal(other.status, 'done', other.message ?? '');

    // Before any search the panel says how to start one.
    const query = await outlinedRegion(first.analysis);
    await page.goto(`${server.url}#/session/${first.session.id}/at/${first.analysis.id}/${query.frameIndex}`);
    await waitForFrame(page, query.frameIndex);
    await page.getByTestId('tab-find-more').click();
    await page.getByTestId('find-more-empty').waitFor();
    await page.screenshot({ path: join(screenshots, 'find-more-empty.png') });

    // Click the region in the viewer: its menu offers the search.
    const viewer = await page.getByTestId('frame-viewer').boundingBox();
    if (!viewer) throw new Error('frame viewer not visible');
    await page.mouse.click(viewer.x + viewer.width * query.centre[0], viewer.y + viewer.height * query.centre[1]);
    await page.getByTestId('region-menu').waitFor();
    await page.getByTestId('region-find-similar').click();
    await page.locator('[data-testid=find-more][data-status=done]').waitFor({ timeout: 60_000 });

    // The list is the API's answer for that region, nearest first, by drive; the road analysis was not searched.
    const answer = await api.call('similar.find', {
      analysisId: first.analysis.id,
      frameIndex: query.frameIndex,
      query: { kind: 'region', regionIndex: query.regionIndex },
      limit: 200,
    });
    assert.ok(answer.results.length > 0, 'the clip has other frames with regions like it');
    const rows = page.getByTestId('result-row');
    const shown = await rows.evaluateAll((elements) =>
      elements.map((element) => ({
        analysisId: Number(element.getAttribute('data-analysis-id')),
        frameIndex: Number(element.getAttribute('data-frame-index')),
        similarity: Number(element.getAttribute('data-similarity')),
        sessionId: Number(element.getAttribute('data-session-id')),
      })),
    );
    assert.deepEqual(shown.map(keyOf).sort(), answer.results.map(keyOf).sort());
    assert.ok(!shown.some((row) => row.analysisId === first.analysis.id && row.frameIndex === query.frameIndex));
    const driveOrder = [...new Set(shown.map((row) => row.sessionId))];
    assert.deepEqual(
      driveOrder,
      [...new Set(answer.results.map((result) => result.sessionId))],
      'drives by best result',
    );
    assert.equal(driveOrder.length, 2, 'both drives hold regions like it');
    const skipped = page.locator(`[data-testid=skipped-analysis][data-reason=other-model]`);
    assert.match((await skipped.textContent()) ?? '', /highway two.*road/);
    assert.equal(await rows.getByTestId('result-box').count(), answer.results.length, 'every result has its box');
    await page.screenshot({ path: join(screenshots, 'find-more.png') });

    // The cut-off hides results below it: 50 steps of 0.01 is 50 %.
    await page.getByTestId('find-more-cutoff').focus();
    for (let step = 0; step < 50; step++) await page.keyboard.press('ArrowRight');
    const kept = answer.results.filter((result) => result.similarity >= 0.5).length;
    await page.waitForFunction((count) => document.querySelectorAll('[data-testid=result-row]').length === count, kept);
    for (let step = 0; step < 50; step++) await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid=result-row]').length === count,
      answer.results.length,
    );

    // The best result of the second drive opens there, on its frame, with the results still beside it.
    const target = answer.results.find((result) => result.sessionId === second.session.id)!;
    await page
      .locator(
        `[data-testid=result-row][data-analysis-id="${target.analysisId}"][data-frame-index="${target.frameIndex}"]`,
      )
      .first()
      .getByTestId('result-open')
      .click();
    await page.waitForFunction((id) => window.location.hash.startsWith(`#/session/${id}/`), second.session.id);
    await waitForFrame(page, target.frameIndex);
    assert.equal(await page.getByTestId('analysis-select').inputValue(), String(target.analysisId));
    await page.locator('[data-testid=find-more][data-status=done]').waitFor();
    // Its region is marked on the frame (magenta), whatever the threshold outlines there.
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=overlay-marks]');
      const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      if (!data) return false;
      for (let i = 0; i < data.length; i += 4)
        if (data[i]! > 200 && data[i + 1]! < 90 && data[i + 2]! > 170) return true;
      return false;
    });

    // Choose it and the best result overall, and flag both at once.
    const best = answer.results[0]!;
    const choose = async (result: SimilarResult) =>
      page
        .locator(
          `[data-testid=result-row][data-analysis-id="${result.analysisId}"][data-frame-index="${result.frameIndex}"]`,
        )
        .first()
        .getByTestId('result-choose')
        .check();
    await choose(target);
    if (keyOf(best) !== keyOf(target)) await choose(best);
    await page.getByTestId('find-more-flag').click();
    await page.getByTestId('toast-info').filter({ hasText: 'Flagged' }).waitFor();
    const flagged = async (result: SimilarResult) =>
      (await api.call('flags.list', { sessionId: result.sessionId })).some(
        (flag) =>
          flag.analysisId === result.analysisId &&
          flag.frameIndex === result.frameIndex &&
          flag.category === 'unknown-object' &&
          /similarity [\d.]+%/.test(flag.note),
      );
    assert.ok(await flagged(target), 'the opened result is flagged');
    assert.ok(await flagged(best), 'the best result is flagged');
    await page.screenshot({ path: join(screenshots, 'find-more-opened.png') });

    // The two chosen results teach a class: each shot's mask is its region's unknown pixels.
    await choose(target);
    if (keyOf(best) !== keyOf(target)) await choose(best);
    await page.getByTestId('find-more-teach').click();
    await page.getByTestId('find-more-teach-name').fill('highway thing');
    await page.getByTestId('find-more-teach-submit').click();
    await page.getByTestId('find-more-taught').waitFor({ timeout: 120_000 });
    const { classes } = await api.call('teaching.classes.list', { model });
    const taught = classes.find((info) => info.name === 'highway thing');
    assert.ok(taught, 'the class is taught');
    assert.equal(taught.shots.length, keyOf(best) === keyOf(target) ? 1 : 2);
    assert.ok(
      taught.shots.every((shot) => shot.pixels > 0),
      'every shot has the pixels of its region',
    );

    // A teaching mask is a query too: a stroke over the query region's place on this frame.
    await page.getByTestId('tab-teach').click();
    await page.getByTestId('teach-add-frame').click();
    const canvas = page.getByTestId('mask-canvas');
    await canvas.waitFor();
    const maskBox = (await canvas.boundingBox())!;
    const [cx, cy] = [maskBox.x + maskBox.width * query.centre[0], maskBox.y + maskBox.height * query.centre[1]];
    await page.mouse.move(cx - 10, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 10, cy, { steps: 4 });
    await page.mouse.up();
    await page.getByTestId('teach-find-similar').click();
    await page.locator('[data-testid=find-more][data-status=done]').waitFor({ timeout: 120_000 });
    assert.match(await page.getByTestId('find-more-query').innerText(), /teaching mask on frame/);
    assert.ok((await page.getByTestId('result-row').count()) > 0, 'the mask finds regions like it');

    // A lasso in the metric-space view is a query too.
    await page.getByTestId('tab-metric-space').click();
    await page.getByTestId('metric-count').filter({ hasText: '20,000' }).waitFor({ timeout: 60_000 });
    await lassoMiddleOfCloud(page);
    await page.getByTestId('metric-find-similar').click();
    await page.locator('[data-testid=find-more][data-status=done]').waitFor({ timeout: 120_000 });
    assert.match(await page.getByTestId('find-more-query').innerText(), /lassoed points of frame/);
    assert.ok((await page.getByTestId('result-row').count()) > 0, 'the lasso finds regions like it');
    assert.deepEqual(consoleErrors, []);
  },
);
