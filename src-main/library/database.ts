import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { AppError, errorMessage } from '../core/errors.js';
import { sqliteNativeBinding } from '../core/native.js';
import { postgresDialect, sqliteDialect } from './dialect.js';
import { migrations, type Migration } from './migrations.js';
import { Store } from './store.js';
import type { LibraryTables } from './tables.js';

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

/** A team's library is a PostgreSQL database, named by its connection string; anything else is a file. */
export function isDatabaseUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * The location as messages show it: a connection string with its password as *** (or, where the reader
 * need not even know there is one, left out).
 */
export function describeLocation(location: string, options: { password?: 'mask' | 'omit' } = {}): string {
  if (!isDatabaseUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = options.password === 'omit' ? '' : '***';
    return url.href;
  } catch {
    return 'the database URL given';
  }
}

/**
 * Opens a library, migrated to the newest schema this build knows: a file path (SQLite, created if needed) or
 * a postgresql:// connection string (the database must exist; its tables are created on first open). See
 * openSqlite and openPostgres for what each refuses.
 */
export function openLibraryDatabase(location: string, options: OpenDatabaseOptions = {}): Promise<Store> {
  return isDatabaseUrl(location) ? openPostgres(location, options) : openSqlite(location, options);
}

/**
 * A library file: WAL, foreign keys, schema migrated. A file this user may read but not write is opened
 * read-only (`store.readonly`): it can be browsed, and every write is refused as `library_read_only`. A file
 * written by a newer build, a locked, unreadable or foreign file are refused with an AppError that names the
 * file and what to do.
 */
async function openSqlite(path: string, options: OpenDatabaseOptions): Promise<Store> {
  const isNew = !existsSync(path);
  if (isNew) mkdirSync(dirname(path), { recursive: true });
  else refuseUnreadable(path);
  const list = options.migrations ?? migrations;
  const timeout = options.busyTimeoutMs ?? 5000;
  const readonly = !isNew && !writable(path);
  const db = readonly ? openReadOnlyFile(path, timeout) : openWritableFile(path, timeout);
  const dialect = new SqliteDialect({ database: reusingStatements(db) });
  const store = new Store(new Kysely<LibraryTables>({ dialect }), sqliteDialect, {
    readonly,
    runScript: (script) => db.exec(script),
  });
  try {
    if (readonly) await refuseUnmigrated(store, path, list);
    else await migrate(store, path, list);
    return store;
  } catch (error) {
    await store.close();
    throw error instanceof AppError ? error : libraryError(path, error);
  }
}

/**
 * The page size of new library files. A frame stores about 110 kB of blobs (maps and preview): in 4 kB pages
 * that is a chain of some 30 overflow pages, each written to the WAL and again at the checkpoint; in 16 kB
 * pages, 8. With the checkpoint below, the analysis writer's CPU a frame drops by a third (docs/benchmarks.md,
 * Session 14). Larger pages gained no more, and an empty library (27 tables and indexes, a page each at
 * least) would grow from 430 kB to 1.7 MB at 64 kB.
 */
const NEW_FILE_PAGE_SIZE = 16_384;
/**
 * How much the WAL holds before it is copied back into the file (SQLite's default is 1000 pages, 4 MB of 4 kB
 * pages). 16 MB: fewer checkpoints, each copying a page that several batches changed (an index page, the
 * timeline, the analysis row) once, cut the writer's CPU a little further than 4 MB; more changes little.
 */
const WAL_CHECKPOINT_BYTES = 16 * 2 ** 20;

function openWritableFile(path: string, timeout: number): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout, nativeBinding: sqliteNativeBinding() });
  } catch (error) {
    throw libraryError(path, error);
  }
  try {
    // Only a new, empty file takes it: an existing library keeps the page size it was created with.
    db.pragma(`page_size = ${NEW_FILE_PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
    registerFunctions(db);
    return db;
  } catch (error) {
    db.close();
    throw libraryError(path, error);
  }
}

/** Prepared statements kept: more than the writer and the views run again and again. */
const MAX_STATEMENTS = 128;

/**
 * The connection as Kysely's SQLite driver sees it, keeping its prepared statements by SQL text: the driver
 * prepares every query afresh, and the analysis writer runs the same few statements (insert-cache.ts) for every
 * batch. A statement still being iterated is busy: a query meanwhile gets one of its own.
 */
function reusingStatements(db: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      const kept = statements.get(text);
      const statement = kept && !kept.busy ? kept : db.prepare(text);
      // Least recently used first: the map's order is the order of insertion.
      statements.delete(text);
      if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value!);
      statements.set(text, statement);
      return statement;
    },
  };
}

/** Functions the queries use that SQLite lacks (dialect.ts says what PostgreSQL does instead). */
function registerFunctions(db: Database.Database): void {
  db.function('class_area', { deterministic: true }, (blob: unknown, index: unknown) => {
    const offset = Number(index) * 4;
    const bytes = blob as Buffer;
    return offset >= 0 && offset + 4 <= bytes.length ? bytes.readFloatLE(offset) : 0;
  });
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
function openReadOnlyFile(path: string, timeout: number): Database.Database {
  const open = (name: string) => {
    const db = new Database(name, {
      readonly: true,
      fileMustExist: true,
      timeout,
      nativeBinding: sqliteNativeBinding(),
    });
    try {
      // Reading the schema here is what fails when the -shm file cannot be made.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      registerFunctions(db);
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
    throw libraryError(path, error);
  }
}

/**
 * A team's library. Integers come back as numbers (BIGINT columns hold ids, counts and ms since 1970, all far
 * below 2^53), not strings. An unreachable server, a wrong password or a missing database are refused here,
 * naming the URL without its password.
 */
async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    connectionTimeoutMillis: options.busyTimeoutMs ?? 10_000,
    types: { getTypeParser: numbersAsNumbers },
  });
  // A connection the server drops (a restart, pg_terminate_backend) must not take the process down: pg reports
  // the loss as an 'error' event, on the pool for an idle connection and on the client for one checked out (a
  // transaction between two statements), where nobody else listens. The transaction's next statement fails
  // instead, and the next query gets a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const store = new Store(new Kysely<LibraryTables>({ dialect: new PostgresDialect({ pool }) }), postgresDialect, {
    readonly: false,
    runScript: null,
  });
  try {
    await sql`SELECT 1`.execute(store.database);
    await migrate(store, url, options.migrations ?? migrations);
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error instanceof AppError ? error : libraryError(url, error);
  }
}

const INT8 = 20;
const NUMERIC = 1700;

/** pg's parsers, except for the two number types it leaves as strings. Queries here are in text format. */
function numbersAsNumbers(oid: number): (value: string) => unknown {
  if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;
}

/** A read-only file cannot be migrated: it must already have this build's schema. */
async function refuseUnmigrated(store: Store, path: string, list: Migration[]): Promise<void> {
  const current = await currentVersion(store);
  const newest = list.at(-1)?.version ?? 0;
  refuseTooNew(path, current, newest);
  if (current < newest) {
    throw new AppError(
      'library_read_only',
      `The library ${path} is read-only and was written by an older dmlreview (schema version ${current}; this build needs ${newest}): give it write permission once so that it can be upgraded`,
    );
  }
}

function refuseTooNew(location: string, current: number, newest: number): void {
  if (current > newest) {
    throw new AppError(
      'library_too_new',
      `The library ${describeLocation(location)} was written by a newer dmlreview (schema version ${current}; this build knows up to ${newest}): update dmlreview to open it`,
    );
  }
}

/** Turns the database's error codes (SQLite's, PostgreSQL's and the network's) into sentences a user can act on. */
export function libraryError(location: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code ?? '';
  const where = describeLocation(location);
  const explain = (appCode: ConstructorParameters<typeof AppError>[0], message: string) =>
    new AppError(appCode, message, { cause: error });
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return explain(
      'library_not_database',
      `${where} is not a dmlreview library (not an SQLite database, or damaged): choose another file with --library`,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === '55P03') {
    return explain(
      'library_locked',
      `The library ${where} is locked by another program: close the other dmlreview window or process using it and try again`,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === '25006') {
    return explain(
      'library_read_only',
      `The library ${where} is open read-only (this user cannot write the file or its folder): browsing works, but analysis, flags and teaching need write access; give it write permission or copy it somewhere writable`,
    );
  }
  if (code === 'SQLITE_FULL' || code === '53100') {
    return explain(
      'library_disk_full',
      `The disk holding the library ${where} is full: nothing more was stored; free some space and try again`,
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return explain(
      'library_cannot_open',
      `Cannot open the library ${where}: check that its folder exists and is writable`,
    );
  }
  const postgres = postgresConnectionProblem(code);
  if (postgres) return explain('library_cannot_open', `Cannot open the library ${where}: ${postgres}`);
  return explain('library_error', `The library ${where} failed: ${errorMessage(error)}`);
}

/** What to do about a PostgreSQL server that cannot be reached or refuses us; undefined for other errors. */
function postgresConnectionProblem(code: string): string | undefined {
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', '57P01', '57P03'].includes(code))
    return `the PostgreSQL server does not answer (${code}): check that it is running and that the host and port are right (docs/fleet.md)`;
  if (code === '28P01' || code === '28000')
    return 'PostgreSQL refused the user name or password: check the connection string';
  if (code === '3D000') return 'the database does not exist: create it first (createdb NAME; docs/fleet.md)';
  if (code === '42501')
    return 'this database user may not create or change the tables: grant it the rights (docs/fleet.md)';
  return undefined;
}

async function migrate(store: Store, location: string, list: Migration[]): Promise<void> {
  assertOrdered(list);
  const newest = list.at(-1)?.version ?? 0;
  refuseTooNew(location, await currentVersion(store), newest);
  if ((await currentVersion(store)) === newest) return;
  // One write transaction, the version read again inside it: two processes opening a new library at once
  // would otherwise both apply migration 1.
  await store.writeTransaction(async () => {
    await store.runDdl(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = await currentVersion(store);
    refuseTooNew(location, applied, newest);
    for (const migration of list.filter((entry) => entry.version > applied)) {
      await migration.up({ exec: (statements) => store.runDdl(statements) });
      await store.db
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: isoNow() })
        .execute();
    }
  });
}

async function currentVersion(store: Store): Promise<number> {
  const found = await store.dialect.tableExists('schema_migrations').execute(store.db);
  return found.rows.length > 0 ? schemaVersion(store) : 0;
}

function assertOrdered(list: Migration[]): void {
  list.forEach((migration, position) => {
    const previous = list[position - 1];
    if (previous && migration.version <= previous.version) {
      throw new Error(`Migration ${migration.version} (${migration.name}) is out of order after ${previous.version}`);
    }
  });
}

export async function schemaVersion(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('schema_migrations')
    .select((eb) => eb.fn.max('version').as('version'))
    .executeTakeFirst();
  return row?.version === null || row?.version === undefined ? 0 : Number(row.version);
}
