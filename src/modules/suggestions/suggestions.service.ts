import type { Context } from 'hono';
import type { UserSummary } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import type { AppEnv } from '../../lib/types';
import { visibleUserSql } from '../../policy/visibility';
import { presentPublicUser } from '../users/users.presenter';
import { COMPUTE_SUGGESTIONS_SQL, READ_MARGIN, READ_SUGGESTIONS_SQL, REASON, type Reason, SUGGESTION_TTL_MS, SUGGESTIONS_KEPT } from './suggestions.queries';
import type { Suggestion } from './suggestions.schemas';

type PublicUserColumns = [string, string, string, string | null, string, number];
/** READ_SUGGESTIONS_SQL's one row: the live list's size (null: none), and the page as JSON. */
type ReadRow = { entries: number | null; page: string };
/** A suggestion of the page: the account's columns, reason bits, mutual count, mutuals, position. */
type SuggestionRow = [...PublicUserColumns, number, number, PublicUserColumns[], number];
const POSITION = 9;

/** The page's suggestions in the list's order, and the live list's size (null: there is none). */
export function decodeSuggestionPage(row: ReadRow | null | undefined): { entries: number | null; results: SuggestionRow[] } {
  const results = row ? (JSON.parse(row.page) as SuggestionRow[]).sort((a, b) => a[POSITION] - b[POSITION]) : [];
  return { entries: row?.entries ?? null, results };
}

const summary = ([id, username, displayName, avatarKey, bio, isVerified]: PublicUserColumns) =>
  ({ id, username, displayName, avatarKey, bio, isVerified: isVerified === 1 }) as UserSummary;

/** Reason bits in the order the contract lists them, strongest first. */
const REASON_ORDER = Object.entries(REASON) as [Reason, number][];

function present(row: SuggestionRow, baseUrl: string): Suggestion {
  const [id, username, displayName, avatarKey, bio, isVerified, reasons, mutualCount, mutuals] = row;
  return {
    user: presentPublicUser(summary([id, username, displayName, avatarKey, bio, isVerified]), baseUrl),
    reasons: REASON_ORDER.filter(([, bit]) => (reasons & bit) !== 0).map(([reason]) => reason),
    mutual_count: mutualCount,
    mutuals: mutuals.slice(0, 3).map((m) => presentPublicUser(summary(m), baseUrl)),
  };
}

/**
 * GET /suggestions. The caller's list comes from suggestion_cache when it is younger than 10 minutes
 * (one statement: whether it is live, its size, and the page); otherwise it is computed and stored,
 * and read back, in one batch. The page is read from its own entries and READ_MARGIN more; should
 * accounts made unfindable since leave it short while the list holds more, the whole list is read.
 * Triggers drop the cached list whenever the caller's graph changes (migrations/*_search.sql), so a
 * follow, a friendship, a request, a block, a dismissal, a community or a new place shows in the next read.
 */
export async function listSuggestions(c: Context<AppEnv>, viewerId: string, limit: number, now = Date.now()): Promise<{ data: Suggestion[] }> {
  const db = c.var.d1;
  const liveAfter = now - SUGGESTION_TTL_MS;
  const read = (entries: number) => db.prepare(READ_SUGGESTIONS_SQL).bind(viewerId, liveAfter, limit, entries);
  const window = limit + READ_MARGIN;
  const first = decodeSuggestionPage(await read(window).first<ReadRow>());
  let results = first.results;
  if (first.entries === null) {
    results = decodeSuggestionPage((await db.batch<ReadRow>([db.prepare(COMPUTE_SUGGESTIONS_SQL).bind(viewerId, now), read(SUGGESTIONS_KEPT)])).at(-1)?.results[0]).results;
  } else if (results.length < limit && first.entries > window) {
    results = decodeSuggestionPage(await read(SUGGESTIONS_KEPT).first<ReadRow>()).results;
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
