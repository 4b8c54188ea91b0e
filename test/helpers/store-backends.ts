/**
 * The two databases a library lives in, for tests that must hold for both: a new SQLite file, or a new
 * PostgreSQL database (helpers/postgres.ts). Where PostgreSQL is missing its tests are skipped with the reason,
 * except under CI=true, where they run and fail saying how to get it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isDatabaseUrl } from '../../src-main/library/index.js';
import { postgresUnavailable, testPostgres } from './postgres.js';

export interface StoreBackend {
  name: 'SQLite' | 'PostgreSQL';
  /** A new, empty library location: a file path or a connection string. */
  newLocation(): Promise<string>;
  /** node:test's skip option: a reason, or false. */
  skip: string | false;
}

const sqlite: StoreBackend = {
  name: 'SQLite',
  newLocation: async () => join(mkdtempSync(join(tmpdir(), 'dml-lib-')), 'library.sqlite'),
  skip: false,
};

let postgresStarted = false;
// Registered when the test file loads, so it runs after all of the file's tests, not after the first one.
after(async () => {
  if (postgresStarted) await (await testPostgres()).stop();
});

const postgres: StoreBackend = {
  name: 'PostgreSQL',
  async newLocation() {
    postgresStarted = true;
    return (await testPostgres()).createDatabase();
  },
  skip: process.env.CI === 'true' ? false : (postgresUnavailable() ?? false),
};

export const storeBackends: StoreBackend[] = [sqlite, postgres];

/**
 * Rows of one SQL statement on the library at `location`, on a plain connection of its own (not the library
 * code under test, which would migrate or refuse the database first).
 */
export async function queryLibrary<T = Record<string, unknown>>(location: string, query: string): Promise<T[]> {
  if (!isDatabaseUrl(location)) {
    const db = new Database(location);
    try {
      const statement = db.prepare(query);
      return statement.reader ? (statement.all() as T[]) : (statement.run(), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

/** One number a query answers (a count, a length), as a number whichever database answered. */
export async function queryNumber(location: string, query: string): Promise<number> {
  const [row] = await queryLibrary(location, query);
  return Number(Object.values(row ?? {})[0]);
}
