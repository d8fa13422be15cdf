import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { stableLimits, withStableLimits } from '../../src/db/client';

/**
 * Bound limits kept out of the planner's sight (src/db/client.ts): SQLite compiles a statement again
 * on every call whose bare `LIMIT ?` it read, so a request's D1 client writes them as CASTs.
 */
describe('Bound LIMIT and OFFSET parameters', () => {
  it('should write every bound limit and offset as a CAST, and nothing else', () => {
    expect(stableLimits('SELECT * FROM posts ORDER BY created_at DESC LIMIT ?4')).toBe('SELECT * FROM posts ORDER BY created_at DESC LIMIT CAST(?4 AS INTEGER)');
    // Drizzle's form, unnumbered and lower case, with an offset.
    expect(stableLimits('select "id" from "users" where "id" = ? limit ? offset ?')).toBe('select "id" from "users" where "id" = ? limit CAST(? AS INTEGER) offset CAST(? AS INTEGER)');
    expect(stableLimits('SELECT 1 LIMIT ?10')).toBe('SELECT 1 LIMIT CAST(?10 AS INTEGER)');
    expect(stableLimits('SELECT\n  x FROM t ORDER BY x\n  LIMIT\n  ?2)')).toBe('SELECT\n  x FROM t ORDER BY x\n  LIMIT CAST(?2 AS INTEGER))');
    // Literal limits, limits already cast, and other words are left as they are.
    for (const sql of ['SELECT 1 LIMIT 20', 'SELECT 1 LIMIT CAST(?6 AS INTEGER)', 'SELECT rate_limit FROM t WHERE limits = ?1', "SELECT 'no LIMIT here' AS x"]) expect(stableLimits(sql)).toBe(sql);
  });

  it('should return the same rows as the statement as written, a negative limit still reading everything', async () => {
    const d1 = withStableLimits(env.DB);
    const sql = "SELECT value FROM json_each('[1,2,3,4]') ORDER BY value LIMIT ?1 OFFSET ?2";
    for (const [limit, offset] of [[2, 1], [-1, 0], [0, 0], [10, 3]] as const) {
      const raw = (await env.DB.prepare(sql).bind(limit, offset).all<{ value: number }>()).results.map((r) => r.value);
      const stable = (await d1.prepare(sql).bind(limit, offset).all<{ value: number }>()).results.map((r) => r.value);
      expect(stable).toEqual(raw);
    }
    expect((await d1.prepare(sql).bind(-1, 1).all<{ value: number }>()).results.map((r) => r.value)).toEqual([2, 3, 4]);
    const [first] = await d1.batch([d1.prepare(sql).bind(1, 2)]);
    expect(first!.results).toEqual([{ value: 3 }]);
  });
});
