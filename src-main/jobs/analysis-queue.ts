import type { AnalysisInfo } from '../../src-shared/contract/index.js';

/**
 * Where AnalysisService sends the analyses it starts: the in-process JobQueue on a library file, the fleet's
 * job queue (fleet/queue.ts) on a team database. Both report progress through the onProgress they were made with.
 */
export interface AnalysisQueue {
  /** Queues an analysis (new, or unfinished: it continues from its stored frames). */
  enqueue(analysisId: number): Promise<void>;
  /** Resolves when the analysis has stopped (done, partial, failed or cancelled), wherever it ran. */
  waitFor(analysisId: number): Promise<AnalysisInfo>;
  /** A queued analysis never starts; a running one stops after the frames in flight are stored. */
  cancel(analysisId: number): Promise<void>;
  cancelAll(): Promise<void>;
  /** Whether this queue is running, queueing or watching the analysis. */
  isActive(analysisId: number): boolean;
  /** Stops waiting and running here; unfinished analyses stay queued in the library, to resume. */
  close(): Promise<void>;
}
