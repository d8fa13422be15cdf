import { type Column, getTableColumns, type InferSelectModel, type Table } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

const handles = new WeakMap<D1Database, ReturnType<typeof buildDb>>();

function buildDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** The Drizzle handle over a D1 binding, built once per binding (it walks the whole schema). */
export function createDb(d1: D1Database) {
  let db = handles.get(d1);
  if (!db) handles.set(d1, (db = buildDb(d1)));
  return db;
}

export type Database = ReturnType<typeof createDb>;

/** Turns a Drizzle query into a raw D1 statement, so it can share a `DB.batch` (one transaction) with others. */
export function toStatement(d1: D1Database, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}

/** Names the column of a UNIQUE violation (`users.email` → `email`), or null for any other error. */
export function uniqueViolation(err: unknown): string | null {
  const text = String((err as Error)?.message ?? err) + String((err as Error)?.cause ?? '');
  const match = /UNIQUE constraint failed: \w+\.(\w+)/.exec(text);
  return match?.[1] ?? null;
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

const columnLists = new WeakMap<Table, [string, Column][]>();

/** A table's columns, listed once (getTableColumns copies them on every call, and pages map many rows). */
function columnsOf(table: Table): [string, Column][] {
  let list = columnLists.get(table);
  if (!list) columnLists.set(table, (list = Object.entries(getTableColumns(table))));
  return list;
}
