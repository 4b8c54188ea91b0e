import type { AnalysisInfo } from '../../src-shared/contract/index.js';
import type { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { startWorker } from '../core/workers.js';
import type { OpenEngineOptions } from '../engine/index.js';
import type { LibraryStore } from '../library/index.js';
import type { AnalysisJob } from './pipeline.js';

export type WorkerMessage = { type: 'progress'; info: AnalysisInfo } | { type: 'done'; info: AnalysisInfo };

export interface JobQueueOptions {
  store: LibraryStore;
  modelsDir: string;
  engine?: OpenEngineOptions;
  onProgress(info: AnalysisInfo): void;
}

interface Running {
  analysisId: number;
  worker: Worker;
  finished: Promise<void>;
}

/**
 * Analyses run one after another, each in a worker thread with its own database connection, so neither the
 * UI nor the API ever waits for a frame. Sessions imported while one runs wait their turn.
 */
export class JobQueue {
  private readonly waiting: number[] = [];
  private running: Running | undefined;
  private readonly waiters = new Map<number, ((info: AnalysisInfo) => void)[]>();
  private closed = false;

  constructor(private readonly options: JobQueueOptions) {}

  enqueue(analysisId: number): void {
    if (this.closed || this.running?.analysisId === analysisId || this.waiting.includes(analysisId)) return;
    this.waiting.push(analysisId);
    this.startNext();
  }

  /** Resolves when the analysis has stopped (done, partial, failed or cancelled). */
  waitFor(analysisId: number): Promise<AnalysisInfo> {
    return new Promise((resolve) => this.waiters.set(analysisId, [...(this.waiters.get(analysisId) ?? []), resolve]));
  }

  /** Stops an analysis: a queued one never starts; a running one stops after the frames in flight are stored. */
  cancel(analysisId: number): void {
    const position = this.waiting.indexOf(analysisId);
    if (position >= 0) {
      this.waiting.splice(position, 1);
      this.settle(
        this.options.store.updateAnalysis(analysisId, { status: 'cancelled', finishedAt: new Date().toISOString() }),
      );
    } else if (this.running?.analysisId === analysisId) {
      this.running.worker.postMessage('cancel');
    }
  }

  cancelAll(): void {
    for (const analysisId of [...this.waiting]) this.cancel(analysisId);
    if (this.running) this.cancel(this.running.analysisId);
  }

  isActive(analysisId: number): boolean {
    return this.running?.analysisId === analysisId || this.waiting.includes(analysisId);
  }

  /**
   * Stops the running analysis as a crash would (whole batches only are stored) and leaves it and the queued
   * ones marked unfinished, so the next start resumes them.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const running = this.running;
    if (!running) return;
    await running.worker.terminate();
    await running.finished;
  }

  private startNext(): void {
    if (this.running || this.closed) return;
    const analysisId = this.waiting.shift();
    if (analysisId === undefined) return;
    const job: AnalysisJob = {
      libraryPath: this.options.store.path,
      modelsDir: this.options.modelsDir,
      analysisId,
      engine: this.options.engine,
    };
    const worker = startWorker('jobs/analysis.worker.ts', job);
    let last: AnalysisInfo | undefined;
    const finished = new Promise<void>((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        last = message.info;
        this.options.onProgress(message.info);
        // The loader tsx registers keeps a worker's event loop alive: end it once its work is reported.
        if (message.type === 'done') void worker.terminate();
      });
      worker.on('error', (error) => {
        last = this.options.store.updateAnalysis(analysisId, {
          status: 'failed',
          message: `Analysis ${analysisId} stopped: ${errorMessage(error)}`,
          finishedAt: new Date().toISOString(),
        });
        this.options.onProgress(last);
      });
      worker.on('exit', () => resolve());
    });
    this.running = { analysisId, worker, finished };
    void finished.then(() => {
      this.running = undefined;
      this.settle(last ?? this.options.store.analysis(analysisId));
      this.startNext();
    });
  }

  private settle(info: AnalysisInfo): void {
    const waiters = this.waiters.get(info.id) ?? [];
    this.waiters.delete(info.id);
    for (const resolve of waiters) resolve(info);
  }
}
