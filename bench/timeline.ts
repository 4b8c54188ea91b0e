/**
 * `npm run bench -- timeline`: `timeline.get` through the whole API, as the renderer gets it: the dispatcher
 * (handler, contract check, packing), the transport's copy (IPC's structured clone, or the review server's JSON
 * both ways) and the client's decode against the contract. For a synthetic 100,000-frame session, then again
 * in the same app after it ran a real short analysis (the val drive) through the API, and for that analysis.
 * Target: <= 50 ms for 100,000 frames.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { methods } from '../src-shared/contract/index.js';
import { createDispatcher, handlers } from '../src-main/api/index.js';
import { createApp } from '../src-main/app/create-app.js';
import { packageRoot } from '../src-main/core/paths.js';
import { DEFAULT_MODEL } from '../src-main/engine/index.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';
import { openLibrary } from '../src-main/library/index.js';

const FRAMES = Number(process.env.BENCH_TIMELINE_FRAMES ?? 100_000);
const RUNS = Number(process.env.BENCH_TIMELINE_RUNS ?? 15);
const valDrive = join(packageRoot(), '..', 'shared', 'datasets', 'camvid', 'footage', '0016E5-val.mp4');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

type Dispatch = ReturnType<typeof createDispatcher>;
type Transport = (value: unknown) => unknown;

const transports: [string, Transport][] = [
  ['IPC (structured clone)', (value) => structuredClone(value)],
  ['HTTP (JSON)', (value) => JSON.parse(JSON.stringify(value)) as unknown],
];

/** CPU ms this process used so far: on a machine shared with other work, wall time says more about them. */
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * Median ms of each step of one `timeline.get` and of the whole (wall and CPU time), over RUNS calls after one
 * warm-up.
 */
async function timeTimeline(dispatch: Dispatch, analysisId: number, transport: Transport) {
  const steps = {
    dispatch: [] as number[],
    transport: [] as number[],
    decode: [] as number[],
    total: [] as number[],
    cpu: [] as number[],
  };
  let frames = 0;
  for (let run = -1; run < RUNS; run++) {
    const cpuStart = cpuMs();
    const start = performance.now();
    const result = await dispatch('timeline.get', { analysisId });
    const dispatched = performance.now();
    if (!result.ok) throw new Error(`timeline.get failed: ${result.error.message}`);
    const copied = transport(result.value);
    const transported = performance.now();
    frames = methods['timeline.get'].response.parse(copied).timesMs.length;
    const decoded = performance.now();
    if (run < 0) continue;
    steps.dispatch.push(dispatched - start);
    steps.transport.push(transported - dispatched);
    steps.decode.push(decoded - transported);
    steps.total.push(decoded - start);
    steps.cpu.push(cpuMs() - cpuStart);
  }
  return { frames, ...Object.fromEntries(Object.entries(steps).map(([step, runs]) => [step, median(runs)])) } as {
    frames: number;
  } & Record<keyof typeof steps, number>;
}

async function report(what: string, dispatch: Dispatch, analysisId: number): Promise<void> {
  for (const [name, transport] of transports) {
    const ms = await timeTimeline(dispatch, analysisId, transport);
    console.log(
      `${what}, ${ms.frames} frames, ${name}: ${ms.total.toFixed(1)} ms ` +
        `(dispatch ${ms.dispatch.toFixed(1)}, transport ${ms.transport.toFixed(1)}, decode ${ms.decode.toFixed(1)}), ` +
        `${ms.cpu.toFixed(1)} ms CPU; medians of ${RUNS}; target <= 50 ms for 100,000 frames`,
    );
  }
}

async function run(): Promise<void> {
  const libraryPath = join(mkdtempSync(join(tmpdir(), 'dml-bench-timeline-')), 'library.sqlite');
  const store = await openLibrary(libraryPath);
  const synthetic = (await writeSyntheticSession(store, { frames: FRAMES, frame: driveLikeFrame })).analysisId;
  await store.analyses.update(synthetic, { status: 'done' });
  await store.close();
  const app = await createApp({ host: 'review-server', libraryPath });
  try {
    const dispatch = createDispatcher(handlers, app);
    await report('synthetic session', dispatch, synthetic);
    const imported = await dispatch('sessions.import', { paths: [valDrive], analyse: { model: DEFAULT_MODEL } });
    if (!imported.ok) throw new Error(`Importing ${valDrive} failed: ${imported.error.message}`);
    const analysis = (imported.value as { latestAnalysis: { id: number } }).latestAnalysis;
    const done = await app.analyses.queue.waitFor(analysis.id);
    console.log(
      `real analysis of the val drive (${DEFAULT_MODEL}): ${done.status}, ${done.framesDone} frames` +
        (done.message ? ` (${done.message})` : ''),
    );
    await report('synthetic session, after the analysis', dispatch, synthetic);
    await report('the real analysis', dispatch, analysis.id);
  } finally {
    await app.close();
  }
}

export const timelineBench = { name: 'timeline', run };
