import type PgBoss from 'pg-boss';
import { isAnalysisFinished, type AnalysisInfo } from '../../../src-shared/contract/index.js';
import type { Library } from '../../library/index.js';
import type { AnalysisQueue } from '../analysis-queue.js';
import { sendChunkJobs, startBoss } from './boss.js';
import { planChunks, DEFAULT_CHUNK_SECONDS } from './chunks.js';
import { settleChunks } from './finalize.js';
import { AnalysisWaiters, WatchedAnalyses } from '../watched-analyses.js';

export interface FleetQueueOptions {
  onProgress(info: AnalysisInfo): void;
  /** Footage per chunk; default DEFAULT_CHUNK_SECONDS. */
  chunkSeconds?: number;
  /** pg-boss's own errors (a lost connection: it retries by itself); default: ignored. */
  onError?: (error: Error) => void;
}

/** How often the analyses waited for are read again: progress from the database, as the workers store it. */
const POLL_MS = 500;

/**
 * The analyses of a team database, queued for the fleet: enqueue splits an analysis into chunks and sends a
 * pg-boss job per chunk, in one transaction; `dmlreview worker` processes run them. This process only reads
 * progress back from the database (onProgress) and cancels, which the workers see in the analysis's status.
 */
export class FleetQueue implements AnalysisQueue {
  /** Analyses queued or waited for here, with the record last passed on. */
  private readonly watched = new WatchedAnalyses<AnalysisInfo | undefined>(POLL_MS, (analysisId, seen) =>
    this.check(analysisId, seen),
  );
  private readonly waiters = new AnalysisWaiters();
  private closed = false;

  /** pg-boss, started on the first enqueue: a process that only reads the library needs none. */
  private boss: Promise<PgBoss> | undefined;

  constructor(
    private readonly store: Library,
    private readonly options: FleetQueueOptions,
  ) {}

  private startedBoss(): Promise<PgBoss> {
    this.boss ??= startBoss(this.store.path, { supervise: false, onError: this.options.onError ?? (() => undefined) });
    // A failed start (the database out of reach) is tried again on the next enqueue.
    this.boss.catch(() => (this.boss = undefined));
    return this.boss;
  }

  /**
   * Records the analysis's chunks (an analysis queued again keeps its own, and their frames) and sends a job
   * for each chunk not done, with the chunks in one transaction: no chunk is recorded without its job.
   */
  async enqueue(analysisId: number): Promise<void> {
    if (this.closed) return;
    const plan = await this.store.analyses.plan(analysisId);
    if (plan.framesDone > 0 && (await this.store.chunks.list(analysisId)).length === 0) {
      await this.refuseLocalRun(plan);
      return;
    }
    const sources = await this.store.sessions.sources(plan.sessionId);
    const boss = await this.startedBoss();
    await this.store.transaction(async () => {
      const open = await this.store.chunks.plan(
        analysisId,
        planChunks(sources, this.options.chunkSeconds ?? DEFAULT_CHUNK_SECONDS),
      );
      await sendChunkJobs(
        boss,
        this.store,
        analysisId,
        open.map((chunk) => chunk.chunk),
      );
    });
    // Every chunk was done already (a crash came between the last one and the end): end it here.
    await settleChunks(this.store, analysisId);
    this.watch(analysisId);
  }

  /**
   * An analysis a local run began (pushed from a file) numbers its frames contiguously, not in chunk ranges: the
   * fleet cannot tell which chunks they fill, so it fails the analysis saying what to do instead.
   */
  private async refuseLocalRun(plan: AnalysisInfo): Promise<void> {
    const message = `Analysis ${plan.id} was begun by a local run (${plan.framesDone} frames stored in one sequence, not in chunks): finish it where it began (dmlreview analyze --library FILE) and push it again, or start a new analysis (dmlreview analyze --database URL --new)`;
    this.options.onProgress(
      await this.store.analyses.update(plan.id, { status: 'failed', message, finishedAt: new Date().toISOString() }),
    );
  }

  waitFor(analysisId: number): Promise<AnalysisInfo> {
    const waiting = this.waiters.waitFor(analysisId);
    this.watch(analysisId);
    return waiting;
  }

  /** Marks the analysis cancelled: its workers stop after the frames in flight (they watch its status), its other jobs are passed over. */
  async cancel(analysisId: number): Promise<void> {
    const info = await this.store.analyses.get(analysisId);
    if (!isAnalysisFinished(info.status))
      await this.store.analyses.update(analysisId, { status: 'cancelled', finishedAt: new Date().toISOString() });
    await this.watched.checkAll();
  }

  async cancelAll(): Promise<void> {
    for (const analysisId of this.watched.ids()) await this.cancel(analysisId);
  }

  isActive(analysisId: number): boolean {
    return this.watched.has(analysisId);
  }

  /** Stops watching; the queued chunks stay queued for the workers. */
  async close(): Promise<void> {
    this.closed = true;
    this.watched.clear();
    const boss = await this.boss?.catch(() => undefined);
    await boss?.stop({ graceful: false, close: true, wait: true });
  }

  private watch(analysisId: number): void {
    if (this.closed) return;
    if (!this.watched.has(analysisId)) this.watched.set(analysisId, undefined);
  }

  private async check(analysisId: number, seen: AnalysisInfo | undefined): Promise<void> {
    let info: AnalysisInfo;
    try {
      info = await this.store.analyses.get(analysisId);
    } catch {
      return; // the database is unreachable for now (or the analysis was deleted: cancel settles it)
    }
    if (!seen || info.framesDone !== seen.framesDone || info.status !== seen.status || info.message !== seen.message)
      this.options.onProgress(info);
    if (!isAnalysisFinished(info.status)) {
      this.watched.set(analysisId, info);
      return;
    }
    this.watched.delete(analysisId);
    this.waiters.settle(info);
  }
}
