import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { block, collect, dbCount, getPost, like, likers, post, PUBLIC_USER_KEYS, UNKNOWN_ID, unlike, users } from './helpers';

const likeCountInDb = (postId: string) => dbCount('SELECT like_count AS n FROM posts WHERE id = ?1', postId);
const likeRowsInDb = (postId: string) => dbCount('SELECT COUNT(*) AS n FROM likes WHERE post_id = ?1', postId);

describe('Likes', () => {
  it('should like, stay idempotent, and unlike idempotently', async () => {
    const author = await createUser();
    const fan = await createUser();
    const p = await post(author, 'like me');
    expect(await expectStatus(await like(fan, p.id), 200)).toEqual({ liked: true, like_count: 1 });
    expect(await expectStatus(await like(fan, p.id), 200)).toEqual({ liked: true, like_count: 1 });
    expect(await likeRowsInDb(p.id)).toBe(1);
    expect(await expectStatus(await unlike(fan, p.id), 200)).toEqual({ liked: false, like_count: 0 });
    expect(await expectStatus(await unlike(fan, p.id), 200)).toEqual({ liked: false, like_count: 0 });
    expect(await likeRowsInDb(p.id)).toBe(0);
    expect(await likeCountInDb(p.id)).toBe(0);
  });

  it('should answer unlike of a never-liked post with liked:false and the current count', async () => {
    const author = await createUser();
    const [fan, other] = await users(2);
    const p = await post(author, 'hello');
    await like(fan!, p.id).then((r) => expectStatus(r, 200));
    expect(await expectStatus(await unlike(other!, p.id), 200)).toEqual({ liked: false, like_count: 1 });
  });

  it('should let the author like their own post', async () => {
    const author = await createUser();
    const p = await post(author, 'self love');
    expect(await expectStatus(await like(author, p.id), 200)).toEqual({ liked: true, like_count: 1 });
    const read = await expectStatus(await getPost(p.id, author), 200);
    expect(read).toMatchObject({ like_count: 1, liked_by_me: true });
  });

  it('should set liked_by_me for the liker only', async () => {
    const author = await createUser();
    const [fan, other] = await users(2);
    const p = await post(author, 'who likes this');
    await expectStatus(await like(fan!, p.id), 200);
    expect(await expectStatus(await getPost(p.id, fan), 200)).toMatchObject({ liked_by_me: true, like_count: 1 });
    expect(await expectStatus(await getPost(p.id, other), 200)).toMatchObject({ liked_by_me: false, like_count: 1 });
    expect(await expectStatus(await getPost(p.id, author), 200)).toMatchObject({ liked_by_me: false, like_count: 1 });
    expect(await expectStatus(await getPost(p.id), 200)).toMatchObject({ liked_by_me: false, like_count: 1 });
    await expectStatus(await unlike(fan!, p.id), 200);
    expect(await expectStatus(await getPost(p.id, fan), 200)).toMatchObject({ liked_by_me: false, like_count: 0 });
  });

  it('should require authentication to like or unlike', async () => {
    const author = await createUser();
    const p = await post(author, 'x');
    await expectProblem(await call(`/posts/${p.id}/like`, { method: 'POST' }), 401);
    await expectProblem(await call(`/posts/${p.id}/like`, { method: 'DELETE' }), 401);
  });

  it('should answer 404 for unknown posts and 400 for malformed ids', async () => {
    const fan = await createUser();
    await expectProblem(await like(fan, UNKNOWN_ID), 404);
    await expectProblem(await unlike(fan, UNKNOWN_ID), 404);
    await expectProblem(await likers(UNKNOWN_ID), 404);
    await expectProblem(await like(fan, 'nope'), 400);
  });

  it('should answer 404 after the post is deleted', async () => {
    const author = await createUser();
    const fan = await createUser();
    const p = await post(author, 'gone soon');
    await expectStatus(await like(fan, p.id), 200);
    await expectStatus(await call(`/posts/${p.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    await expectProblem(await like(fan, p.id), 404);
    await expectProblem(await likers(p.id), 404);
    expect(await likeRowsInDb(p.id)).toBe(0);
  });
});

describe('Likers list', () => {
  it('should list public users who liked, newest first, with pagination', async () => {
    const author = await createUser();
    const fans = await users(5);
    const p = await post(author, 'popular');
    for (const fan of fans) {
      await expectStatus(await like(fan, p.id), 200);
      await new Promise((r) => setTimeout(r, 2)); // distinct timestamps for a deterministic order
    }
    const page = await expectStatus(await likers(p.id, undefined, '?limit=2'), 200);
    expect(page.data).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    for (const u of page.data) {
      expect(Object.keys(u).sort()).toEqual(PUBLIC_USER_KEYS);
      expect(u).not.toHaveProperty('email');
    }
    const all = await collect((q) => likers(p.id, undefined, q), 2);
    expect(all.map((u) => u.id)).toEqual(fans.map((f) => f.id).reverse());
    const authed = await collect((q) => likers(p.id, author, q), 100);
    expect(authed).toHaveLength(5);
  });

  it('should leave out likers on either side of a block with the viewer', async () => {
    const author = await createUser();
    const [fan1, fan2, viewer] = await users(3);
    const p = await post(author, 'liked by people');
    await expectStatus(await like(fan1!, p.id), 200);
    await expectStatus(await like(fan2!, p.id), 200);
    await block(viewer!, fan1!);
    const seen = await collect((q) => likers(p.id, viewer, q));
    expect(seen.map((u) => u.id)).toEqual([fan2!.id]);
    const blockedSide = await collect((q) => likers(p.id, fan1, q));
    expect(blockedSide.map((u) => u.id).sort()).toEqual([fan1!.id, fan2!.id].sort());
    // The counter is not personalised.
    expect((await expectStatus(await getPost(p.id, viewer), 200)).like_count).toBe(2);
  });

  it('should refuse a malformed cursor with 400 naming cursor', async () => {
    const author = await createUser();
    const p = await post(author, 'x');
    await expectProblem(await likers(p.id, undefined, '?cursor=!!!'), 400, 'cursor');
    await expectProblem(await likers(p.id, undefined, '?limit=1000'), 400, 'limit');
  });
});

describe('Like counter consistency', () => {
  it('should count 20 concurrent likes exactly once each', async () => {
    const author = await createUser();
    const fans = await users(20);
    const p = await post(author, 'concurrency');
    const results = await Promise.all(fans.map((fan) => like(fan, p.id).then((r) => expectStatus(r, 200))));
    for (const r of results) expect(r.liked).toBe(true);
    expect(Math.max(...results.map((r) => r.like_count))).toBe(20);
    const read = await expectStatus(await getPost(p.id), 200);
    expect(read.like_count).toBe(20);
    const listed = await collect((q) => likers(p.id, undefined, q), 7);
    expect(listed).toHaveLength(20);
    expect(new Set(listed.map((u) => u.id))).toEqual(new Set(fans.map((f) => f.id)));
    expect(await likeRowsInDb(p.id)).toBe(20);
  });

  it('should stay consistent with the likes table through a concurrent like/unlike storm', async () => {
    const author = await createUser();
    const fans = await users(8);
    const p = await post(author, 'storm');
    const ops: Promise<unknown>[] = [];
    for (let round = 0; round < 4; round++) {
      fans.forEach((fan, i) => {
        const op = (round + i) % 3 === 0 ? unlike : like;
        ops.push(op(fan, p.id).then((r) => expectStatus(r, 200)));
        ops.push(like(fan, p.id).then((r) => expectStatus(r, 200))); // duplicate likes in flight
      });
    }
    await Promise.all(ops);
    const rows = await likeRowsInDb(p.id);
    expect(await likeCountInDb(p.id)).toBe(rows);
    expect((await expectStatus(await getPost(p.id), 200)).like_count).toBe(rows);
    expect(await collect((q) => likers(p.id, undefined, q))).toHaveLength(rows);
    // Settle deterministically: everyone unlikes concurrently, twice.
    await Promise.all([...fans, ...fans].map((fan) => unlike(fan, p.id).then((r) => expectStatus(r, 200))));
    expect(await likeRowsInDb(p.id)).toBe(0);
    expect(await likeCountInDb(p.id)).toBe(0);
    // And everyone likes again concurrently, twice.
    await Promise.all([...fans, ...fans].map((fan) => like(fan, p.id).then((r) => expectStatus(r, 200))));
    expect(await likeRowsInDb(p.id)).toBe(8);
    expect(await likeCountInDb(p.id)).toBe(8);
  });

  it('should never let like_count go negative or drift across posts', async () => {
    const author = await createUser();
    const fan = await createUser();
    const p1 = await post(author, 'one');
    const p2 = await post(author, 'two');
    await Promise.all([like(fan, p1.id), like(fan, p2.id), unlike(fan, p1.id), unlike(fan, p1.id), like(fan, p2.id)].map((r) => r.then((x) => x.text())));
    for (const id of [p1.id, p2.id]) {
      const rows = await likeRowsInDb(id);
      expect(await likeCountInDb(id)).toBe(rows);
      expect(rows).toBeGreaterThanOrEqual(0);
    }
    expect(await likeRowsInDb(p2.id)).toBe(1);
  });

  it('should drop likes when the liker deletes their account', async () => {
    const author = await createUser();
    const fan = await createUser();
    const p = await post(author, 'x');
    await expectStatus(await like(fan, p.id), 200);
    await expectStatus(await call('/me', { method: 'DELETE', token: fan.accessToken, body: { password: fan.password } }), 204);
    expect(await likeRowsInDb(p.id)).toBe(0);
    expect((await expectStatus(await getPost(p.id), 200)).like_count).toBe(0);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM likes WHERE user_id = ?1').bind(fan.id).first('n')).toBe(0);
  });
});
