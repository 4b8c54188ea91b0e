import { isAnalysisFinished, type AnalysisInfo } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import { openEngine, type OpenEngineOptions } from '../engine/index.js';
import type { AnalyzeOptions, Engine, FrameResult } from '../engine/types.js';
import {
  decodeSource,
  expectedFrames,
  FrameBuffers,
  type DecodedFrame,
  type DecodeOutcome,
  type FootageSource,
} from '../footage/index.js';
import {
  CHUNK_INDEX_STRIDE,
  HEARTBEAT_MS,
  libraryError,
  newOwner,
  openLibrary,
  type AnalysisPlan,
  type AnalysisProgress,
  type ChunkPlan,
  type Library,
  type Owner,
  type ResumePoint,
  type StoredFrame,
} from '../library/index.js';
import { BoundedQueue } from './bounded-queue.js';

export interface AnalysisJob {
  libraryPath: string;
  modelsDir: string;
  analysisId: number;
  engine?: OpenEngineOptions;
  /** Frames per database transaction; a crash loses at most one batch, which the resume redoes. */
  batchSize?: number;
  /** Who claims the analysis; the job queue passes one so that it can release the claim if the worker dies. */
  owner?: Owner;
  /**
   * Only this chunk of the analysis (a fleet worker's job, jobs/fleet): its frames, stored in its own index
   * range under the chunk's lease. The analysis is not ended here: the fleet ends it when its last chunk is done.
   */
  chunk?: ChunkPlan;
}

/** What opens the engine: openEngine, or a stand-in a benchmark gives (jobs/fleet runWorker). */
export type EngineFactory = typeof openEngine;

export interface AnalysisHooks {
  /** Called on every status change and at most about twice a second while frames flow. */
  onProgress?(info: AnalysisInfo): void;
  /** Cancels the analysis: it ends `cancelled`. */
  signal?: AbortSignal;
  /** Stops the run as a lost claim does: the frames in flight are stored, nothing else is marked (a worker's SIGTERM). */
  interrupt?: AbortSignal;
  openEngine?: EngineFactory;
}

/**
 * What an analysis asks of the engine for each frame: the maps as PNGs (stored as they are), and the frame's
 * buffer lent rather than copied, to be read into again. The jobs benchmark measures the engine alone with the same.
 */
export const ANALYZE_OPTIONS: AnalyzeOptions = { encodeMaps: true, lendFrame: true };

const PROGRESS_INTERVAL_MS = 500;
const QUEUE_CAPACITY = 4;

interface Analysed {
  decoded: DecodedFrame;
  index: number;
  result: FrameResult;
}

/** Another process took the analysis over (this one looked stopped to it): this run stops and writes nothing. */
class OwnershipLost extends Error {}

/**
 * Runs (or resumes) one analysis: decode -> engine -> maps -> batched writes, each stage a loop joined to the
 * next by a bounded queue. Frames stored before a crash are kept; the decode passes over them, so the run ends
 * with exactly the frames an uninterrupted run would have stored. The run first claims the analysis (see
 * library/ownership.ts) and throws AnalysisOwnedError, storing nothing, when another live process runs it.
 */
export async function runAnalysis(job: AnalysisJob, hooks: AnalysisHooks = {}): Promise<AnalysisInfo> {
  const store = await openLibrary(job.libraryPath);
  try {
    return await runOn(store, job, hooks);
  } finally {
    await store.close();
  }
}

/**
 * Runs (or resumes) one chunk of an analysis on an open library (a fleet worker's), under the chunk's lease.
 * Returns the analysis as it stands; the chunk's record says whether it is done. Throws what stopped it (a
 * source that cannot be read, say), storing nothing about it: the fleet decides whether it is tried again.
 */
export function runChunk(
  store: Library,
  job: Omit<AnalysisJob, 'libraryPath'> & { chunk: ChunkPlan },
  hooks: AnalysisHooks = {},
): Promise<AnalysisInfo> {
  return runOn(store, { ...job, libraryPath: store.path }, hooks);
}

async function runOn(store: Library, job: AnalysisJob, hooks: AnalysisHooks): Promise<AnalysisInfo> {
  return (await AnalysisRun.prepare(store, job, hooks)).run();
}

/** The claim a run holds while it writes: the whole analysis's owner (ownership.ts) or a chunk's lease (chunks.ts). */
interface Claim {
  /** Throws AnalysisOwnedError or ChunkOwnedError when a live process holds it; false: nothing is left to run. */
  take(): Promise<boolean>;
  beat(): Promise<boolean>;
  holds(): Promise<boolean>;
  release(): Promise<void>;
}

function analysisClaim(store: Library, analysisId: number, owner: Owner): Claim {
  return {
    take: async () => {
      await store.owners.claim(analysisId, owner);
      return true;
    },
    beat: () => store.owners.beat(analysisId, owner.token),
    holds: () => store.owners.holds(analysisId, owner.token),
    release: () => store.owners.release(analysisId, owner.token),
  };
}

function chunkClaim(store: Library, analysisId: number, chunk: number, owner: Owner): Claim {
  return {
    take: async () => (await store.chunks.claim(analysisId, chunk, owner)).status !== 'done',
    beat: () => store.chunks.beat(analysisId, chunk, owner.token),
    holds: () => store.chunks.holds(analysisId, chunk, owner.token),
    release: () => store.chunks.release(analysisId, chunk, owner.token),
  };
}

class AnalysisRun {
  private readonly problems: string[] = [];
  private readonly timings = { decodeMs: 0, engineMs: 0, writeMs: 0 };
  /** Decoded frames are read into these, lent to the engine and given back. */
  private readonly frameBuffers = new FrameBuffers();
  private readonly claim: Claim;
  /** Aborted on cancel, or when another process took the analysis over. */
  private readonly stop = new AbortController();
  private framesThisRun = 0;
  private startedAt = 0;
  private lastProgress = 0;

  static async prepare(store: Library, job: AnalysisJob, hooks: AnalysisHooks): Promise<AnalysisRun> {
    const plan = await store.analyses.plan(job.analysisId);
    return new AnalysisRun(store, job, hooks, plan, await store.sessions.sources(plan.sessionId));
  }

  private constructor(
    private readonly store: Library,
    private readonly job: AnalysisJob,
    private readonly hooks: AnalysisHooks,
    private readonly plan: AnalysisPlan,
    private readonly sources: FootageSource[],
  ) {
    // A chunk's problems are its own (the fleet joins them when the analysis ends).
    if (this.plan.message && !job.chunk) this.problems.push(this.plan.message);
    const owner = job.owner ?? newOwner();
    this.claim = job.chunk ? chunkClaim(store, plan.id, job.chunk.chunk, owner) : analysisClaim(store, plan.id, owner);
    for (const signal of [hooks.signal, hooks.interrupt]) signal?.addEventListener('abort', () => this.stop.abort());
  }

  private get cancelled(): boolean {
    return this.hooks.signal?.aborted ?? false;
  }

  async run(): Promise<AnalysisInfo> {
    const left = await this.claim.take();
    const heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    try {
      // Another process may have finished it between this one's decision to run it and the claim.
      const current = await this.store.analyses.get(this.plan.id);
      if (!left || (current.status !== 'queued' && current.status !== 'running')) return current;
      return await this.runOwned();
    } finally {
      clearInterval(heartbeat);
      await this.releaseClaim();
    }
  }

  private async beat(): Promise<void> {
    try {
      if (!(await this.claim.beat())) this.stop.abort();
    } catch {
      // A busy or full library: the next beat tries again, and the owner counts as alive until it goes stale.
    }
  }

  private async releaseClaim(): Promise<void> {
    try {
      await this.claim.release();
    } catch {
      // Left behind on a full disk: it goes stale, or this process is seen gone, and another run takes over.
    }
  }

  /** Runs a write only while this run still owns the analysis, in one transaction with that check. */
  private owned<T>(write: () => Promise<T>): Promise<T> {
    return this.store.transaction(async () => {
      if (!(await this.claim.holds())) throw new OwnershipLost();
      return write();
    });
  }

  private async runOwned(): Promise<AnalysisInfo> {
    let engine: Engine | undefined;
    // Stops the decoder when the run fails before its frames flow (cancelling stops it through this.stop).
    const decoding = new AbortController();
    let decoder: Promise<void> | undefined;
    try {
      this.refuseOldFrameScore();
      const chunk = this.job.chunk;
      const resume = await this.store.frames.resumePoint(
        this.plan.id,
        chunk && { from: chunk.firstIndex, until: chunk.firstIndex + CHUNK_INDEX_STRIDE },
      );
      const decoded = new BoundedQueue<DecodedFrame>(QUEUE_CAPACITY);
      // ffmpeg starts while the model loads: its start-up and first frames, which take 0.1-1 s, are then ready
      // when the engine is, instead of being waited for after it.
      decoder = this.decodeStage(decoded, resume, AbortSignal.any([this.stop.signal, decoding.signal]));
      decoder.catch(() => undefined); // a failure reaches the engine stage through the queue
      engine = await (this.hooks.openEngine ?? openEngine)(this.job.modelsDir, this.plan.modelName, this.job.engine);
      this.refuseChangedModel(engine);
      // The taught classes of the knowledge version this analysis recorded, so a resumed run classifies alike.
      engine.setTaughtClasses(
        (await this.store.knowledge.activePrototypes(this.plan.modelSha256, this.plan.knowledgeVersion)).classes,
      );
      this.startedAt = performance.now();
      await this.report(this.runningProgress());
      await this.pipeline(engine, decoded, decoder, (chunk?.firstIndex ?? 0) + resume.framesStored);
      return await this.finish();
    } catch (error) {
      decoding.abort();
      await decoder?.catch(() => undefined);
      if (error instanceof OwnershipLost) return this.store.analyses.get(this.plan.id);
      if (this.job.chunk) throw error;
      return this.fail(error);
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

  /**
   * Records why the run stopped. Storing that can fail too (the disk that filled up is still full): the
   * caller then gets the same answer unstored, and the analysis, left unfinished, resumes on the next run.
   */
  private async fail(error: unknown): Promise<AnalysisInfo> {
    const message = await this.failureMessage(error);
    const failed = { status: 'failed' as const, message, finishedAt: new Date().toISOString() };
    try {
      return await this.report({ ...failed, timings: this.timings });
    } catch (unstored) {
      if (unstored instanceof OwnershipLost) return this.lastKnownInfo();
      const info = { ...(await this.lastKnownInfo()), ...failed, etaSeconds: null };
      this.hooks.onProgress?.(info);
      return info;
    }
  }

  private async failureMessage(error: unknown): Promise<string> {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
      const stored = (await this.lastKnownInfo()).framesDone;
      return `The disk holding the library ${this.store.path} is full: analysis ${this.plan.id} stopped after ${stored} frames, which are kept; free some space, then run the same analyze command again to resume it`;
    }
    if (error instanceof AppError) return error.message;
    if (typeof code === 'string' && code.startsWith('SQLITE_'))
      return `Analysis ${this.plan.id} stopped: ${libraryError(this.store.path, error).message}`;
    return `Analysis ${this.plan.id} failed: ${errorMessage(error)}`;
  }

  /** The stored record when it can be read, else the plan this run started from. */
  private async lastKnownInfo(): Promise<AnalysisInfo> {
    try {
      return await this.store.analyses.get(this.plan.id);
    } catch {
      const { inputWidth: _w, inputHeight: _h, ...info } = this.plan;
      return info;
    }
  }

  private refuseChangedModel(engine: Engine): void {
    if (engine.modelSha256 === this.plan.modelSha256) return;
    throw new AppError(
      'model_changed',
      `Model ${this.plan.modelName} changed since analysis ${this.plan.id} started (sha256 ${this.plan.modelSha256.slice(0, 12)}... then, ${engine.modelSha256.slice(0, 12)}... now): its frames are kept; start a new analysis to use the current model`,
    );
  }

  /** A chunk marks the analysis running (the first one also when it started); the frame total stays the planned one. */
  private runningProgress(): AnalysisProgress {
    const startedAt = new Date().toISOString();
    if (this.job.chunk) return { status: 'running', startedAt: this.plan.startedAt ?? startedAt };
    return { status: 'running', startedAt, framesTotal: this.estimateTotal() };
  }

  private estimateTotal(): number {
    return this.sources.reduce((sum, source) => sum + expectedFrames(source, this.plan.sampleFps), 0);
  }

  /** Joins the engine and writer stages to the decoder, which runOwned started before the engine loaded. */
  private async pipeline(
    engine: Engine,
    decoded: BoundedQueue<DecodedFrame>,
    decoder: Promise<void>,
    framesStored: number,
  ): Promise<void> {
    const analysed = new BoundedQueue<Analysed>(QUEUE_CAPACITY);
    const stages = [decoder, this.engineStage(engine, decoded, analysed, framesStored), this.writeStage(analysed)];
    // One failing stage fails its neighbours' queues, so all three settle and the first error surfaces.
    const results = await Promise.allSettled(stages);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async decodeStage(out: BoundedQueue<DecodedFrame>, resume: ResumePoint, signal: AbortSignal): Promise<void> {
    const { framesPerSource, lastTimeMsPerSource } = resume;
    const lastStarted = Math.max(-1, ...framesPerSource.keys());
    const chunk = this.job.chunk;
    const sources = chunk ? this.sources.filter((source) => source.position === chunk.sourcePosition) : this.sources;
    try {
      for (const source of sources) {
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
            fromMs: chunk?.fromMs ?? undefined,
            untilMs: chunk?.untilMs ?? undefined,
            signal,
            buffers: this.frameBuffers,
          },
          outcome,
        );
        for await (const frame of frames) {
          if (signal.aborted) break;
          await out.push(frame);
        }
        if (signal.aborted) break;
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
      engine.analyze(decoded.rgb, ANALYZE_OPTIONS).then((result) => {
        if (result.lentFrame) this.frameBuffers.give(result.lentFrame.data);
        return { decoded, index: frameIndex, result };
      });
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
        if (!decoded || this.stop.signal.aborted) break;
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
    const flush = async () => {
      const start = performance.now();
      await this.owned(() => this.store.frames.write(this.plan.id, batch));
      this.framesThisRun += batch.length;
      batch = [];
      lastFlush = performance.now();
      this.timings.writeMs += lastFlush - start;
      await this.reportThrottled();
    };
    try {
      for (let item = await input.pull(); item; item = await input.pull()) {
        const start = performance.now();
        batch.push(toStoredFrame(item));
        this.timings.writeMs += performance.now() - start;
        // Full batches keep transactions few on fast machines; the time limit keeps progress live on slow ones.
        if (batch.length >= batchSize || performance.now() - lastFlush >= PROGRESS_INTERVAL_MS) await flush();
      }
      if (batch.length > 0) await flush();
    } catch (error) {
      input.fail(error);
      throw error;
    }
  }

  private async finish(): Promise<AnalysisInfo> {
    // Stopped without a cancel: another process took the analysis over, and it is that one's to finish.
    if (this.stop.signal.aborted && !this.cancelled) throw new OwnershipLost();
    const cancelled = this.cancelled;
    if (this.job.chunk) return this.finishChunk(this.job.chunk);
    const done = (await this.store.analyses.get(this.plan.id)).framesDone;
    const status = cancelled ? 'cancelled' : this.problems.length > 0 ? 'partial' : 'done';
    if (!cancelled) {
      // Before the events, which then put each carried flag into the event holding its frame.
      await this.owned(async () => {
        await this.store.flags.carry(this.plan.id);
        await this.store.events.finish(this.plan.id);
      });
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

  /** Marks the chunk done with its problems; a cancelled analysis's chunk stays as it is (its frames are kept). */
  private async finishChunk(chunk: ChunkPlan): Promise<AnalysisInfo> {
    if (this.cancelled) return this.store.analyses.get(this.plan.id);
    const message = this.problems.length > 0 ? [...new Set(this.problems)].join('; ') : null;
    await this.owned(() => this.store.chunks.complete(this.plan.id, chunk.chunk, message));
    return this.store.analyses.get(this.plan.id);
  }

  private async reportThrottled(): Promise<void> {
    const now = performance.now();
    if (now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    const info = await this.store.analyses.get(this.plan.id);
    const fps = this.job.chunk
      ? fleetFps(info, this.plan.startedAt)
      : this.framesThisRun / Math.max(1e-3, (now - this.startedAt) / 1000);
    const left = Math.max(0, info.framesTotal - info.framesDone);
    await this.report({
      fps,
      etaSeconds: fps > 0 ? left / fps : null,
      message: this.problems.length && !this.job.chunk ? this.problems.join('; ') : undefined,
      timings: this.timings,
    });
  }

  private async report(progress: AnalysisProgress): Promise<AnalysisInfo> {
    const info = await this.owned(async () => {
      // A chunk's analysis may have been cancelled since the run began (the engine loads for seconds): it stays so.
      if (this.job.chunk && isAnalysisFinished((await this.store.analyses.get(this.plan.id)).status))
        throw new OwnershipLost();
      return this.store.analyses.update(this.plan.id, progress);
    });
    this.lastProgress = performance.now();
    this.hooks.onProgress?.(info);
    return info;
  }
}

/** All workers' frames since the analysis started, per second: what a chunk reports as the analysis's rate. */
function fleetFps(info: AnalysisInfo, startedAt: string | null): number {
  const seconds = startedAt ? (Date.now() - Date.parse(startedAt)) / 1000 : 0;
  return seconds > 0 ? info.framesDone / seconds : 0;
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
    descriptors: result.descriptors,
    classMapPng: mapPngs.classMap,
    oodMapPng: mapPngs.oodMap,
    previewJpeg: decoded.previewJpeg,
  };
}
