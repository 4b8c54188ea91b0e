/**
 * Library and analysis figures, side by side in one run (`npm run bench jobs`):
 * - end-to-end analysis (decode -> engine -> maps -> preview -> database) against the engine alone on the same
 *   frames, alternating, medians: the ratio is what the pipeline costs;
 * - timeline and top-100 events of a 100,000-frame synthetic session, straight from the store and through the
 *   API dispatcher (with its contract validation);
 * - resident memory sampled through a long analysis (the val drive looped), to show it stays flat.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDispatcher, handlers } from '../src-main/api/index.js';
import { createApp } from '../src-main/app/create-app.js';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import { DEFAULT_MODEL, openEngine, readModelCard, regionFrameThreshold } from '../src-main/engine/index.js';
import type { Engine, RgbFrame } from '../src-main/engine/types.js';
import { decodeSource, probeSource, type DecodeOutcome } from '../src-main/footage/index.js';
import { runAnalysis } from '../src-main/jobs/pipeline.js';
import { openLibrary } from '../src-main/library/index.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';

// Long enough that starting ffmpeg and filling the pipeline (a fixed ~0.3 s) weigh on the ratio as little as
// on a real drive of thousands of frames: at 60 frames they cost 10-15 points of it.
const FRAMES = Number(process.env.BENCH_JOB_FRAMES ?? 200);
const ROUNDS = Number(process.env.BENCH_JOB_ROUNDS ?? 3);
const LONG_LOOPS = Number(process.env.BENCH_LONG_LOOPS ?? 2);
const SYNTHETIC_FRAMES = 100_000;
const MODEL = process.env.BENCH_MODEL ?? DEFAULT_MODEL;
const valDrive = join(packageRoot(), '..', 'shared', 'datasets', 'camvid', 'footage', '0016E5-val.mp4');

/**
 * CPU seconds used so far by this process and the children it has reaped (ffmpeg): a cost per frame that the
 * other programs sharing the machine do not blur, unlike frames per second. Linux only; elsewhere this process.
 */
function cpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from the state field (3) here.
    return [11, 12, 13, 14].reduce((sum, field) => sum + Number(fields[field]), 0) / 100;
  } catch {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function analyseFile(path: string, library: string): Promise<{ fps: number; frames: number }> {
  const card = await readModelCard(defaultModelsDir(), MODEL);
  const store = await openLibrary(library);
  const session = await store.sessions.create('bench', [await probeSource(path)], null);
  const plan = await store.analyses.create({
    sessionId: session.id,
    modelName: card.name,
    modelSha256: card.sha256,
    knowledgeVersion: null,
    sampleFps: null,
    inputWidth: card.input.width,
    inputHeight: card.input.height,
    classes: card.classes.map((cls) => ({ ...cls, taught: false })),
    threshold: regionFrameThreshold(card),
    pixelThreshold: card.scores.threshold,
    framesTotal: 0,
  });
  await store.close();
  const info = await runAnalysis({ libraryPath: library, modelsDir: defaultModelsDir(), analysisId: plan.id });
  const reopened = await openLibrary(library);
  const { startedAt, finishedAt } = await reopened.analyses.plan(plan.id);
  await reopened.close();
  const seconds = (Date.parse(finishedAt ?? '') - Date.parse(startedAt ?? '')) / 1000;
  return { frames: info.framesDone, fps: info.framesDone / seconds };
}

async function decodedFrames(path: string, width: number, height: number): Promise<RgbFrame[]> {
  const source = { ...(await probeSource(path)), position: 0, offsetMs: 0 };
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const frames: RgbFrame[] = [];
  for await (const frame of decodeSource(source, { width, height, sampleFps: null }, outcome)) frames.push(frame.rgb);
  return frames;
}

/** The engine's best throughput (maps encoded, as #4 defines the full engine): engine.framesInFlight frames at once, as the pipeline does. */
async function analyseInFlight(engine: Engine, frames: RgbFrame[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const frame of frames) {
    pending.push(engine.analyze(frame, { encodeMaps: true }));
    if (pending.length >= engine.framesInFlight) await pending.shift();
  }
  await Promise.all(pending);
}

async function endToEndAgainstEngine(dir: string): Promise<void> {
  const clip = join(dir, 'clip.mp4');
  // The val drive (101 frames) looped as often as it takes.
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-stream_loop',
    '-1',
    '-i',
    valDrive,
    '-frames:v',
    String(FRAMES),
    '-c',
    'copy',
    clip,
  ]);
  const openCpuStart = cpuSeconds();
  const engine = await openEngine(defaultModelsDir(), MODEL);
  // Each end-to-end run opens the model again: its CPU cost is not the pipeline's.
  const openCpuPerFrame = ((cpuSeconds() - openCpuStart) * 1000) / FRAMES;
  const frames = await decodedFrames(clip, engine.inputWidth, engine.inputHeight);
  const engineFps: number[] = [];
  const pipelineFps: number[] = [];
  const engineCpu: number[] = [];
  const pipelineCpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const cpuStart = cpuSeconds();
    await analyseInFlight(engine, frames);
    engineFps.push(frames.length / ((performance.now() - start) / 1000));
    engineCpu.push(((cpuSeconds() - cpuStart) * 1000) / frames.length);
    const pipelineCpuStart = cpuSeconds();
    pipelineFps.push((await analyseFile(clip, join(dir, `e2e-${round}.sqlite`))).fps);
    pipelineCpu.push(((cpuSeconds() - pipelineCpuStart) * 1000) / frames.length);
  }
  await engine.dispose();
  const ratio = median(pipelineFps) / median(engineFps);
  console.log(
    `model ${MODEL}, ${frames.length} frames of ${engine.inputWidth}x${engine.inputHeight}, ${ROUNDS} alternating rounds (medians)`,
  );
  console.log(
    `engine alone (analyze only):               ${median(engineFps).toFixed(2)} fps  [${engineFps.map((v) => v.toFixed(2)).join(', ')}]`,
  );
  console.log(
    `end to end (decode+engine+maps+preview+db): ${median(pipelineFps).toFixed(2)} fps  [${pipelineFps.map((v) => v.toFixed(2)).join(', ')}]`,
  );
  console.log(`end-to-end / engine: ${(ratio * 100).toFixed(1)}% (target >= 90%)`);
  const ownCost = median(pipelineCpu) - openCpuPerFrame - median(engineCpu);
  console.log(
    `CPU per frame (this process + ffmpeg): engine alone ${median(engineCpu).toFixed(0)} ms, end to end ${median(pipelineCpu).toFixed(0)} ms ` +
      `of which ${openCpuPerFrame.toFixed(0)} ms opening the model: the pipeline's own cost is ${ownCost.toFixed(0)} ms a frame ` +
      `(${((ownCost / median(engineCpu)) * 100).toFixed(1)}% of the engine's)`,
  );
}

async function largeSessionQueries(dir: string): Promise<void> {
  const library = join(dir, 'large.sqlite');
  const store = await openLibrary(library);
  const { analysisId, insertSeconds } = await writeSyntheticSession(store, {
    frames: SYNTHETIC_FRAMES,
    frame: driveLikeFrame,
  });
  const eventsStart = performance.now();
  const events = await store.events.recompute(analysisId);
  const recomputeMs = performance.now() - eventsStart;
  await store.analyses.update(analysisId, { status: 'done' });
  await store.close();

  const app = await createApp({ host: 'review-server', libraryPath: library });
  const dispatch = createDispatcher(handlers, app);
  const time = async (work: () => unknown) => {
    await work();
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      await work();
      runs.push(performance.now() - start);
    }
    return median(runs);
  };
  const rows = [
    ['timeline, store', await time(() => app.library.frames.timeline(analysisId))],
    ['timeline, API (validated)', await time(() => dispatch('timeline.get', { analysisId: analysisId }))],
    ['top 100 events, store', await time(() => app.library.events.list(analysisId, 100))],
    ['top 100 events, API', await time(() => dispatch('events.list', { analysisId: analysisId }))],
    ['top 100 frames, API', await time(() => dispatch('frames.top', { analysisId: analysisId, limit: 100 }))],
  ] as const;
  await app.close();
  console.log(
    `${SYNTHETIC_FRAMES} synthetic frames stored in ${insertSeconds.toFixed(1)} s (${(SYNTHETIC_FRAMES / insertSeconds).toFixed(0)} frames/s with 3 x 2 kB blobs); ${events.length} events recomputed in ${recomputeMs.toFixed(0)} ms`,
  );
  for (const [name, ms] of rows) console.log(`${name.padEnd(28)} ${ms.toFixed(1)} ms (median of 7; target <= 50 ms)`);
}

async function memoryThroughLongAnalysis(dir: string): Promise<void> {
  const long = join(dir, 'long.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-stream_loop',
    String(LONG_LOOPS - 1),
    '-i',
    valDrive,
    '-c',
    'copy',
    long,
  ]);
  // Quarters of the run's time, sampled every 250 ms: frames_done is committed in batches, so a quarter by
  // frame count could hold no sample at all on a short run.
  const samples: { at: number; rss: number }[] = [];
  const library = join(dir, 'long.sqlite');
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const timer = setInterval(() => samples.push({ at: performance.now(), rss: process.memoryUsage().rss }), 250);
  const result = await analyseFile(long, library);
  clearInterval(timer);
  const span = performance.now() - start;
  const quarter = (q: number) =>
    Math.max(
      0,
      ...samples
        .filter((sample) => Math.min(3, Math.floor((4 * (sample.at - start)) / span)) === q)
        .map((sample) => sample.rss),
    );
  console.log(
    `long analysis: ${result.frames} frames (val drive x ${LONG_LOOPS}) at ${result.fps.toFixed(2)} fps, in-process`,
  );
  console.log(
    `peak RSS per quarter of the run's time: ${[0, 1, 2, 3].map((q) => mb(quarter(q))).join(', ')}; overall peak ${mb(Math.max(...samples.map((sample) => sample.rss)))}; ${mb(rssBefore)} before it started`,
  );
}

export const jobsBench = {
  name: 'jobs',
  async run(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'dml-bench-jobs-'));
    // Memory first, so that what it reports is the analysis's own and not what the other benchmarks left.
    await memoryThroughLongAnalysis(dir);
    await largeSessionQueries(dir);
    await endToEndAgainstEngine(dir);
  },
};
