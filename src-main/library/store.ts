/**
 * One open library database, SQLite or PostgreSQL, behind one query builder (Kysely), and its transactions.
 * The aggregates ask `store.db` for whatever runs their queries: inside a transaction that is the
 * transaction's connection (found through AsyncLocalStorage, so that nested calls join it without passing it
 * along), outside it the database.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { StoreDialect } from './dialect.js';
import { InsertCache, type InsertRow, type TableName } from './insert-cache.js';
import type { LibraryTables } from './tables.js';

export type Db = Kysely<LibraryTables>;

interface Scope {
  db: Db;
  /** Savepoints opened so far inside it, for unique names. */
  savepoints: number;
  /** False once the transaction ended: work it started that outlives it runs on the database again. */
  open: boolean;
}

export interface StoreOptions {
  /** Opened read-only: this user may read the library but not write it. */
  readonly: boolean;
  /** Runs a script of several statements on the connection (SQLite's exec); null where a query may hold several. */
  runScript: ((script: string) => void) | null;
}

export class Store {
  private readonly scope = new AsyncLocalStorage<Scope>();
  private readonly inserts: InsertCache;
  readonly readonly: boolean;

  constructor(
    readonly database: Db,
    readonly dialect: StoreDialect,
    private readonly options: StoreOptions,
  ) {
    this.readonly = options.readonly;
    this.inserts = new InsertCache(database);
  }

  /** Runs a migration's DDL (SQLite's words, dialect.ts turns them into this database's). */
  async runDdl(statements: string): Promise<void> {
    const script = this.dialect.ddl(statements);
    if (this.options.runScript) this.options.runScript(script);
    else await sql.raw(script).execute(this.db);
  }

  /** What runs a query now: the current transaction's connection, else the database. */
  get db(): Db {
    const scope = this.scope.getStore();
    return scope?.open ? scope.db : this.database;
  }

  /**
   * Inserts rows that all have the same columns in one statement, compiled once for every later batch of the
   * same shape (insert-cache.ts): the analysis writer's hot path.
   */
  async insert<T extends TableName>(table: T, rows: InsertRow<T>[]): Promise<void> {
    if (rows.length > 0) await this.db.executeQuery(this.inserts.query(table, rows));
  }

  /** Runs `work` in one transaction: all of its writes are stored, or none. Nested, it is a savepoint. */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.run(work, false);
  }

  /**
   * The same, taking the library's write lock first (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock,
   * dialect.ts): of two processes deciding from what they read and then writing, the second waits and reads
   * the first's result.
   */
  writeTransaction<T>(work: () => Promise<T>): Promise<T> {
    return this.run(work, true);
  }

  private async run<T>(work: () => Promise<T>, lock: boolean): Promise<T> {
    const outer = this.scope.getStore();
    if (outer?.open) return this.savepoint(outer, work, lock);
    return this.database.connection().execute(async (db) => {
      await sql.raw(lock ? this.dialect.beginWrite : 'BEGIN').execute(db);
      const scope: Scope = { db, savepoints: 0, open: true };
      try {
        if (lock && this.dialect.writeLock) await sql.raw(this.dialect.writeLock).execute(db);
        const result = await this.scope.run(scope, work);
        await commit(db);
        return result;
      } catch (error) {
        await sql
          .raw('ROLLBACK')
          .execute(db)
          .catch(() => undefined);
        throw error;
      } finally {
        scope.open = false;
      }
    });
  }

  private async savepoint<T>(scope: Scope, work: () => Promise<T>, lock: boolean): Promise<T> {
    const name = `nested_${++scope.savepoints}`;
    await sql.raw(`SAVEPOINT ${name}`).execute(scope.db);
    try {
      // SQLite's lock was taken by the outer BEGIN (or is taken by the first write); PostgreSQL's may be taken
      // at any point of a transaction.
      if (lock && this.dialect.writeLock) await sql.raw(this.dialect.writeLock).execute(scope.db);
      const result = await work();
      await sql.raw(`RELEASE SAVEPOINT ${name}`).execute(scope.db);
      return result;
    } catch (error) {
      await sql.raw(`ROLLBACK TO SAVEPOINT ${name}`).execute(scope.db);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.database.destroy();
  }
}

/** PostgreSQL answers COMMIT of a transaction an earlier error aborted with ROLLBACK: that is a failure. */
async function commit(db: Db): Promise<void> {
  const result = await sql.raw<{ command?: string }>('COMMIT').execute(db);
  if (result.rows[0]?.command === 'ROLLBACK') {
    throw new Error('The transaction was rolled back: an earlier statement in it failed');
  }
}
