import { basename, resolve } from 'node:path';
import type { AnalysisInfo, SessionInfo } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import { DEFAULT_MODEL, readModelCard, regionFrameThreshold, type OpenEngineOptions } from '../engine/index.js';
import { requireModelCard } from '../engine/model-names.js';
import { expectedFrames, makeThumbnail, probeSource, type ProbeOptions } from '../footage/index.js';
import type { LibraryStore, NewSource } from '../library/index.js';
import { knowledgeForAnalysis } from '../teaching/index.js';
import { JobQueue } from './job-queue.js';

/** Sampling used when a caller does not choose: enough for review, a fraction of a 30 fps drive's frames. */
export const DEFAULT_SAMPLE_FPS = 2;

export interface AnalysisRequest {
  model?: string;
  /**
   * undefined: the sampling of the session's latest analysis (a re-analysis compares frame for frame with the
   * one it follows), DEFAULT_SAMPLE_FPS for the first; null: every frame.
   */
  sampleFps?: number | null;
}

/**
 * Imports drives and runs their analyses: what the API handlers and the CLI share. Progress goes to
 * onProgress (the app's event bus, or the CLI's progress bar).
 */
export class AnalysisService {
  readonly queue: JobQueue;

  constructor(
    readonly store: LibraryStore,
    readonly modelsDir: string,
    onProgress: (info: AnalysisInfo) => void,
    engine?: OpenEngineOptions,
  ) {
    this.queue = new JobQueue({ store, modelsDir, engine, onProgress });
  }

  /** Probes every path (video files or image folders, in timeline order) and stores them as one session. */
  async importSession(paths: string[], name?: string, options: ProbeOptions = {}): Promise<SessionInfo> {
    const sources: NewSource[] = [];
    for (const path of paths) sources.push(await probeSource(resolve(path), options));
    const thumbnail = await makeThumbnail(sources[0]!);
    return this.store.createSession(name ?? defaultSessionName(paths), sources, thumbnail);
  }

  /** A session already imported from exactly these files (same paths and contents), if any. */
  async findSession(paths: string[], options: ProbeOptions = {}): Promise<SessionInfo | undefined> {
    const wanted = await Promise.all(paths.map((path) => probeSource(resolve(path), options)));
    return this.store
      .sessions()
      .find(
        (session) =>
          session.sources.length === wanted.length &&
          session.sources.every((source, i) => source.path === wanted[i]!.path && source.sha256 === wanted[i]!.sha256),
      );
  }

  /** Records a new analysis of a session with a model and queues it. */
  async startAnalysis(sessionId: number, request: AnalysisRequest = {}): Promise<AnalysisInfo> {
    const session = this.store.session(sessionId);
    await requireModelCard(this.modelsDir, request.model ?? DEFAULT_MODEL);
    const card = await readModelCard(this.modelsDir, request.model ?? DEFAULT_MODEL);
    const sampleFps = request.sampleFps !== undefined ? request.sampleFps : followedSampling(session.latestAnalysis);
    const knowledge = knowledgeForAnalysis(this.store.db, card.sha256);
    const plan = this.store.createAnalysis({
      sessionId,
      modelName: card.name,
      modelSha256: card.sha256,
      knowledgeVersion: knowledge.version,
      sampleFps,
      inputWidth: card.input.width,
      inputHeight: card.input.height,
      classes: [
        ...card.classes.map((cls) => ({ index: cls.index, name: cls.name, color: cls.color, taught: false })),
        ...knowledge.classes.map((cls, i) => ({
          index: card.classes.length + i,
          name: cls.name,
          color: cls.color,
          taught: true,
        })),
      ],
      threshold: regionFrameThreshold(card),
      pixelThreshold: card.scores.threshold,
      framesTotal: this.store.sources(session.id).reduce((sum, source) => sum + expectedFrames(source, sampleFps), 0),
    });
    this.queue.enqueue(plan.id);
    return this.store.analysis(plan.id);
  }

  /** Puts an unfinished analysis (left by a crash, a closed app or a cancel) back in the queue; it continues where it stopped. */
  resume(analysisId: number): AnalysisInfo {
    const info = this.store.analysis(analysisId);
    if (!['queued', 'running', 'cancelled'].includes(info.status)) {
      throw new AppError(
        'conflict',
        `Analysis ${analysisId} is ${info.status}: only an interrupted or cancelled analysis can resume`,
      );
    }
    const queued = this.store.updateAnalysis(analysisId, { status: 'queued', finishedAt: null });
    this.queue.enqueue(analysisId);
    return queued;
  }

  resumeUnfinished(): void {
    for (const id of this.store.unfinishedAnalyses()) this.queue.enqueue(id);
  }

  cancel(analysisId: number): AnalysisInfo {
    const info = this.store.analysis(analysisId);
    if (this.queue.isActive(analysisId)) this.queue.cancel(analysisId);
    else if (['queued', 'running'].includes(info.status))
      this.store.updateAnalysis(analysisId, { status: 'cancelled', finishedAt: new Date().toISOString() });
    return this.store.analysis(analysisId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** The sampling a new analysis inherits: the one it follows (null, every frame, included), else the default. */
function followedSampling(previous: AnalysisInfo | null): number | null {
  return previous ? previous.sampleFps : DEFAULT_SAMPLE_FPS;
}

function defaultSessionName(paths: string[]): string {
  const first = basename(paths[0] ?? 'session');
  return paths.length > 1 ? `${first} + ${paths.length - 1} more` : first;
}
