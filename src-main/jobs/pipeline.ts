import type { AnalysisInfo } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import { openEngine, type OpenEngineOptions } from '../engine/index.js';
import type { Engine, FrameResult } from '../engine/types.js';
import { decodeSource, expectedFrames, type DecodedFrame, type DecodeOutcome } from '../footage/index.js';
import {
  LibraryStore,
  type AnalysisPlan,
  type ResumePoint,
  type StoredFrame,
  type StoredSource,
} from '../library/index.js';
import { knowledgeForAnalysis } from '../teaching/index.js';
import { BoundedQueue } from './bounded-queue.js';

export interface AnalysisJob {
  libraryPath: string;
  modelsDir: string;
  analysisId: number;
  engine?: OpenEngineOptions;
  /** Frames per database transaction; a crash loses at most one batch, which the resume redoes. */
  batchSize?: number;
}

export interface AnalysisHooks {
  /** Called on every status change and at most about twice a second while frames flow. */
  onProgress?(info: AnalysisInfo): void;
  signal?: AbortSignal;
}

const PROGRESS_INTERVAL_MS = 500;
const QUEUE_CAPACITY = 4;

interface Analysed {
  decoded: DecodedFrame;
  index: number;
  result: FrameResult;
}

/**
 * Runs (or resumes) one analysis: decode -> engine -> maps -> batched writes, each stage a loop joined to the
 * next by a bounded queue. Frames stored before a crash are kept; the decode passes over them, so the run ends
 * with exactly the frames an uninterrupted run would have stored.
 */
export async function runAnalysis(job: AnalysisJob, hooks: AnalysisHooks = {}): Promise<AnalysisInfo> {
  const store = new LibraryStore(job.libraryPath);
  try {
    return await new AnalysisRun(store, job, hooks).run();
  } finally {
    store.close();
  }
}

class AnalysisRun {
  private readonly plan: AnalysisPlan;
  private readonly sources: StoredSource[];
  private readonly problems: string[] = [];
  private readonly timings = { decodeMs: 0, engineMs: 0, writeMs: 0 };
  private framesThisRun = 0;
  private startedAt = 0;
  private lastProgress = 0;

  constructor(
    private readonly store: LibraryStore,
    private readonly job: AnalysisJob,
    private readonly hooks: AnalysisHooks,
  ) {
    this.plan = store.analysisPlan(job.analysisId);
    this.sources = store.sources(this.plan.sessionId);
    if (this.plan.message) this.problems.push(this.plan.message);
  }

  async run(): Promise<AnalysisInfo> {
    let engine: Engine | undefined;
    try {
      this.refuseOldFrameScore();
      engine = await openEngine(this.job.modelsDir, this.plan.modelName, this.job.engine);
      this.refuseChangedModel(engine);
      // The taught classes of the knowledge version this analysis recorded, so a resumed run classifies alike.
      engine.setTaughtClasses(
        knowledgeForAnalysis(this.store.db, this.plan.modelSha256, this.plan.knowledgeVersion).classes,
      );
      this.startedAt = performance.now();
      this.report({ status: 'running', startedAt: new Date().toISOString(), framesTotal: this.estimateTotal() });
      await this.pipeline(engine);
      return this.finish();
    } catch (error) {
      const message =
        error instanceof AppError ? error.message : `Analysis ${this.plan.id} failed: ${errorMessage(error)}`;
      return this.report({ status: 'failed', message, finishedAt: new Date().toISOString(), timings: this.timings });
    } finally {
      await engine?.dispose();
    }
  }

  /** Resuming an analysis begun before regions would mix two frame-score rules on one timeline. */
  private refuseOldFrameScore(): void {
    if (this.plan.frameScore === 'regions') return;
    throw new AppError(
      'analysis_outdated',
      `Analysis ${this.plan.id} was started by an older dmlreview, which scored frames by the 90th percentile of pixel scores: its frames are kept; start a new analysis to score frames by unknown regions`,
    );
  }

  private refuseChangedModel(engine: Engine): void {
    if (engine.modelSha256 === this.plan.modelSha256) return;
    throw new AppError(
      'model_changed',
      `Model ${this.plan.modelName} changed since analysis ${this.plan.id} started (sha256 ${this.plan.modelSha256.slice(0, 12)}... then, ${engine.modelSha256.slice(0, 12)}... now): its frames are kept; start a new analysis to use the current model`,
    );
  }

  private estimateTotal(): number {
    return this.sources.reduce((sum, source) => sum + expectedFrames(source, this.plan.sampleFps), 0);
  }

  private async pipeline(engine: Engine): Promise<void> {
    const decoded = new BoundedQueue<DecodedFrame>(QUEUE_CAPACITY);
    const analysed = new BoundedQueue<Analysed>(QUEUE_CAPACITY);
    const resume = this.store.resumePoint(this.plan.id);
    const stages = [
      this.decodeStage(decoded, resume),
      this.engineStage(engine, decoded, analysed, resume.framesStored),
      this.writeStage(analysed),
    ];
    // One failing stage fails its neighbours' queues, so all three settle and the first error surfaces.
    const results = await Promise.allSettled(stages);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async decodeStage(out: BoundedQueue<DecodedFrame>, resume: ResumePoint): Promise<void> {
    const { framesPerSource, lastTimeMsPerSource } = resume;
    const lastStarted = Math.max(-1, ...framesPerSource.keys());
    try {
      for (const source of this.sources) {
        // Sources before the one a crash interrupted were finished: nothing in them needs decoding again.
        if (source.position < lastStarted) continue;
        const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
        const frames = decodeSource(
          source,
          {
            width: this.plan.inputWidth,
            height: this.plan.inputHeight,
            sampleFps: this.plan.sampleFps,
            skipFrames: framesPerSource.get(source.position) ?? 0,
            lastSkippedMs: lastTimeMsPerSource.get(source.position),
            signal: this.hooks.signal,
          },
          outcome,
        );
        for await (const frame of frames) {
          if (this.hooks.signal?.aborted) break;
          await out.push(frame);
        }
        if (this.hooks.signal?.aborted) break;
        if (outcome.message) this.problems.push(outcome.message);
      }
      out.close();
    } catch (error) {
      out.fail(error);
      throw error;
    }
  }

  private async engineStage(
    engine: Engine,
    input: BoundedQueue<DecodedFrame>,
    out: BoundedQueue<Analysed>,
    firstIndex: number,
  ): Promise<void> {
    let index = firstIndex;
    const inFlight: Promise<Analysed>[] = [];
    const submit = (decoded: DecodedFrame, frameIndex: number) =>
      engine.analyze(decoded.rgb, { encodeMaps: true }).then((result) => ({ decoded, index: frameIndex, result }));
    const deliverOldest = async () => {
      const engineStart = performance.now();
      const analysed = await inFlight.shift()!;
      this.timings.engineMs += performance.now() - engineStart;
      await out.push(analysed);
    };
    try {
      for (;;) {
        const waitStart = performance.now();
        const decoded = await input.pull();
        this.timings.decodeMs += performance.now() - waitStart;
        // On cancel, frames decoded but not analysed are dropped: a resume decodes them again.
        if (!decoded || this.hooks.signal?.aborted) break;
        inFlight.push(submit(decoded, index++));
        if (inFlight.length >= engine.framesInFlight) await deliverOldest();
      }
      while (inFlight.length > 0) await deliverOldest();
      out.close();
    } catch (error) {
      for (const pending of inFlight) pending.catch(() => undefined); // the first failure is the one reported
      out.fail(error);
      input.fail(error);
      throw error;
    }
  }

  private async writeStage(input: BoundedQueue<Analysed>): Promise<void> {
    const batchSize = this.job.batchSize ?? 16;
    let batch: StoredFrame[] = [];
    let lastFlush = performance.now();
    const flush = () => {
      const start = performance.now();
      this.store.writeFrames(this.plan.id, batch);
      this.framesThisRun += batch.length;
      batch = [];
      lastFlush = performance.now();
      this.timings.writeMs += lastFlush - start;
      this.reportThrottled();
    };
    try {
      for (let item = await input.pull(); item; item = await input.pull()) {
        const start = performance.now();
        batch.push(toStoredFrame(item));
        this.timings.writeMs += performance.now() - start;
        // Full batches keep transactions few on fast machines; the time limit keeps progress live on slow ones.
        if (batch.length >= batchSize || performance.now() - lastFlush >= PROGRESS_INTERVAL_MS) flush();
      }
      if (batch.length > 0) flush();
    } catch (error) {
      input.fail(error);
      throw error;
    }
  }

  private finish(): AnalysisInfo {
    const cancelled = this.hooks.signal?.aborted ?? false;
    const done = this.store.analysis(this.plan.id).framesDone;
    const status = cancelled ? 'cancelled' : this.problems.length > 0 ? 'partial' : 'done';
    if (!cancelled) {
      // Before the events, which then put each carried flag into the event holding its frame.
      this.store.carryFlags(this.plan.id);
      this.store.finishEvents(this.plan.id);
    }
    const message = this.problems.length > 0 ? [...new Set(this.problems)].join('; ') : null;
    return this.report({
      status,
      message,
      framesTotal: cancelled ? undefined : done,
      etaSeconds: null,
      finishedAt: new Date().toISOString(),
      timings: this.timings,
    });
  }

  private reportThrottled(): void {
    const now = performance.now();
    if (now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    const info = this.store.analysis(this.plan.id);
    const fps = this.framesThisRun / Math.max(1e-3, (now - this.startedAt) / 1000);
    const left = Math.max(0, info.framesTotal - info.framesDone);
    this.report({
      fps,
      etaSeconds: fps > 0 ? left / fps : null,
      message: this.problems.length ? this.problems.join('; ') : undefined,
      timings: this.timings,
    });
  }

  private report(progress: Parameters<LibraryStore['updateAnalysis']>[1]): AnalysisInfo {
    const info = this.store.updateAnalysis(this.plan.id, progress);
    this.lastProgress = performance.now();
    this.hooks.onProgress?.(info);
    return info;
  }
}

function toStoredFrame({ decoded, index, result }: Analysed): StoredFrame {
  // The engine stage asks for the maps encoded (on the engine's head thread), so they are always there.
  const { mapPngs } = result;
  if (!mapPngs) throw new AppError('internal', `Frame ${index} came back from the engine without its maps`);
  return {
    index,
    sourceIndex: decoded.sourceIndex,
    timeMs: decoded.timeMs,
    score: result.summary.score,
    unknownFraction: result.summary.unknownFraction,
    largestRegion: result.summary.largestRegion,
    classAreas: result.summary.classAreas,
    regions: { mapWidth: result.width, mapHeight: result.height, regions: result.regions },
    classMapPng: mapPngs.classMap,
    oodMapPng: mapPngs.oodMap,
    previewJpeg: decoded.previewJpeg,
  };
}
