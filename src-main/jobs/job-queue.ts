import { isAnalysisFinished, type AnalysisInfo } from '../../src-shared/contract/index.js';
import type { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { startWorker } from '../core/workers.js';
import type { OpenEngineOptions } from '../engine/index.js';
import { HEARTBEAT_MS, newOwner, type Library, type Owner } from '../library/index.js';
import type { AnalysisQueue } from './analysis-queue.js';
import type { AnalysisJob } from './pipeline.js';
import { AnalysisWaiters, WatchedAnalyses } from './watched-analyses.js';

export type WorkerMessage =
  | { type: 'progress'; info: AnalysisInfo }
  | { type: 'done'; info: AnalysisInfo }
  /** Another process runs the analysis; `message` says which (describeOwner). */
  | { type: 'owned'; message: string };

export interface JobQueueOptions {
  store: Library;
  modelsDir: string;
  engine?: OpenEngineOptions;
  onProgress(info: AnalysisInfo): void;
  /** An analysis is being run by another process: this one waits for it, and takes over if it stops. */
  onWaiting?(info: AnalysisInfo, message: string): void;
}

interface Running {
  analysisId: number;
  owner: Owner;
  worker: Worker;
  finished: Promise<void>;
}

/**
 * Analyses run one after another, each in a worker thread with its own database connection, so neither the
 * UI nor the API ever waits for a frame. Sessions imported while one runs wait their turn. An analysis that
 * another process runs is watched instead: its progress is passed on, and it is queued here again if that
 * process stops before it ends.
 */
export class JobQueue implements AnalysisQueue {
  private readonly waiting: number[] = [];
  private running: Running | undefined;
  private readonly waiters = new AnalysisWaiters();
  /** Analyses run by another process, with the frame count last passed on. */
  private readonly watched = new WatchedAnalyses<number>(HEARTBEAT_MS, (analysisId, seen) =>
    this.checkOne(analysisId, seen),
  );
  private closed = false;

  constructor(private readonly options: JobQueueOptions) {}

  async enqueue(analysisId: number): Promise<void> {
    if (this.closed || this.isActive(analysisId)) return;
    this.waiting.push(analysisId);
    this.startNext();
  }

  /** Resolves when the analysis has stopped (done, partial, failed or cancelled), here or in the process running it. */
  waitFor(analysisId: number): Promise<AnalysisInfo> {
    return this.waiters.waitFor(analysisId);
  }

  /** Stops an analysis: a queued one never starts; a running one stops after the frames in flight are stored. */
  async cancel(analysisId: number): Promise<void> {
    const position = this.waiting.indexOf(analysisId);
    if (position >= 0) {
      this.waiting.splice(position, 1);
      this.waiters.settle(
        await this.options.store.analyses.update(analysisId, {
          status: 'cancelled',
          finishedAt: new Date().toISOString(),
        }),
      );
    } else if (this.running?.analysisId === analysisId) {
      this.running.worker.postMessage('cancel');
    } else if (this.watched.delete(analysisId)) {
      // Run by another process: this one stops waiting for it.
      this.waiters.settle(await this.readInfo(analysisId));
    }
  }

  async cancelAll(): Promise<void> {
    for (const analysisId of [...this.waiting]) await this.cancel(analysisId);
    if (this.running) await this.cancel(this.running.analysisId);
  }

  isActive(analysisId: number): boolean {
    return this.running?.analysisId === analysisId || this.waiting.includes(analysisId) || this.watched.has(analysisId);
  }

  /**
   * Stops the running analysis as a crash would (whole batches only are stored) and leaves it and the queued
   * ones marked unfinished, so the next start resumes them.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    this.watched.clear();
    const running = this.running;
    if (!running) return;
    await running.worker.terminate();
    await running.finished;
  }

  private startNext(): void {
    if (this.running || this.closed) return;
    const analysisId = this.waiting.shift();
    if (analysisId === undefined) return;
    const owner = newOwner();
    const job: AnalysisJob = {
      libraryPath: this.options.store.path,
      modelsDir: this.options.modelsDir,
      analysisId,
      engine: this.options.engine,
      owner,
    };
    let worker: Worker;
    try {
      worker = startWorker('jobs/analysis.worker.ts', job);
    } catch (error) {
      // This also runs from the previous worker's exit handler, where a throw would end the process.
      void this.failToStart(analysisId, error);
      return;
    }
    let last: AnalysisInfo | undefined;
    let ownedElsewhere: string | undefined;
    let failing: Promise<void> | undefined;
    const finished = new Promise<void>((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'owned') ownedElsewhere = message.message;
        else {
          last = message.info;
          this.options.onProgress(message.info);
        }
        // The loader tsx registers keeps a worker's event loop alive: end it once its work is reported.
        if (message.type !== 'progress') void worker.terminate();
      });
      worker.on('error', (error) => {
        failing = this.markFailed(analysisId, `Analysis ${analysisId} stopped: ${errorMessage(error)}`).then(
          (failed) => {
            last = failed;
            this.options.onProgress(failed);
          },
        );
      });
      worker.on('exit', () => resolve());
    });
    this.running = { analysisId, owner, worker, finished };
    void finished.then(async () => {
      await failing;
      // A worker that died or was terminated mid-run leaves its claim: release it, or this very process would
      // wait for its heartbeat to go stale before it could resume the analysis.
      await this.quietly(() => this.options.store.owners.release(analysisId, owner.token));
      this.running = undefined;
      if (ownedElsewhere !== undefined) await this.watch(analysisId, ownedElsewhere);
      else this.waiters.settle(last ?? (await this.readInfo(analysisId)));
      this.startNext();
    });
  }

  private async failToStart(analysisId: number, error: unknown): Promise<void> {
    const failed = await this.markFailed(analysisId, `Analysis ${analysisId} could not start: ${errorMessage(error)}`);
    this.options.onProgress(failed);
    this.waiters.settle(failed);
    this.startNext();
  }

  /** Records a failure; on a library that cannot be written any more (a full disk), only reports it. */
  private async markFailed(analysisId: number, message: string): Promise<AnalysisInfo> {
    const failed = { status: 'failed' as const, message, finishedAt: new Date().toISOString() };
    try {
      return await this.options.store.analyses.update(analysisId, failed);
    } catch {
      return { ...(await this.readInfo(analysisId)), ...failed, etaSeconds: null };
    }
  }

  private async watch(analysisId: number, message: string): Promise<void> {
    if (this.closed) return;
    const info = await this.readInfo(analysisId);
    this.watched.set(analysisId, info.framesDone);
    this.options.onWaiting?.(info, message);
  }

  /** Passes on the other process's progress; settles when it ends; queues here what it left unfinished. */
  private async checkOne(analysisId: number, seen: number): Promise<void> {
    const info = await this.quietly(() => this.options.store.analyses.get(analysisId));
    if (info && isAnalysisFinished(info.status)) {
      this.watched.delete(analysisId);
      this.options.onProgress(info);
      this.waiters.settle(info);
    } else if (!info) {
      this.watched.delete(analysisId); // deleted meanwhile
    } else if (!(await this.quietly(() => this.options.store.owners.live(analysisId)))) {
      this.watched.delete(analysisId);
      await this.enqueue(analysisId);
    } else if (info.framesDone !== seen) {
      this.watched.set(analysisId, info.framesDone);
      this.options.onProgress(info);
    }
  }

  /** The stored record; a minimal one when even reading fails, so a caller waiting for it always gets an answer. */
  private async readInfo(analysisId: number): Promise<AnalysisInfo> {
    return (
      (await this.quietly(() => this.options.store.analyses.get(analysisId))) ?? {
        id: analysisId,
        sessionId: 0,
        modelName: '',
        modelSha256: '',
        knowledgeVersion: null,
        sampleFps: null,
        frameScore: 'regions',
        threshold: 0,
        status: 'failed',
        framesDone: 0,
        framesTotal: 0,
        fps: 0,
        etaSeconds: null,
        message: `Analysis ${analysisId} can no longer be read from the library`,
        classes: [],
        createdAt: new Date(0).toISOString(),
        finishedAt: null,
      }
    );
  }

  /** Library reads and writes from event handlers, where an exception would end the process. */
  private async quietly<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch {
      return undefined;
    }
  }
}
