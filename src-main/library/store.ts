import type Database from 'better-sqlite3';
import type {
  AnalysisInfo,
  AnalysisStatus,
  ClassInfo,
  EventInfo,
  EventSettings,
  Flag,
  FrameRegions,
  FrameSummary,
  SessionInfo,
  Timeline,
} from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import type { FootageSource, ProbedSource } from '../footage/index.js';
import { libraryError, openLibraryDatabase, type OpenDatabaseOptions } from './database.js';
import { defaultEventSettings, detectEvents } from './events.js';
import { decodeRegions, encodeRegions, type StoredRegions } from './region-codec.js';

export interface NewAnalysis {
  sessionId: number;
  modelName: string;
  modelSha256: string;
  knowledgeVersion: number | null;
  sampleFps: number | null;
  inputWidth: number;
  inputHeight: number;
  classes: ClassInfo[];
  /** The model's frame threshold, the default event threshold. */
  threshold: number;
  /** The model's pixel threshold: above it a pixel is unknown (it sets the default hysteresis). */
  pixelThreshold: number;
  framesTotal: number;
}

/** Everything an analysis needs to run or resume, beyond the public AnalysisInfo. */
export interface AnalysisPlan extends AnalysisInfo {
  inputWidth: number;
  inputHeight: number;
}

export interface StoredFrame {
  index: number;
  sourceIndex: number;
  timeMs: number;
  score: number;
  unknownFraction: number;
  largestRegion: FrameSummary['largestRegion'];
  classAreas: number[];
  /** Every unknown region of the frame (engine FrameResult.regions) and the size of the maps they are in. */
  regions: StoredRegions;
  classMapPng: Uint8Array;
  oodMapPng: Uint8Array;
  previewJpeg: Uint8Array;
}

export interface ResumePoint {
  framesStored: number;
  /** Frames already stored per source position. */
  framesPerSource: Map<number, number>;
  /** Session time of the last frame stored per source position. */
  lastTimeMsPerSource: Map<number, number>;
}

export interface AnalysisProgress {
  status?: AnalysisStatus;
  framesTotal?: number;
  fps?: number;
  etaSeconds?: number | null;
  message?: string | null;
  startedAt?: string;
  finishedAt?: string | null;
  timings?: { decodeMs: number; engineMs: number; writeMs: number };
}

export interface TopFramesQuery {
  analysisId: number;
  offset: number;
  limit: number;
  minScore?: number;
  classIndex?: number;
  flaggedOnly?: boolean;
}

export type MapKind = 'class_map' | 'ood_map' | 'preview';

type Row = Record<string, unknown>;

const now = () => new Date().toISOString();

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

/**
 * The one gateway to a library file. Synchronous (better-sqlite3): every call is a short indexed query, and
 * long work (analysis) runs in a worker with its own LibraryStore on the same WAL file.
 */
export class LibraryStore {
  readonly db: Database.Database;

  constructor(
    readonly path: string,
    options: OpenDatabaseOptions = {},
  ) {
    this.db = openLibraryDatabase(path, options);
    this.db.function('class_area', { deterministic: true }, (blob: unknown, index: unknown) =>
      classAreaAt(blob as Buffer, Number(index)),
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Refuses work that must write, on a library this user can only read, before any of it is done. */
  requireWritable(): void {
    if (this.db.readonly) throw libraryError(this.path, { code: 'SQLITE_READONLY' });
  }

  // ---- sessions --------------------------------------------------------------------------------------------

  createSession(name: string, sources: ProbedSource[], thumbnail: Buffer | null): SessionInfo {
    const insertSession = this.db.prepare('INSERT INTO sessions (name, created_at, thumbnail) VALUES (?, ?, ?)');
    const insertSource = this.db
      .prepare(`INSERT INTO source_files (session_id, position, path, kind, duration_ms, fps, width,
      height, rotation, created_at, sha256, frame_count, offset_ms, start_ms, codec, images) VALUES (@sessionId, @position, @path, @kind,
      @durationMs, @fps, @width, @height, @rotation, @createdAt, @sha256, @frameCount, @offsetMs, @startMs, @codec, @images)`);
    const id = this.db.transaction(() => {
      const sessionId = Number(insertSession.run(name, now(), thumbnail).lastInsertRowid);
      let offsetMs = 0;
      sources.forEach((source, position) => {
        insertSource.run({
          ...source,
          sessionId,
          position,
          offsetMs,
          images: source.images ? JSON.stringify(source.images) : null,
        });
        offsetMs += source.durationMs;
      });
      return sessionId;
    })();
    return this.session(id);
  }

  session(id: number): SessionInfo {
    const row = this.db
      .prepare('SELECT id, name, created_at, thumbnail IS NOT NULL AS has_thumbnail FROM sessions WHERE id = ?')
      .get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`Session ${id}`);
    const sources = this.sources(id);
    const first = sources[0];
    return {
      id,
      name: String(row.name),
      createdAt: String(row.created_at),
      durationMs: sources.reduce((sum, source) => sum + source.durationMs, 0),
      width: first?.width ?? 0,
      height: first?.height ?? 0,
      fps: first?.fps ?? 0,
      sources: sources.map(({ position: _p, startMs: _s, images: _i, ...source }) => source),
      hasThumbnail: row.has_thumbnail === 1,
      latestAnalysis: this.latestAnalysis(id),
    };
  }

  /** The session whose sources are exactly these files (same paths and contents, in the same order), if any. */
  findSession(sources: Pick<ProbedSource, 'path' | 'sha256'>[]): SessionInfo | undefined {
    return this.sessions().find(
      (session) =>
        session.sources.length === sources.length &&
        session.sources.every((source, i) => source.path === sources[i]!.path && source.sha256 === sources[i]!.sha256),
    );
  }

  sessions(): SessionInfo[] {
    const ids = this.db.prepare('SELECT id FROM sessions ORDER BY id DESC').pluck().all() as number[];
    return ids.map((id) => this.session(id));
  }

  deleteSession(id: number): void {
    const result = this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
    if (result.changes === 0) throw new NotFoundError(`Session ${id}`);
  }

  thumbnail(sessionId: number): Buffer | undefined {
    const value = this.db.prepare('SELECT thumbnail FROM sessions WHERE id = ?').pluck().get(sessionId) as
      Buffer | null | undefined;
    return value ?? undefined;
  }

  sources(sessionId: number): FootageSource[] {
    const rows = this.db
      .prepare('SELECT * FROM source_files WHERE session_id = ? ORDER BY position')
      .all(sessionId) as Row[];
    return rows.map((row) => ({
      position: Number(row.position),
      path: String(row.path),
      kind: row.kind as FootageSource['kind'],
      durationMs: Number(row.duration_ms),
      fps: Number(row.fps),
      width: Number(row.width),
      height: Number(row.height),
      rotation: Number(row.rotation),
      createdAt: (row.created_at as string | null) ?? null,
      sha256: String(row.sha256),
      frameCount: Number(row.frame_count),
      offsetMs: Number(row.offset_ms),
      startMs: Number(row.start_ms),
      codec: (row.codec as string | null) ?? null,
      images: typeof row.images === 'string' ? (JSON.parse(row.images) as string[]) : null,
    }));
  }

  // ---- analyses --------------------------------------------------------------------------------------------

  createAnalysis(analysis: NewAnalysis): AnalysisPlan {
    const id = this.db.transaction(() => {
      const result = this.db
        .prepare(
          `INSERT INTO analyses (session_id, model_name, model_sha256, knowledge_version, sample_fps, input_width,
          input_height, classes, threshold, frame_score, status, frames_total, created_at) VALUES (@sessionId, @modelName,
          @modelSha256, @knowledgeVersion, @sampleFps, @inputWidth, @inputHeight, @classes, @threshold, 'regions', 'queued',
          @framesTotal, @createdAt)`,
        )
        .run({
          ...withoutPixelThreshold(analysis),
          classes: JSON.stringify(analysis.classes),
          createdAt: now(),
        });
      const analysisId = Number(result.lastInsertRowid);
      this.saveEventSettings(analysisId, defaultEventSettings(analysis.threshold, analysis.pixelThreshold));
      return analysisId;
    })();
    return this.analysisPlan(id);
  }

  analysisPlan(id: number): AnalysisPlan {
    const row = this.db.prepare('SELECT * FROM analyses WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`Analysis ${id}`);
    return { ...toAnalysisInfo(row), inputWidth: Number(row.input_width), inputHeight: Number(row.input_height) };
  }

  analysis(id: number): AnalysisInfo {
    const { inputWidth: _w, inputHeight: _h, ...info } = this.analysisPlan(id);
    return info;
  }

  analyses(sessionId: number): AnalysisInfo[] {
    this.session(sessionId);
    const rows = this.db
      .prepare('SELECT * FROM analyses WHERE session_id = ? ORDER BY id DESC')
      .all(sessionId) as Row[];
    return rows.map(toAnalysisInfo);
  }

  latestAnalysis(sessionId: number): AnalysisInfo | null {
    const row = this.db
      .prepare('SELECT * FROM analyses WHERE session_id = ? ORDER BY id DESC LIMIT 1')
      .get(sessionId) as Row | undefined;
    return row ? toAnalysisInfo(row) : null;
  }

  /** Analyses a crash left queued or running: the job queue resumes them. */
  unfinishedAnalyses(): number[] {
    return this.db
      .prepare("SELECT id FROM analyses WHERE status IN ('queued', 'running') ORDER BY id")
      .pluck()
      .all() as number[];
  }

  updateAnalysis(id: number, progress: AnalysisProgress): AnalysisInfo {
    const columns: Record<string, unknown> = {
      status: progress.status,
      frames_total: progress.framesTotal,
      fps: progress.fps,
      eta_seconds: progress.etaSeconds,
      message: progress.message,
      started_at: progress.startedAt,
      finished_at: progress.finishedAt,
      decode_ms: progress.timings?.decodeMs,
      engine_ms: progress.timings?.engineMs,
      write_ms: progress.timings?.writeMs,
    };
    const set = Object.entries(columns).filter(([, value]) => value !== undefined);
    if (set.length > 0) {
      this.db
        .prepare(`UPDATE analyses SET ${set.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`)
        .run(...set.map(([, value]) => value), id);
    }
    return this.analysis(id);
  }

  // ---- frames ----------------------------------------------------------------------------------------------

  /** Stores a batch of frames and their maps in one transaction, so a crash keeps whole batches only. */
  writeFrames(analysisId: number, frames: StoredFrame[]): void {
    const insertFrame = this.db
      .prepare(`INSERT INTO frames (analysis_id, idx, source_index, time_ms, score, unknown_fraction,
      region_area, region_x, region_y, region_w, region_h, class_areas) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertMaps = this.db.prepare(
      'INSERT INTO frame_maps (analysis_id, idx, class_map, ood_map, preview) VALUES (?, ?, ?, ?, ?)',
    );
    const insertRegions = this.db.prepare('INSERT INTO frame_regions (analysis_id, idx, regions) VALUES (?, ?, ?)');
    const count = this.db.prepare('UPDATE analyses SET frames_done = frames_done + ? WHERE id = ?');
    this.db.transaction(() => {
      this.appendTimeline(analysisId, frames);
      for (const frame of frames) {
        const region = frame.largestRegion;
        insertFrame.run(
          analysisId,
          frame.index,
          frame.sourceIndex,
          frame.timeMs,
          frame.score,
          frame.unknownFraction,
          region?.area ?? null,
          region?.x ?? null,
          region?.y ?? null,
          region?.width ?? null,
          region?.height ?? null,
          encodeClassAreas(frame.classAreas),
        );
        insertMaps.run(analysisId, frame.index, frame.classMapPng, frame.oodMapPng, frame.previewJpeg);
        insertRegions.run(analysisId, frame.index, encodeRegions(frame.regions));
      }
      count.run(frames.length, analysisId);
    })();
  }

  /** Frames arrive in index order (batches of a run, a resume continuing at the next index). */
  private appendTimeline(analysisId: number, frames: StoredFrame[]): void {
    const read = this.db.prepare('SELECT times, scores FROM timeline_chunks WHERE analysis_id = ? AND chunk = ?');
    const write = this.db.prepare(
      'INSERT OR REPLACE INTO timeline_chunks (analysis_id, chunk, times, scores) VALUES (?, ?, ?, ?)',
    );
    for (let start = 0; start < frames.length;) {
      const chunk = Math.floor(frames[start]!.index / TIMELINE_CHUNK);
      const inChunk = frames.slice(start).filter((frame) => Math.floor(frame.index / TIMELINE_CHUNK) === chunk);
      const stored = read.get(analysisId, chunk) as { times: Buffer; scores: Buffer } | undefined;
      const times = Buffer.from(Float64Array.from(inChunk, (frame) => frame.timeMs).buffer);
      const scores = Buffer.from(Float64Array.from(inChunk, (frame) => frame.score).buffer);
      write.run(
        analysisId,
        chunk,
        stored ? Buffer.concat([stored.times, times]) : times,
        stored ? Buffer.concat([stored.scores, scores]) : scores,
      );
      start += inChunk.length;
    }
  }

  resumePoint(analysisId: number): ResumePoint {
    const rows = this.db
      .prepare(
        'SELECT source_index, count(*) AS n, max(time_ms) FROM frames WHERE analysis_id = ? GROUP BY source_index',
      )
      .raw()
      .all(analysisId) as [number, number, number][];
    return {
      framesStored: rows.reduce((sum, [, n]) => sum + n, 0),
      framesPerSource: new Map(rows.map(([source, n]) => [source, n])),
      lastTimeMsPerSource: new Map(rows.map(([source, , last]) => [source, last])),
    };
  }

  timeline(analysisId: number): Timeline {
    this.analysis(analysisId);
    const chunks = this.db
      .prepare('SELECT times, scores FROM timeline_chunks WHERE analysis_id = ? ORDER BY chunk')
      .raw()
      .all(analysisId) as [Buffer, Buffer][];
    return {
      analysisId,
      timesMs: unpackFloat64(chunks.map(([times]) => times)),
      scores: unpackFloat64(chunks.map(([, scores]) => scores)),
    };
  }

  frame(analysisId: number, index: number): FrameSummary {
    const row = this.db.prepare(`${frameSelect} WHERE f.analysis_id = ? AND f.idx = ?`).get(analysisId, index) as
      Row | undefined;
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return toFrameSummary(row);
  }

  topFrames(query: TopFramesQuery): { total: number; frames: FrameSummary[] } {
    this.analysis(query.analysisId);
    const conditions = ['f.analysis_id = @analysisId'];
    if (query.minScore !== undefined) conditions.push('f.score >= @minScore');
    if (query.classIndex !== undefined) conditions.push('class_area(f.class_areas, @classIndex) > 0');
    if (query.flaggedOnly)
      conditions.push(
        'EXISTS (SELECT 1 FROM flags WHERE flags.analysis_id = f.analysis_id AND flags.frame_index = f.idx)',
      );
    const where = conditions.join(' AND ');
    const params = {
      analysisId: query.analysisId,
      minScore: query.minScore,
      classIndex: query.classIndex,
      offset: query.offset,
      limit: query.limit,
    };
    const used = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
    const total = this.db.prepare(`SELECT count(*) FROM frames f WHERE ${where}`).pluck().get(used) as number;
    // The page's frame indices first, from the score index alone: OFFSET then steps over index entries, not
    // rows (30 ms instead of 900 ms for a page at 99,000 of 100,000 frames); then those frames by primary key.
    const page = this.db
      .prepare(`SELECT f.idx FROM frames f WHERE ${where} ORDER BY f.score DESC, f.idx LIMIT @limit OFFSET @offset`)
      .pluck()
      .all(used) as number[];
    if (page.length === 0) return { total, frames: [] };
    const rows = this.db
      .prepare(`${frameSelect} WHERE f.analysis_id = ? AND f.idx IN (${page.map(() => '?').join(', ')})`)
      .all(query.analysisId, ...page) as Row[];
    const byIndex = new Map(rows.map((row) => [Number(row.idx), row]));
    return { total, frames: page.map((index) => toFrameSummary(byIndex.get(index)!)) };
  }

  /** A frame's unknown regions, largest first; an analysis from before regions says it has none. */
  frameRegions(analysisId: number, index: number): FrameRegions {
    const analysis = this.analysis(analysisId);
    this.frame(analysisId, index);
    const none = { analysisId, frameIndex: index, hasRegions: false, mapWidth: 0, mapHeight: 0, regions: [] };
    if (analysis.frameScore !== 'regions') return none;
    const blob = this.db
      .prepare('SELECT regions FROM frame_regions WHERE analysis_id = ? AND idx = ?')
      .pluck()
      .get(analysisId, index) as Buffer | undefined;
    if (!blob) return none;
    const stored = decodeRegions(blob, `frame ${index} of analysis ${analysisId}`);
    const regions = [...stored.regions].sort((a, b) => b.pixels - a.pixels);
    return { ...none, hasRegions: true, mapWidth: stored.mapWidth, mapHeight: stored.mapHeight, regions };
  }

  frameMap(analysisId: number, index: number, kind: MapKind): Buffer | undefined {
    return this.db
      .prepare(`SELECT ${kind} FROM frame_maps WHERE analysis_id = ? AND idx = ?`)
      .pluck()
      .get(analysisId, index) as Buffer | undefined;
  }

  /** A frame's position in its source, for decoding it again at full resolution. */
  frameSource(analysisId: number, index: number): { sessionId: number; sourceIndex: number; timeMs: number } {
    const row = this.db
      .prepare(
        'SELECT a.session_id, f.source_index, f.time_ms FROM frames f JOIN analyses a ON a.id = f.analysis_id WHERE f.analysis_id = ? AND f.idx = ?',
      )
      .raw()
      .get(analysisId, index) as [number, number, number] | undefined;
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return { sessionId: row[0], sourceIndex: row[1], timeMs: row[2] };
  }

  // ---- events ----------------------------------------------------------------------------------------------

  eventSettings(analysisId: number): EventSettings {
    const row = this.db
      .prepare(
        'SELECT threshold, hysteresis, min_gap_ms, min_frames, min_duration_ms FROM event_settings WHERE analysis_id = ?',
      )
      .get(analysisId) as Row | undefined;
    if (!row) throw new NotFoundError(`Analysis ${analysisId}`);
    return {
      threshold: Number(row.threshold),
      hysteresis: Number(row.hysteresis),
      minGapMs: Number(row.min_gap_ms),
      minFrames: Number(row.min_frames),
      minDurationMs: Number(row.min_duration_ms),
    };
  }

  /**
   * The events of a finished analysis, under its stored settings: the model's calibrated frame threshold, or
   * the one the reviewer set. Not lowered to the drive's own top tenth as analyses scored by pixel percentile
   * were (defaultEventThreshold): a region score is no shifted percentile, and an ordinary drive with nothing
   * object-like in it should show no event.
   */
  finishEvents(analysisId: number): EventInfo[] {
    return this.recomputeEvents(analysisId);
  }

  /** How many events the settings would give, from the stored scores; nothing is stored. */
  countEvents(analysisId: number, settings: EventSettings): number {
    return detectEvents(this.scoredFrames(analysisId), settings).length;
  }

  private scoredFrames(analysisId: number) {
    const { timesMs, scores } = this.timeline(analysisId);
    // Frame indices run 0..n-1 without gaps, so a frame's index is its position on the timeline.
    return Array.from(scores, (score, index) => ({ index, timeMs: timesMs[index]!, score }));
  }

  /** Recomputes the events from the stored scores (with new settings if given) and stores them. */
  recomputeEvents(analysisId: number, settings?: EventSettings): EventInfo[] {
    const chosen = settings ?? this.eventSettings(analysisId);
    const spans = detectEvents(this.scoredFrames(analysisId), chosen);
    const insert = this.db
      .prepare(`INSERT INTO events (analysis_id, start_frame, end_frame, start_ms, end_ms, peak_frame, peak_ms,
      peak_score, frame_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      this.saveEventSettings(analysisId, chosen);
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
    return this.events(analysisId);
  }

  /** Stored events, ranked by peak score. */
  events(analysisId: number, limit = -1): EventInfo[] {
    this.analysis(analysisId);
    return this.db
      .prepare(`SELECT ${eventColumns} FROM events WHERE analysis_id = ? ORDER BY peak_score DESC, start_frame LIMIT ?`)
      .all(analysisId, limit) as EventInfo[];
  }

  event(eventId: number): EventInfo {
    const event = this.db.prepare(`SELECT ${eventColumns} FROM events WHERE id = ?`).get(eventId) as
      EventInfo | undefined;
    if (!event) throw new NotFoundError(`Event ${eventId}`);
    return event;
  }

  private saveEventSettings(analysisId: number, settings: EventSettings): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO event_settings (analysis_id, threshold, hysteresis, min_gap_ms, min_frames,
        min_duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        analysisId,
        settings.threshold,
        settings.hysteresis,
        settings.minGapMs,
        settings.minFrames,
        settings.minDurationMs,
      );
  }

  // ---- flags -----------------------------------------------------------------------------------------------

  addFlag(request: {
    analysisId: number;
    frameIndex?: number;
    eventId?: number;
    category: Flag['category'];
    note: string;
  }): Flag {
    const event = request.eventId === undefined ? undefined : this.event(request.eventId);
    if (event && event.analysisId !== request.analysisId) {
      throw new AppError(
        'invalid_request',
        `Event ${event.id} belongs to analysis ${event.analysisId}, not ${request.analysisId}`,
      );
    }
    const frameIndex = request.frameIndex ?? event!.peakFrame;
    const source = this.frameSource(request.analysisId, frameIndex);
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
        now(),
      );
    return this.flag(Number(result.lastInsertRowid));
  }

  flag(flagId: number): Flag {
    const flag = this.db.prepare(`SELECT ${flagColumns} FROM flags WHERE id = ?`).get(flagId) as Flag | undefined;
    if (!flag) throw new NotFoundError(`Flag ${flagId}`);
    return flag;
  }

  flags(sessionId: number): Flag[] {
    this.session(sessionId);
    return this.db
      .prepare(`SELECT ${flagColumns} FROM flags WHERE session_id = ? ORDER BY time_ms, id`)
      .all(sessionId) as Flag[];
  }

  updateFlag(flagId: number, change: { category?: Flag['category']; note?: string }): Flag {
    const flag = this.flag(flagId);
    this.db
      .prepare('UPDATE flags SET category = ?, note = ? WHERE id = ?')
      .run(change.category ?? flag.category, change.note ?? flag.note, flagId);
    return this.flag(flagId);
  }

  /**
   * A new analysis of a session takes over the flags of the one it follows (the newest earlier finished
   * analysis of the session): each lands on the new analysis's frame nearest in time, if one lies within
   * toleranceMs (a frame the new analysis never reached keeps its flag only on the old one). Running it again
   * adds nothing twice, so a finish repeated after a crash is harmless. Returns how many flags were carried.
   */
  carryFlags(analysisId: number, toleranceMs = 1000): number {
    const target = this.analysis(analysisId);
    const previous = this.db
      .prepare(
        "SELECT id FROM analyses WHERE session_id = ? AND id < ? AND status IN ('done', 'partial') ORDER BY id DESC LIMIT 1",
      )
      .pluck()
      .get(target.sessionId, analysisId) as number | undefined;
    if (previous === undefined) return 0;
    const times = this.timeline(analysisId).timesMs;
    const insert = this.db.prepare(
      `INSERT INTO flags (session_id, analysis_id, frame_index, time_ms, event_id, category, note, created_at)
      SELECT ?, ?, ?, ?, NULL, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM flags WHERE analysis_id = ? AND frame_index = ?
      AND category = ? AND note = ? AND created_at = ?)`,
    );
    let carried = 0;
    this.db.transaction(() => {
      for (const flag of this.flags(target.sessionId).filter((candidate) => candidate.analysisId === previous)) {
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

  removeFlag(flagId: number): void {
    if (this.db.prepare('DELETE FROM flags WHERE id = ?').run(flagId).changes === 0)
      throw new NotFoundError(`Flag ${flagId}`);
  }
}

// Column aliases make the rows the contract's objects as they come from SQLite.
const eventColumns = `id, analysis_id AS analysisId, start_ms AS startMs, end_ms AS endMs, peak_ms AS peakMs,
  peak_score AS peakScore, peak_frame AS peakFrame, frame_count AS frameCount`;
const flagColumns = `id, session_id AS sessionId, analysis_id AS analysisId, frame_index AS frameIndex, time_ms AS timeMs,
  event_id AS eventId, category, note, created_at AS createdAt`;

const frameSelect = `SELECT f.*, EXISTS (SELECT 1 FROM flags WHERE flags.analysis_id = f.analysis_id AND flags.frame_index = f.idx) AS flagged
  FROM frames f`;

/** Frames per timeline_chunks row. */
const TIMELINE_CHUNK = 1024;

/** better-sqlite3 refuses named parameters the statement does not use. */
function withoutPixelThreshold({ pixelThreshold: _pixel, ...analysis }: NewAnalysis) {
  return analysis;
}

function unpackFloat64(blobs: Buffer[]): Float64Array<ArrayBuffer> {
  const bytes = new Uint8Array(blobs.reduce((sum, blob) => sum + blob.byteLength, 0));
  let offset = 0;
  for (const blob of blobs) {
    bytes.set(blob, offset);
    offset += blob.byteLength;
  }
  // Copied to a buffer of its own: a Float64Array view of a Buffer's pooled memory may be misaligned.
  return new Float64Array(bytes.buffer);
}

export function encodeClassAreas(areas: number[]): Buffer {
  return Buffer.from(Float32Array.from(areas).buffer);
}

export function decodeClassAreas(blob: Buffer): number[] {
  const areas: number[] = [];
  for (let offset = 0; offset + 4 <= blob.length; offset += 4) areas.push(blob.readFloatLE(offset));
  return areas;
}

function classAreaAt(blob: Buffer, index: number): number {
  const offset = index * 4;
  return offset >= 0 && offset + 4 <= blob.length ? blob.readFloatLE(offset) : 0;
}

function toAnalysisInfo(row: Row): AnalysisInfo {
  return {
    id: Number(row.id),
    sessionId: Number(row.session_id),
    modelName: String(row.model_name),
    modelSha256: String(row.model_sha256),
    knowledgeVersion: row.knowledge_version === null ? null : Number(row.knowledge_version),
    sampleFps: row.sample_fps === null ? null : Number(row.sample_fps),
    threshold: Number(row.threshold),
    frameScore: row.frame_score as AnalysisInfo['frameScore'],
    status: row.status as AnalysisStatus,
    framesDone: Number(row.frames_done),
    framesTotal: Number(row.frames_total),
    fps: Number(row.fps),
    etaSeconds: row.eta_seconds === null ? null : Number(row.eta_seconds),
    message: (row.message as string | null) ?? null,
    classes: JSON.parse(String(row.classes)) as ClassInfo[],
    createdAt: String(row.created_at),
    finishedAt: (row.finished_at as string | null) ?? null,
  };
}

function toFrameSummary(row: Row): FrameSummary {
  return {
    index: Number(row.idx),
    timeMs: Number(row.time_ms),
    score: Number(row.score),
    unknownFraction: Number(row.unknown_fraction),
    largestRegion:
      row.region_area === null
        ? null
        : {
            area: Number(row.region_area),
            x: Number(row.region_x),
            y: Number(row.region_y),
            width: Number(row.region_w),
            height: Number(row.region_h),
          },
    classAreas: decodeClassAreas(row.class_areas as Buffer),
    flagged: Boolean(row.flagged),
  };
}
