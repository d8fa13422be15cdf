import type { D1Client } from '../../db/client';
import type { FilterContext } from '../../db/schema';
import { NOW_MS } from '../feeds/home-timeline';
import { compileKeywords, type KeywordMatcher } from '../../policy/keyword-matcher';
import type { FilterResult } from './filters.schemas';

/**
 * Personal filters at read time, applied by the feed pipeline's rules stage (post-pipeline.ts) in the
 * home, discover, community and profile contexts, and by the notification list: `hide` drops what a
 * filter matches, `warn` keeps it with `filtered: [{ filter_id, title, keyword_matches }]`. Matching is
 * the keyword rules' (case- and accent-insensitive, whole word unless the keyword says otherwise).
 * Expired filters never reach here: the SQL below keeps only live ones.
 */

/** A reader's live filter as loaded by {@link viewerFiltersSql}. */
export interface ViewerFilter {
  id: string;
  title: string;
  context: FilterContext[];
  action: 'warn' | 'hide';
  /** [keyword, whole_word (0/1)] pairs. */
  keywords: [string, number][];
}

/**
 * An SQL expression: the JSON array of the live filters of the user whose id is the expression
 * `viewer` (index filters_user_idx, then filter_keywords_filter_idx per filter).
 */
export function viewerFiltersSql(viewer: string): string {
  return `(SELECT json_group_array(json_object('id', f.id, 'title', f.title, 'context', json(f.context), 'action', f.action,
      'keywords', json((SELECT json_group_array(json_array(k.keyword, k.whole_word)) FROM filter_keywords k WHERE k.filter_id = f.id))))
    FROM filters f WHERE f.user_id = ${viewer} AND (f.expires_at IS NULL OR f.expires_at > ${NOW_MS}))`;
}

export interface FilterOutcome {
  hide: boolean;
  /** The `warn` filters that matched (empty when none did). */
  filtered: FilterResult[];
}

export interface ContextFilters {
  apply(text: string): FilterOutcome;
}

/** The filters of one context, compiled once for a page; null when none applies there. */
export function compileFilters(filters: ViewerFilter[], context: FilterContext): ContextFilters | null {
  const active = filters.filter((f) => f.context.includes(context) && f.keywords.length > 0);
  if (active.length === 0) return null;
  const matcher: KeywordMatcher<{ filter: ViewerFilter; keyword: string }> = compileKeywords(
    active.flatMap((filter) => filter.keywords.map(([keyword, whole]) => ({ key: { filter, keyword }, keyword, wholeWord: whole === 1 }))),
  );
  return {
    apply(text) {
      const byFilter = new Map<ViewerFilter, string[]>();
      for (const { filter, keyword } of matcher.match(text)) byFilter.set(filter, [...(byFilter.get(filter) ?? []), keyword]);
      let hide = false;
      const filtered: FilterResult[] = [];
      for (const [filter, keyword_matches] of byFilter) {
        if (filter.action === 'hide') hide = true;
        else filtered.push({ filter_id: filter.id, title: filter.title, keyword_matches });
      }
      return { hide, filtered };
    },
  };
}

export function parseViewerFilters(json: string | null | undefined): ViewerFilter[] {
  return json ? (JSON.parse(json) as ViewerFilter[]) : [];
}

/** A notification as the inbox lists it (the fields filtering reads). */
interface ListedNotification {
  type: string;
  data: Record<string, unknown>;
}

/** The text a notification is about: a message's, a comment's or a post's (by id, looked up in `texts`). */
function notificationText(n: ListedNotification, texts: Map<string, string>): string | null {
  if (n.type === 'new_message') return typeof n.data.content === 'string' ? n.data.content : null;
  const ref = (n.data.comment_id ?? n.data.post_id ?? (n.type === 'new_post' ? n.data.id : null)) as string | null | undefined;
  return ref ? (texts.get(ref) ?? null) : null;
}

/**
 * The notifications context: drops what a `hide` filter matches and marks `warn` matches `filtered`,
 * by the text each notification is about (the message it carries, or the comment or post it points
 * at, read in one query). One small query when the reader has no such filter.
 */
export async function filterNotifications<N extends ListedNotification>(db: D1Client, userId: string, items: N[]): Promise<(N & { filtered?: FilterResult[] })[]> {
  if (items.length === 0) return items;
  const row = await db.prepare(`SELECT ${viewerFiltersSql('?1')} AS filters`).bind(userId).first<{ filters: string | null }>();
  const filters = compileFilters(parseViewerFilters(row?.filters), 'notifications');
  if (!filters) return items;
  const ids = (key: string) => items.map((n) => n.data[key]).filter((v): v is string => typeof v === 'string');
  const postIds = [...ids('post_id'), ...items.filter((n) => n.type === 'new_post').map((n) => n.data.id as string)];
  const { results } = await db
    .prepare(
      `SELECT p.id, p.content FROM json_each(?1) j JOIN posts p ON p.id = j.value
       UNION ALL SELECT c.id, c.content FROM json_each(?2) j JOIN comments c ON c.id = j.value`,
    )
    .bind(JSON.stringify(postIds), JSON.stringify(ids('comment_id')))
    .all<{ id: string; content: string }>();
  const texts = new Map(results.map((r) => [r.id, r.content]));
  const out: (N & { filtered?: FilterResult[] })[] = [];
  for (const n of items) {
    const text = notificationText(n, texts);
    const outcome = text ? filters.apply(text) : null;
    if (outcome?.hide) continue;
    out.push(outcome && outcome.filtered.length > 0 ? { ...n, filtered: outcome.filtered } : n);
  }
  return out;
}
