import type { Context } from 'hono';
import { mapRow, type D1Client } from '../../db/client';
import { filters as filtersTable, type FilterContext, type FilterRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { type Filter, MAX_FILTERS_PER_USER } from './filters.schemas';

/** Personal filters: their owner's alone (another user's filter is 404). */

type KeywordRow = { id: string; filter_id: string; keyword: string; whole_word: number };

async function present(db: D1Client, rows: FilterRow[]): Promise<Filter[]> {
  const { results } = await db
    .prepare('SELECT id, filter_id, keyword, whole_word FROM filter_keywords WHERE filter_id IN (SELECT value FROM json_each(?1)) ORDER BY filter_id, position')
    .bind(JSON.stringify(rows.map((r) => r.id)))
    .all<KeywordRow>();
  return rows.map((row) => ({
    id: row.id,
    title: row.title,
    context: row.context,
    action: row.action,
    expires_at: row.expiresAt ? row.expiresAt.toISOString() : null,
    keywords: results.filter((k) => k.filter_id === row.id).map((k) => ({ id: k.id, keyword: k.keyword, whole_word: k.whole_word === 1 })),
    created_at: row.createdAt.toISOString(),
  }));
}

async function own(c: Context<AppEnv>, userId: string, id: string): Promise<FilterRow> {
  const raw = await c.var.d1.prepare('SELECT * FROM filters WHERE id = ?1 AND user_id = ?2').bind(id, userId).first<Record<string, unknown>>();
  if (!raw) throw new ApiError('not_found', 'No such filter.');
  return mapRow(filtersTable, raw);
}

export async function getFilter(c: Context<AppEnv>, userId: string, id: string): Promise<Filter> {
  return (await present(c.var.d1, [await own(c, userId, id)]))[0]!;
}

export async function listFilters(c: Context<AppEnv>, userId: string, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare('SELECT * FROM filters WHERE user_id = ?1 AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4')
    .bind(userId, ts, id, limit + 1)
    .all<Record<string, unknown>>();
  const page = toPage(results.map((raw) => mapRow(filtersTable, raw)), limit, (r) => [r.createdAt.getTime(), r.id], (r) => r);
  return { data: await present(c.var.d1, page.data), next_cursor: page.next_cursor };
}

interface FilterInput {
  title?: string;
  keywords?: { keyword: string; whole_word: boolean }[];
  context?: FilterContext[];
  action?: 'warn' | 'hide';
  expires_in?: number | null;
}

function keywordStatements(db: D1Client, filterId: string, keywords: { keyword: string; whole_word: boolean }[]): D1PreparedStatement[] {
  return keywords.map((k, position) =>
    db.prepare('INSERT INTO filter_keywords (id, filter_id, keyword, whole_word, position) VALUES (?1, ?2, ?3, ?4, ?5)').bind(newId(), filterId, k.keyword, k.whole_word ? 1 : 0, position),
  );
}

const expiry = (expiresIn: number | null | undefined, now: number) => (expiresIn ? now + expiresIn * 1000 : null);

/** A new filter with its keywords, in one batch; at most MAX_FILTERS_PER_USER per account (409). */
export async function createFilter(c: Context<AppEnv>, userId: string, input: Required<Pick<FilterInput, 'title' | 'keywords' | 'context' | 'action'>> & FilterInput): Promise<Filter> {
  const db = c.var.d1;
  const count = await db.prepare('SELECT COUNT(*) AS n FROM filters WHERE user_id = ?1').bind(userId).first<{ n: number }>();
  if ((count?.n ?? 0) >= MAX_FILTERS_PER_USER) throw new ApiError('conflict', `You already have ${MAX_FILTERS_PER_USER} filters; delete one first.`);
  const now = Date.now();
  const id = newId(now);
  await db.batch([
    db
      .prepare('INSERT INTO filters (id, user_id, title, context, action, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)')
      .bind(id, userId, input.title, JSON.stringify(input.context), input.action, expiry(input.expires_in, now), now),
    ...keywordStatements(db, id, input.keywords),
  ]);
  return getFilter(c, userId, id);
}

/** Changes the given fields; `keywords` replaces the whole list; `expires_in: null` makes it permanent. */
export async function updateFilter(c: Context<AppEnv>, userId: string, id: string, input: FilterInput): Promise<Filter> {
  const row = await own(c, userId, id);
  const db = c.var.d1;
  const now = Date.now();
  const statements = [
    db
      .prepare('UPDATE filters SET title = ?2, context = ?3, action = ?4, expires_at = ?5 WHERE id = ?1')
      .bind(
        id,
        input.title ?? row.title,
        JSON.stringify(input.context ?? row.context),
        input.action ?? row.action,
        input.expires_in !== undefined ? expiry(input.expires_in, now) : (row.expiresAt?.getTime() ?? null),
      ),
  ];
  if (input.keywords) statements.push(db.prepare('DELETE FROM filter_keywords WHERE filter_id = ?1').bind(id), ...keywordStatements(db, id, input.keywords));
  await db.batch(statements);
  return getFilter(c, userId, id);
}

export async function deleteFilter(c: Context<AppEnv>, userId: string, id: string): Promise<void> {
  const result = await c.var.d1.prepare('DELETE FROM filters WHERE id = ?1 AND user_id = ?2').bind(id, userId).run();
  if (!result.meta.changes) throw new ApiError('not_found', 'No such filter.');
}
