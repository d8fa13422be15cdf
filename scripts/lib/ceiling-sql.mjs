// Statements exactly as the worker runs them, built from the source in Node by esbuild, for the bench's
// "statement alone" ceilings: the same SQL through the same D1 binding with no app code around it, so a
// route's target can be read against what its SQL alone costs.
import { build } from 'esbuild';

/** The named exports of a TypeScript entry (source text, resolved from the repository root). */
async function load(entry) {
  const bundle = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
    plugins: [{ name: 'no-cloudflare', setup: (b) => b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, external: true })) }],
  });
  return import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);
}

/**
 * `{ sql, params }` of a first home page of `limit` posts for a returning reader (a page from their
 * timeline, with its floor); the viewer's id is the string `?VIEWER?` in params.
 */
export async function homePageStatement(limit = 20) {
  const { statement, stableLimits } = await load(`
import { pageQuery, skeletonOfQuery } from './src/modules/posts/post-pipeline';
import { HOME_TIMELINE_FLOOR_SQL, HOME_TIMELINE_SQL } from './src/modules/feeds/home-timeline';
export { stableLimits } from './src/db/client';
export const statement = (limit) =>
  pageQuery('?VIEWER?', skeletonOfQuery(HOME_TIMELINE_SQL, ['?VIEWER?', Number.MAX_SAFE_INTEGER, '', limit + 1], HOME_TIMELINE_FLOOR_SQL));
`);
  // As a request's D1 client sends it (stableLimits).
  const { sql, params } = statement(limit);
  return { sql: stableLimits(sql), params };
}

/**
 * The statement a first page of people search runs for each query of `queries` when its kept ranking
 * exists (see searchUsers: the page's rows also say whether the kept list is there, so it is the
 * route's only statement), `{ sql, params }` with the viewer's id as the string `?VIEWER?`, by query.
 * The kept list is taken however old it is (the app computes it again after a minute), so the ceiling
 * never measures its computing.
 */
export async function userSearchStatements(queries, limit = 20) {
  const { terms, ftsMatch, PREFIX_FROM, userSearchSql, stableLimits } = await load(`
export { ftsMatch, parseSearchText as terms, PREFIX_FROM } from './src/modules/search/search-query';
export { userSearchSql } from './src/modules/search/search.queries';
export { stableLimits } from './src/db/client';
`);
  // As a request's D1 client sends it (stableLimits).
  const page = stableLimits(userSearchSql('kept'));
  return Object.fromEntries(
    queries.map((q) => {
      const words = terms(q).words;
      const match = ftsMatch(words, PREFIX_FROM);
      // As searchUsers binds it: from the top, the page, one more and 5 spare, the query as a username
      // (these prefixes are plain lower-case names), live after 0.
      return [q, { sql: page, params: [match, '?VIEWER?', ftsMatch(words), Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, limit + 6, q, 0] }];
    }),
  );
}

/**
 * The floor of any home page, whatever its rules: a returning reader's 20 newest timeline rows with their
 * posts and authors, as JSON (`?1` the viewer). No visibility, mutes, blocks, likes, media or pulled
 * authors: if even this is under a target's share of `SELECT 1`, no home feed read from D1 reaches it.
 */
export const HOME_PAGE_FLOOR_SQL = `SELECT json_group_array(json_array(p.id, p.author_id, p.content, p.created_at, p.like_count, p.comment_count, u.username, u.display_name, u.avatar_key))
FROM (SELECT post_id FROM home_timeline_entries WHERE user_id = ?1 ORDER BY created_at DESC, post_id DESC LIMIT 20) t
JOIN posts p ON p.id = t.post_id JOIN users u ON u.id = p.author_id`;

/**
 * The floor of any people search page: the first 20 people of the prefix's kept ranking (the list one
 * query's ranking is kept in, shared by every viewer), with their public fields, as JSON (`?1` the FTS
 * match the kept list is stored under). No personal boost, no check that they still match, no blocks or
 * discoverability.
 */
export const USER_SEARCH_FLOOR_SQL = `SELECT json_group_array(json_array(u.id, u.username, u.display_name, u.avatar_key, u.bio, u.is_verified))
FROM (SELECT j.value ->> 0 AS rid FROM user_search_cache k, json_each(k.entries) j WHERE k.query = ?1 LIMIT 20) s
JOIN users u ON u.rowid = s.rid`;
