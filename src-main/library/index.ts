export {
  LibraryStore,
  type NewAnalysis,
  type AnalysisPlan,
  type StoredFrame,
  type ResumePoint,
  type MapKind,
} from './store.js';
export { openLibraryDatabase, schemaVersion, libraryError } from './database.js';
export { migrations, type Migration } from './migrations.js';
export {
  KnowledgeStore,
  knowledgeForAnalysis,
  refuseTooManyClasses,
  type KnowledgeCheck,
  type NewTaughtClass,
} from './knowledge.js';
export { detectEvents, defaultEventSettings, type ScoredFrame, type EventSpan } from './events.js';
