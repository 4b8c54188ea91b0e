import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError, errorMessage } from '../core/errors.js';
import { sqliteNativeBinding } from '../core/native.js';
import { migrations, type Migration } from './migrations.js';

export interface OpenDatabaseOptions {
  /** How long to wait for another process's lock before giving up. */
  busyTimeoutMs?: number;
  /** The migration list; tests pass their own to check ordering and refusal rules. */
  migrations?: Migration[];
}

/**
 * Opens (creating if needed) a library file: WAL, foreign keys, schema migrated to the newest version this
 * build knows. A file written by a newer build, a locked, read-only or foreign file are refused with an
 * AppError that names the file and what to do.
 */
export function openLibraryDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  const isNew = !existsSync(path);
  if (isNew) mkdirSync(dirname(path), { recursive: true });
  else refuseUnwritable(path);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000, nativeBinding: sqliteNativeBinding() });
  } catch (error) {
    throw libraryError(path, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, path, options.migrations ?? migrations);
    return db;
  } catch (error) {
    db.close();
    throw error instanceof AppError ? error : libraryError(path, error);
  }
}

function refuseUnwritable(path: string): void {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    throw new AppError(
      'library_read_only',
      `The library ${path} is read-only or unreadable for this user: give it write permission or choose another file with --library`,
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
      `The library ${path} is read-only: give it write permission or choose another file with --library`,
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
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  const current = applied.version ?? 0;
  const newest = list.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new AppError(
      'library_too_new',
      `The library ${path} was written by a newer dmlreview (schema version ${current}; this build knows up to ${newest}): update dmlreview to open it`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of list.filter((entry) => entry.version > current)) {
    db.transaction(() => {
      migration.up(db);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
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
  return (db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as { version: number }).version;
}
