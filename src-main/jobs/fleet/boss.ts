/**
 * The fleet's job queue: pg-boss (10.x, the last line for Node 20) in its own schema of the team database. A job
 * names one chunk; the chunk table (library/chunks.ts) says what is done, so a job is only ever a reason for
 * some worker to look at its chunk: a duplicate, or a job for a chunk done meanwhile, costs one lookup.
 */
import PgBoss from 'pg-boss';
import type { Library } from '../../library/index.js';

/** The pg-boss queue of chunk jobs. */
export const CHUNK_QUEUE = 'dmlreview-analysis-chunk';

export interface ChunkJobData {
  analysisId: number;
  chunk: number;
}

/**
 * pg-boss has no job heartbeat in 10.x: a job's worker that dies is only noticed when the job expires. The
 * chunk's lease (HEARTBEAT_MS, stale after STALE_AFTER_MS), taken as soon as a worker has fetched the job,
 * notices it in seconds and queues a new job; expiry is the backstop for a worker that died in the
 * milliseconds between the fetch and the claim.
 */
const JOB_OPTIONS = { retryLimit: 2, retryDelay: 2, expireInSeconds: 15 * 60 } as const;

/**
 * A started pg-boss on the database. A worker supervises (expires jobs, archives old ones); a process that only
 * queues and waits does not. pg-boss's own errors (a lost connection) go to `onError`: it retries by itself.
 */
export async function startBoss(
  databaseUrl: string,
  options: { supervise: boolean; onError(error: Error): void },
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    supervise: options.supervise,
    schedule: false,
    max: 2,
    application_name: 'dmlreview',
  });
  boss.on('error', (error) => options.onError(error));
  await boss.start();
  await createQueueOnce(boss);
  return boss;
}

/** Creates the chunk queue unless it exists; two processes starting at once both end up with it. */
async function createQueueOnce(boss: PgBoss): Promise<void> {
  if (await boss.getQueue(CHUNK_QUEUE)) return;
  try {
    await boss.createQueue(CHUNK_QUEUE, { name: CHUNK_QUEUE, ...JOB_OPTIONS });
  } catch (error) {
    if (!(await boss.getQueue(CHUNK_QUEUE))) throw error;
  }
}

/**
 * Sends one job per chunk, in the library's current transaction when there is one (with the writes it queues).
 * Jobs sent together are otherwise taken in no fixed order (same creation time, random ids): a chunk's priority
 * is minus its number, so an analysis runs in timeline order, and a new analysis's first chunks are taken before
 * the late chunks of one queued earlier (each shows progress soon).
 */
export async function sendChunkJobs(boss: PgBoss, store: Library, analysisId: number, chunks: number[]): Promise<void> {
  const db = { executeSql: (text: string, values: unknown[]) => store.executeSql(text, values) };
  for (const chunk of chunks) {
    const data: ChunkJobData = { analysisId, chunk };
    await boss.send(CHUNK_QUEUE, data, { ...JOB_OPTIONS, priority: -chunk, db });
  }
}
