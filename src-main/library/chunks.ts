/**
 * The chunks of an analysis that a fleet of workers runs (jobs/fleet): a source file, or a time range of a long
 * one. Each chunk is run by one worker at a time under a lease (a token and a heartbeat, as the owner of a whole
 * analysis has in ownership.ts); a worker that stops beating loses it, and the chunk resumes elsewhere from its
 * last stored frame. The chunk table, not the job queue, says what is done.
 */
import { UNFINISHED_ANALYSIS_STATUSES } from '../../src-shared/contract/index.js';
import type { Selectable } from 'kysely';
import { AppError, NotFoundError } from '../core/errors.js';
import { holderAlive, STALE_AFTER_MS, type Owner } from './ownership.js';
import type { Store } from './store.js';
import type { AnalysisChunksTable } from './tables.js';

/**
 * Chunk n stores its frames from n * CHUNK_INDEX_STRIDE on, so chunks run side by side never share an index or
 * a packed timeline row (a multiple of frames.ts's TIMELINE_CHUNK); frames.renumber closes the gaps at the end.
 */
export const CHUNK_INDEX_STRIDE = 2 ** 30;

export type ChunkStatus = 'queued' | 'running' | 'done' | 'failed';
/** A chunk waiting for a worker, or held by one. */
const UNFINISHED_CHUNK_STATUSES = ['queued', 'running'] as const satisfies readonly ChunkStatus[];

export function isChunkFinished(status: ChunkStatus): boolean {
  return !(UNFINISHED_CHUNK_STATUSES as readonly ChunkStatus[]).includes(status);
}

/** What a chunk covers: frames of one source between two session times (null: the source's start or end). */
export interface ChunkPlan {
  chunk: number;
  sourcePosition: number;
  fromMs: number | null;
  untilMs: number | null;
  /** Its frames are stored from this index on, in a range of their own, until the analysis finishes. */
  firstIndex: number;
}

export interface ChunkRecord extends ChunkPlan {
  analysisId: number;
  status: ChunkStatus;
  /** What went wrong in it (a source that broke, a file a worker could not read). */
  message: string | null;
  /** The worker running it, while one holds its lease. */
  holder: { token: string; pid: number; host: string; heartbeatMs: number } | null;
}

/** A live worker runs the chunk; the message names it. */
export class ChunkOwnedError extends AppError {
  constructor(readonly record: ChunkRecord) {
    const { holder } = record;
    super(
      'analysis_owned',
      `chunk ${record.chunk} of analysis ${record.analysisId} is being run by process ${holder?.pid} on host ${holder?.host}; it resumes elsewhere if that process stops (heartbeat older than ${STALE_AFTER_MS / 1000} s)`,
    );
  }
}

export class AnalysisChunks {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records an analysis's chunks unless it has them already (an analysis queued again keeps its chunks and
   * their frames); chunks that failed are queued again. Returns the chunks that are not done.
   */
  async plan(analysisId: number, chunks: ChunkPlan[]): Promise<ChunkRecord[]> {
    return this.store.transaction(async () => {
      await this.lockAnalysis(analysisId);
      if ((await this.list(analysisId)).length === 0 && chunks.length > 0) {
        await this.store.db
          .insertInto('analysis_chunks')
          .values(
            chunks.map((chunk) => ({
              analysis_id: analysisId,
              chunk: chunk.chunk,
              source_position: chunk.sourcePosition,
              from_ms: chunk.fromMs,
              until_ms: chunk.untilMs,
              first_index: chunk.firstIndex,
              status: 'queued',
            })),
          )
          .execute();
      }
      await this.store.db
        .updateTable('analysis_chunks')
        .set({ status: 'queued', message: null })
        .where('analysis_id', '=', analysisId)
        .where('status', '=', 'failed')
        .execute();
      return (await this.list(analysisId)).filter((chunk) => chunk.status !== 'done');
    });
  }

  async list(analysisId: number): Promise<ChunkRecord[]> {
    const rows = await this.store.db
      .selectFrom('analysis_chunks')
      .selectAll()
      .where('analysis_id', '=', analysisId)
      .orderBy('chunk')
      .execute();
    return rows.map(toChunkRecord);
  }

  async get(analysisId: number, chunk: number): Promise<ChunkRecord> {
    const row = await this.store.db
      .selectFrom('analysis_chunks')
      .selectAll()
      .where('analysis_id', '=', analysisId)
      .where('chunk', '=', chunk)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Chunk ${chunk} of analysis ${analysisId}`);
    return toChunkRecord(row);
  }

  /**
   * Makes `me` the chunk's holder unless a live worker holds it (ChunkOwnedError). A chunk that is done is
   * returned as it is, untouched: the caller has nothing to do.
   */
  async claim(analysisId: number, chunk: number, me: Owner): Promise<ChunkRecord> {
    return this.store.transaction(async () => {
      const row = await this.store.db
        .selectFrom('analysis_chunks')
        .selectAll()
        .where('analysis_id', '=', analysisId)
        .where('chunk', '=', chunk)
        .$if(this.store.dialect.rowLocks, (query) => query.forUpdate())
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`Chunk ${chunk} of analysis ${analysisId}`);
      const record = toChunkRecord(row);
      if (record.status === 'done') return record;
      if (record.holder && record.holder.token !== me.token && holderAlive(record.holder, this.now()))
        throw new ChunkOwnedError(record);
      const lease = { token: me.token, pid: me.pid, host: me.host, heartbeat_ms: this.now() };
      await this.chunkRow(analysisId, chunk)
        .set({ ...lease, status: 'running' })
        .execute();
      return { ...record, status: 'running', holder: { ...me, heartbeatMs: lease.heartbeat_ms } };
    });
  }

  /** Renews the lease; false when `token` no longer holds the chunk (another worker took it over). */
  async beat(analysisId: number, chunk: number, token: string): Promise<boolean> {
    const result = await this.chunkRow(analysisId, chunk)
      .set({ heartbeat_ms: this.now() })
      .where('token', '=', token)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Whether `token` holds the chunk; in a PostgreSQL transaction the row stays locked until it ends. */
  async holds(analysisId: number, chunk: number, token: string): Promise<boolean> {
    const row = await this.store.db
      .selectFrom('analysis_chunks')
      .select('token')
      .where('analysis_id', '=', analysisId)
      .where('chunk', '=', chunk)
      .where('token', '=', token)
      .$if(this.store.dialect.rowLocks, (query) => query.forUpdate())
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Gives the lease up. A chunk left unfinished stays `running` with no holder: it is abandoned (see abandoned),
   * and queued again with a new job by whichever worker sees it first, this one included.
   */
  async release(analysisId: number, chunk: number, token: string): Promise<void> {
    await this.chunkRow(analysisId, chunk).set(noLease).where('token', '=', token).execute();
  }

  /**
   * Marks the chunk done with what went wrong in it (null: nothing), in the caller's transaction, after taking
   * the analysis's row lock: of two chunks finishing at once, the second sees the first done.
   */
  async complete(analysisId: number, chunk: number, message: string | null): Promise<void> {
    await this.lockAnalysis(analysisId);
    await this.chunkRow(analysisId, chunk)
      .set({ ...noLease, status: 'done', message })
      .execute();
  }

  /** Records why the chunk failed: `final` when no retry is left (the analysis then fails), else it is queued again. */
  async fail(analysisId: number, chunk: number, message: string, final: boolean): Promise<void> {
    await this.chunkRow(analysisId, chunk)
      .set({ ...noLease, status: final ? 'failed' : 'queued', message })
      .where('status', '!=', 'done')
      .execute();
  }

  /**
   * Chunks of queued or running analyses left `running` by a worker that is gone (its heartbeat is stale, or its
   * process on this host has ended) or that gave its lease up unfinished.
   */
  async abandoned(): Promise<ChunkRecord[]> {
    const rows = await this.store.db
      .selectFrom('analysis_chunks as c')
      .innerJoin('analyses as a', 'a.id', 'c.analysis_id')
      .selectAll('c')
      .where('c.status', '=', 'running')
      .where('a.status', 'in', UNFINISHED_ANALYSIS_STATUSES)
      .execute();
    return rows.map(toChunkRecord).filter((record) => !record.holder || !holderAlive(record.holder, this.now()));
  }

  /** Queues an abandoned chunk again, if it is still held by the gone worker's token; false when another worker was first. */
  async requeue(analysisId: number, chunk: number, token: string | null): Promise<boolean> {
    const result = await this.chunkRow(analysisId, chunk)
      .set({ ...noLease, status: 'queued' })
      .where('status', '=', 'running')
      .$if(token === null, (query) => query.where('token', 'is', null))
      .$if(token !== null, (query) => query.where('token', '=', token))
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Analyses still queued or running whose chunks have all ended: one that a crash left unfinished. */
  async ended(): Promise<number[]> {
    const rows = await this.store.db
      .selectFrom('analyses as a')
      .select('a.id')
      .where('a.status', 'in', UNFINISHED_ANALYSIS_STATUSES)
      .where((eb) =>
        eb.exists(eb.selectFrom('analysis_chunks as c').select('c.chunk').whereRef('c.analysis_id', '=', 'a.id')),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('analysis_chunks as c')
              .select('c.chunk')
              .whereRef('c.analysis_id', '=', 'a.id')
              .where('c.status', 'in', UNFINISHED_CHUNK_STATUSES),
          ),
        ),
      )
      .execute();
    return rows.map((row) => Number(row.id));
  }

  /** Holds the analysis's row until the caller's transaction ends (PostgreSQL; SQLite has one writer). */
  async lockAnalysis(analysisId: number): Promise<void> {
    if (!this.store.dialect.rowLocks) return;
    await this.store.db.selectFrom('analyses').select('id').where('id', '=', analysisId).forUpdate().execute();
  }

  private chunkRow(analysisId: number, chunk: number) {
    return this.store.db
      .updateTable('analysis_chunks')
      .where('analysis_id', '=', analysisId)
      .where('chunk', '=', chunk);
  }
}

const noLease = { token: null, pid: null, host: null, heartbeat_ms: null };

function toChunkRecord(row: Selectable<AnalysisChunksTable>): ChunkRecord {
  return {
    analysisId: Number(row.analysis_id),
    chunk: Number(row.chunk),
    sourcePosition: Number(row.source_position),
    fromMs: row.from_ms === null ? null : Number(row.from_ms),
    untilMs: row.until_ms === null ? null : Number(row.until_ms),
    firstIndex: Number(row.first_index),
    status: row.status as ChunkStatus,
    message: row.message ?? null,
    holder:
      row.token === null
        ? null
        : { token: row.token, pid: Number(row.pid), host: String(row.host), heartbeatMs: Number(row.heartbeat_ms) },
  };
}
