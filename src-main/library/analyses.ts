import type { Selectable } from 'kysely';
import {
  UNFINISHED_ANALYSIS_STATUSES,
  type AnalysisInfo,
  type AnalysisStatus,
  type ClassInfo,
  type EventSettings,
} from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import { isoNow } from './database.js';
import { defaultEventSettings } from './events.js';
import type { Store } from './store.js';
import type { AnalysesTable } from './tables.js';

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
  constructor(private readonly store: Store) {}

  /** Records a queued analysis with the event settings its model's thresholds give. */
  async create(analysis: NewAnalysis): Promise<AnalysisPlan> {
    const id = await this.store.transaction(async () => {
      const { id: analysisId } = await this.store.db
        .insertInto('analyses')
        .values({
          session_id: analysis.sessionId,
          model_name: analysis.modelName,
          model_sha256: analysis.modelSha256,
          knowledge_version: analysis.knowledgeVersion,
          sample_fps: analysis.sampleFps,
          input_width: analysis.inputWidth,
          input_height: analysis.inputHeight,
          classes: JSON.stringify(analysis.classes),
          threshold: analysis.threshold,
          frame_score: 'regions',
          status: 'queued',
          frames_total: analysis.framesTotal,
          created_at: isoNow(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.saveEventSettings(analysisId, defaultEventSettings(analysis.threshold, analysis.pixelThreshold));
      return analysisId;
    });
    return this.plan(id);
  }

  async plan(id: number): Promise<AnalysisPlan> {
    const row = await this.store.db.selectFrom('analyses').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`Analysis ${id}`);
    return {
      ...toAnalysisInfo(row),
      inputWidth: Number(row.input_width),
      inputHeight: Number(row.input_height),
      startedAt: row.started_at ?? null,
    };
  }

  async get(id: number): Promise<AnalysisInfo> {
    const { inputWidth: _w, inputHeight: _h, startedAt: _s, ...info } = await this.plan(id);
    return info;
  }

  /** A session's analyses, newest first. */
  async list(sessionId: number): Promise<AnalysisInfo[]> {
    const session = await this.store.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!session) throw new NotFoundError(`Session ${sessionId}`);
    const rows = await this.store.db
      .selectFrom('analyses')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAnalysisInfo);
  }

  async latest(sessionId: number): Promise<AnalysisInfo | null> {
    const row = await this.store.db
      .selectFrom('analyses')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toAnalysisInfo(row) : null;
  }

  /** Analyses a crash left queued or running: the job queue resumes them. */
  async unfinished(): Promise<number[]> {
    const rows = await this.store.db
      .selectFrom('analyses')
      .select('id')
      .where('status', 'in', UNFINISHED_ANALYSIS_STATUSES)
      .orderBy('id')
      .execute();
    return rows.map((row) => Number(row.id));
  }

  async update(id: number, progress: AnalysisProgress): Promise<AnalysisInfo> {
    const columns = {
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
    const set = Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined));
    if (Object.keys(set).length > 0) {
      await this.store.db.updateTable('analyses').set(set).where('id', '=', id).execute();
    }
    return this.get(id);
  }

  /** The settings the analysis's events are made with: its model's defaults until the reviewer sets others. */
  async eventSettings(analysisId: number): Promise<EventSettings> {
    const row = await this.store.db
      .selectFrom('event_settings')
      .select(['threshold', 'hysteresis', 'min_gap_ms', 'min_frames', 'min_duration_ms'])
      .where('analysis_id', '=', analysisId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Analysis ${analysisId}`);
    return {
      threshold: Number(row.threshold),
      hysteresis: Number(row.hysteresis),
      minGapMs: Number(row.min_gap_ms),
      minFrames: Number(row.min_frames),
      minDurationMs: Number(row.min_duration_ms),
    };
  }

  async saveEventSettings(analysisId: number, settings: EventSettings): Promise<void> {
    const values = {
      threshold: settings.threshold,
      hysteresis: settings.hysteresis,
      min_gap_ms: settings.minGapMs,
      min_frames: settings.minFrames,
      min_duration_ms: settings.minDurationMs,
    };
    await this.store.db
      .insertInto('event_settings')
      .values({ analysis_id: analysisId, ...values })
      .onConflict((conflict) => conflict.column('analysis_id').doUpdateSet(values))
      .execute();
  }
}

type AnalysisRow = Selectable<AnalysesTable>;

function toAnalysisInfo(row: AnalysisRow): AnalysisInfo {
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
    message: row.message ?? null,
    classes: JSON.parse(String(row.classes)) as ClassInfo[],
    createdAt: String(row.created_at),
    finishedAt: row.finished_at ?? null,
  };
}
