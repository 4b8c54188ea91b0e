/** Teaching: taught classes from a few marked frames, the knowledge base, the metric-space view. */
import type Database from 'better-sqlite3';
import {
  DEFAULT_MODEL,
  listModels,
  openEngine,
  readModelCard,
  type Engine,
  type TaughtPrototype,
} from '../engine/index.js';
import { extractAnalysedFrameRgb } from '../footage/index.js';
import type { LibraryStore } from '../library/index.js';
import { readImageFile } from './images.js';
import { KnowledgeStore } from './knowledge-store.js';
import { TeachingService } from './service.js';

export { TeachingService, type TeachingDeps } from './service.js';
export { KnowledgeStore, refuseTooManyClasses } from './knowledge-store.js';
export { knowledgeMigration } from './schema.js';
export { runFewshot, type FewshotOptions, type FewshotReport } from './fewshot.js';

/**
 * The taught classes an analysis of this model must use, and the knowledge version to record with it.
 * Analysis jobs call this when they start, and the worker gives `classes` to engine.setTaughtClasses.
 */
export function knowledgeForAnalysis(
  db: Database.Database,
  modelSha256: string,
  version?: number | null,
): { version: number | null; classes: TaughtPrototype[] } {
  const store = new KnowledgeStore(db);
  return version === undefined ? store.activePrototypes(modelSha256) : store.activePrototypes(modelSha256, version);
}

/** The app's teaching service: engines opened lazily per model and kept; frames from files or analysed sessions. */
export function createTeachingService(
  library: LibraryStore,
  modelsDir: string,
  startAnalysis?: (sessionId: number, model?: string) => Promise<number>,
): TeachingService & { close(): Promise<void> } {
  const engines = new Map<string, Promise<Engine>>();
  const engine = (model = DEFAULT_MODEL) => {
    let opened = engines.get(model);
    if (!opened) {
      opened = openEngine(modelsDir, model);
      // A model that failed to load is retried next time, not remembered broken.
      opened.catch(() => engines.delete(model));
      engines.set(model, opened);
    }
    return opened;
  };
  const service = new TeachingService({
    store: new KnowledgeStore(library.db),
    engine,
    card: (model = DEFAULT_MODEL) => readModelCard(modelsDir, model),
    readFrame: async (frame) =>
      'imagePath' in frame
        ? readImageFile(frame.imagePath)
        : extractAnalysedFrameRgb(library, frame.analysisId, frame.frameIndex),
    modelOf: async (sha256) =>
      (await listModels(modelsDir)).find((model) => model.status === 'ok' && model.sha256 === sha256)?.name,
    ...(startAnalysis ? { startAnalysis } : {}),
  });
  return Object.assign(service, {
    close: async () => {
      const opened = await Promise.allSettled(engines.values());
      engines.clear();
      for (const result of opened) if (result.status === 'fulfilled') await result.value.dispose();
    },
  });
}
