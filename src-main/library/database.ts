import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, errorMessage } from '../core/errors.js';
import { sqliteNativeBinding } from '../core/native.js';
import { migrations, type Migration } from './migrations.js';

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

/** The time stored in created_at and other time columns. */
export const isoNow = () => new Date().toISOString();

export interface OpenDatabaseOptions {
  /** How long to wait for another process's lock before giving up. */
  busyTimeoutMs?: number;
  /** The migration list; tests pass their own to check ordering and refusal rules. */
  migrations?: Migration[];
}

// Lets a read-only library on a read-only disk open as an `immutable` URI (see openReadOnly). better-sqlite3
// reads this once, when its native module loads, which happens at the first Database this process opens.
process.env.SQLITE_USE_URI ??= '1';

/**
 * Opens (creating if needed) a library file: WAL, foreign keys, schema migrated to the newest version this
 * build knows. A file this user may read but not write is opened read-only (`db.readonly`): it can be
 * browsed, and every write is refused as `library_read_only`. A file written by a newer build, a locked,
 * unreadable or foreign file are refused with an AppError that names the file and what to do.
 */
export function openLibraryDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  const isNew = !existsSync(path);
  if (isNew) mkdirSync(dirname(path), { recursive: true });
  else refuseUnreadable(path);
  const list = options.migrations ?? migrations;
  const timeout = options.busyTimeoutMs ?? 5000;
  if (!isNew && !writable(path)) return openReadOnly(path, timeout, list);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout, nativeBinding: sqliteNativeBinding() });
  } catch (error) {
    throw libraryError(path, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, path, list);
    return db;
  } catch (error) {
    db.close();
    throw error instanceof AppError ? error : libraryError(path, error);
  }
}

function refuseUnreadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new AppError(
      'library_unreadable',
      `The library ${path} cannot be read by this user: give it read permission or choose another file with --library`,
    );
  }
}

/** Writing a WAL library needs the file and its folder (for the -wal and -shm files beside it). */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A read-only library. SQLite needs the -shm file of a WAL library even to read it; where that cannot be
 * created (a read-only disk or folder), the file is opened immutable: nobody can be writing it there either.
 */
function openReadOnly(path: string, timeout: number, list: Migration[]): Database.Database {
  const open = (name: string) => {
    const db = new Database(name, {
      readonly: true,
      fileMustExist: true,
      timeout,
      nativeBinding: sqliteNativeBinding(),
    });
    try {
      refuseUnmigrated(db, path, list);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  };
  try {
    try {
      return open(path);
    } catch (error) {
      // SQLite says CANTOPEN, or READONLY_CANTINIT, when it cannot make the -shm file.
      const code = (error as { code?: string }).code ?? '';
      if (code !== 'SQLITE_CANTOPEN' && !code.startsWith('SQLITE_READONLY')) throw error;
      return open(`${pathToFileURL(path).href}?immutable=1`);
    }
  } catch (error) {
    throw error instanceof AppError ? error : libraryError(path, error);
  }
}

/** A read-only file cannot be migrated: it must already have this build's schema. */
function refuseUnmigrated(db: Database.Database, path: string, list: Migration[]): void {
  const current = hasMigrationsTable(db) ? schemaVersion(db) : 0;
  const newest = list.at(-1)?.version ?? 0;
  refuseTooNew(path, current, newest);
  if (current < newest) {
    throw new AppError(
      'library_read_only',
      `The library ${path} is read-only and was written by an older dmlreview (schema version ${current}; this build needs ${newest}): give it write permission once so that it can be upgraded`,
    );
  }
}

function refuseTooNew(path: string, current: number, newest: number): void {
  if (current > newest) {
    throw new AppError(
      'library_too_new',
      `The library ${path} was written by a newer dmlreview (schema version ${current}; this build knows up to ${newest}): update dmlreview to open it`,
    );
  }
}

/** Turns SQLite's error codes into sentences a user can act on. */
export function libraryError(path: string, error: unknown): AppError {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new AppError(
      'library_not_database',
      `${path} is not a dmlreview library (not an SQLite database, or damaged): choose another file with --library`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new AppError(
      'library_locked',
      `The library ${path} is locked by another program: close the other dmlreview window or process using it and try again`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new AppError(
      'library_read_only',
      `The library ${path} is open read-only (this user cannot write the file or its folder): browsing works, but analysis, flags and teaching need write access; give it write permission or copy it somewhere writable`,
      { cause: error },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new AppError(
      'library_disk_full',
      `The disk holding the library ${path} is full: nothing more was stored; free some space and try again`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new AppError(
      'library_cannot_open',
      `Cannot open the library ${path}: check that its folder exists and is writable`,
      { cause: error },
    );
  }
  return new AppError('library_error', `The library ${path} failed: ${errorMessage(error)}`, { cause: error });
}

function migrate(db: Database.Database, path: string, list: Migration[]): void {
  assertOrdered(list);
  const newest = list.at(-1)?.version ?? 0;
  const current = () => (hasMigrationsTable(db) ? schemaVersion(db) : 0);
  refuseTooNew(path, current(), newest);
  if (current() === newest) return;
  // One write transaction, the version read again inside it: two processes opening a new library at once
  // would otherwise both apply migration 1.
  db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied = current();
    refuseTooNew(path, applied, newest);
    for (const migration of list.filter((entry) => entry.version > applied)) {
      migration.up(db);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  }).immediate();
}

function hasMigrationsTable(db: Database.Database): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined
  );
}

function assertOrdered(list: Migration[]): void {
  list.forEach((migration, position) => {
    const previous = list[position - 1];
    if (previous && migration.version <= previous.version) {
      throw new Error(`Migration ${migration.version} (${migration.name}) is out of order after ${previous.version}`);
    }
  });
}

export function schemaVersion(db: Database.Database): number {
  return (
    (db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as { version: number | null }).version ??
    0
  );
}
