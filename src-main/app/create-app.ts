import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppContext } from './context.js';
import { EventBus } from './events.js';
import { MediaRouter } from './media.js';
import { defaultLibraryPath, defaultModelsDir } from '../core/paths.js';

export interface AppOptions {
  host: AppContext['host'];
  libraryPath?: string;
  modelsDir?: string;
}

/** Opens the library and wires the services. The caller owns the context and must close it. */
export async function createApp(options: AppOptions): Promise<AppContext> {
  const libraryPath = options.libraryPath ?? defaultLibraryPath();
  mkdirSync(dirname(libraryPath), { recursive: true });
  const events = new EventBus();
  return {
    host: options.host,
    libraryPath,
    modelsDir: options.modelsDir ?? defaultModelsDir(),
    events,
    media: new MediaRouter(),
    close: async () => {},
  };
}
