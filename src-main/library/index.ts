export {
  LibraryStore,
  type StoredSource,
  type NewSource,
  type NewAnalysis,
  type AnalysisPlan,
  type StoredFrame,
  type ResumePoint,
  type MapKind,
} from './store.js';
export { openLibraryDatabase, schemaVersion, libraryError } from './database.js';
export { migrations, type Migration } from './migrations.js';
export { detectEvents, defaultEventSettings, type ScoredFrame, type EventSpan } from './events.js';
