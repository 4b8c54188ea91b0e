/**
 * One owner per analysis. Several processes may open one library (the CLI's `analyze`, `serve`, the app); an
 * analysis is run only by the process that claimed it, in a write transaction, and that process renews a
 * heartbeat the others can see. A process that finds an analysis claimed waits: it takes over only once the
 * owner is gone (its heartbeat older than STALE_AFTER_MS, or its process no longer alive on this host).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '../core/errors.js';
import { processAlive } from '../core/processes.js';
import type { Store } from './store.js';

/** How often the owner renews its heartbeat. */
export const HEARTBEAT_MS = 2000;
/** A heartbeat older than this means the owner stopped: five missed beats, so a busy machine is no reason. */
export const STALE_AFTER_MS = 10_000;

/** Who runs an analysis: the token is this run's own, pid and host say where it runs, for people. */
export interface Owner {
  token: string;
  pid: number;
  host: string;
}

export interface OwnerRecord extends Owner {
  analysisId: number;
  claimedAt: string;
  heartbeatMs: number;
}

/** A new owner identity for one run in this process. */
export function newOwner(): Owner {
  return { token: randomBytes(12).toString('hex'), pid: process.pid, host: hostname() };
}

/** Another process runs the analysis; `owner` says which, the message says what happens next. */
export class AnalysisOwnedError extends AppError {
  constructor(readonly owner: OwnerRecord) {
    super('analysis_owned', describeOwner(owner));
  }
}

export function describeOwner(owner: OwnerRecord): string {
  return `analysis ${owner.analysisId} is being run by process ${owner.pid} on host ${owner.host} since ${owner.claimedAt}; it resumes here if that process stops (heartbeat older than ${STALE_AFTER_MS / 1000} s)`;
}

export class AnalysisOwners {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes `me` the owner unless a live process holds the analysis, in one write transaction, so that of two
   * processes claiming at once exactly one wins. Throws AnalysisOwnedError naming the live owner.
   */
  async claim(analysisId: number, me: Owner): Promise<void> {
    await this.store.writeTransaction(async () => {
      const holder = await this.live(analysisId);
      if (holder && holder.token !== me.token) throw new AnalysisOwnedError(holder);
      const claim = {
        token: me.token,
        pid: me.pid,
        host: me.host,
        claimed_at: new Date(this.now()).toISOString(),
        heartbeat_ms: this.now(),
      };
      await this.store.db
        .insertInto('analysis_owners')
        .values({ analysis_id: analysisId, ...claim })
        .onConflict((conflict) => conflict.column('analysis_id').doUpdateSet(claim))
        .execute();
    });
  }

  /** Renews the heartbeat; false when `token` no longer owns the analysis (another process took it over). */
  async beat(analysisId: number, token: string): Promise<boolean> {
    const result = await this.store.db
      .updateTable('analysis_owners')
      .set({ heartbeat_ms: this.now() })
      .where('analysis_id', '=', analysisId)
      .where('token', '=', token)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /**
   * Whether `token` owns the analysis. Inside a transaction on PostgreSQL the claim's row stays locked until
   * the transaction ends (SELECT ... FOR UPDATE), so no other process can take the analysis over between this
   * check and the writes it guards; SQLite's single writer gives the same.
   */
  async holds(analysisId: number, token: string): Promise<boolean> {
    let query = this.store.db
      .selectFrom('analysis_owners')
      .select('token')
      .where('analysis_id', '=', analysisId)
      .where('token', '=', token);
    if (this.store.dialect.rowLocks) query = query.forUpdate();
    return (await query.executeTakeFirst()) !== undefined;
  }

  async release(analysisId: number, token: string): Promise<void> {
    await this.store.db
      .deleteFrom('analysis_owners')
      .where('analysis_id', '=', analysisId)
      .where('token', '=', token)
      .execute();
  }

  /** The process running the analysis now, if one is alive. */
  async live(analysisId: number): Promise<OwnerRecord | undefined> {
    const row = await this.store.db
      .selectFrom('analysis_owners')
      .selectAll()
      .where('analysis_id', '=', analysisId)
      .executeTakeFirst();
    if (!row) return undefined;
    const owner: OwnerRecord = {
      analysisId: Number(row.analysis_id),
      token: row.token,
      pid: Number(row.pid),
      host: row.host,
      claimedAt: row.claimed_at,
      heartbeatMs: Number(row.heartbeat_ms),
    };
    return this.alive(owner) ? owner : undefined;
  }

  /** Throws AnalysisOwnedError when another live process runs the analysis (before deleting or cancelling it). */
  async refuseIfOwnedElsewhere(analysisId: number, what: string): Promise<void> {
    const holder = await this.live(analysisId);
    if (holder && !(holder.pid === process.pid && holder.host === hostname())) {
      throw new AppError('analysis_owned', `Cannot ${what}: ${describeOwner(holder)}; stop it in that process`);
    }
  }

  private alive(owner: OwnerRecord): boolean {
    return holderAlive(owner, this.now());
  }
}

/**
 * Whether the process holding a claim (an analysis, or a chunk of one) still runs it: its heartbeat is fresh
 * and, on this host, its process exists.
 */
export function holderAlive(holder: { pid: number; host: string; heartbeatMs: number }, now: number): boolean {
  if (now - holder.heartbeatMs > STALE_AFTER_MS) return false;
  // On this host a dead process is known at once, without waiting for its heartbeat to go stale (kill -9).
  return holder.host !== hostname() || processAlive(holder.pid);
}
