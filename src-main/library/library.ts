import { CompiledQuery } from 'kysely';
import { Analyses } from './analyses.js';
import { AnalysisChunks } from './chunks.js';
import { libraryError, openLibraryDatabase, type OpenDatabaseOptions } from './database.js';
import { RegionDescriptors } from './descriptors.js';
import { EventStore } from './event-store.js';
import { Flags } from './flags.js';
import { Frames } from './frames.js';
import { KnowledgeStore } from './knowledge.js';
import { AnalysisOwners } from './ownership.js';
import { Sessions } from './sessions.js';
import { copySessions, type TransferReport, type TransferSide } from './transfer.js';

export interface OpenLibraryOptions extends OpenDatabaseOptions {
  /** The clock of the analysis owners' heartbeats, in ms; tests move it. */
  now?: () => number;
}

/**
 * An open library, one aggregate per part of it, all on one store: an SQLite file (the default, one
 * connection) or a team's PostgreSQL database (a pool). Every call is a short indexed query; long work (an
 * analysis) runs in a worker with a library of its own on the same file or database.
 */
export interface Library {
  /** What was opened: a file path, or a postgresql:// connection string (another process opens it the same way). */
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
  /** The chunks of the analyses a fleet of workers runs, and their leases. */
  readonly chunks: AnalysisChunks;
  /** Refuses work that must write, on a library this user can only read, before any of it is done. */
  requireWritable(): void;
  /** Runs `work` in one transaction: all of its writes are stored, or none. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /**
   * The same, taking the write lock first: of two processes deciding from what they read and then writing
   * (find or create a session, continue or start an analysis), the second waits and reads the first's result.
   */
  writeTransaction<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs one SQL statement with $1... parameters, in the current transaction if there is one: how the fleet's
   * job queue (pg-boss) sends jobs in the same transaction as the library's writes.
   */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed and migrating) a library file, or a team's library at a postgresql:// URL; see
 * openLibraryDatabase for what it refuses.
 */
export async function openLibrary(location: string, options: OpenLibraryOptions = {}): Promise<Library> {
  const store = await openLibraryDatabase(location, options);
  const analyses = new Analyses(store);
  const sessions = new Sessions(store, analyses);
  const frames = new Frames(store, analyses);
  const events = new EventStore(store, analyses, frames);
  const knowledge = new KnowledgeStore(store);
  let closing: Promise<void> | undefined;
  const library: Library = {
    path: location,
    readonly: store.readonly,
    sessions,
    analyses,
    frames,
    events,
    flags: new Flags(store, sessions, analyses, frames, events),
    descriptors: new RegionDescriptors(store),
    knowledge,
    owners: new AnalysisOwners(store, options.now),
    chunks: new AnalysisChunks(store, options.now),
    requireWritable() {
      if (store.readonly) throw libraryError(location, { code: 'SQLITE_READONLY' });
    },
    transaction: (work) => store.transaction(work),
    writeTransaction: (work) => store.writeTransaction(work),
    executeSql: async (text, values = []) => ({
      rows: (await store.db.executeQuery(CompiledQuery.raw(text, values))).rows,
    }),
    close() {
      closing ??= store.close();
      return closing;
    },
  };
  transferSides.set(library, { store, knowledge });
  return library;
}

/** Each open library's store, for copies between libraries (transfer.ts), which work on the tables themselves. */
const transferSides = new WeakMap<Library, TransferSide>();

/**
 * Copies sessions (all when `sessionIds` is empty) with their analyses, frames, events, flags and the taught
 * classes from one library to another: push (a file to a team database) and pull (back). See transfer.ts.
 */
export function copyLibrarySessions(from: Library, to: Library, sessionIds: number[]): Promise<TransferReport> {
  to.requireWritable();
  return copySessions(transferSides.get(from)!, transferSides.get(to)!, sessionIds);
}
