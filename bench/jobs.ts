/**
 * Library and analysis figures, side by side in one run (`npm run bench jobs`):
 * - end-to-end analysis (decode -> engine -> maps -> preview -> database) against the engine alone on the same
 *   frames, alternating, medians: the ratio is what the pipeline costs, in frames per second and in CPU per
 *   frame by thread group (thread-cpu.ts), which other programs' load moves far less;
 * - timeline and top-100 events of a 100,000-frame synthetic session, straight from the store and through the
 *   API dispatcher (with its contract validation);
 * - resident memory sampled through a long analysis (the val drive looped), to show it stays flat.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDispatcher, handlers } from '../src-main/api/index.js';
import { createApp } from '../src-main/app/create-app.js';
import { sqliteNativeBinding } from '../src-main/core/native.js';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import { DEFAULT_MODEL, openEngine, readModelCard, regionFrameThreshold } from '../src-main/engine/index.js';
import type { Engine, RgbFrame } from '../src-main/engine/types.js';
import { decodeSource, probeSource, type DecodeOutcome } from '../src-main/footage/index.js';
import { ANALYZE_OPTIONS, runAnalysis } from '../src-main/jobs/pipeline.js';
import type { AnalysisInfo } from '../src-shared/contract/index.js';
import { cpuAccountingWorks, cpuBetween, cpuSnapshot, type CpuBreakdown, type CpuSnapshot } from './thread-cpu.js';
import { openLibrary } from '../src-main/library/index.js';
import { loopedValDrive } from '../test/helpers/clips.js';
import { driveLikeFrame, writeSyntheticSession } from '../test/helpers/synthetic-library.js';

// Long enough that starting ffmpeg and filling the pipeline (a fixed ~0.3 s) weigh on the ratio as little as
// on a real drive of thousands of frames: at 60 frames they cost 10-15 points of it.
const FRAMES = Number(process.env.BENCH_JOB_FRAMES ?? 200);
const ROUNDS = Number(process.env.BENCH_JOB_ROUNDS ?? 3);
const LONG_LOOPS = Number(process.env.BENCH_LONG_LOOPS ?? 2);
const SYNTHETIC_FRAMES = 100_000;
const MODEL = process.env.BENCH_MODEL ?? DEFAULT_MODEL;
/** Which parts to run, comma-separated: memory, queries, ratio (the end-to-end comparison). */
const PARTS = (process.env.BENCH_JOB_PARTS ?? 'memory,queries,ratio').split(',');
const valDrive = join(packageRoot(), '..', 'shared', 'datasets', 'camvid', 'footage', '0016E5-val.mp4');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

interface Measured {
  fps: number;
  frames: number;
  /** CPU ms per frame by where it went, from the first frame on (opening the model excluded). */
  cpu: CpuBreakdown;
  /** Of the main thread's: the pipeline's batched database writes (wall ms per frame, mostly CPU). */
  writeMs?: number;
}

async function analyseFile(path: string, library: string): Promise<Measured> {
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
  const before = cpuSnapshot();
  let running: CpuSnapshot | undefined;
  // The run reports 'running' once its engine is loaded and warmed up, and stamps startedAt then: the CPU
  // window opens at the same moment as the frame rate's.
  const onProgress = (info: AnalysisInfo) => {
    if (info.status === 'running' && !running) running = cpuSnapshot();
  };
  const info = await runAnalysis(
    { libraryPath: library, modelsDir: defaultModelsDir(), analysisId: plan.id },
    { onProgress },
  );
  const after = cpuSnapshot();
  const { startedAt, finishedAt, writeMs } = storedTimes(library, plan.id);
  const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
  const frames = info.framesDone;
  return {
    frames,
    fps: frames / seconds,
    cpu: perFrame(cpuBetween(before, running ?? before, after), frames),
    writeMs: writeMs / frames,
  };
}

/** When the run started and ended, and the time its database writes took, as it stored them. */
function storedTimes(library: string, analysisId: number): { startedAt: string; finishedAt: string; writeMs: number } {
  const db = new Database(library, { readonly: true, nativeBinding: sqliteNativeBinding() });
  try {
    const row = db
      .prepare(
        'SELECT started_at AS startedAt, finished_at AS finishedAt, write_ms AS writeMs FROM analyses WHERE id = ?',
      )
      .get(analysisId);
    return row as { startedAt: string; finishedAt: string; writeMs: number };
  } finally {
    db.close();
  }
}

function perFrame(cpu: CpuBreakdown, frames: number): CpuBreakdown {
  return {
    main: cpu.main / frames,
    started: cpu.started / frames,
    helpers: cpu.helpers / frames,
    children: cpu.children / frames,
  };
}

async function decodedFrames(path: string, width: number, height: number): Promise<RgbFrame[]> {
  const source = { ...(await probeSource(path)), position: 0, offsetMs: 0 };
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const frames: RgbFrame[] = [];
  for await (const frame of decodeSource(source, { width, height, sampleFps: null }, outcome)) frames.push(frame.rgb);
  return frames;
}

/**
 * The engine's best throughput, asked exactly what an analysis asks (ANALYZE_OPTIONS: maps encoded as #4
 * defines the full engine, frames lent and given back), with engine.framesInFlight frames at once as the
 * pipeline keeps them.
 */
async function analyseInFlight(engine: Engine, frames: RgbFrame[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (const [index, frame] of frames.entries()) {
    pending.push(
      engine.analyze(frame, ANALYZE_OPTIONS).then((result) => {
        if (result.lentFrame) frames[index] = result.lentFrame;
      }),
    );
    if (pending.length >= engine.framesInFlight) await pending.shift();
  }
  await Promise.all(pending);
}

/**
 * The engine alone on a fresh engine, as each analysis opens one: the same warm-up (openEngine's one frame)
 * and the same young threads, whose code V8 is still optimising and whose heaps are still growing.
 */
async function engineAlone(frames: RgbFrame[]): Promise<Measured> {
  const before = cpuSnapshot();
  const engine = await openEngine(defaultModelsDir(), MODEL);
  try {
    const from = cpuSnapshot();
    const start = performance.now();
    await analyseInFlight(engine, frames);
    const fps = frames.length / ((performance.now() - start) / 1000);
    return { fps, frames: frames.length, cpu: perFrame(cpuBetween(before, from, cpuSnapshot()), frames.length) };
  } finally {
    await engine.dispose();
  }
}

async function endToEndAgainstEngine(dir: string): Promise<void> {
  const clip = loopedValDrive(dir, FRAMES);
  const card = await readModelCard(defaultModelsDir(), MODEL);
  const frames = await decodedFrames(clip, card.input.width, card.input.height);
  const alone: Measured[] = [];
  const endToEnd: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    alone.push(await engineAlone(frames));
    endToEnd.push(await analyseFile(clip, join(dir, `e2e-${round}.sqlite`)));
  }
  const fps = (runs: Measured[]) => median(runs.map((run) => run.fps));
  const list = (runs: Measured[]) => runs.map((run) => run.fps.toFixed(2)).join(', ');
  console.log(
    `model ${MODEL}, ${frames.length} frames of ${card.input.width}x${card.input.height}, default engine threads and lanes, ${ROUNDS} alternating rounds (medians)`,
  );
  console.log(`engine alone (same frames, same requests):  ${fps(alone).toFixed(2)} fps  [${list(alone)}]`);
  console.log(`end to end (decode+engine+maps+preview+db): ${fps(endToEnd).toFixed(2)} fps  [${list(endToEnd)}]`);
  console.log(`end-to-end / engine: ${((fps(endToEnd) / fps(alone)) * 100).toFixed(1)}% (target >= 90%)`);
  if (cpuAccountingWorks) printCpuBreakdown(alone, endToEnd);
}

const total = (run: Measured) => run.cpu.started + run.cpu.helpers + run.cpu.main + run.cpu.children;

/** CPU ms per frame, the median of each row, side by side: what the pipeline adds to the engine's own work. */
function printCpuBreakdown(alone: Measured[], endToEnd: Measured[]): void {
  const rows: [string, (run: Measured) => number][] = [
    ['engine threads (lanes: model; heads: metric head, regions, PNG maps)', (run) => run.cpu.started],
    ['V8 helper threads (garbage collection for every thread, compiling)', (run) => run.cpu.helpers],
    ['main thread (reading ffmpeg, passing frames on, SQLite)', (run) => run.cpu.main],
    ['  of which database writes (wall time)', (run) => run.writeMs ?? 0],
    ['ffmpeg (decode, RGB at the model size, preview JPEG)', (run) => run.cpu.children],
    ['total', total],
  ];
  console.log(`CPU ms per frame (median of ${alone.length} rounds)`.padEnd(74) + 'engine alone  end to end  added');
  for (const [name, value] of rows) {
    const [a, b] = [median(alone.map(value)), median(endToEnd.map(value))];
    const cells = [a.toFixed(1).padStart(12), b.toFixed(1).padStart(12), (b - a).toFixed(1).padStart(7)];
    console.log(`  ${name.padEnd(72)}${cells.join('')}`);
  }
  // With every core busy, as an analysis keeps 2 cores, frames per second go as 1 / CPU per frame: this ratio is
  // what the fps ratio comes to on an otherwise idle machine, and other programs' load does not move it.
  const ratio = median(alone.map(total)) / median(endToEnd.map(total));
  console.log(
    `end-to-end / engine by CPU per frame (engine alone's total / end to end's): ${(ratio * 100).toFixed(1)}%`,
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
    if (PARTS.includes('memory')) await memoryThroughLongAnalysis(dir);
    if (PARTS.includes('queries')) await largeSessionQueries(dir);
    if (PARTS.includes('ratio')) await endToEndAgainstEngine(dir);
  },
};
