// Shared by the review e2e tests: talking to the review server from Node, and reading canvases in the page.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import {
  isAnalysisFinished,
  methods,
  type MethodName,
  type Request,
  type Response,
} from '../../src-shared/contract/index.js';
import { DEFAULT_MODEL } from '../../src-main/engine/index.js';
import { openBrowser, type BrowserSession } from '../helpers/browser.js';
import { repoRoot, startServeProcess } from '../helpers/cli.js';

export const screenshots = join(repoRoot, 'test-output', 'screenshots');

/** The shipped default model when it is there, else the first model card in models/. */
export function e2eModel(): string {
  const dir = join(repoRoot, 'models');
  if (existsSync(join(dir, `${DEFAULT_MODEL}.json`))) return DEFAULT_MODEL;
  const card = readdirSync(dir).find((file) => file.endsWith('.json') && !file.endsWith('.reference.json'));
  if (!card) throw new Error('No model card in models/: the e2e test needs a shipped model');
  return card.slice(0, -'.json'.length);
}

/** The API as the browser sees it, for checking what the UI shows against what is stored. */
export function apiFor(serverUrl: string) {
  const url = new URL(serverUrl);
  const token = url.searchParams.get('token') ?? '';
  return {
    token,
    origin: url.origin,
    async call<M extends MethodName>(method: M, request: Request<M>): Promise<Response<M>> {
      const response = await fetch(`${url.origin}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      if (!response.ok) throw new Error(`${method}: ${response.status} ${await response.text()}`);
      return methods[method].response.parse(await response.json()) as Response<M>;
    },
    async media(path: string): Promise<Buffer> {
      const response = await fetch(`${url.origin}/media/${path}?token=${token}`);
      if (!response.ok) throw new Error(`media ${path}: ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

/** Waits until the viewer shows `frameIndex` (or any frame) fully loaded, and returns the index shown. */
export async function waitForFrame(page: Page, frameIndex?: number): Promise<number> {
  const viewer = page.getByTestId('frame-viewer');
  await page.waitForFunction(
    (wanted) => {
      const element = document.querySelector('[data-testid="frame-viewer"]');
      return (
        element?.getAttribute('data-ready') === 'true' &&
        (wanted === null || element.getAttribute('data-frame-index') === String(wanted))
      );
    },
    frameIndex ?? null,
    { timeout: 20_000 },
  );
  return Number(await viewer.getAttribute('data-frame-index'));
}

/** RGBA pixels of a canvas in the page, as drawn (its own resolution, not the screen's). */
export async function canvasPixels(
  page: Page,
  testId: string,
): Promise<{ width: number; height: number; data: number[] }> {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    if (!context) throw new Error(`no 2d context on ${id}`);
    return {
      width: canvas.width,
      height: canvas.height,
      data: Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data),
    };
  }, testId);
}

/**
 * Drags across the timeline plot from one fraction of its width to another, in steps, at mid height: the
 * threshold line (which a drag near it would move instead) sits elsewhere for the shipped models.
 */
export async function scrubTimeline(page: Page, from: number, to: number, steps = 12): Promise<void> {
  const box = await page.getByTestId('timeline-canvas').boundingBox();
  if (!box) throw new Error('timeline not visible');
  const y = box.y + box.height * 0.5;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps });
  await page.mouse.up();
}

/** Waits until a session has `count` analyses and the newest has stopped (done, failed…); returns the newest. */
export async function newestAnalysisDone(
  api: ReturnType<typeof apiFor>,
  sessionId: number,
  count: number,
): Promise<Response<'analysis.list'>[number]> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const analyses = await api.call('analysis.list', { sessionId });
    const newest = analyses.sort((x, y) => y.id - x.id)[0];
    if (analyses.length >= count && newest && isAnalysisFinished(newest.status)) return newest;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`analysis ${count} of session ${sessionId} did not finish in 5 minutes`);
}

/** Shift+drags a square lasso round the middle half of the metric-space view's cloud. */
export async function lassoMiddleOfCloud(page: Page): Promise<void> {
  const stage = (await page.locator('.metric-stage canvas').first().boundingBox())!;
  const [cx, cy, r] = [stage.x + stage.width / 2, stage.y + stage.height / 2, stage.width / 4];
  await page.keyboard.down('Shift');
  await page.mouse.move(cx - r, cy - r);
  await page.mouse.down();
  for (const [x, y] of [
    [cx + r, cy - r],
    [cx + r, cy + r],
    [cx - r, cy + r],
    [cx - r, cy - r + 1],
  ] as const)
    await page.mouse.move(x, y, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
}

export interface Review {
  server: Awaited<ReturnType<typeof startServeProcess>>;
  browser: BrowserSession;
  api: ReturnType<typeof apiFor>;
  close(): Promise<void>;
}

/** The review server on a library of its own, and a fresh browser to drive it. */
export async function openReview(library: string): Promise<Review> {
  const server = await startServeProcess(['--library', library]);
  const browser = await openBrowser().catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return {
    server,
    browser,
    api: apiFor(server.url),
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}

/**
 * For the tests of one file: a review server on a fresh library in a folder of its own, and a browser, opened
 * before the first test and closed (the folder removed) after the last. Call the returned function in a test.
 */
export function reviewForThisFile(name: string): () => Review {
  const work = mkdtempSync(join(tmpdir(), `dml-${name}-e2e-`));
  let review: Review | undefined;
  before(async () => {
    mkdirSync(screenshots, { recursive: true });
    review = await openReview(join(work, 'library.sqlite'));
  });
  after(async () => {
    await review?.close();
    rmSync(work, { recursive: true, force: true });
  });
  return () => {
    if (!review) throw new Error('The review server and browser did not start (see the before hook)');
    return review;
  };
}
