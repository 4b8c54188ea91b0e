/** Teaching: taught classes from a few marked frames, the knowledge base, the metric-space view. */
import { DEFAULT_MODEL, listModels, openEngine, readModelCard, type Engine, type RgbFrame } from '../engine/index.js';
import { extractScaledFrameRgb } from '../footage/index.js';
import type { Library } from '../library/index.js';
import { readImageFile } from './images.js';
import { TeachingService } from './service.js';

export { TeachingService, type TeachingDeps } from './service.js';

/** The app's teaching service: engines opened lazily per model and kept; frames from files or analysed sessions. */
export function createTeachingService(
  library: Library,
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
    store: library.knowledge,
    engine,
    card: (model = DEFAULT_MODEL) => readModelCard(modelsDir, model),
    readFrame: async (frame) =>
      'imagePath' in frame
        ? readImageFile(frame.imagePath)
        : analysedFrameRgb(library, frame.analysisId, frame.frameIndex),
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

/** An analysed frame at the size the engine saw it (the analysis's model input). */
async function analysedFrameRgb(library: Library, analysisId: number, frameIndex: number): Promise<RgbFrame> {
  const frame = await library.frames.source(analysisId, frameIndex);
  const { inputWidth, inputHeight } = await library.analyses.plan(analysisId);
  const sources = await library.sessions.sources(frame.sessionId);
  return extractScaledFrameRgb(sources, frame.timeMs, inputWidth, inputHeight);
}
