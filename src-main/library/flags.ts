import type { Flag } from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import { isoNow } from './database.js';
import type { EventStore } from './event-store.js';
import type { Frames } from './frames.js';
import type { Sessions } from './sessions.js';
import type { Store } from './store.js';

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
    private readonly store: Store,
    private readonly sessions: Sessions,
    private readonly analyses: Analyses,
    private readonly frames: Frames,
    private readonly events: EventStore,
  ) {}

  async add(request: NewFlag): Promise<Flag> {
    const event = request.eventId === undefined ? undefined : await this.events.get(request.eventId);
    if (event && event.analysisId !== request.analysisId) {
      throw new AppError(
        'invalid_request',
        `Event ${event.id} belongs to analysis ${event.analysisId}, not ${request.analysisId}`,
      );
    }
    const frameIndex = request.frameIndex ?? event!.peakFrame;
    const source = await this.frames.source(request.analysisId, frameIndex);
    const { id } = await this.store.db
      .insertInto('flags')
      .values({
        session_id: source.sessionId,
        analysis_id: request.analysisId,
        frame_index: frameIndex,
        time_ms: source.timeMs,
        event_id: event?.id ?? null,
        category: request.category,
        note: request.note,
        created_at: isoNow(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return this.get(id);
  }

  async get(flagId: number): Promise<Flag> {
    const flag = await this.selectFlags().where('id', '=', flagId).executeTakeFirst();
    if (!flag) throw new NotFoundError(`Flag ${flagId}`);
    return flag;
  }

  /** A session's flags in time order. */
  async list(sessionId: number): Promise<Flag[]> {
    await this.sessions.get(sessionId);
    return this.selectFlags().where('session_id', '=', sessionId).orderBy('time_ms').orderBy('id').execute();
  }

  async update(flagId: number, change: { category?: Flag['category']; note?: string }): Promise<Flag> {
    const flag = await this.get(flagId);
    await this.store.db
      .updateTable('flags')
      .set({ category: change.category ?? flag.category, note: change.note ?? flag.note })
      .where('id', '=', flagId)
      .execute();
    return this.get(flagId);
  }

  /**
   * A new analysis of a session takes over the flags of the one it follows (the newest earlier finished
   * analysis of the session): each lands on the new analysis's frame nearest in time, if one lies within
   * toleranceMs (a frame the new analysis never reached keeps its flag only on the old one). Running it again
   * adds nothing twice, so a finish repeated after a crash is harmless. Returns how many flags were carried.
   */
  async carry(analysisId: number, toleranceMs = 1000): Promise<number> {
    const target = await this.analyses.get(analysisId);
    const previous = await this.store.db
      .selectFrom('analyses')
      .select('id')
      .where('session_id', '=', target.sessionId)
      .where('id', '<', analysisId)
      .where('status', 'in', ['done', 'partial'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (previous === undefined) return 0;
    const times = (await this.frames.timeline(analysisId)).timesMs;
    return this.store.transaction(async () => {
      let carried = 0;
      for (const flag of await this.list(target.sessionId)) {
        if (flag.analysisId !== previous.id) continue;
        const index = nearestIndex(times, flag.timeMs);
        if (index < 0 || Math.abs(times[index]! - flag.timeMs) > toleranceMs) continue;
        const copy = {
          analysis_id: analysisId,
          frame_index: index,
          category: flag.category,
          note: flag.note,
          created_at: flag.createdAt,
        };
        if (await this.exists(copy)) continue;
        await this.store.db
          .insertInto('flags')
          .values({ ...copy, session_id: target.sessionId, time_ms: times[index]!, event_id: null })
          .execute();
        carried += 1;
      }
      return carried;
    });
  }

  /** Whether the same flag (frame, category, note, time of making) is already on the analysis. */
  private async exists(flag: {
    analysis_id: number;
    frame_index: number;
    category: string;
    note: string;
    created_at: string;
  }): Promise<boolean> {
    const found = await this.store.db
      .selectFrom('flags')
      .select('id')
      .where('analysis_id', '=', flag.analysis_id)
      .where('frame_index', '=', flag.frame_index)
      .where('category', '=', flag.category)
      .where('note', '=', flag.note)
      .where('created_at', '=', flag.created_at)
      .executeTakeFirst();
    return found !== undefined;
  }

  async remove(flagId: number): Promise<void> {
    const result = await this.store.db.deleteFrom('flags').where('id', '=', flagId).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw new NotFoundError(`Flag ${flagId}`);
  }

  /** Column aliases make the rows the contract's objects. */
  private selectFlags() {
    return this.store.db
      .selectFrom('flags')
      .select([
        'id',
        'session_id as sessionId',
        'analysis_id as analysisId',
        'frame_index as frameIndex',
        'time_ms as timeMs',
        'event_id as eventId',
        (eb) => eb.ref('category').$castTo<Flag['category']>().as('category'),
        'note',
        'created_at as createdAt',
      ]);
  }
}

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
