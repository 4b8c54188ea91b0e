import type Database from 'better-sqlite3';
import type { Flag } from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import { isoNow } from './database.js';
import type { EventStore } from './event-store.js';
import type { Frames } from './frames.js';
import type { Sessions } from './sessions.js';

export interface NewFlag {
  analysisId: number;
  /** The flagged frame; default: the event's peak frame. */
  frameIndex?: number;
  eventId?: number;
  category: Flag['category'];
  note: string;
}

/** The reviewer's flags on frames of a session's analyses, each with its category and note. */
export class Flags {
  constructor(
    private readonly db: Database.Database,
    private readonly sessions: Sessions,
    private readonly analyses: Analyses,
    private readonly frames: Frames,
    private readonly events: EventStore,
  ) {}

  add(request: NewFlag): Flag {
    const event = request.eventId === undefined ? undefined : this.events.get(request.eventId);
    if (event && event.analysisId !== request.analysisId) {
      throw new AppError(
        'invalid_request',
        `Event ${event.id} belongs to analysis ${event.analysisId}, not ${request.analysisId}`,
      );
    }
    const frameIndex = request.frameIndex ?? event!.peakFrame;
    const source = this.frames.source(request.analysisId, frameIndex);
    const result = this.db
      .prepare(
        'INSERT INTO flags (session_id, analysis_id, frame_index, time_ms, event_id, category, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        source.sessionId,
        request.analysisId,
        frameIndex,
        source.timeMs,
        event?.id ?? null,
        request.category,
        request.note,
        isoNow(),
      );
    return this.get(Number(result.lastInsertRowid));
  }

  get(flagId: number): Flag {
    const flag = this.db.prepare(`SELECT ${flagColumns} FROM flags WHERE id = ?`).get(flagId) as Flag | undefined;
    if (!flag) throw new NotFoundError(`Flag ${flagId}`);
    return flag;
  }

  /** A session's flags in time order. */
  list(sessionId: number): Flag[] {
    this.sessions.get(sessionId);
    return this.db
      .prepare(`SELECT ${flagColumns} FROM flags WHERE session_id = ? ORDER BY time_ms, id`)
      .all(sessionId) as Flag[];
  }

  update(flagId: number, change: { category?: Flag['category']; note?: string }): Flag {
    const flag = this.get(flagId);
    this.db
      .prepare('UPDATE flags SET category = ?, note = ? WHERE id = ?')
      .run(change.category ?? flag.category, change.note ?? flag.note, flagId);
    return this.get(flagId);
  }

  /**
   * A new analysis of a session takes over the flags of the one it follows (the newest earlier finished
   * analysis of the session): each lands on the new analysis's frame nearest in time, if one lies within
   * toleranceMs (a frame the new analysis never reached keeps its flag only on the old one). Running it again
   * adds nothing twice, so a finish repeated after a crash is harmless. Returns how many flags were carried.
   */
  carry(analysisId: number, toleranceMs = 1000): number {
    const target = this.analyses.get(analysisId);
    const previous = this.db
      .prepare(
        "SELECT id FROM analyses WHERE session_id = ? AND id < ? AND status IN ('done', 'partial') ORDER BY id DESC LIMIT 1",
      )
      .pluck()
      .get(target.sessionId, analysisId) as number | undefined;
    if (previous === undefined) return 0;
    const times = this.frames.timeline(analysisId).timesMs;
    const insert = this.db.prepare(
      `INSERT INTO flags (session_id, analysis_id, frame_index, time_ms, event_id, category, note, created_at)
      SELECT ?, ?, ?, ?, NULL, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM flags WHERE analysis_id = ? AND frame_index = ?
      AND category = ? AND note = ? AND created_at = ?)`,
    );
    let carried = 0;
    this.db.transaction(() => {
      for (const flag of this.list(target.sessionId).filter((candidate) => candidate.analysisId === previous)) {
        const index = nearestIndex(times, flag.timeMs);
        if (index < 0 || Math.abs(times[index]! - flag.timeMs) > toleranceMs) continue;
        const same = [analysisId, index, flag.category, flag.note, flag.createdAt];
        carried += insert.run(
          target.sessionId,
          analysisId,
          index,
          times[index],
          flag.category,
          flag.note,
          flag.createdAt,
          ...same,
        ).changes;
      }
    })();
    return carried;
  }

  remove(flagId: number): void {
    if (this.db.prepare('DELETE FROM flags WHERE id = ?').run(flagId).changes === 0)
      throw new NotFoundError(`Flag ${flagId}`);
  }
}

const flagColumns = `id, session_id AS sessionId, analysis_id AS analysisId, frame_index AS frameIndex, time_ms AS timeMs,
  event_id AS eventId, category, note, created_at AS createdAt`;

/** Index of the time nearest to t in ascending times; -1 when there is none. */
function nearestIndex(times: ArrayLike<number>, t: number): number {
  let [low, high] = [0, times.length];
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! < t) low = mid + 1;
    else high = mid;
  }
  if (low === times.length) return times.length - 1;
  return low > 0 && t - times[low - 1]! <= times[low]! - t ? low - 1 : low;
}
