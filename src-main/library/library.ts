import { Analyses } from './analyses.js';
import { libraryError, openLibraryDatabase, type OpenDatabaseOptions } from './database.js';
import { RegionDescriptors } from './descriptors.js';
import { EventStore } from './event-store.js';
import { Flags } from './flags.js';
import { Frames } from './frames.js';
import { KnowledgeStore } from './knowledge.js';
import { AnalysisOwners } from './ownership.js';
import { Sessions } from './sessions.js';

export interface OpenLibraryOptions extends OpenDatabaseOptions {
  /** The clock of the analysis owners' heartbeats, in ms; tests move it. */
  now?: () => number;
}

/**
 * An open library file, one aggregate per part of it, all on one connection. Synchronous (better-sqlite3):
 * every call is a short indexed query, and long work (an analysis) runs in a worker with a library of its
 * own on the same WAL file.
 */
export interface Library {
  readonly path: string;
  /** Opened read-only: this user may read the file but not write it. */
  readonly readonly: boolean;
  readonly sessions: Sessions;
  readonly analyses: Analyses;
  readonly frames: Frames;
  readonly events: EventStore;
  readonly flags: Flags;
  /** Region descriptors: what "find more like this" searches. */
  readonly descriptors: RegionDescriptors;
  /** The knowledge base of taught classes. */
  readonly knowledge: KnowledgeStore;
  /** Which process runs each analysis. */
  readonly owners: AnalysisOwners;
  /** Refuses work that must write, on a library this user can only read, before any of it is done. */
  requireWritable(): void;
  /** Runs `work` in one transaction: all of its writes are stored, or none. */
  transaction<T>(work: () => T): T;
  /**
   * The same, taking the write lock first: of two processes deciding from what they read and then writing
   * (find or create a session, continue or start an analysis), the second waits and reads the first's result.
   */
  writeTransaction<T>(work: () => T): T;
  close(): void;
}

/** Opens (creating if needed and migrating) a library file; see openLibraryDatabase for what it refuses. */
export function openLibrary(path: string, options: OpenLibraryOptions = {}): Library {
  const db = openLibraryDatabase(path, options);
  const analyses = new Analyses(db);
  const sessions = new Sessions(db, analyses);
  const frames = new Frames(db, analyses);
  const events = new EventStore(db, analyses, frames);
  return {
    path,
    get readonly() {
      return db.readonly;
    },
    sessions,
    analyses,
    frames,
    events,
    flags: new Flags(db, sessions, analyses, frames, events),
    descriptors: new RegionDescriptors(db),
    knowledge: new KnowledgeStore(db),
    owners: new AnalysisOwners(db, options.now),
    requireWritable() {
      if (db.readonly) throw libraryError(path, { code: 'SQLITE_READONLY' });
    },
    transaction: (work) => db.transaction(work)(),
    writeTransaction: (work) => db.transaction(work).immediate(),
    close() {
      if (db.open) db.close();
    },
  };
}
