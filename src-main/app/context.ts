import type { EventBus } from './events.js';
import type { MediaRouter } from './media.js';

/** The services every API handler and CLI command works with. Built once per process by createApp. */
export interface AppContext {
  readonly host: 'electron' | 'review-server';
  readonly libraryPath: string;
  readonly modelsDir: string;
  readonly events: EventBus;
  readonly media: MediaRouter;
  close(): Promise<void>;
}
