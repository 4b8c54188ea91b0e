// Helpers the library subcommands (analyze, sessions, events, frames) share.
import type { AnalysisInfo } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { defaultLibraryPath } from '../../core/paths.js';
import { isDatabaseUrl, openLibrary, type Library } from '../../library/index.js';
import { numberFlag } from '../command.js';

/** Where a library command reads: a file (`--library PATH`) or a team's PostgreSQL database (`--database URL`). */
export const libraryOption = { library: { type: 'string' }, database: { type: 'string' } } as const;

export interface LibraryFlags {
  library?: string;
  database?: string;
}

/**
 * The library the flags name: the team database --database names, the file --library names, else the default
 * file. Both at once, a file given to --database or a connection string given to --library are usage errors
 * (the password of a connection string is never repeated in them).
 */
export function libraryLocation(flags: LibraryFlags): string {
  const { library, database } = flags;
  if (library !== undefined && database !== undefined)
    throw new AppError(
      'usage',
      '--library and --database both name a library: give one (--library PATH for a file, --database URL for a team database)',
    );
  if (database !== undefined) return databaseFlag(database);
  if (library !== undefined && isDatabaseUrl(library))
    throw new AppError(
      'usage',
      '--library takes a library file: give a postgresql:// connection string with --database',
    );
  return library ?? defaultLibraryPath();
}

/** A postgresql:// connection string that parses; what is wrong with it otherwise. */
export function databaseFlag(value: string): string {
  const shape = 'postgresql://USER:PASSWORD@HOST:PORT/DATABASE';
  if (!isDatabaseUrl(value))
    throw new AppError(
      'usage',
      `--database must be a PostgreSQL connection string (${shape}); for a library file use --library PATH`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError('usage', `--database is not a valid connection string: expected ${shape}`);
  }
  if (url.pathname.length <= 1) throw new AppError('usage', `--database names no database: expected ${shape}`);
  return value;
}

/** The library the flags name (see libraryLocation), open and migrated. */
export function openLibraryOption(flags: LibraryFlags): Promise<Library> {
  return openLibrary(libraryLocation(flags));
}

/** Runs fn with the library the flags name open, closing it whatever happens. */
export function withLibrary<T>(flags: LibraryFlags, fn: (store: Library) => Promise<T> | T): Promise<T> {
  return withLibraryAt(libraryLocation(flags), fn);
}

/** Runs fn with the library at `location` (a file or a connection string) open, closing it whatever happens. */
export async function withLibraryAt<T>(location: string, fn: (store: Library) => Promise<T> | T): Promise<T> {
  const store = await openLibrary(location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function sessionFlag(value: string | undefined, usage: string): number {
  if (value === undefined) throw new AppError('usage', `--session ID is required. Usage: dmlreview ${usage}`);
  const id = numberFlag('session', value, 0);
  if (!Number.isInteger(id) || id <= 0)
    throw new AppError('usage', `--session must be a session id (a positive integer), got "${value}"`);
  return id;
}

/** The analysis a session's results come from: its newest one. */
export async function latestAnalysis(store: Library, sessionId: number): Promise<AnalysisInfo> {
  const analysis = (await store.sessions.get(sessionId)).latestAnalysis;
  if (!analysis)
    throw new AppError(
      'not_found',
      `Session ${sessionId} has not been analysed yet: run dmlreview analyze on its files`,
    );
  return analysis;
}

/** Scripts read JSON; people at a terminal get a table unless they ask for --json. */
export function wantsJson(flag: boolean | undefined): boolean {
  return Boolean(flag) || !process.stdout.isTTY;
}

export function formatTime(ms: number): string {
  const seconds = ms / 1000;
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = (seconds % 60).toFixed(1).padStart(4, '0');
  return hours > 0 ? `${hours}:${String(minutes % 60).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

export function printTable(rows: (string | number)[][]): void {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length))) ?? [];
  for (const row of rows)
    process.stdout.write(`${row.map((cell, column) => String(cell).padStart(widths[column] ?? 0)).join('  ')}\n`);
}
