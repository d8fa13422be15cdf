import { describe, expect, it } from 'vitest';
import { stableLimits } from '../../src/db/client';
import { COMMUNITY_SEARCH_SQL, postSearchSql, TAG_SEARCH_SQL, USER_SEARCH_FILL_SQL, userSearchSql } from '../../src/modules/search/search.queries';
import { COMPUTE_SUGGESTIONS_SQL, READ_SUGGESTIONS_SQL } from '../../src/modules/suggestions/suggestions.queries';
import { TAG_POSTS_SQL } from '../../src/modules/tags/tags.service';
import { REFRESH_TRENDS_SQL, TRENDS_SQL } from '../../src/modules/tags/trends';
import { queryPlan, tableScans } from '../helpers/query-plans';

/**
 * Discovery's statements read by index: full-text matches, primary keys and index ranges, never a walk
 * over a table that grows with the data (plans of the statements as the service binds them).
 */
const TABLES = ['users', 'posts', 'post_tags', 'tags', 'communities', 'community_members', 'follows', 'friendships', 'friend_requests', 'blocks', 'suggestion_dismissals', 'suggestion_cache', 'tag_trends', 'user_search_cache'];
// (Only aliases every statement uses alike: `c` and `x` also name CTEs and subqueries.)
const ALIASES: Record<string, string> = { u: 'users', p: 'posts', t: 'post_tags', m: 'community_members' };
const TOP = 1e308;

const STATEMENTS: [string, string, unknown[], string[]?][] = [
  // A common prefix ranks its most followed matches: the first rows of users_popular_idx that match.
  ['user search', userSearchSql('kept'), ['"ada"*', 'viewer', '"ada"', TOP, 9e15, 42, 'ada', 0]],
  ['user search past the kept list', userSearchSql('live'), ['"ada"*', 'viewer', '"ada"', TOP, 9e15, 42, 'ada'], ['users_popular_idx']],
  ['user search kept list', USER_SEARCH_FILL_SQL, ['"ada"*', 1, '"ada"'], ['users_popular_idx']],
  ['post search by words', postSearchSql('text'), ['"bread"', 'viewer', 1e15, TOP, '', 21, '[]']],
  ['post search by tag', postSearchSql('tag'), ['bread', 'viewer', 1e15, TOP, '', 21, '["bread"]']],
  ['community search', COMMUNITY_SEARCH_SQL, ['"walk"*', 'viewer', null, TOP, '', 21]],
  ['tag search', TAG_SEARCH_SQL, ['"bre"*', 'viewer', null, TOP, '', 21]],
  ['a tag\'s posts', TAG_POSTS_SQL, ['bread', 1e15, '', 21]],
  // The popular accounts are the first 50 of users_popular_idx.
  ['suggestions computed', COMPUTE_SUGGESTIONS_SQL, ['viewer', 1], ['users_popular_idx']],
  ['suggestions read', READ_SUGGESTIONS_SQL, ['viewer', 1, 20, 30]],
  ['trends refresh', REFRESH_TRENDS_SQL, [3, 2, 1]],
  // GET /trends/tags: the first `limit` rows of tag_trends_rank_idx.
  ['trends read', TRENDS_SQL, [20], ['tag_trends_rank_idx']],
];

describe('discovery query plans', () => {
  for (const [name, sql, params, bounded] of STATEMENTS) {
    it(`should read ${name} without walking a whole table`, async () => {
      const lines = await queryPlan(sql, params);
      expect(tableScans(lines, TABLES, ALIASES, bounded), lines.join('\n')).toEqual([]);
    });
  }

  it('should find the full-text matches through the FTS5 indexes', async () => {
    const fts = { 'user search': 'users_fts', 'post search by words': 'posts_fts', 'community search': 'communities_fts', 'tag search': 'tags_fts' };
    for (const [name, table] of Object.entries(fts)) {
      const [, sql, params] = STATEMENTS.find(([n]) => n === name)!;
      const lines = await queryPlan(sql, params);
      expect(lines.some((l) => l.startsWith(`SCAN ${table} VIRTUAL TABLE INDEX`)), lines.join('\n')).toBe(true);
    }
  });

  it('should send every bound row count behind a CAST, never as a bare LIMIT ?n (compiled again on every call)', () => {
    // As a request's D1 client sends them (stableLimits): a bound limit written some other way (in
    // parentheses, in an expression) would slip past the rewrite and recompile the statement each call.
    for (const [name, sql] of STATEMENTS) {
      const sent = stableLimits(sql);
      expect(sent, name).not.toMatch(/\b(LIMIT|OFFSET)\s*\(?\s*\?/i);
      if (/\bLIMIT\s+\?/i.test(sql)) expect(sent, name).toMatch(/LIMIT CAST\(\?\d+ AS INTEGER\)/);
    }
  });

  it('should see a walk over a whole table (the check can fail)', async () => {
    const lines = await queryPlan('SELECT * FROM posts WHERE content LIKE ?1', ['%x%']);
    expect(tableScans(lines, TABLES)).toHaveLength(1);
  });
});
