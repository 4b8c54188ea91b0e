import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  mediaPaths,
  methods,
  type AnalysisInfo,
  type FrameRegions,
  type MethodName,
  encodeRle,
  type SessionInfo,
  type SimilarAnswer,
  type Timeline,
} from '../../src-shared/contract/index.js';
import { componentBoxes, labelComponents } from '../../src-main/engine/index.js';
import { createDispatcher, handlers } from '../../src-main/api/index.js';
import type { AppContext } from '../../src-main/api/context.js';
import { createApp } from '../../src-main/app/create-app.js';
import { clip, tempDir } from '../helpers/clips.js';

const dir = tempDir('dml-api-');
let context: AppContext;
let dispatch: ReturnType<typeof createDispatcher>;
let session: SessionInfo;
let analysis: AnalysisInfo;
const progress: AnalysisInfo[] = [];

async function call<T>(method: MethodName, request: unknown): Promise<T> {
  const result = await dispatch(method, request);
  if (!result.ok) throw new Error(`${method}: ${result.error.code} ${result.error.message}`);
  // As a client reads it: checked against the contract, packed arrays unpacked.
  return methods[method].response.parse(result.value) as T;
}

before(async () => {
  context = await createApp({ host: 'review-server', libraryPath: join(dir, 'library.sqlite') });
  dispatch = createDispatcher(handlers, context);
  context.notifications.subscribe((name, payload) => {
    if (name === 'analysis.progress') progress.push(payload as AnalysisInfo);
  });
  const drive = clip(dir, 'drive.mp4', 6, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  session = await call<SessionInfo>('sessions.import', {
    paths: [drive],
    analyse: { model: 'camvid-open', sampleFps: null },
  });
  analysis = session.latestAnalysis!;
  const done = await context.analyses.queue.waitFor(analysis.id);
  assert.equal(done.status, 'done');
});

after(() => context.close());

test('import with analyse runs the analysis and reports progress on the event bus', async () => {
  assert.equal(session.sources.length, 1);
  assert.deepEqual([session.width, session.height, session.durationMs], [480, 360, 6000]);
  assert.equal(progress.at(-1)?.status, 'done');
  assert.ok(progress.some((info) => info.status === 'running'));
  const sessions = await call<SessionInfo[]>('sessions.list', {});
  assert.equal(sessions[0]?.latestAnalysis?.framesDone, 6);
});

test('timeline, frames and top frames answer from the stored analysis', async () => {
  const timeline = await call<Timeline>('timeline.get', { analysisId: analysis.id });
  assert.deepEqual(timeline.timesMs, Float64Array.of(0, 1000, 2000, 3000, 4000, 5000));
  const top = await call<{ total: number; frames: { index: number; score: number }[] }>('frames.top', {
    analysisId: analysis.id,
    limit: 3,
  });
  assert.equal(top.total, 6);
  assert.equal(top.frames[0]!.score, Math.max(...timeline.scores));
  const frame = await call<{ index: number; timeMs: number }>('frames.get', { analysisId: analysis.id, frameIndex: 4 });
  assert.deepEqual([frame.index, frame.timeMs], [4, 4000]);
  const missing = await dispatch('frames.get', { analysisId: analysis.id, frameIndex: 99 });
  assert.ok(!missing.ok && missing.status === 404);
});

test('frames.regions gives the stored regions of a frame, largest first, in map pixels', async () => {
  const answer = await call<FrameRegions>('frames.regions', { analysisId: analysis.id, frameIndex: 2 });
  assert.deepEqual([answer.hasRegions, answer.mapWidth, answer.mapHeight], [true, 480, 360]);
  assert.ok(answer.regions.length > 0, 'a val frame has unknown regions');
  for (const [i, region] of answer.regions.entries()) {
    if (i > 0) assert.ok(answer.regions[i - 1]!.pixels >= region.pixels, 'largest first');
    assert.ok(region.x + region.width <= 480 && region.y + region.height <= 360);
  }
  const frame = await call<{ score: number }>('frames.get', { analysisId: analysis.id, frameIndex: 2 });
  assert.equal(frame.score, Math.max(0, ...answer.regions.map((region) => region.score)));
  const missing = await dispatch('frames.regions', { analysisId: analysis.id, frameIndex: 99 });
  assert.ok(!missing.ok && missing.status === 404);
});

test('event persistence settings out of range are refused by the contract', async () => {
  const result = await dispatch('events.list', {
    analysisId: analysis.id,
    settings: { threshold: 0.5, hysteresis: 0, minGapMs: 0, minFrames: 0, minDurationMs: 0 },
  });
  assert.ok(!result.ok && result.error.code === 'invalid_request' && /minFrames/.test(result.error.message));
});

test('events.list recomputes with new settings; flags attach to frames and events', async () => {
  const all = await call<{ events: { id: number; frameCount: number }[] }>('events.list', {
    analysisId: analysis.id,
    settings: { threshold: 0, hysteresis: 0, minGapMs: 0 },
  });
  assert.deepEqual(
    all.events.map((event) => event.frameCount),
    [6],
  );
  const flag = await call<{ id: number; frameIndex: number; eventId: number }>('flags.add', {
    analysisId: analysis.id,
    eventId: all.events[0]!.id,
    note: 'check',
  });
  assert.equal(flag.eventId, all.events[0]!.id);
  const stored = await call<{ settings: { threshold: number } }>('events.list', { analysisId: analysis.id });
  assert.equal(stored.settings.threshold, 0);
  const flags = await call<{ id: number }[]>('flags.list', { sessionId: session.id });
  assert.deepEqual(
    flags.map((entry) => entry.id),
    [flag.id],
  );
  await call('flags.update', { flagId: flag.id, category: 'false-alarm' });
  await call('flags.remove', { flagId: flag.id });
  assert.deepEqual(await call('flags.list', { sessionId: session.id }), []);
});

test('similar.find: an outlined region, and a mask of the same pixels, find the same regions at the same distances', async () => {
  let query: { frameIndex: number; region: FrameRegions['regions'][number] } | undefined;
  for (let frameIndex = 0; frameIndex < 6 && !query; frameIndex++) {
    const stored = await call<FrameRegions>('frames.regions', { analysisId: analysis.id, frameIndex });
    const region = stored.regions[0];
    if (region && region.pixels >= 500) query = { frameIndex, region };
  }
  assert.ok(query, 'a frame of the clip with an unknown region of 500 pixels or more');
  const { frameIndex, region } = query;
  const byRegion = await call<SimilarAnswer>('similar.find', {
    analysisId: analysis.id,
    frameIndex,
    query: { kind: 'region', regionIndex: 0 },
    limit: 20,
  });
  assert.deepEqual(byRegion.query.box, { x: region.x, y: region.y, width: region.width, height: region.height });
  assert.equal(byRegion.query.regionIndex, 0);
  assert.ok(byRegion.results.length > 0);
  assert.ok(byRegion.results.every((result) => result.frameIndex !== frameIndex && result.sessionId === session.id));
  const distances = byRegion.results.map((result) => result.distance);
  assert.deepEqual(
    distances,
    [...distances].sort((a, b) => a - b),
  );
  // The region's own pixels as a mask: the model runs again and their mean embedding is the query.
  const png = PNG.sync.read((await context.library.frames.map(analysis.id, frameIndex, 'class_map'))!);
  const unknown = Uint8Array.from({ length: png.width * png.height }, (_, i) => (png.data[i * 4] === 255 ? 1 : 0));
  const labels = labelComponents(unknown, 1, png.width, png.height);
  const boxes = componentBoxes(labels, png.width, png.height);
  const label = boxes.findIndex((box) => box.pixels === region.pixels && box.x === region.x && box.y === region.y) + 1;
  const mask = encodeRle(
    Array.from(labels.labels, (value) => (value === label ? 1 : 0)),
    png.width,
    png.height,
  );
  const byMask = await call<SimilarAnswer>('similar.find', {
    analysisId: analysis.id,
    frameIndex,
    query: { kind: 'mask', mask },
    limit: 20,
  });
  assert.equal(byMask.query.pixels, region.pixels);
  const key = (result: SimilarAnswer['results'][number]) => `${result.frameIndex}:${result.regionIndex}`;
  const maskDistance = new Map(byMask.results.map((result) => [key(result), result.distance]));
  // The stored query mean is int8 (a step of 1/127 of its largest value): distances agree within a few hundredths.
  for (const result of byRegion.results.slice(0, 5))
    assert.ok(Math.abs(maskDistance.get(key(result))! - result.distance) < 0.05 * byRegion.similarityScale);
});

test('media routes serve the preview, both maps and the session thumbnail', async () => {
  const preview = await context.media.resolve(mediaPaths.frame(analysis.id, 2));
  assert.equal(preview?.contentType, 'image/jpeg');
  assert.equal(jpeg.decode(preview.body).width, 480);
  const classMap = await context.media.resolve(mediaPaths.classMap(analysis.id, 2));
  assert.equal(PNG.sync.read(classMap!.body).height, 360);
  assert.equal((await context.media.resolve(mediaPaths.oodMap(analysis.id, 2)))?.contentType, 'image/png');
  const thumbnail = await context.media.resolve(mediaPaths.thumbnail(session.id));
  assert.equal(jpeg.decode(thumbnail!.body).width, 320);
  assert.equal(await context.media.resolve(mediaPaths.frame(analysis.id, 99)), undefined);
});

test('importing a file that is not a video is a clear error and adds no session', async () => {
  const result = await dispatch('sessions.import', { paths: [join(dir, 'missing.mp4')] });
  assert.ok(
    !result.ok &&
      result.error.code === 'footage_unreadable' &&
      /missing\.mp4 does not exist/.test(result.error.message),
  );
  assert.equal((await call<SessionInfo[]>('sessions.list', {})).length, 1);
});

test('deleting a session removes it and its analyses', async () => {
  await call('sessions.delete', { sessionId: session.id });
  assert.deepEqual(await call('sessions.list', {}), []);
  const gone = await dispatch('analysis.list', { sessionId: session.id });
  assert.ok(!gone.ok && gone.status === 404);
});
