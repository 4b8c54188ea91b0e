import type Database from 'better-sqlite3';
import type { EventInfo, EventSettings } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import { detectEvents, timelineFrames } from './events.js';
import type { Frames } from './frames.js';

/**
 * The stored events of each analysis: runs of high-score frames (events.ts decides them), remade whenever the
 * reviewer changes the analysis's event settings.
 */
export class EventStore {
  constructor(
    private readonly db: Database.Database,
    private readonly analyses: Analyses,
    private readonly frames: Frames,
  ) {}

  /**
   * The events of a finished analysis, under its stored settings: the model's calibrated frame threshold, or
   * the one the reviewer set. Not lowered to the drive's own top tenth as analyses scored by pixel percentile
   * were (defaultEventThreshold): a region score is no shifted percentile, and an ordinary drive with nothing
   * object-like in it should show no event.
   */
  finish(analysisId: number): EventInfo[] {
    return this.recompute(analysisId);
  }

  /** How many events the settings would give, from the stored scores; nothing is stored. */
  count(analysisId: number, settings: EventSettings): number {
    return detectEvents(timelineFrames(this.frames.timeline(analysisId)), settings).length;
  }

  /** Recomputes the events from the stored scores (with new settings if given) and stores them. */
  recompute(analysisId: number, settings?: EventSettings): EventInfo[] {
    const chosen = settings ?? this.analyses.eventSettings(analysisId);
    const spans = detectEvents(timelineFrames(this.frames.timeline(analysisId)), chosen);
    const insert = this.db
      .prepare(`INSERT INTO events (analysis_id, start_frame, end_frame, start_ms, end_ms, peak_frame, peak_ms,
      peak_score, frame_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      this.analyses.saveEventSettings(analysisId, chosen);
      this.db.prepare('DELETE FROM events WHERE analysis_id = ?').run(analysisId);
      for (const span of spans) {
        insert.run(
          analysisId,
          span.startFrame,
          span.endFrame,
          span.startMs,
          span.endMs,
          span.peakFrame,
          span.peakMs,
          span.peakScore,
          span.frameCount,
        );
      }
      // Flags follow the frames they were put on into whichever event now holds them.
      this.db
        .prepare(
          `UPDATE flags SET event_id = (SELECT e.id FROM events e WHERE e.analysis_id = flags.analysis_id
          AND flags.frame_index BETWEEN e.start_frame AND e.end_frame) WHERE analysis_id = ?`,
        )
        .run(analysisId);
    })();
    return this.list(analysisId);
  }

  /** Stored events, ranked by peak score. */
  list(analysisId: number, limit = -1): EventInfo[] {
    this.analyses.get(analysisId);
    return this.db
      .prepare(`SELECT ${eventColumns} FROM events WHERE analysis_id = ? ORDER BY peak_score DESC, start_frame LIMIT ?`)
      .all(analysisId, limit) as EventInfo[];
  }

  get(eventId: number): EventInfo {
    const event = this.db.prepare(`SELECT ${eventColumns} FROM events WHERE id = ?`).get(eventId) as
      EventInfo | undefined;
    if (!event) throw new NotFoundError(`Event ${eventId}`);
    return event;
  }
}

// Column aliases make the rows the contract's objects as they come from SQLite.
const eventColumns = `id, analysis_id AS analysisId, start_ms AS startMs, end_ms AS endMs, peak_ms AS peakMs,
  peak_score AS peakScore, peak_frame AS peakFrame, frame_count AS frameCount`;
