import { basename, resolve } from 'node:path';
import {
  isAnalysisFinished,
  UNFINISHED_ANALYSIS_STATUSES,
  type AnalysisInfo,
  type SessionInfo,
} from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import { checkModel, DEFAULT_MODEL, regionFrameThreshold, type OpenEngineOptions } from '../engine/index.js';
import { expectedFrames, makeThumbnail, probeSource, type ProbeOptions, type ProbedSource } from '../footage/index.js';
import { isDatabaseUrl, refuseTooManyClasses, type Library, type NewAnalysis } from '../library/index.js';
import type { AnalysisQueue } from './analysis-queue.js';
import { FleetQueue } from './fleet/index.js';
import { JobQueue, type JobQueueOptions } from './job-queue.js';

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

export interface AnalysisServiceOptions {
  engine?: OpenEngineOptions;
  /** An analysis is being run by another process: this one waits for it (see JobQueue). */
  onWaiting?: JobQueueOptions['onWaiting'];
  /** On a team database: footage per chunk of an analysis (fleet/chunks.ts DEFAULT_CHUNK_SECONDS). */
  chunkSeconds?: number;
}

/** Interrupted: by a crash, a closed app or a cancel. */
const INTERRUPTED = [...UNFINISHED_ANALYSIS_STATUSES, 'cancelled'];
/** What resumes: an interrupted analysis, or one a failure stopped (a full disk, say); its frames are kept. */
const RESUMABLE = [...INTERRUPTED, 'failed'];

/**
 * Imports drives and runs their analyses: what the API handlers and the CLI share. Progress goes to
 * onProgress (the app's event bus, or the CLI's progress bar). On a library file the analyses run here, one
 * at a time (JobQueue); on a team database they are queued for the fleet's workers (FleetQueue), and progress
 * is read back from the database.
 */
export class AnalysisService {
  readonly queue: AnalysisQueue;

  constructor(
    readonly store: Library,
    readonly modelsDir: string,
    onProgress: (info: AnalysisInfo) => void,
    options: AnalysisServiceOptions = {},
  ) {
    this.queue = isDatabaseUrl(store.path)
      ? new FleetQueue(store, { onProgress, chunkSeconds: options.chunkSeconds })
      : new JobQueue({ store, modelsDir, engine: options.engine, onProgress, onWaiting: options.onWaiting });
  }

  /** Probes every path (video files or image folders, in timeline order) and stores them as one session. */
  async importSession(paths: string[], name?: string, options: ProbeOptions = {}): Promise<SessionInfo> {
    const { sources, thumbnail } = await this.probe(paths, options);
    return this.store.sessions.create(name ?? defaultSessionName(paths), sources, thumbnail);
  }

  /**
   * The session already imported from exactly these files (same paths and contents), else a new one. Finding
   * and creating are one write transaction, so two processes importing the same drive at once share a session.
   */
  async findOrImportSession(paths: string[], options: ProbeOptions = {}): Promise<SessionInfo> {
    const { sources, thumbnail } = await this.probe(paths, options);
    return this.store.writeTransaction(
      async () =>
        (await this.store.sessions.find(sources)) ??
        this.store.sessions.create(defaultSessionName(paths), sources, thumbnail),
    );
  }

  private async probe(
    paths: string[],
    options: ProbeOptions,
  ): Promise<{ sources: ProbedSource[]; thumbnail: Buffer | null }> {
    this.store.requireWritable();
    const sources: ProbedSource[] = [];
    for (const path of paths) sources.push(await probeSource(resolve(path), options));
    return { sources, thumbnail: await makeThumbnail(sources[0]!) };
  }

  /** Records a new analysis of a session with a model and queues it. */
  async startAnalysis(sessionId: number, request: AnalysisRequest = {}): Promise<AnalysisInfo> {
    const plan = await this.store.analyses.create(await this.prepareAnalysis(sessionId, request));
    await this.queue.enqueue(plan.id);
    return this.store.analyses.get(plan.id);
  }

  /**
   * What rerunning the same `analyze` command means: the latest analysis of the session with this model and
   * sampling rate continues where it stopped (a crash, Ctrl+C, a full disk), or is reported if it finished;
   * otherwise (none yet, or the model changed since) a new one starts. Deciding and creating are one write
   * transaction, so two processes running the same command at once pick the same analysis.
   */
  async continueOrStartAnalysis(sessionId: number, request: AnalysisRequest = {}): Promise<AnalysisInfo> {
    const plan = await this.prepareAnalysis(sessionId, request);
    const { info, run } = await this.store.writeTransaction(async () => {
      const previous = (await this.store.analyses.list(sessionId)).find(
        (analysis) => analysis.modelName === plan.modelName && analysis.sampleFps === plan.sampleFps,
      );
      // An interrupted one resumes even if its model changed since: the run then refuses, naming both hashes.
      if (previous && INTERRUPTED.includes(previous.status))
        return { info: await this.markResumable(previous), run: true };
      if (previous?.modelSha256 === plan.modelSha256) {
        if (previous.status === 'failed') return { info: await this.markResumable(previous), run: true };
        return { info: previous, run: false };
      }
      return { info: await this.store.analyses.get((await this.store.analyses.create(plan)).id), run: true };
    });
    if (run) await this.queue.enqueue(info.id);
    return info;
  }

  /**
   * Everything a new analysis records, checked before anything is stored: the model's files (a model that
   * cannot load would otherwise leave a failed analysis behind) and room for its taught classes.
   */
  private async prepareAnalysis(sessionId: number, request: AnalysisRequest): Promise<NewAnalysis> {
    this.store.requireWritable();
    const session = await this.store.sessions.get(sessionId);
    const card = await checkModel(this.modelsDir, request.model ?? DEFAULT_MODEL);
    const sampleFps = request.sampleFps !== undefined ? request.sampleFps : followedSampling(session.latestAnalysis);
    const knowledge = await this.store.knowledge.activePrototypes(card.sha256);
    refuseTooManyClasses(card.name, card.classes.length, knowledge.classes.length);
    return {
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
      framesTotal: (await this.store.sessions.sources(session.id)).reduce(
        (sum, source) => sum + expectedFrames(source, sampleFps),
        0,
      ),
    };
  }

  /** Puts an unfinished analysis (left by a crash, a closed app, a cancel or a failure) back in the queue; it continues where it stopped. */
  async resume(analysisId: number): Promise<AnalysisInfo> {
    this.store.requireWritable();
    const info = await this.store.analyses.get(analysisId);
    if (!RESUMABLE.includes(info.status)) {
      throw new AppError(
        'conflict',
        `Analysis ${analysisId} is ${info.status}: only an interrupted, cancelled or failed analysis can resume`,
      );
    }
    const queued = await this.markResumable(info);
    await this.queue.enqueue(analysisId);
    return queued;
  }

  /**
   * A cancelled or failed analysis is queued again (its failure message goes: it is no problem of the
   * frames). A queued or running one is left as it is: another process may be running it right now.
   */
  private async markResumable(info: AnalysisInfo): Promise<AnalysisInfo> {
    if (info.status === 'cancelled') return this.store.analyses.update(info.id, { status: 'queued', finishedAt: null });
    if (info.status === 'failed')
      return this.store.analyses.update(info.id, { status: 'queued', finishedAt: null, message: null });
    return info;
  }

  /** Queues the analyses a crash or a closed app left unfinished; none on a library opened read-only. */
  async resumeUnfinished(): Promise<void> {
    if (this.store.readonly) return;
    for (const id of await this.store.analyses.unfinished()) await this.queue.enqueue(id);
  }

  async cancel(analysisId: number): Promise<AnalysisInfo> {
    this.store.requireWritable();
    const info = await this.store.analyses.get(analysisId);
    await this.store.owners.refuseIfOwnedElsewhere(analysisId, `cancel analysis ${analysisId}`);
    if (this.queue.isActive(analysisId)) await this.queue.cancel(analysisId);
    else if (!isAnalysisFinished(info.status))
      await this.store.analyses.update(analysisId, { status: 'cancelled', finishedAt: new Date().toISOString() });
    return this.store.analyses.get(analysisId);
  }

  /** Deletes a session once its analyses have stopped here; refused while another process runs one of them. */
  async deleteSession(sessionId: number): Promise<void> {
    this.store.requireWritable();
    const analyses = await this.store.analyses.list(sessionId);
    for (const analysis of analyses)
      await this.store.owners.refuseIfOwnedElsewhere(analysis.id, `delete session ${sessionId}`);
    for (const analysis of analyses) {
      if (!this.queue.isActive(analysis.id)) continue;
      const stopped = this.queue.waitFor(analysis.id);
      await this.queue.cancel(analysis.id);
      await stopped;
    }
    await this.store.sessions.delete(sessionId);
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
