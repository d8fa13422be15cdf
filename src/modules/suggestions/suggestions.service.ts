import type { Context } from 'hono';
import type { UserSummary } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import type { AppEnv } from '../../lib/types';
import { visibleUserSql } from '../../policy/visibility';
import { presentPublicUser } from '../users/users.presenter';
import { CACHED_SUGGESTIONS_SQL, COMPUTE_SUGGESTIONS_SQL, READ_MARGIN, READ_SUGGESTIONS_SQL, REASON, type Reason, SUGGESTION_TTL_MS, SUGGESTIONS_KEPT } from './suggestions.queries';
import type { Suggestion } from './suggestions.schemas';

type PublicUserColumns = [string, string, string, string | null, string, number];
/** A live cached list as CACHED_SUGGESTIONS_SQL reads it. */
type CachedList = { computed_at: number; entries: number };
type SuggestionRow = { id: string; username: string; display_name: string; avatar_key: string | null; bio: string; is_verified: number; reasons: number; mutual_count: number; mutuals: string };

const summary = ([id, username, displayName, avatarKey, bio, isVerified]: PublicUserColumns) =>
  ({ id, username, displayName, avatarKey, bio, isVerified: isVerified === 1 }) as UserSummary;

/** Reason bits in the order the contract lists them, strongest first. */
const REASON_ORDER = Object.entries(REASON) as [Reason, number][];

function present(row: SuggestionRow, baseUrl: string): Suggestion {
  const mutuals = (JSON.parse(row.mutuals) as PublicUserColumns[]).slice(0, 3);
  return {
    user: presentPublicUser(summary([row.id, row.username, row.display_name, row.avatar_key, row.bio, row.is_verified]), baseUrl),
    reasons: REASON_ORDER.filter(([, bit]) => (row.reasons & bit) !== 0).map(([reason]) => reason),
    mutual_count: row.mutual_count,
    mutuals: mutuals.map((m) => presentPublicUser(summary(m), baseUrl)),
  };
}

/**
 * GET /suggestions. The caller's list comes from suggestion_cache when it is younger than 10 minutes
 * (one round trip: whether it is live, its size, and the page's rows); otherwise it is computed and
 * stored, and read back, in one batch. The page is read from its own entries and READ_MARGIN more; should
 * accounts made unfindable since leave it short while the list holds more, the whole list is read.
 * Triggers drop the cached list whenever the caller's graph changes (migrations/*_search.sql), so a
 * follow, a friendship, a request, a block, a dismissal, a community or a new place shows in the next read.
 */
export async function listSuggestions(c: Context<AppEnv>, viewerId: string, limit: number, now = Date.now()): Promise<{ data: Suggestion[] }> {
  const db = c.var.d1;
  const liveAfter = now - SUGGESTION_TTL_MS;
  const read = (entries: number) => db.prepare(READ_SUGGESTIONS_SQL).bind(viewerId, liveAfter, limit, entries);
  const window = limit + READ_MARGIN;
  const [cached, rows] = await db.batch<SuggestionRow | CachedList>([db.prepare(CACHED_SUGGESTIONS_SQL).bind(viewerId, liveAfter), read(window)]);
  const kept = cached?.results[0] as CachedList | undefined;
  let results = (rows?.results ?? []) as SuggestionRow[];
  if (!kept) {
    results = (await db.batch<SuggestionRow>([db.prepare(COMPUTE_SUGGESTIONS_SQL).bind(viewerId, now), read(SUGGESTIONS_KEPT)])).at(-1)?.results ?? [];
  } else if (results.length < limit && kept.entries > window) {
    results = (await read(SUGGESTIONS_KEPT).all<SuggestionRow>()).results;
  }
  const baseUrl = c.get('baseUrl');
  return { data: results.map((row) => present(row, baseUrl)) };
}

/** DELETE /suggestions/{user_id}: that account is never suggested to the caller again (idempotent). */
export async function dismissSuggestion(c: Context<AppEnv>, viewerId: string, userId: string): Promise<void> {
  if (userId === viewerId) throw ApiError.field('user_id', 'you are never suggested to yourself');
  const db = c.var.d1;
  // Someone the caller may not see is "not found", like an account that does not exist.
  const inserted = await db
    .prepare(
      `INSERT INTO suggestion_dismissals (user_id, dismissed_id, created_at)
       SELECT ?1, ?2, ?3 WHERE ${visibleUserSql('?1', '?2')}
       ON CONFLICT (user_id, dismissed_id) DO NOTHING`,
    )
    .bind(viewerId, userId, Date.now())
    .run();
  if (inserted.meta.changes > 0) return;
  const visible = await db.prepare(`SELECT 1 WHERE ${visibleUserSql('?1', '?2')}`).bind(viewerId, userId).first();
  if (!visible) throw new ApiError('not_found', 'No such user.');
}
