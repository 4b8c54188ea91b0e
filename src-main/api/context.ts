import type { AnalysisService } from '../jobs/index.js';
import type { Library } from '../library/index.js';
import type { SimilarSearch } from '../similar/index.js';
import type { TeachingService } from '../teaching/index.js';
import type { NotificationBus } from './notifications.js';
import type { MediaRouter } from './media.js';

/** The services every API handler and CLI command works with. Built once per process by createApp. */
export interface AppContext {
  readonly host: 'electron' | 'review-server';
  readonly libraryPath: string;
  readonly modelsDir: string;
  readonly notifications: NotificationBus;
  readonly media: MediaRouter;
  /** The open library file (sessions, analyses, frames, events, flags). */
  readonly library: Library;
  /** Imports drives and runs their analyses in a worker thread, one after another. */
  readonly analyses: AnalysisService;
  /** Taught classes, the knowledge base and the metric-space view. */
  readonly teaching: TeachingService;
  /** "Find more like this": the region descriptor search. */
  readonly similar: SimilarSearch;
  close(): Promise<void>;
}
