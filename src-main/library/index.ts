/** The library: sessions, analyses and their frames, events, flags, taught classes, analysis owners. */
export { copyLibrarySessions, openLibrary, type Library, type OpenLibraryOptions } from './library.js';
export type { TransferReport } from './transfer.js';
export type { Sessions } from './sessions.js';
export type { Analyses, AnalysisPlan, AnalysisProgress, NewAnalysis } from './analyses.js';
export type { Frames, MapKind, ResumePoint, StoredFrame, TopFramesQuery } from './frames.js';
export type { EventStore } from './event-store.js';
export type { DescribedAnalysis, RegionDescriptors } from './descriptors.js';
export {
  descriptorHeader,
  unpackDescriptors,
  type DescriptorColumns,
  type StoredDescriptors,
} from './descriptor-codec.js';
export type { Flags, NewFlag } from './flags.js';
export { describeLocation, isDatabaseUrl, libraryError } from './database.js';
export { migrations, type Migration, type SchemaChange } from './migrations.js';
export { KnowledgeStore, refuseTooManyClasses, type KnowledgeCheck, type NewTaughtClass } from './knowledge.js';
export {
  AnalysisOwnedError,
  AnalysisOwners,
  describeOwner,
  HEARTBEAT_MS,
  holderAlive,
  newOwner,
  STALE_AFTER_MS,
  type Owner,
  type OwnerRecord,
} from './ownership.js';
export {
  AnalysisChunks,
  CHUNK_INDEX_STRIDE,
  ChunkOwnedError,
  type ChunkPlan,
  type ChunkRecord,
  type ChunkStatus,
  isChunkFinished,
} from './chunks.js';
export { detectEvents, defaultEventSettings, type ScoredFrame, type EventSpan } from './events.js';
