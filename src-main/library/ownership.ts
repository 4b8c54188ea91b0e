/**
 * One owner per analysis. Several processes may open one library (the CLI's `analyze`, `serve`, the app); an
 * analysis is run only by the process that claimed it, in a write transaction, and that process renews a
 * heartbeat the others can see. A process that finds an analysis claimed waits: it takes over only once the
 * owner is gone (its heartbeat older than STALE_AFTER_MS, or its process no longer alive on this host).
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '../core/errors.js';
import { processAlive } from '../core/processes.js';

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

type Row = {
  analysis_id: number;
  token: string;
  pid: number;
  host: string;
  claimed_at: string;
  heartbeat_ms: number;
};

export class AnalysisOwners {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes `me` the owner unless a live process holds the analysis, in one write transaction, so that of two
   * processes claiming at once exactly one wins. Throws AnalysisOwnedError naming the live owner.
   */
  claim(analysisId: number, me: Owner): void {
    this.db
      .transaction(() => {
        const holder = this.live(analysisId);
        if (holder && holder.token !== me.token) throw new AnalysisOwnedError(holder);
        this.db
          .prepare(
            `INSERT OR REPLACE INTO analysis_owners (analysis_id, token, pid, host, claimed_at, heartbeat_ms)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(analysisId, me.token, me.pid, me.host, new Date(this.now()).toISOString(), this.now());
      })
      .immediate();
  }

  /** Renews the heartbeat; false when `token` no longer owns the analysis (another process took it over). */
  beat(analysisId: number, token: string): boolean {
    return (
      this.db
        .prepare('UPDATE analysis_owners SET heartbeat_ms = ? WHERE analysis_id = ? AND token = ?')
        .run(this.now(), analysisId, token).changes === 1
    );
  }

  holds(analysisId: number, token: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM analysis_owners WHERE analysis_id = ? AND token = ?').get(analysisId, token) !==
      undefined
    );
  }

  release(analysisId: number, token: string): void {
    this.db.prepare('DELETE FROM analysis_owners WHERE analysis_id = ? AND token = ?').run(analysisId, token);
  }

  /** The process running the analysis now, if one is alive. */
  live(analysisId: number): OwnerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM analysis_owners WHERE analysis_id = ?').get(analysisId) as
      Row | undefined;
    if (!row) return undefined;
    const owner: OwnerRecord = {
      analysisId: row.analysis_id,
      token: row.token,
      pid: row.pid,
      host: row.host,
      claimedAt: row.claimed_at,
      heartbeatMs: row.heartbeat_ms,
    };
    return this.alive(owner) ? owner : undefined;
  }

  /** Throws AnalysisOwnedError when another live process runs the analysis (before deleting or cancelling it). */
  refuseIfOwnedElsewhere(analysisId: number, what: string): void {
    const holder = this.live(analysisId);
    if (holder && !(holder.pid === process.pid && holder.host === hostname())) {
      throw new AppError('analysis_owned', `Cannot ${what}: ${describeOwner(holder)}; stop it in that process`);
    }
  }

  private alive(owner: OwnerRecord): boolean {
    if (this.now() - owner.heartbeatMs > STALE_AFTER_MS) return false;
    // On this host a dead process is known at once, without waiting for its heartbeat to go stale (kill -9).
    return owner.host !== hostname() || processAlive(owner.pid);
  }
}
