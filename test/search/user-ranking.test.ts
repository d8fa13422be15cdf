import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { FULL_RANK_LIMIT, USER_SEARCH_KEPT, USER_SEARCH_TTL_MS, userSearchSql } from '../../src/modules/search/search.queries';
import { decodeUserPage, type UserPageRow } from '../../src/modules/search/search.service';
import { TRENDS_CRON } from '../../src/scheduled';
import { createUser, walkPages } from '../helpers/client';
import { block, makeFriends, type TestUser } from '../posts/helpers';
import { found, nonsenseWord } from './helpers';

/**
 * The typeahead's kept rankings (user_search_cache): a common prefix is ranked by its most followed
 * matches, pages past the kept list come from the live ranking, and what depends on the viewer or has
 * just changed is never taken from the kept list.
 */

let viewer: TestUser;
beforeAll(async () => {
  viewer = await createUser();
});

/**
 * `count` accounts named `<word> <n>` made directly in D1 (registering a thousand through the API would
 * take minutes), account n with n × 3 followers (as a counter: nobody follows them here). Returns the
 * ids in n order (ULID-shaped: `<tag>` then n, zero-padded).
 */
async function namedAccounts(word: string, tag: string, count: number): Promise<string[]> {
  const now = Date.now();
  await env.DB.prepare(
    `WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < ?1)
     INSERT INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, followers_count, created_at, updated_at)
     SELECT ?2 || printf('%0' || (26 - length(?2)) || 'd', j), ?3 || '_u' || j, ?3 || j || '@example.com', 'x', ?3 || ' ' || j, '', '[]', 'public', 'friends', j * 3, ?4, ?4 FROM n`,
  )
    .bind(count, tag, word, now)
    .run();
  return Array.from({ length: count }, (_, i) => tag + String(i + 1).padStart(26 - tag.length, '0'));
}

describe('GET /search?type=users on a common prefix', () => {
  it(`should rank more than ${FULL_RANK_LIMIT} matches by followers, not by age`, async () => {
    const word = nonsenseWord('qm');
    const ids = await namedAccounts(word, '01JQM', FULL_RANK_LIMIT + 50);
    // The most followed are the newest here, the oldest the least followed: the first page is the top.
    expect(await found(viewer, word.slice(0, 3), 'users')).toEqual(ids.slice(-20).reverse());
  });

  it(`should page past the ${USER_SEARCH_KEPT} matches it keeps without repeats or gaps`, async () => {
    const word = nonsenseWord('qk');
    const ids = await namedAccounts(word, '01JQK', USER_SEARCH_KEPT + 30);
    const { items, pages } = await walkPages(`/search?type=users&q=${word}`, viewer.accessToken, 40);
    expect(pages).toBe(4);
    expect(items.map((u) => u.id).sort()).toEqual([...ids].sort());
    // All the kept list was stored once; the pages past it were ranked live.
    const kept = await env.DB.prepare('SELECT json_array_length(entries) AS n, cutoff FROM user_search_cache WHERE query = ?1').bind(`"${word}"*`).first<{ n: number; cutoff: number | null }>();
    expect(kept).toEqual({ n: USER_SEARCH_KEPT, cutoff: expect.any(Number) });
  });

  it('should go on past the kept list when its last entries are people the viewer knows', async () => {
    const word = nonsenseWord('qn');
    const ids = await namedAccounts(word, '01JQN', USER_SEARCH_KEPT + 30);
    // The kept list holds the 100 most followed (accounts 31..130); 31, its lowest, is the viewer's friend,
    // so every kept row ranks above the cutoff and the list runs out before the 30 below it are reached.
    const friend = ids[30]!;
    await env.DB.batch(
      [
        [viewer.id, friend],
        [friend, viewer.id],
      ].map(([a, b]) => env.DB.prepare('INSERT INTO friendships (user_id, friend_id, created_at) VALUES (?1, ?2, ?3)').bind(a, b, Date.now())),
    );
    const { items } = await walkPages(`/search?type=users&q=${word}`, viewer.accessToken, 40);
    expect(items.map((u) => u.id).sort()).toEqual([...ids].sort());
  });

  describe('with people the viewer knows and the exact username deep in the kept list', () => {
    /**
     * 60 accounts named `<word> <n>` (all kept: fewer than USER_SEARCH_KEPT). The least followed is named
     * exactly `<word>`; the viewer befriends the 5th least followed and follows the 30th. By the part of
     * the score every viewer shares, all three lie below the first page; their boosts lift them above it.
     */
    async function deepInTheKeptList(prefix: string, tag: string): Promise<{ word: string; ids: string[]; lifted: string[] }> {
      const word = nonsenseWord(prefix);
      const ids = await namedAccounts(word, tag, 60);
      const now = Date.now();
      await env.DB.batch([
        env.DB.prepare('UPDATE users SET username = ?2 WHERE id = ?1').bind(ids[0], word),
        env.DB.prepare('INSERT INTO friendships (user_id, friend_id, created_at) VALUES (?1, ?2, ?3), (?2, ?1, ?3)').bind(viewer.id, ids[4], now),
        env.DB.prepare("INSERT INTO follows (follower_id, followee_id, status, created_at) VALUES (?1, ?2, 'accepted', ?3)").bind(viewer.id, ids[29], now),
      ]);
      return { word, ids, lifted: [ids[0]!, ids[4]!, ids[29]!] };
    }

    it('should put them first, then everyone else by the shared ranking, over every page', async () => {
      const { word, ids, lifted } = await deepInTheKeptList('ql', '01JQL');
      const { items, pages } = await walkPages(`/search?type=users&q=${word}`, viewer.accessToken, 20);
      expect(pages).toBe(3);
      const order = items.map((u) => u.id);
      expect(order.slice(0, 3).sort()).toEqual([...lifted].sort());
      expect(order.slice(3)).toEqual(ids.filter((id) => !lifted.includes(id)).reverse());
    });

    it('should read the same ranking a row at a time as whole (the statement, as searchUsers binds it)', async () => {
      const { word } = await deepInTheKeptList('qr', '01JQR');
      await found(viewer, word, 'users'); // stores the kept list
      // Its one row lists the page's people as [id, …, rank_key, rid, visible]; read as searchUsers reads it.
      const page = async (from: [number, number], rows: number) => {
        const row = await env.DB.prepare(userSearchSql('kept')).bind(`"${word}"*`, viewer.id, `"${word}"`, from[0], from[1], rows, word, Date.now() - USER_SEARCH_TTL_MS).first<UserPageRow>();
        return decodeUserPage(row).results.map((r) => ({ rank_key: r[6], rid: r[7] }));
      };
      const whole = await page([Number.MAX_VALUE, Number.MAX_SAFE_INTEGER], -1);
      expect(whole).toHaveLength(60);
      const stepped: typeof whole = [];
      for (let from: [number, number] = [Number.MAX_VALUE, Number.MAX_SAFE_INTEGER]; stepped.length <= whole.length; ) {
        const [row, ...more] = await page(from, 1);
        expect(more).toEqual([]);
        if (!row) break;
        stepped.push(row);
        from = [row.rank_key, row.rid];
      }
      expect(stepped.map((r) => r.rid)).toEqual(whole.map((r) => r.rid));
    });
  });

  it('should read a page’s people best first by (score, rowid), whatever order the statement lists them in', () => {
    const person = (rankKey: number, rid: number) => [`u${rid}`, `name${rid}`, `Name ${rid}`, null, '', 0, rankKey, rid, 1];
    const listed = [person(1.5, 7), person(3.25, 2), person(1.5, 9), person(0.1 + 0.2, 4), person(3.25, 5)];
    const { results, kept } = decodeUserPage({ rows: JSON.stringify(listed), kept: '{"cutoff":0.30000000000000004}' });
    expect(results.map((r) => [r[6], r[7]])).toEqual([[3.25, 5], [3.25, 2], [1.5, 9], [1.5, 7], [0.1 + 0.2, 4]]);
    expect(kept).toEqual({ cutoff: 0.1 + 0.2 });
    expect(decodeUserPage({ rows: '[]', kept: null })).toEqual({ results: [], kept: null });
  });

  it('should show at once what a kept list cannot know: a new friend, a rename, a block', async () => {
    const word = nonsenseWord('qf');
    const ids = await namedAccounts(word, '01JQF', 30);
    const before = await found(viewer, word, 'users');
    expect(before).toEqual(ids.slice(-20).reverse());
    // A new account named alike with no followers is below the page, until it is a friend.
    const friend = await createUser({ username: `${word}_u0`, display_name: `${word} 0` });
    expect(await found(viewer, word, 'users')).not.toContain(friend.id);
    await makeFriends(viewer, friend);
    expect((await found(viewer, word, 'users'))[0]).toBe(friend.id);
    // The best match renames itself: gone from the next search, though the kept list still names it.
    await env.DB.prepare("UPDATE users SET display_name = 'Someone Else', username = 'someone_else_qf' WHERE id = ?1").bind(ids.at(-1)).run();
    expect(await found(viewer, word, 'users')).not.toContain(ids.at(-1));
    // The first of the page blocks the viewer: gone at once.
    const top = ids.at(-2)!;
    expect((await found(viewer, word, 'users')).slice(0, 2)).toEqual([friend.id, top]);
    await env.DB.prepare('INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)').bind(top, viewer.id, Date.now()).run();
    expect(await found(viewer, word, 'users')).not.toContain(top);
  });

  it('should reuse a kept list within its minute, whether the page has rows or none (no statement computes it again)', async () => {
    const withPeople = nonsenseWord('qg');
    await namedAccounts(withPeople, '01JQG', 3);
    const nobody = nonsenseWord('qh');
    for (const word of [withPeople, nobody]) {
      await found(viewer, word, 'users');
      const query = `"${word}"*`;
      const computedAt = () => env.DB.prepare('SELECT computed_at FROM user_search_cache WHERE query = ?1').bind(query).first<{ computed_at: number }>();
      // Still fresh, but older than any recomputation would make it.
      const earlier = Date.now() - USER_SEARCH_TTL_MS / 2;
      await env.DB.prepare('UPDATE user_search_cache SET computed_at = ?2 WHERE query = ?1').bind(query, earlier).run();
      const again = await found(viewer, word, 'users');
      expect(again.length, word).toBe(word === nobody ? 0 : 3);
      expect((await computedAt())?.computed_at, word).toBe(earlier);
    }
  });

  it('should recompute a kept list after a minute, and the trends Cron should drop expired ones', async () => {
    const word = nonsenseWord('qe');
    await namedAccounts(word, '01JQE', 3);
    await found(viewer, word, 'users');
    const query = `"${word}"*`;
    const stored = () => env.DB.prepare('SELECT computed_at FROM user_search_cache WHERE query = ?1').bind(query).first<{ computed_at: number }>();
    const first = (await stored())!.computed_at;
    await env.DB.prepare('UPDATE user_search_cache SET computed_at = computed_at - ?2 WHERE query = ?1').bind(query, USER_SEARCH_TTL_MS + 1).run();
    await found(viewer, word, 'users');
    expect((await stored())!.computed_at).toBeGreaterThanOrEqual(first);
    await env.DB.prepare('UPDATE user_search_cache SET computed_at = computed_at - ?2 WHERE query = ?1').bind(query, USER_SEARCH_TTL_MS + 1).run();
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ cron: TRENDS_CRON, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await stored()).toBeNull();
  });
});
