import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { keywordRules, type KeywordRuleAction, type SiteRole } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { NEWEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { invalidateRuleSet } from '../../policy/content-rules';
import { audit, requestIp } from '../audit/audit';
import { forgetSessions } from '../../lib/session-cache';
import { requireUserRow } from '../users/users.service';
import { findUserById } from '../users/users.service';
import { accountState } from './account-actions';
import type { AccountState } from './moderation.schemas';

/** Keyword rules, site roles and admin stats. */

/** The rule set stays small enough to compile in a moment (the matcher's cost does not grow with it). */
export const MAX_KEYWORD_RULES = 5000;

const BUMP_RULES_VERSION = "UPDATE site_counters SET value = value + 1 WHERE key = 'keyword_rules_version'";

function presentRule(row: typeof keywordRules.$inferSelect) {
  return { id: row.id, pattern: row.pattern, whole_word: row.wholeWord, action: row.action, created_at: row.createdAt.toISOString() };
}

export async function listKeywordRules(c: Context<AppEnv>, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare('SELECT * FROM keyword_rules WHERE (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3')
    .bind(ts, id, limit + 1)
    .all<Record<string, unknown>>();
  return toPage(results.map((raw) => mapRow(keywordRules, raw)), limit, (r) => [r.createdAt.getTime(), r.id], presentRule);
}

/** Adds a rule; the rule set's version moves in the same batch, so every isolate recompiles. */
export async function createKeywordRule(c: Context<AppEnv>, staffId: string, input: { pattern: string; whole_word: boolean; action: KeywordRuleAction }) {
  const db = c.var.d1;
  const count = await db.prepare('SELECT COUNT(*) AS n FROM keyword_rules').first<{ n: number }>();
  if ((count?.n ?? 0) >= MAX_KEYWORD_RULES) throw new ApiError('conflict', `There are already ${MAX_KEYWORD_RULES} keyword rules; delete some first.`);
  const now = Date.now();
  const id = newId(now);
  await audit(
    db,
    { action: 'keyword_rule.changed', actorId: staffId, subjectType: 'keyword_rule', subjectId: id, ip: requestIp(c), data: { change: 'created', pattern: input.pattern, whole_word: input.whole_word, action: input.action } },
    [
      db.prepare('INSERT INTO keyword_rules (id, pattern, whole_word, action, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)').bind(id, input.pattern, input.whole_word ? 1 : 0, input.action, staffId, now),
      db.prepare(BUMP_RULES_VERSION),
    ],
  );
  invalidateRuleSet();
  return presentRule({ id, pattern: input.pattern, wholeWord: input.whole_word, action: input.action, createdBy: staffId, createdAt: new Date(now) });
}

export async function deleteKeywordRule(c: Context<AppEnv>, staffId: string, id: string): Promise<void> {
  const db = c.var.d1;
  const rule = await db.prepare('SELECT pattern, whole_word, action FROM keyword_rules WHERE id = ?1').bind(id).first<{ pattern: string; whole_word: number; action: string }>();
  if (!rule) throw new ApiError('not_found', 'No such keyword rule.');
  const [deleted] = await audit(
    db,
    {
      action: 'keyword_rule.changed',
      actorId: staffId,
      subjectType: 'keyword_rule',
      subjectId: id,
      ip: requestIp(c),
      data: { change: 'deleted', pattern: rule.pattern, whole_word: rule.whole_word === 1, action: rule.action },
      when: { sql: 'NOT EXISTS (SELECT 1 FROM keyword_rules WHERE id = ?1)', params: [id] },
    },
    [db.prepare('DELETE FROM keyword_rules WHERE id = ?1').bind(id), db.prepare(BUMP_RULES_VERSION)],
  );
  invalidateRuleSet();
  if (!deleted?.meta.changes) throw new ApiError('not_found', 'No such keyword rule.');
}

/** An admin sets another account's site role (never their own: an admin cannot lock the site out by accident). */
export async function setRole(c: Context<AppEnv>, adminId: string, targetId: string, role: SiteRole): Promise<AccountState> {
  if (targetId === adminId) throw ApiError.field('id', 'you cannot change your own role');
  const target = await findUserById(c.get('db'), targetId);
  if (!target) throw new ApiError('not_found', 'No such user.');
  if (target.role !== role) {
    const db = c.var.d1;
    await audit(
      db,
      { action: 'role.changed', actorId: adminId, subjectType: 'user', subjectId: targetId, ip: requestIp(c), data: { from: target.role, to: role } },
      [db.prepare('UPDATE users SET role = ?2, updated_at = ?3 WHERE id = ?1').bind(targetId, role, Date.now())],
    );
    // This isolate's cached role goes now; writes everywhere read the role from D1 anyway.
    forgetSessions({ userId: targetId });
  }
  return accountState(await requireUserRow(c.get('db'), targetId), c.get('baseUrl'));
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Admin stats from counters and index ranges only (test/moderation/stats.test.ts EXPLAINs it): totals
 * from site_counters (kept by triggers), "new in a day" from created_at indexes, active accounts from
 * sessions_last_used_idx (a login or token refresh in the window; named, since for COUNT(DISTINCT)
 * SQLite would otherwise walk the whole user index), messages from the rooms' hourly
 * counts, open reports from reports_status_created_idx. Exported so the test can plan it.
 */
export const STATS_SQL = `SELECT
  (SELECT value FROM site_counters WHERE key = 'users') AS users_total,
  (SELECT COUNT(*) FROM users WHERE created_at > ?1) AS users_new_1d,
  (SELECT COUNT(DISTINCT user_id) FROM sessions INDEXED BY sessions_last_used_idx WHERE last_used_at > ?1) AS users_active_1d,
  (SELECT COUNT(DISTINCT user_id) FROM sessions INDEXED BY sessions_last_used_idx WHERE last_used_at > ?2) AS users_active_7d,
  (SELECT value FROM site_counters WHERE key = 'posts') AS posts_total,
  (SELECT COUNT(*) FROM posts WHERE visibility IN ('public', 'friends', 'private') AND created_at > ?1) AS posts_new_1d,
  (SELECT COALESCE(SUM(count), 0) FROM stats_hourly WHERE metric = 'messages' AND hour > ?3) AS messages_1d,
  (SELECT value FROM site_counters WHERE key = 'communities') AS communities_total,
  (SELECT COUNT(*) FROM communities WHERE created_at > ?1) AS communities_new_1d,
  (SELECT COUNT(*) FROM reports WHERE status = 'open') AS reports_open`;

export async function adminStats(c: Context<AppEnv>, now = Date.now()) {
  const row = (await c.var.d1.prepare(STATS_SQL)
    .bind(now - DAY_MS, now - 7 * DAY_MS, Math.floor((now - DAY_MS) / 3_600_000))
    .first<Record<string, number | null>>())!;
  const n = (key: string) => row[key] ?? 0;
  return {
    users: { total: n('users_total'), new_1d: n('users_new_1d'), active_1d: n('users_active_1d'), active_7d: n('users_active_7d') },
    posts: { total: n('posts_total'), new_1d: n('posts_new_1d') },
    messages_1d: n('messages_1d'),
    communities: { total: n('communities_total'), new_1d: n('communities_new_1d') },
    reports: { open: n('reports_open') },
  };
}
