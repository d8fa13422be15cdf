import { type Column, getTableColumns, getTableName, type InferSelectModel, type Table } from 'drizzle-orm';
import { DrizzleD1Database } from 'drizzle-orm/d1';
import { SQLiteD1Session } from 'drizzle-orm/d1/session';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';

/**
 * What Kith's code asks of D1: statements and batches. Both the binding (`env.DB`, always the primary)
 * and a request's session (`c.var.d1`, D1 Sessions API: src/db/session.ts) provide it.
 */
export type D1Client = Pick<D1Database, 'prepare' | 'batch'>;

/**
 * A bound LIMIT or OFFSET (`LIMIT ?4`, Drizzle's `limit ?`) as `CAST(?4 AS INTEGER)`. SQLite's planner
 * reads a bare bound LIMIT and marks the statement to be compiled again whenever that parameter is
 * bound, which D1 does on every call, so each read paid its statement's whole preparation again (about
 * 0.45 ms for a home page, as much as running it). Behind the CAST the planner cannot read the value and
 * the compiled statement is kept; the rows are the same (a negative value still means no limit).
 */
const BOUND_LIMIT = /\b(LIMIT|OFFSET)\s+(\?\d*)(?!\w)/gi;
const rewritten = new Map<string, string>();
const REWRITTEN_MAX = 2_000;

export function stableLimits(sql: string): string {
  let out = rewritten.get(sql);
  if (out === undefined) {
    out = sql.replace(BOUND_LIMIT, (_, keyword: string, param: string) => `${keyword} CAST(${param} AS INTEGER)`);
    if (rewritten.size >= REWRITTEN_MAX) rewritten.clear();
    rewritten.set(sql, out);
  }
  return out;
}

/** `d1` with every statement's bound limits written as {@link stableLimits} does (a request's D1 client). */
export function withStableLimits(d1: D1Client): D1Client {
  return { prepare: (sql: string) => d1.prepare(stableLimits(sql)), batch: (statements) => d1.batch(statements) };
}

const dialect = new SQLiteAsyncDialect();

/**
 * The Drizzle handle over a D1 binding or a request's session. Made per request, so it is made without
 * the relational schema (Kith uses the query builder, never `db.query`): walking every table on each
 * request cost about 30 µs. Drizzle's D1 driver only calls prepare() and batch(), which a session
 * provides as the binding does.
 */
export function createDb(d1: D1Client) {
  const client = d1 as D1Database;
  return Object.assign(new DrizzleD1Database('async', dialect, new SQLiteD1Session(client, dialect, undefined, {}), undefined), { $client: client });
}

export type Database = ReturnType<typeof createDb>;

/** Turns a Drizzle query into a raw D1 statement, so it can share a `DB.batch` (one transaction) with others. */
export function toStatement(d1: D1Client, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}

/** D1 binds at most this many parameters in one statement. */
export const D1_MAX_BOUND_PARAMETERS = 100;

/**
 * An INSERT of many rows as statements for one batch, each binding at most
 * {@link D1_MAX_BOUND_PARAMETERS}: Drizzle binds every column of every row, so fifty rows of a
 * nine-column table in one statement fail in D1 ("too many SQL variables").
 */
export function insertInParts<T extends Table, R>(d1: D1Client, table: T, rows: R[], insert: (part: R[]) => { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement[] {
  const perStatement = Math.max(1, Math.floor(D1_MAX_BOUND_PARAMETERS / Object.keys(getTableColumns(table)).length));
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) statements.push(toStatement(d1, insert(rows.slice(i, i + perStatement))));
  return statements;
}

/** Names the column of a UNIQUE violation (`users.email` → `email`), or null for any other error. */
export function uniqueViolation(err: unknown): string | null {
  return uniqueViolationOf(err)?.column ?? null;
}

/** The table and (first) column of a UNIQUE or PRIMARY KEY violation, or null for any other error. */
export function uniqueViolationOf(err: unknown): { table: string; column: string } | null {
  const text = String((err as Error)?.message ?? err) + String((err as Error)?.cause ?? '');
  const match = /UNIQUE constraint failed: (\w+)\.(\w+)/.exec(text);
  return match ? { table: match[1]!, column: match[2]! } : null;
}

/**
 * Maps a raw D1 row (snake_case columns, driver values) to a Drizzle table's row type, applying each
 * column's own decoding (timestamps, booleans, JSON). Lets raw SQL and `DB.batch` results be used
 * like Drizzle results.
 */
export function mapRow<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of columnsOf(table)) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}

/**
 * A decoder of rows that arrive as positional arrays in the column order `names` (SQL column names of
 * `table`): each value mapped as drizzle maps it (timestamps to Dates, booleans, JSON), keyed by the
 * field name, and nothing else (mapRow fills every column of the table; a page decodes hundreds of rows).
 * A name that is not a column of the table throws at once.
 */
export function positionalMapper<T extends Table>(table: T, names: readonly string[]): (values: readonly unknown[]) => Record<string, unknown> {
  const byName = new Map(columnsOf(table).map(([key, column]) => [column.name, [key, column] as const]));
  const plan = names.map((name) => {
    const entry = byName.get(name);
    if (!entry) throw new Error(`${name} is not a column of ${getTableName(table)}`);
    return entry;
  });
  return (values) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < plan.length; i++) {
      const [key, column] = plan[i]!;
      const value = values[i];
      out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return out;
  };
}

const columnLists = new WeakMap<Table, [string, Column][]>();

/** A table's columns, listed once (getTableColumns copies them on every call, and pages map many rows). */
function columnsOf(table: Table): [string, Column][] {
  let list = columnLists.get(table);
  if (!list) columnLists.set(table, (list = Object.entries(getTableColumns(table))));
  return list;
}
