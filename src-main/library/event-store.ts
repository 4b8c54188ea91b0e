import { sql } from 'kysely';
import type { EventInfo, EventSettings } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import { detectEvents, timelineFrames } from './events.js';
import type { Frames } from './frames.js';
import type { Store } from './store.js';

/**
 * The stored events of each analysis: runs of high-score frames (events.ts decides them), remade whenever the
 * reviewer changes the analysis's event settings.
 */
export class EventStore {
  constructor(
    private readonly store: Store,
    private readonly analyses: Analyses,
    private readonly frames: Frames,
  ) {}

  /**
   * The events of a finished analysis, under its stored settings: the model's calibrated frame threshold, or
   * the one the reviewer set. Not lowered to the drive's own top tenth as analyses scored by pixel percentile
   * were (defaultEventThreshold): a region score is no shifted percentile, and an ordinary drive with nothing
   * object-like in it should show no event.
   */
  finish(analysisId: number): Promise<EventInfo[]> {
    return this.recompute(analysisId);
  }

  /** How many events the settings would give, from the stored scores; nothing is stored. */
  async count(analysisId: number, settings: EventSettings): Promise<number> {
    return detectEvents(timelineFrames(await this.frames.timeline(analysisId)), settings).length;
  }

  /** Recomputes the events from the stored scores (with new settings if given) and stores them. */
  async recompute(analysisId: number, settings?: EventSettings): Promise<EventInfo[]> {
    const chosen = settings ?? (await this.analyses.eventSettings(analysisId));
    const spans = detectEvents(timelineFrames(await this.frames.timeline(analysisId)), chosen);
    await this.store.transaction(async () => {
      const db = this.store.db;
      await this.analyses.saveEventSettings(analysisId, chosen);
      await db.deleteFrom('events').where('analysis_id', '=', analysisId).execute();
      if (spans.length > 0) {
        await db
          .insertInto('events')
          .values(
            spans.map((span) => ({
              analysis_id: analysisId,
              start_frame: span.startFrame,
              end_frame: span.endFrame,
              start_ms: span.startMs,
              end_ms: span.endMs,
              peak_frame: span.peakFrame,
              peak_ms: span.peakMs,
              peak_score: span.peakScore,
              frame_count: span.frameCount,
            })),
          )
          .execute();
      }
      // Flags follow the frames they were put on into whichever event now holds them.
      await sql`UPDATE flags SET event_id = (SELECT e.id FROM events e WHERE e.analysis_id = flags.analysis_id
          AND flags.frame_index BETWEEN e.start_frame AND e.end_frame) WHERE analysis_id = ${analysisId}`.execute(db);
    });
    return this.list(analysisId);
  }

  /** Stored events, ranked by peak score; all of them without a limit. */
  async list(analysisId: number, limit?: number): Promise<EventInfo[]> {
    await this.analyses.get(analysisId);
    const rows = await this.selectEvents()
      .where('analysis_id', '=', analysisId)
      .orderBy('peak_score', 'desc')
      .orderBy('start_frame')
      .$if(limit !== undefined && limit >= 0, (q) => q.limit(limit!))
      .execute();
    return rows;
  }

  async get(eventId: number): Promise<EventInfo> {
    const row = await this.selectEvents().where('id', '=', eventId).executeTakeFirst();
    if (!row) throw new NotFoundError(`Event ${eventId}`);
    return row;
  }

  /** Column aliases make the rows the contract's objects (integers come back as numbers from both databases). */
  private selectEvents() {
    return this.store.db
      .selectFrom('events')
      .select([
        'id',
        'analysis_id as analysisId',
        'start_ms as startMs',
        'end_ms as endMs',
        'peak_ms as peakMs',
        'peak_score as peakScore',
        'peak_frame as peakFrame',
        'frame_count as frameCount',
      ]);
  }
}
