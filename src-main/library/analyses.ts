import type Database from 'better-sqlite3';
import type { AnalysisInfo, AnalysisStatus, ClassInfo, EventSettings } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import { isoNow, type Row } from './database.js';
import { defaultEventSettings } from './events.js';

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
  /** When the last run began; null before any. */
  startedAt: string | null;
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

/**
 * Analyses: one run of a model over a session, its progress and the event settings it is reviewed with. Its
 * frames are the Frames aggregate's (frames.ts).
 */
export class Analyses {
  constructor(private readonly db: Database.Database) {}

  /** Records a queued analysis with the event settings its model's thresholds give. */
  create(analysis: NewAnalysis): AnalysisPlan {
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
          createdAt: isoNow(),
        });
      const analysisId = Number(result.lastInsertRowid);
      this.saveEventSettings(analysisId, defaultEventSettings(analysis.threshold, analysis.pixelThreshold));
      return analysisId;
    })();
    return this.plan(id);
  }

  plan(id: number): AnalysisPlan {
    const row = this.db.prepare('SELECT * FROM analyses WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`Analysis ${id}`);
    return {
      ...toAnalysisInfo(row),
      inputWidth: Number(row.input_width),
      inputHeight: Number(row.input_height),
      startedAt: (row.started_at as string | null) ?? null,
    };
  }

  get(id: number): AnalysisInfo {
    const { inputWidth: _w, inputHeight: _h, startedAt: _s, ...info } = this.plan(id);
    return info;
  }

  /** A session's analyses, newest first. */
  list(sessionId: number): AnalysisInfo[] {
    if (this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId) === undefined)
      throw new NotFoundError(`Session ${sessionId}`);
    const rows = this.db
      .prepare('SELECT * FROM analyses WHERE session_id = ? ORDER BY id DESC')
      .all(sessionId) as Row[];
    return rows.map(toAnalysisInfo);
  }

  latest(sessionId: number): AnalysisInfo | null {
    const row = this.db
      .prepare('SELECT * FROM analyses WHERE session_id = ? ORDER BY id DESC LIMIT 1')
      .get(sessionId) as Row | undefined;
    return row ? toAnalysisInfo(row) : null;
  }

  /** Analyses a crash left queued or running: the job queue resumes them. */
  unfinished(): number[] {
    return this.db
      .prepare("SELECT id FROM analyses WHERE status IN ('queued', 'running') ORDER BY id")
      .pluck()
      .all() as number[];
  }

  update(id: number, progress: AnalysisProgress): AnalysisInfo {
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
    return this.get(id);
  }

  /** The settings the analysis's events are made with: its model's defaults until the reviewer sets others. */
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

  saveEventSettings(analysisId: number, settings: EventSettings): void {
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
}

/** better-sqlite3 refuses named parameters the statement does not use. */
function withoutPixelThreshold({ pixelThreshold: _pixel, ...analysis }: NewAnalysis) {
  return analysis;
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
