import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { LibraryTables } from './tables.js';

export type TableName = keyof LibraryTables;
export type InsertRow<T extends TableName> = Insertable<LibraryTables[T]>;

/** Statement shapes kept: the writer uses a few dozen (4 tables, batches of 1 to 16 frames). */
const MAX_SHAPES = 64;

/**
 * Multi-row INSERTs compiled once per table, column list and row count, then run with each batch's values.
 * Kysely otherwise builds and compiles every statement afresh: a fifth of the analysis writer's CPU in
 * `npm run bench -- store`. The SQL text is the one Kysely compiled for this database (SQLite's or
 * PostgreSQL's), and reusing the same text also lets the SQLite driver reuse its prepared statement.
 */
export class InsertCache {
  /** SQL by shape; null for a shape whose parameters are not simply its rows' values in order. */
  private readonly compiled = new Map<string, string | null>();

  constructor(private readonly database: Kysely<LibraryTables>) {}

  /** The query inserting `rows`, which must not be empty. */
  query<T extends TableName>(table: T, rows: InsertRow<T>[]): CompiledQuery {
    const columns = Object.keys(rows[0]!);
    const values = rowValues(rows, columns);
    const shape = `${table}(${columns.join(',')})x${rows.length}`;
    const known = values && this.compiled.get(shape);
    if (known) return CompiledQuery.raw(known, values);
    const fresh = this.database.insertInto(table).values(rows).compile();
    if (values && !this.compiled.has(shape))
      this.remember(shape, sameValues(fresh.parameters, values) ? fresh.sql : null);
    return fresh;
  }

  private remember(shape: string, sql: string | null): void {
    if (this.compiled.size >= MAX_SHAPES) this.compiled.delete(this.compiled.keys().next().value!);
    this.compiled.set(shape, sql);
  }
}

/** Every row's values in column order; undefined where a row's columns differ from the first row's. */
function rowValues(rows: object[], columns: string[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    if (Object.keys(record).length !== columns.length) return undefined;
    for (const column of columns) {
      const value = record[column];
      // Kysely leaves an undefined value out of the statement: the shape would depend on the values.
      if (value === undefined) return undefined;
      values.push(value);
    }
  }
  return values;
}

function sameValues(parameters: readonly unknown[], values: unknown[]): boolean {
  return parameters.length === values.length && parameters.every((parameter, i) => parameter === values[i]);
}
