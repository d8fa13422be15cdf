import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import {
  acceptFollow,
  befriend,
  block,
  follow,
  fanOutNow,
  homeAll,
  homePage,
  homeRaw,
  HOUR,
  insertPost,
  insertPosts,
  makePrivate,
  mute,
  newestFirst,
  unfollow,
  unfriend,
  type SeededPost,
} from './helpers';

/** One post of each visibility, at distinct times. */
async function threeKinds(author: TestUser, base: number) {
  const [pub, fr, priv] = await insertPosts(author, [
    { visibility: 'public', createdAt: base },
    { visibility: 'friends', createdAt: base + 1 },
    { visibility: 'private', createdAt: base + 2 },
  ]);
  return { pub: pub!, fr: fr!, priv: priv! };
}

describe('Home feed: membership', () => {
  it('should contain own posts (all visibilities), followed public posts, friends public+friends posts, and nothing from strangers, newest first', async () => {
    const [viewer, followed, friend, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(viewer, followed);
    await befriend(viewer, friend);
    // A stranger who follows the viewer does not put their posts into the viewer's feed.
    await follow(stranger, viewer);

    const base = Date.now() - 10 * HOUR;
    const own = await threeKinds(viewer, base);
    const fol = await threeKinds(followed, base + 10);
    const fri = await threeKinds(friend, base + 20);
    const str = await threeKinds(stranger, base + 30);

    const ids = await homeAll(viewer);
    const expected = newestFirst([own.pub, own.fr, own.priv, fol.pub, fri.pub, fri.fr]).map((p) => p.id);
    expect(ids).toEqual(expected);
    for (const hidden of [fol.fr, fol.priv, fri.priv, str.pub, str.fr, str.priv]) expect(ids).not.toContain(hidden.id);

    // The items are full post objects, newest first by created_at.
    const page = await homePage(viewer);
    expect(page.data[0]).toMatchObject({ id: fri.fr.id, author: { id: friend.id }, visibility: 'friends' });
    const times = page.data.map((p) => Date.parse(p.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(page.next_cursor).toBeNull();
  });

  it('should show posts made through the API right away', async () => {
    const [viewer, followed] = [await createUser(), await createUser()];
    await follow(viewer, followed);
    const created = await expectStatus(await call('/posts', { body: { content: 'hello home', topic: 'news' }, token: followed.accessToken }), 201);
    const page = await homePage(viewer);
    expect(page.data.map((p) => p.id)).toEqual([created.id]);
    expect(page.data[0]).toMatchObject({ content: 'hello home', topic: 'news', author: { id: followed.id }, liked_by_me: false });
  });

  it('should drop an account’s posts after unfollowing it', async () => {
    const [viewer, followed] = [await createUser(), await createUser()];
    await follow(viewer, followed);
    const post = await insertPost(followed, { createdAt: Date.now() - HOUR });
    expect(await homeAll(viewer)).toEqual([post.id]);
    await unfollow(viewer, followed);
    expect(await homeAll(viewer)).toEqual([]);
  });

  it('should drop a friend’s posts after unfriending (from either side)', async () => {
    const [viewer, friendA, friendB] = [await createUser(), await createUser(), await createUser()];
    await befriend(viewer, friendA);
    await befriend(friendB, viewer);
    const a = await threeKinds(friendA, Date.now() - 2 * HOUR);
    const b = await threeKinds(friendB, Date.now() - HOUR);
    expect(new Set(await homeAll(viewer))).toEqual(new Set([a.pub.id, a.fr.id, b.pub.id, b.fr.id]));

    await unfriend(viewer, friendA);
    await unfriend(friendB, viewer);
    expect(await homeAll(viewer)).toEqual([]);
  });

  it('should keep a friend’s public posts but lose friends-only ones when the friendship ends but a follow remains', async () => {
    const [viewer, friend] = [await createUser(), await createUser()];
    await befriend(viewer, friend);
    await follow(viewer, friend);
    const k = await threeKinds(friend, Date.now() - HOUR);
    expect(await homeAll(viewer)).toEqual([k.fr.id, k.pub.id]);
    await unfriend(viewer, friend);
    expect(await homeAll(viewer)).toEqual([k.pub.id]);
  });

  it('should never show muted authors (followed or friend)', async () => {
    const [viewer, followed, friend, other] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(viewer, followed);
    await befriend(viewer, friend);
    await follow(viewer, other);
    const base = Date.now() - HOUR;
    await insertPost(followed, { createdAt: base });
    await insertPost(friend, { createdAt: base + 1, visibility: 'friends' });
    const kept = await insertPost(other, { createdAt: base + 2 });
    expect(await homeAll(viewer)).toHaveLength(3);

    await mute(viewer, followed);
    await mute(viewer, friend);
    expect(await homeAll(viewer)).toEqual([kept.id]);
  });

  it('should never show authors the viewer blocked, nor authors who blocked the viewer', async () => {
    const [viewer, blockedByViewer, blockerOfViewer, other] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(viewer, blockedByViewer);
    await befriend(viewer, blockerOfViewer);
    await follow(viewer, other);
    const base = Date.now() - HOUR;
    await insertPost(blockedByViewer, { createdAt: base });
    await insertPost(blockerOfViewer, { createdAt: base + 1 });
    const kept = await insertPost(other, { createdAt: base + 2 });
    expect(await homeAll(viewer)).toHaveLength(3);

    await block(viewer, blockedByViewer);
    await block(blockerOfViewer, viewer);
    expect(await homeAll(viewer)).toEqual([kept.id]);
    // And the other way round: the blocked parties do not see the viewer either.
    const own = await insertPost(viewer, { createdAt: base + 3 });
    expect(await homeAll(blockedByViewer)).not.toContain(own.id);
    expect(await homeAll(blockerOfViewer)).not.toContain(own.id);
  });

  it('should show a private account’s public posts only to approved followers', async () => {
    const [viewer, priv] = [await createUser(), await createUser()];
    await makePrivate(priv);
    const k = await threeKinds(priv, Date.now() - HOUR);

    const state = await follow(viewer, priv);
    expect(state).toEqual({ following: false, requested: true });
    expect(await homeAll(viewer)).toEqual([]);

    await acceptFollow(priv, viewer);
    expect(await homeAll(viewer)).toEqual([k.pub.id]);
  });

  it('should require authentication', async () => {
    await expectProblem(await homeRaw(null), 401);
    await expectProblem(await call('/feed/home', { token: 'not-a-jwt' }), 401);
  });
});

describe('Home feed: pagination', () => {
  /** A viewer following one author with 15 posts (some sharing a timestamp), plus 2 of their own. */
  async function seeded(): Promise<{ viewer: TestUser; author: TestUser; expected: SeededPost[] }> {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const base = Date.now() - 20 * HOUR;
    const seeds = Array.from({ length: 13 }, (_, i) => ({ createdAt: base + Math.floor(i / 2) * 60_000 }));
    const theirs = await insertPosts(author, seeds);
    const mine = await insertPosts(viewer, [{ createdAt: base + 60_000 }, { createdAt: base + 3 * 60_000, visibility: 'private' }]);
    return { viewer, author, expected: newestFirst([...theirs, ...mine]) };
  }

  it('should return every post exactly once, in order, when walking pages of 3', async () => {
    const { viewer, expected } = await seeded();
    expect(expected).toHaveLength(15);
    const pages: string[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await homePage(viewer, { limit: 3, cursor });
      pages.push(page.data.map((p) => p.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    expect(pages).toHaveLength(5);
    for (const p of pages) expect(p).toHaveLength(3);
    expect(pages.flat()).toEqual(expected.map((p) => p.id));
  });

  it('should neither repeat nor skip original posts when new ones arrive mid-walk; new ones appear on a fresh first page', async () => {
    const { viewer, author, expected } = await seeded();
    const first = await homePage(viewer, { limit: 3 });
    const second = await homePage(viewer, { limit: 3, cursor: first.next_cursor! });
    const seen = [...first.data, ...second.data].map((p) => p.id);

    // New posts (newer than everything), one through the API and two direct, plus one by the viewer.
    const apiPost = await expectStatus(await call('/posts', { body: { content: 'breaking' }, token: author.accessToken }), 201);
    await fanOutNow(apiPost.id);
    const fresh = await insertPosts(author, [{ createdAt: Date.now() }, { createdAt: Date.now() + 1 }]);
    const ownFresh = await insertPost(viewer, { createdAt: Date.now() + 2 });
    const newIds = [apiPost.id, ...fresh.map((p) => p.id), ownFresh.id];

    let cursor: string | null = second.next_cursor;
    while (cursor) {
      const page = await homePage(viewer, { limit: 3, cursor });
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor;
    }
    expect(seen).toEqual(expected.map((p) => p.id));
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of newIds) expect(seen).not.toContain(id);

    const restart = await homePage(viewer, { limit: 4 });
    expect(new Set(restart.data.map((p) => p.id))).toEqual(new Set(newIds));
    const all = await homeAll(viewer, 5);
    expect(all).toHaveLength(expected.length + newIds.length);
    expect(all.slice(4)).toEqual(expected.map((p) => p.id));
  });

  it('should keep the remaining pages stable when a post already seen is deleted', async () => {
    const { viewer, expected } = await seeded();
    const first = await homePage(viewer, { limit: 3 });
    await env.DB.prepare('DELETE FROM posts WHERE id = ?1').bind(first.data[0]!.id).run();
    const rest: string[] = [];
    let cursor: string | null = first.next_cursor;
    while (cursor) {
      const page = await homePage(viewer, { limit: 3, cursor });
      rest.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor;
    }
    expect(rest).toEqual(expected.slice(3).map((p) => p.id));
  });

  it('should default to 20 items and accept limits 1 and 100', async () => {
    const viewer = await createUser();
    const base = Date.now() - 30 * HOUR;
    const posts = await insertPosts(viewer, Array.from({ length: 25 }, (_, i) => ({ createdAt: base + i * 1000 })));
    const expected = newestFirst(posts).map((p) => p.id);

    const byDefault = await homePage(viewer);
    expect(byDefault.data.map((p) => p.id)).toEqual(expected.slice(0, 20));
    expect(byDefault.next_cursor).toEqual(expect.any(String));

    const one = await homePage(viewer, { limit: 1 });
    expect(one.data.map((p) => p.id)).toEqual(expected.slice(0, 1));
    expect(one.next_cursor).not.toBeNull();

    const hundred = await homePage(viewer, { limit: 100 });
    expect(hundred.data.map((p) => p.id)).toEqual(expected);
    expect(hundred.next_cursor).toBeNull();

    const exact = await homePage(viewer, { limit: 25 });
    expect(exact.data).toHaveLength(25);
    expect(exact.next_cursor).toBeNull();
  });

  it('should reject limits outside 1..100 with a 400 naming "limit"', async () => {
    const viewer = await createUser();
    for (const limit of ['0', '101', '-1', 'abc', '1.5']) {
      await expectProblem(await homeRaw(viewer, { limit }), 400, 'limit');
    }
  });

  it('should reject an invalid cursor with a 400 naming "cursor"', async () => {
    const viewer = await createUser();
    const discoverShaped = btoa(JSON.stringify([Date.now(), 1.5, 'X'])).replace(/=+$/, '');
    for (const cursor of ['garbage!', 'bm90LWpzb24', btoa('["a","b"]').replace(/=+$/, ''), discoverShaped, 'x'.repeat(600)]) {
      await expectProblem(await homeRaw(viewer, { cursor }), 400, 'cursor');
    }
  });

  it('should answer an empty page without a cursor when there is nothing to show', async () => {
    const viewer = await createUser();
    expect(await homePage(viewer)).toEqual({ data: [], next_cursor: null });
  });
});
