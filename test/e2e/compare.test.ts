import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Locator } from 'playwright-core';
import type { AnalysisInfo, EventInfo, SessionInfo } from '../../src-shared/contract/index.js';
import { repoRoot } from '../helpers/cli.js';
import { e2eModel, newestAnalysisDone, reviewForThisFile, screenshots, waitForFrame } from './review-helpers.js';

// The compare screen on the highway clip analysed twice, by the default model and by camvid-open, every frame:
// one playhead for both sides, and the events of each told apart by time overlap.
const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const secondModel = 'camvid-open';
const review = reviewForThisFile('compare');
let session: SessionInfo;
let first: AnalysisInfo;

const finished = (sessionId: number, count: number) => newestAnalysisDone(review().api, sessionId, count);

/** Events at this analysis's median score, without persistence or merging: several short runs on this clip. */
async function eventsAtMedian(analysisId: number): Promise<EventInfo[]> {
  const { scores } = await review().api.call('timeline.get', { analysisId });
  const sorted = Array.from(scores).sort((x, y) => x - y);
  const threshold = Math.round(sorted[Math.floor(sorted.length / 2)]! * 1000) / 1000;
  const settings = { threshold, hysteresis: 0, minGapMs: 0, minFrames: 1, minDurationMs: 0 };
  return (await review().api.call('events.list', { analysisId, settings })).events;
}

const overlapsAny = (event: EventInfo, others: EventInfo[]) =>
  others.some((other) => event.startMs <= other.endMs && other.startMs <= event.endMs);
const spans = (events: EventInfo[]) => events.map((event) => `${event.startMs}-${event.endMs}`).sort();

async function rowsOfKind(kind: string): Promise<string[]> {
  const rows = review().browser.page.locator(`[data-testid=difference-row][data-kind=${kind}]`);
  const found: string[] = [];
  for (const row of await rows.all())
    found.push(`${await row.getAttribute('data-start-ms')}-${await row.getAttribute('data-end-ms')}`);
  return found.sort();
}

/** Drags across a side's timeline from one fraction of its width to another, along its time axis (never on the threshold line, which a drag would move). */
async function scrub(side: Locator, from: number, to: number): Promise<void> {
  const { page } = review().browser;
  const box = await side.getByTestId('timeline-canvas').boundingBox();
  if (!box) throw new Error('timeline not visible');
  const y = box.y + box.height - 8;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps: 10 });
  await page.mouse.up();
}

/**
 * The time each side's HUD shows and the screen's playhead time, read in one task once the screen has settled:
 * both viewers have loaded the frame their HUD names, and nothing has changed for a few animation frames. React
 * renders a pointer move's or a key's update in a later task, so a read straight after an input can catch the
 * screen between two renders. After an input that moves the playhead, `movedFrom` is the screen time before it.
 */
async function shownTimes(movedFrom?: number): Promise<{ a: number; b: number; screen: number }> {
  // No named functions inside: the page has no `__name`, which tsx adds to them.
  return review().browser.page.evaluate(async (previous) => {
    const settledFrames = 3;
    const deadline = performance.now() + 30_000;
    let last = '';
    let unchanged = 0;
    while (performance.now() < deadline) {
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const [a, b] = ['a', 'b'].map((side) => {
        const root = document.querySelector(`[data-testid=compare-side-${side}]`);
        const hud = root?.querySelector('[data-testid=compare-hud]');
        const viewer = root?.querySelector('[data-testid=frame-viewer]');
        const loaded =
          viewer?.getAttribute('data-ready') === 'true' &&
          viewer.getAttribute('data-frame-index') === hud?.getAttribute('data-frame-index');
        return { timeMs: Number(hud?.getAttribute('data-time-ms')), loaded };
      });
      const screen = Number(document.querySelector('[data-testid=compare-screen]')?.getAttribute('data-time-ms'));
      const now = { a: a!.timeMs, b: b!.timeMs, screen };
      const key = JSON.stringify(now);
      const settled = key === last && a!.loaded && b!.loaded && screen !== previous;
      unchanged = settled ? unchanged + 1 : 0;
      last = key;
      if (unchanged >= settledFrames) return now;
    }
    throw new Error(`the compare screen did not settle within 30 s (last seen ${last}, moved from ${previous})`);
  }, movedFrom ?? Number.NaN);
}

test('a drive with one analysis says compare needs two', { timeout: 400_000 }, async () => {
  const { api, browser, server } = review();
  const { page } = browser;
  session = await api.call('sessions.import', { paths: [highway], analyse: { model: e2eModel(), sampleFps: null } });
  first = await finished(session.id, 1);
  assert.equal(first.status, 'done', first.message ?? '');
  await page.goto(`${server.url}#/session/${session.id}`);
  await waitForFrame(page);
  assert.equal(await page.getByTestId('compare-open').isDisabled(), true, 'nothing to compare with yet');
  await page.goto(`${server.url}#/session/${session.id}/compare`);
  await page.locator('[data-testid=compare-screen][data-state=too-few]').waitFor();
  assert.match(await page.getByTestId('compare-screen').innerText(), /needs two analyses.*has one/s);
  await page.screenshot({ path: join(screenshots, 'compare-too-few.png') });
});

test('two analyses side by side share one playhead and list the events each found', { timeout: 400_000 }, async () => {
  const { api, browser, server } = review();
  const { page, consoleErrors } = browser;
  await api.call('analysis.start', { sessionId: session.id, model: secondModel, sampleFps: null });
  const second = await finished(session.id, 2);
  assert.equal(second.status, 'done', second.message ?? '');
  const eventsA = await eventsAtMedian(first.id);
  const eventsB = await eventsAtMedian(second.id);

  // From the session screen, which shows the newest analysis: it becomes B, the one before it A.
  await page.goto(`${server.url}#/session/${session.id}`);
  await waitForFrame(page);
  await page.getByTestId('compare-open').click();
  await page.getByTestId('event-difference').waitFor();
  const sideA = page.getByTestId('compare-side-a');
  const sideB = page.getByTestId('compare-side-b');
  assert.equal(await sideA.getAttribute('data-analysis-id'), String(first.id));
  assert.equal(await sideB.getAttribute('data-analysis-id'), String(second.id));

  // The difference list against one computed here from the stored events: A's events overlapping none of
  // B's are "only A", and the other way round; every stretch found by both holds events of both.
  assert.deepEqual(await rowsOfKind('only-a'), spans(eventsA.filter((event) => !overlapsAny(event, eventsB))));
  assert.deepEqual(await rowsOfKind('only-b'), spans(eventsB.filter((event) => !overlapsAny(event, eventsA))));
  const matchedA = eventsA.filter((event) => overlapsAny(event, eventsB));
  const bothRows = (await rowsOfKind('both')).map((span) => span.split('-').map(Number) as [number, number]);
  for (const event of matchedA)
    assert.ok(
      bothRows.some(([start, end]) => event.startMs >= start && event.endMs <= end),
      `A's event ${event.startMs}-${event.endMs} lies in a stretch found by both`,
    );
  assert.ok(bothRows.length <= matchedA.length && (matchedA.length === 0) === (bothRows.length === 0));
  const summary = await page.getByTestId('difference-summary').innerText();
  assert.match(summary, new RegExp(`A has ${eventsA.length} events?, B ${eventsB.length} events?`));
  assert.match(summary, new RegExp(`${bothRows.length} in both`));
  await page.screenshot({ path: join(screenshots, 'compare.png') });

  // Scrubbing A's timeline moves B to the same time, and the other way round.
  const start = await shownTimes();
  await scrub(sideA, 0.1, 0.7);
  const afterA = await shownTimes(start.screen);
  assert.ok(afterA.a > start.a, `scrubbing moved the playhead (${start.a} -> ${afterA.a} ms)`);
  assert.deepEqual([afterA.a, afterA.b], [afterA.screen, afterA.screen], 'both sides show the playhead time');
  await scrub(sideB, 0.6, 0.2);
  const afterB = await shownTimes(afterA.screen);
  assert.ok(afterB.b < afterA.b, 'scrubbing B moved the playhead back');
  assert.deepEqual([afterB.a, afterB.b], [afterB.screen, afterB.screen]);

  // A row of the list moves both to the start of its stretch.
  const row = page.getByTestId('difference-row').last();
  const rowStart = Number(await row.getAttribute('data-start-ms'));
  await row.click();
  const atRow = await shownTimes(rowStart === afterB.screen ? undefined : afterB.screen);
  assert.deepEqual([atRow.a, atRow.b], [rowStart, rowStart]);

  // Playing from the start moves both on together.
  await page.keyboard.press('Home');
  await page.getByTestId('play').click();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=compare-screen]')?.getAttribute('data-time-ms')) > 400,
  );
  await page.keyboard.press('k');
  const played = await shownTimes();
  assert.ok(played.screen > 400, `playback moved the playhead to ${played.screen} ms`);
  assert.deepEqual([played.a, played.b], [played.screen, played.screen]);

  // Swapping puts B on the left.
  await page.getByTestId('compare-swap').click();
  await page.locator(`[data-testid=compare-side-a][data-analysis-id="${second.id}"]`).waitFor();
  // The list is withdrawn while both sides read their events again; its summary comes back with the counts swapped.
  await page
    .getByTestId('difference-summary')
    .filter({ hasText: new RegExp(`A has ${eventsB.length} events?, B ${eventsA.length} events?`) })
    .waitFor();
  assert.deepEqual(await rowsOfKind('only-a'), spans(eventsB.filter((event) => !overlapsAny(event, eventsA))));
  assert.deepEqual(consoleErrors, []);
});
