// Helpers the library subcommands (analyze, sessions, events, frames) share.
import type { AnalysisInfo } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { defaultLibraryPath } from '../../core/paths.js';
import { openLibrary, type Library } from '../../library/index.js';
import { numberFlag } from '../command.js';

export const libraryOption = { library: { type: 'string' } } as const;

/** The library --library names, else the default one. */
export function openLibraryOption(path: string | undefined): Promise<Library> {
  return openLibrary(path ?? defaultLibraryPath());
}

/** Runs fn with the library open, closing it whatever happens. */
export async function withLibrary<T>(path: string | undefined, fn: (store: Library) => Promise<T> | T): Promise<T> {
  const store = await openLibraryOption(path);
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
