import type { Context } from 'hono';
import { mapRow, uniqueViolation, type D1Client } from '../../db/client';
import { newsSources, type NewsSourceRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { jsonChunks } from '../../lib/json-rows';
import { NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv, Bindings } from '../../lib/types';
import { fetchFeed, type FetchOutcome } from './feed-fetch';
import { FeedParseError, type ParsedItem, parseFeedItems } from './feed-parse';
import type { NewsItem, NewsSource } from './news.schemas';
import { assertSourceUrl } from './source-url';

/** A healthy source is fetched on every cron tick (every 15 minutes). */
export const NEWS_INTERVAL_MS = 15 * 60 * 1000;
/** A failing one waits twice as long after each failure in a row, up to a day. */
export const NEWS_MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;
/** How long a queued source is held back from the next tick while its fetch waits in the queue. */
export const NEWS_LEASE_MS = 10 * 60 * 1000;
/** Items kept per source: the newest this many. */
export const NEWS_ITEMS_PER_SOURCE = 1000;
/** Ticks are 15 minutes apart but a fetch ends a little after its tick: due this much early. */
const TICK_SLACK_MS = 2 * 60 * 1000;

/** The wait before the next fetch after `failures` failed fetches in a row (0 = healthy). */
export function nextFetchDelay(failures: number): number {
  return failures === 0 ? NEWS_INTERVAL_MS - TICK_SLACK_MS : Math.min(NEWS_INTERVAL_MS * 2 ** failures, NEWS_MAX_BACKOFF_MS);
}

export function presentSource(row: NewsSourceRow): NewsSource {
  return {
    id: row.id,
    url: row.url,
    title: row.title,
    topic: row.topic,
    last_fetched_at: row.lastFetchedAt?.toISOString() ?? null,
    last_status: row.lastStatus,
    last_http_status: row.lastHttpStatus,
    last_error: row.lastError,
    item_count: row.itemCount,
    failure_count: row.failureCount,
    next_fetch_at: new Date(row.nextFetchAt).toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

async function findSource(d1: D1Client, id: string): Promise<NewsSourceRow | null> {
  const raw = await d1.prepare('SELECT * FROM news_sources WHERE id = ?1').bind(id).first<Record<string, unknown>>();
  return raw ? mapRow(newsSources, raw) : null;
}

async function requireSource(d1: D1Client, id: string): Promise<NewsSourceRow> {
  const row = await findSource(d1, id);
  if (!row) throw new ApiError('not_found', 'No such news source.');
  return row;
}

const duplicateUrl = () => new ApiError('conflict', 'url is already a news source', { errors: [{ field: 'url', message: 'is already a news source' }] });

export async function createSource(c: Context<AppEnv>, staffId: string, input: { url: string; topic: string; title?: string }): Promise<NewsSource> {
  const url = await assertSourceUrl(c.env, input.url);
  const now = Date.now();
  const id = newId(now);
  try {
    await c.var.d1.prepare(
      `INSERT INTO news_sources (id, url, title, title_fixed, topic, created_by, next_fetch_at, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)`,
    )
      .bind(id, url, input.title ?? new URL(url).hostname, input.title ? 1 : 0, input.topic, staffId, now)
      .run();
  } catch (err) {
    if (uniqueViolation(err) === 'url') throw duplicateUrl();
    throw err;
  }
  return presentSource((await findSource(c.var.d1, id))!);
}

/** Changes a source; a new URL starts over (no validators, no failures, due at the next tick); a new topic moves its items too. */
export async function updateSource(c: Context<AppEnv>, id: string, input: { url?: string; topic?: string; title?: string | null }): Promise<NewsSource> {
  const d1 = c.var.d1;
  const row = await requireSource(d1, id);
  const url = input.url !== undefined ? await assertSourceUrl(c.env, input.url) : row.url;
  const statements: D1PreparedStatement[] = [];
  if (url !== row.url) {
    statements.push(
      d1.prepare('UPDATE news_sources SET url = ?2, etag = NULL, last_modified = NULL, failure_count = 0, next_fetch_at = 0 WHERE id = ?1').bind(id, url),
    );
  }
  if (input.topic !== undefined && input.topic !== row.topic) {
    statements.push(d1.prepare('UPDATE news_sources SET topic = ?2 WHERE id = ?1').bind(id, input.topic));
    statements.push(d1.prepare('UPDATE news_items SET topic = ?2 WHERE source_id = ?1').bind(id, input.topic));
  }
  if (input.title !== undefined) {
    // null hands the title back to the feed (until the next fetch, the host name stands in).
    statements.push(d1.prepare('UPDATE news_sources SET title = ?2, title_fixed = ?3 WHERE id = ?1').bind(id, input.title ?? new URL(url).hostname, input.title ? 1 : 0));
  }
  if (statements.length > 0) {
    statements.push(d1.prepare('UPDATE news_sources SET updated_at = ?2 WHERE id = ?1').bind(id, Date.now()));
    try {
      await d1.batch(statements);
    } catch (err) {
      if (uniqueViolation(err) === 'url') throw duplicateUrl();
      throw err;
    }
  }
  return presentSource(await requireSource(d1, id));
}

export async function deleteSource(c: Context<AppEnv>, id: string): Promise<void> {
  const result = await c.var.d1.prepare('DELETE FROM news_sources WHERE id = ?1').bind(id).run();
  if (!result.meta.changes) throw new ApiError('not_found', 'No such news source.');
}

/** Sources, newest first. */
export async function listSources(c: Context<AppEnv>, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(
    'SELECT * FROM news_sources WHERE (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3',
  )
    .bind(ts, id, limit + 1)
    .all<Record<string, unknown>>();
  const rows = results.map((raw) => mapRow(newsSources, raw));
  return toPage(rows, limit, (r) => [r.createdAt.getTime(), r.id], presentSource);
}

/** The statements that store a fetch's items: each new (source, key) once, then the source's newest NEWS_ITEMS_PER_SOURCE kept. */
function storeItems(d1: D1Client, source: NewsSourceRow, items: ParsedItem[], now: number): D1PreparedStatement[] {
  // Dated in the future: as of now, so a wrong clock upstream cannot pin an item to the top.
  const rows = items.map((item) => [newId(now), item.key, item.title, item.url, item.summary, item.imageUrl, Math.min(item.publishedAt ?? now, now)]);
  return [
    ...jsonChunks(rows).map((chunk) =>
      d1
        .prepare(
          `INSERT OR IGNORE INTO news_items (id, source_id, key, title, url, summary, image_url, topic, published_at, created_at)
           SELECT value ->> 0, ?1, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, ?2, value ->> 6, ?3 FROM json_each(?4)`,
        )
        .bind(source.id, source.topic, now, chunk),
    ),
    d1
      .prepare(
        `DELETE FROM news_items WHERE source_id = ?1 AND id NOT IN (
           SELECT id FROM news_items WHERE source_id = ?1 ORDER BY published_at DESC LIMIT ?2)`,
      )
      .bind(source.id, NEWS_ITEMS_PER_SOURCE),
  ];
}

/** The statement recording a fetch's outcome on its source, and when to fetch it next. */
function recordOutcome(d1: D1Client, source: NewsSourceRow, outcome: FetchOutcome, feedTitle: string | null, now: number): D1PreparedStatement {
  if (outcome.kind === 'error') {
    const failures = source.failureCount + 1;
    return d1
      .prepare(
        `UPDATE news_sources SET last_fetched_at = ?2, last_status = 'error', last_http_status = ?3, last_error = ?4,
           failure_count = ?5, next_fetch_at = ?6 WHERE id = ?1`,
      )
      .bind(source.id, now, outcome.status, outcome.error, failures, now + nextFetchDelay(failures));
  }
  const ok = outcome.kind === 'ok';
  return d1
    .prepare(
      `UPDATE news_sources SET last_fetched_at = ?2, last_status = ?3, last_http_status = ?4, last_error = NULL, failure_count = 0,
         next_fetch_at = ?5, etag = CASE WHEN ?6 THEN ?7 ELSE etag END, last_modified = CASE WHEN ?6 THEN ?8 ELSE last_modified END,
         title = CASE WHEN title_fixed = 0 AND ?9 IS NOT NULL THEN ?9 ELSE title END,
         item_count = (SELECT COUNT(*) FROM news_items WHERE source_id = ?1)
       WHERE id = ?1`,
    )
    .bind(source.id, now, ok ? 'ok' : 'not_modified', outcome.status, now + nextFetchDelay(0), ok ? 1 : 0, ok ? outcome.etag : null, ok ? outcome.lastModified : null, feedTitle);
}

export interface RefreshOptions {
  timeoutMs?: number;
  now?: number;
}

/**
 * Fetches one source now and records the outcome (items and status in one batch). A failure of the
 * feed (unreachable, HTTP error, too large, not a feed) is recorded on the source, never thrown; only
 * faults of our own (D1) throw, so the queue retries them. Null when the source is gone.
 */
export async function refreshSource(env: Bindings, id: string, options: RefreshOptions = {}): Promise<NewsSourceRow | null> {
  const d1 = env.DB;
  const source = await findSource(d1, id);
  if (!source) return null;
  let outcome: FetchOutcome = await fetchFeed(env, source.url, { etag: source.etag, lastModified: source.lastModified }, options.timeoutMs);
  let items: ParsedItem[] = [];
  let feedTitle: string | null = null;
  if (outcome.kind === 'ok') {
    try {
      ({ items, title: feedTitle } = await parseFeedItems(outcome.body));
    } catch (err) {
      if (!(err instanceof FeedParseError)) throw err;
      outcome = { kind: 'error', status: outcome.status, error: err.message };
    }
  }
  const now = options.now ?? Date.now();
  await d1.batch([...(outcome.kind === 'ok' ? storeItems(d1, source, items, now) : []), recordOutcome(d1, source, outcome, feedTitle, now)]);
  return findSource(d1, id);
}

export async function refreshSourceNow(c: Context<AppEnv>, id: string): Promise<NewsSource> {
  await requireSource(c.var.d1, id);
  const row = await refreshSource(c.env, id);
  if (!row) throw new ApiError('not_found', 'No such news source.');
  return presentSource(row);
}

/**
 * Claims every source due at `now`: pushes its next fetch a lease ahead (so the next tick does not
 * queue it again while it waits) and returns the ids, in one statement.
 */
export async function claimDueSources(d1: D1Client, now: number): Promise<string[]> {
  const { results } = await d1
    .prepare('UPDATE news_sources SET next_fetch_at = ?2 WHERE next_fetch_at <= ?1 RETURNING id')
    .bind(now, now + NEWS_LEASE_MS)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** A page of news items, newest first (one index range either way); exported so a test can EXPLAIN it. ?1 ?2 cursor, ?3 limit + 1, ?4 topic. */
export const newsPageSql = (byTopic: boolean) => `
  SELECT i.id, i.title, i.url, i.summary, i.image_url, i.topic, i.published_at, s.id AS source_id, s.title AS source_title
  FROM news_items i JOIN news_sources s ON s.id = i.source_id
  WHERE ${byTopic ? 'i.topic = ?4 AND ' : ''}(i.published_at, i.id) < (?1, ?2)
  ORDER BY i.published_at DESC, i.id DESC LIMIT ?3`;

interface ItemRow {
  id: string;
  title: string;
  url: string | null;
  summary: string;
  image_url: string | null;
  topic: string;
  source_id: string;
  source_title: string;
  published_at: number;
}

/** News items, newest first, optionally of one topic (indexes news_items_published_idx / news_items_topic_published_idx). */
export async function listNews(c: Context<AppEnv>, topic: string | undefined, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(newsPageSql(topic !== undefined))
    .bind(ts, id, limit + 1, ...(topic !== undefined ? [topic] : []))
    .all<ItemRow>();
  return toPage(
    results,
    limit,
    (r) => [r.published_at, r.id],
    (r): NewsItem => ({
      id: r.id,
      title: r.title,
      url: r.url,
      summary: r.summary,
      image_url: r.image_url,
      topic: r.topic,
      source: { id: r.source_id, title: r.source_title },
      published_at: new Date(r.published_at).toISOString(),
    }),
  );
}

