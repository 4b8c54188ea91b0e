import { defaultLibraryPath, defaultModelsDir } from '../core/paths.js';
import type { AppContext } from '../api/context.js';
import { NotificationBus } from '../api/notifications.js';
import { registerLibraryMedia } from '../api/library.js';
import { MediaRouter } from '../api/media.js';
import { AnalysisService } from '../jobs/index.js';
import { openLibrary } from '../library/index.js';
import { SimilarSearch } from '../similar/index.js';
import { createTeachingService } from '../teaching/index.js';

export interface AppOptions {
  host: AppContext['host'];
  libraryPath?: string;
  modelsDir?: string;
}

/** Opens the library and wires the services. The caller owns the context and must close it. */
export async function createApp(options: AppOptions): Promise<AppContext> {
  const libraryPath = options.libraryPath ?? defaultLibraryPath();
  const notifications = new NotificationBus();
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const library = await openLibrary(libraryPath);
  const analyses = new AnalysisService(library, modelsDir, (info) => notifications.emit('analysis.progress', info), {
    onWaiting: (_info, message) => notifications.emit('notice', { level: 'info', message }),
  });
  const teaching = createTeachingService(
    library,
    modelsDir,
    async (sessionId, model) => (await analyses.startAnalysis(sessionId, { model })).id,
  );
  const similar = new SimilarSearch(library, {
    embedMask: async (analysisId, frameIndex, mask) =>
      teaching.maskEmbedding({ analysisId, frameIndex }, mask, (await library.analyses.get(analysisId)).modelSha256),
  });
  const media = new MediaRouter();
  registerLibraryMedia(media, library);
  // Analyses a crash or a closed app interrupted continue where they stopped.
  await analyses.resumeUnfinished();
  return {
    host: options.host,
    libraryPath,
    modelsDir,
    notifications,
    media,
    library,
    analyses,
    teaching,
    similar,
    close: async () => {
      await analyses.close();
      await teaching.close();
      await library.close();
    },
  };
}
