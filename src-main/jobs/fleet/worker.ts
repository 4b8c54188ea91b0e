import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import { isAnalysisFinished } from '../../../src-shared/contract/index.js';
import { AppError, errorMessage, NotFoundError } from '../../core/errors.js';
import { defaultModelsDir } from '../../core/paths.js';
import { hashSource, type FootageSource } from '../../footage/index.js';
import {
  ChunkOwnedError,
  describeLocation,
  HEARTBEAT_MS,
  newOwner,
  openLibrary,
  type ChunkRecord,
  type Library,
  type Owner,
} from '../../library/index.js';
import { runChunk, type EngineFactory } from '../pipeline.js';
import { CHUNK_QUEUE, sendChunkJobs, startBoss, type ChunkJobData } from './boss.js';
import { EngineCache } from './engine-cache.js';
import { settleChunks } from './finalize.js';

export interface WorkerOptions {
  /** The team library: a postgresql:// connection string. */
  databaseUrl: string;
  /** Model threads of this worker; default: the engine's (all cores, at most 4). */
  threads?: number;
  /** Where the models are; default: the app's models folder. */
  modelsDir?: string;
  /** Opens the engine; default: the real one. For benchmarks (a stand-in engine), never a user's choice. */
  openEngine?: EngineFactory;
  /** One line per chunk taken, finished or failed, and per lost or regained database; default: stderr. */
  log?: (line: string) => void;
}

export interface FleetWorker {
  /** Stops taking jobs; the chunk in flight stores its frames in flight and is queued again for another worker. */
  stop(): Promise<void>;
  /** Resolves once the worker has stopped and closed its connections. */
  readonly stopped: Promise<void>;
}

/** How long an idle worker waits before asking for a job again. */
const IDLE_MS = 500;
/** How long a worker that lost the database waits before trying again. */
const RETRY_MS = 2000;
/** How often a worker looks for chunks whose worker stopped beating, and for analyses left unended. */
const SWEEP_MS = HEARTBEAT_MS;

/**
 * A fleet worker: takes chunk jobs from the team database's queue and runs them with the shared pipeline
 * (jobs/pipeline.ts runChunk), one at a time, until stopped. It survives what it can: a chunk it cannot run (a
 * source not reachable from this host) fails that chunk, and a lost database makes it wait and try again.
 */
export async function runWorker(options: WorkerOptions): Promise<FleetWorker> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { store, boss } = await connectWhenReachable(options.databaseUrl, log);
  const worker = new ChunkWorker(store, boss, options, log);
  const stopped = worker.run();
  return {
    stop: async () => {
      worker.stop();
      await stopped;
    },
    stopped,
  };
}

/**
 * The library and the job queue on the team database. A server that does not answer yet (a host booting with
 * its workers, a database restarting) is waited for, trying every RETRY_MS; anything else (a refused password,
 * a database that does not exist) is thrown, for the operator to mend.
 */
async function connectWhenReachable(
  databaseUrl: string,
  log: (line: string) => void,
): Promise<{ store: Library; boss: PgBoss }> {
  for (let waiting = false; ; waiting = true) {
    try {
      return await connect(databaseUrl, log);
    } catch (error) {
      if (!lostConnection(error)) throw error;
      if (!waiting)
        log(
          `dmlreview worker: ${errorMessage(error)}; waiting for it, trying again every ${RETRY_MS / 1000} s (Ctrl+C to give up)`,
        );
      await sleep(RETRY_MS);
    }
  }
}

async function connect(databaseUrl: string, log: (line: string) => void): Promise<{ store: Library; boss: PgBoss }> {
  const store = await openLibrary(databaseUrl);
  try {
    const boss = await startBoss(databaseUrl, {
      supervise: true,
      onError: (error) => log(`dmlreview worker: job queue: ${errorMessage(error)}`),
    });
    return { store, boss };
  } catch (error) {
    await store.close();
    throw error;
  }
}

class ChunkWorker {
  private readonly stopping = new AbortController();
  private readonly host = hostname();
  /** sha256 of the source files this worker checked, by path, size and modification time. */
  private readonly hashes = new Map<string, string>();
  private lastSweep = 0;
  private databaseLost = false;
  private readonly engines: EngineCache;

  constructor(
    private readonly store: Library,
    private readonly boss: PgBoss,
    private readonly options: WorkerOptions,
    private readonly log: (line: string) => void,
  ) {
    this.engines = new EngineCache(options.openEngine);
  }

  stop(): void {
    this.stopping.abort();
  }

  async run(): Promise<void> {
    const where = describeLocation(this.store.path);
    this.log(`dmlreview worker: process ${process.pid} on ${this.host} takes analysis chunks from ${where}`);
    try {
      while (!this.stopping.signal.aborted) {
        try {
          await this.sweep();
          // pg-boss's fetch answers [] when the database does not (the sweep above throws instead).
          const [job] = await this.boss.fetch<ChunkJobData>(CHUNK_QUEUE, { batchSize: 1, includeMetadata: true });
          this.regained();
          if (job) await this.take(job);
          else await sleep(IDLE_MS, this.stopping.signal);
        } catch (error) {
          this.lost(error);
          await sleep(RETRY_MS, this.stopping.signal);
        }
      }
    } finally {
      await this.engines.close().catch(() => undefined);
      await this.boss.stop({ graceful: false, close: true, wait: true }).catch(() => undefined);
      await this.store.close().catch(() => undefined);
      this.log(`dmlreview worker: process ${process.pid} on ${this.host} stopped`);
    }
  }

  private lost(error: unknown): void {
    if (this.databaseLost) return;
    this.databaseLost = true;
    this.log(
      `dmlreview worker: lost the database ${describeLocation(this.store.path)} (${errorMessage(error)}); trying again every ${RETRY_MS / 1000} s, a chunk it was running resumes once its lease goes stale`,
    );
  }

  private regained(): void {
    if (!this.databaseLost) return;
    this.databaseLost = false;
    this.log(`dmlreview worker: the database ${describeLocation(this.store.path)} answers again`);
  }

  /** Runs one job's chunk; a chunk that fails is recorded and tried again elsewhere while pg-boss retries are left. */
  private async take(job: PgBoss.JobWithMetadata<ChunkJobData>): Promise<void> {
    const { analysisId, chunk } = job.data;
    const label = `chunk ${chunk} of analysis ${analysisId}`;
    let outcome: ChunkOutcome;
    try {
      outcome = await this.runJobChunk(analysisId, chunk, label);
    } catch (error) {
      await this.engines.close().catch(() => undefined); // the engine may be what failed: the next chunk opens it anew
      if (lostConnection(error)) throw error;
      if (!(await this.chunkRecord(analysisId, chunk))) {
        await this.boss.complete(CHUNK_QUEUE, job.id); // its analysis was deleted meanwhile
        return;
      }
      const final = job.retryCount >= job.retryLimit;
      const message = errorMessage(error);
      this.log(`dmlreview worker: ${label} failed on ${this.host}: ${message}${final ? '' : ' (it is tried again)'}`);
      await this.store.chunks.fail(analysisId, chunk, message, final);
      await this.store.analyses.update(analysisId, { message });
      await this.boss.fail(CHUNK_QUEUE, job.id, { message });
      if (final && (await settleChunks(this.store, analysisId))) this.logEnded(analysisId);
      return;
    }
    if (outcome === 'interrupted') {
      await this.engines.close(); // stopped short, perhaps by its engine: the next chunk opens it anew
      await this.requeue(analysisId, chunk, label);
    }
    await this.boss.complete(CHUNK_QUEUE, job.id);
  }

  private async runJobChunk(analysisId: number, chunk: number, label: string): Promise<ChunkOutcome> {
    const record = await this.chunkRecord(analysisId, chunk);
    if (!record) return 'skipped';
    if (record.status === 'done') {
      if (await settleChunks(this.store, analysisId)) this.logEnded(analysisId);
      return 'skipped';
    }
    const info = await this.store.analyses.get(analysisId);
    if (isAnalysisFinished(info.status)) return 'skipped'; // cancelled, or ended
    const owner = newOwner();
    const cancelled = new AbortController();
    let announced = false;
    let watch: NodeJS.Timeout | undefined;
    try {
      if (!(await this.holdWhileChecking(analysisId, record, info.sessionId, owner))) return 'skipped';
      watch = setInterval(() => void this.watchStatus(analysisId, cancelled), HEARTBEAT_MS);
      await runChunk(
        this.store,
        {
          modelsDir: this.options.modelsDir ?? defaultModelsDir(),
          analysisId,
          engine: this.options.threads ? { threads: this.options.threads } : undefined,
          chunk: record,
          owner,
        },
        {
          interrupt: AbortSignal.any([cancelled.signal, this.stopping.signal]),
          openEngine: this.engines.factory,
          // The first report comes once the chunk is claimed and the engine is open.
          onProgress: () => {
            if (announced) return;
            announced = true;
            this.log(`dmlreview worker: ${label} (${describeRange(record)}) runs here`);
          },
        },
      );
    } catch (error) {
      if (error instanceof ChunkOwnedError) return 'skipped';
      throw error;
    } finally {
      clearInterval(watch);
    }
    if ((await this.store.chunks.get(analysisId, chunk)).status !== 'done') return 'interrupted';
    this.log(`dmlreview worker: ${label} done`);
    if (await settleChunks(this.store, analysisId)) this.logEnded(analysisId);
    return 'done';
  }

  /**
   * Takes the chunk's lease as soon as its job is taken, and beats it while the source is checked (hashing a long
   * file takes a while): a worker that dies here is noticed by its stale lease within seconds, not when the job
   * expires. The run goes on under the same lease (the same owner). False: the chunk was done meanwhile.
   */
  private async holdWhileChecking(
    analysisId: number,
    record: ChunkRecord,
    sessionId: number,
    owner: Owner,
  ): Promise<boolean> {
    if ((await this.store.chunks.claim(analysisId, record.chunk, owner)).status === 'done') return false;
    const beat = setInterval(
      () => void this.store.chunks.beat(analysisId, record.chunk, owner.token).catch(() => undefined),
      HEARTBEAT_MS,
    );
    try {
      await this.checkSource(sessionId, record);
      return true;
    } finally {
      clearInterval(beat);
    }
  }

  private async chunkRecord(analysisId: number, chunk: number): Promise<ChunkRecord | undefined> {
    try {
      return await this.store.chunks.get(analysisId, chunk);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined; // its analysis was deleted
      throw error;
    }
  }

  /** A cancelled (or deleted) analysis stops its chunk here after the frames in flight. */
  private async watchStatus(analysisId: number, cancelled: AbortController): Promise<void> {
    try {
      if (isAnalysisFinished((await this.store.analyses.get(analysisId)).status)) cancelled.abort();
    } catch (error) {
      if (error instanceof NotFoundError) cancelled.abort();
    }
  }

  /** A chunk this worker stopped (it is stopping) is queued again at once, for another worker. */
  private async requeue(analysisId: number, chunk: number, label: string): Promise<void> {
    const info = await this.store.analyses.get(analysisId).catch(() => undefined);
    if (!info || isAnalysisFinished(info.status)) return;
    if (await this.queueAgain(analysisId, chunk, null))
      this.log(`dmlreview worker: ${label} stopped here; queued again, to resume from its last stored frame`);
  }

  /** Queues an abandoned chunk again with a new job, in one transaction; false when another worker was first. */
  private queueAgain(analysisId: number, chunk: number, token: string | null): Promise<boolean> {
    return this.store.transaction(async () => {
      if (!(await this.store.chunks.requeue(analysisId, chunk, token))) return false;
      await sendChunkJobs(this.boss, this.store, analysisId, [chunk]);
      return true;
    });
  }

  /**
   * The chunk's source as this host sees it: at the path it was imported from (a shared folder mounted at the
   * same place) and with the same sha256. Hashes are kept per file size and time, so a long source is read once.
   */
  private async checkSource(sessionId: number, record: ChunkRecord): Promise<void> {
    const source = (await this.store.sessions.sources(sessionId)).find(
      (candidate) => candidate.position === record.sourcePosition,
    );
    if (!source) throw new NotFoundError(`Source ${record.sourcePosition} of session ${sessionId}`);
    let key: string;
    try {
      const stats = await stat(source.path);
      key = `${source.path}\0${stats.size}\0${stats.mtimeMs}`;
    } catch (error) {
      throw new AppError(
        'footage_unreadable',
        `${source.path} cannot be read on worker host ${this.host} (${errorMessage(error)}): mount the shared footage folder at the same path here`,
      );
    }
    const sha256 = this.hashes.get(key) ?? (await hashSource(source));
    this.hashes.set(key, sha256);
    if (sha256 !== source.sha256) throw changedSource(source, sha256, this.host);
  }

  /** Chunks whose worker stopped beating are queued again; analyses whose chunks all ended (a crash between) are ended. */
  private async sweep(): Promise<void> {
    if (Date.now() - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = Date.now();
    for (const chunk of await this.store.chunks.abandoned()) {
      if (!(await this.queueAgain(chunk.analysisId, chunk.chunk, chunk.holder?.token ?? null))) continue;
      const who = chunk.holder
        ? `its worker (process ${chunk.holder.pid} on ${chunk.holder.host}) stopped`
        : 'it was left unfinished';
      this.log(
        `dmlreview worker: chunk ${chunk.chunk} of analysis ${chunk.analysisId}: ${who}; queued again, to resume from its last stored frame`,
      );
    }
    for (const analysisId of await this.store.chunks.ended())
      if (await settleChunks(this.store, analysisId)) this.logEnded(analysisId);
  }

  private logEnded(analysisId: number): void {
    void this.store.analyses.get(analysisId).then(
      (info) =>
        this.log(
          `dmlreview worker: analysis ${analysisId} ended ${info.status}: ${info.framesDone} frames${info.message ? ` (${info.message})` : ''}`,
        ),
      () => undefined,
    );
  }
}

type ChunkOutcome = 'done' | 'interrupted' | 'skipped';

function describeRange(record: ChunkRecord): string {
  const seconds = (ms: number | null) => (ms === null ? null : `${(ms / 1000).toFixed(1)} s`);
  const from = seconds(record.fromMs) ?? 'its start';
  const until = seconds(record.untilMs) ?? 'its end';
  return `source ${record.sourcePosition + 1}, ${from} to ${until}`;
}

function changedSource(source: FootageSource, sha256: string, host: string): AppError {
  return new AppError(
    'footage_changed',
    `${source.path} on worker host ${host} is not the file that was imported (sha256 ${sha256.slice(0, 12)}... here, ${source.sha256.slice(0, 12)}... when imported): give the worker the same footage`,
  );
}

/**
 * Errors that mean the database is out of reach, not that the chunk is at fault: the chunk is not failed for
 * them. The library's own errors (library/database.ts libraryError) keep the driver's error as their cause.
 */
function lostConnection(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')))
      return true;
    if (
      /Connection terminated|connection (?:is )?(?:closed|ended)|Client has encountered a connection error/i.test(
        cause.message,
      )
    )
      return true;
  }
  return false;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
