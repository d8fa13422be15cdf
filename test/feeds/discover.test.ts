import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  acceptFollow,
  befriend,
  block,
  DAY,
  discoverAll,
  discoverPage,
  discoverRaw,
  expectBefore,
  follow,
  HOUR,
  idPair,
  insertPost,
  insertPosts,
  like,
  makePrivate,
  mute,
  sleep,
} from './helpers';

describe('Discover feed: what it contains', () => {
  it('should hold only public posts of public accounts from the last 7 days, never the caller’s own', async () => {
    const [viewer, author, privateAccount] = [await createUser(), await createUser(), await createUser()];
    await befriend(viewer, author);
    await makePrivate(privateAccount);
    await follow(viewer, privateAccount);
    await acceptFollow(privateAccount, viewer);
    const now = Date.now();

    const recent = await insertPost(author, { createdAt: now - HOUR });
    const sixDays = await insertPost(author, { createdAt: now - 6 * DAY });
    const eightDays = await insertPost(author, { createdAt: now - 8 * DAY });
    const friendsOnly = await insertPost(author, { createdAt: now - HOUR, visibility: 'friends' });
    const privatePost = await insertPost(author, { createdAt: now - HOUR, visibility: 'private' });
    const ofPrivateAccount = await insertPost(privateAccount, { createdAt: now - HOUR });
    const own = await insertPost(viewer, { createdAt: now - HOUR });
    const viaApi = await expectStatus(await call('/posts', { body: { content: 'fresh from the API', topic: 'general' }, token: author.accessToken }), 201);

    const ids = await discoverAll(viewer);
    expect(ids).toEqual(expect.arrayContaining([recent.id, sixDays.id, viaApi.id]));
    for (const hidden of [eightDays, friendsOnly, privatePost, ofPrivateAccount, own]) expect(ids).not.toContain(hidden.id);
    expect(new Set(ids).size).toBe(ids.length);

    // The author's own view leaves out their own posts too.
    const authorView = await discoverAll(author);
    expect(authorView).not.toContain(recent.id);
    expect(authorView).toContain(own.id);
  });

  it('should return full post objects, public ones only', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    const p = await insertPost(author, { createdAt: Date.now() - 60_000, topic: 'travel', likeCount: 2, commentCount: 1, content: 'a shape check' });
    const page = await discoverPage(viewer, { limit: 100, topic: 'travel' });
    const item = page.data.find((d) => d.id === p.id);
    expect(item).toMatchObject({ id: p.id, content: 'a shape check', topic: 'travel', visibility: 'public', like_count: 2, comment_count: 1, liked_by_me: false, author: { id: author.id } });
    for (const d of page.data) expect(d.visibility).toBe('public');
  });

  it('should leave out authors blocked in either direction and muted authors, for that caller only', async () => {
    const [viewer, bystander, blockedByViewer, blockerOfViewer, muted, plain] = [
      await createUser(),
      await createUser(),
      await createUser(),
      await createUser(),
      await createUser(),
      await createUser(),
    ];
    const t = Date.now() - 2 * HOUR;
    const pBlocked = await insertPost(blockedByViewer, { createdAt: t });
    const pBlocker = await insertPost(blockerOfViewer, { createdAt: t });
    const pMuted = await insertPost(muted, { createdAt: t });
    const pPlain = await insertPost(plain, { createdAt: t });

    const before = await discoverAll(viewer);
    expect(before).toEqual(expect.arrayContaining([pBlocked.id, pBlocker.id, pMuted.id, pPlain.id]));

    await block(viewer, blockedByViewer);
    await block(blockerOfViewer, viewer);
    await mute(viewer, muted);

    const after = await discoverAll(viewer);
    expect(after).toContain(pPlain.id);
    for (const hidden of [pBlocked, pBlocker, pMuted]) expect(after).not.toContain(hidden.id);

    // Someone else still sees all four; and the blocked parties no longer see the viewer's posts.
    expect(await discoverAll(bystander)).toEqual(expect.arrayContaining([pBlocked.id, pBlocker.id, pMuted.id, pPlain.id]));
    const mine = await insertPost(viewer, { createdAt: t });
    expect(await discoverAll(blockedByViewer)).not.toContain(mine.id);
    expect(await discoverAll(blockerOfViewer)).not.toContain(mine.id);
    expect(await discoverAll(muted)).toContain(mine.id);
  });

  it('should filter to one topic with ?topic=', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    const t = Date.now() - HOUR;
    const [news, sports, untagged, newsFriends, oldNews] = await insertPosts(author, [
      { createdAt: t, topic: 'news' },
      { createdAt: t, topic: 'sports' },
      { createdAt: t, topic: null },
      { createdAt: t, topic: 'news', visibility: 'friends' },
      { createdAt: Date.now() - 8 * DAY, topic: 'news' },
    ]);

    const newsPage = await discoverPage(viewer, { topic: 'news', limit: 100 });
    expect(newsPage.data.length).toBeGreaterThan(0);
    for (const p of newsPage.data) expect(p.topic).toBe('news');
    const newsIds = newsPage.data.map((p) => p.id);
    expect(newsIds).toContain(news!.id);
    for (const hidden of [sports, untagged, newsFriends, oldNews]) expect(newsIds).not.toContain(hidden!.id);

    const sportsIds = await discoverAll(viewer, { topic: 'sports' });
    expect(sportsIds).toContain(sports!.id);
    expect(sportsIds).not.toContain(news!.id);

    const all = await discoverAll(viewer);
    expect(all).toEqual(expect.arrayContaining([news!.id, sports!.id, untagged!.id]));
  });

  it('should reject an unknown topic with a 400 naming "topic"', async () => {
    const viewer = await createUser();
    for (const topic of ['cats', 'NEWS', '']) await expectProblem(await discoverRaw(viewer, { topic }), 400, 'topic');
    await expectProblem(await discoverRaw(null, { topic: 'nope' }), 400, 'topic');
  });

  it('should validate limit and cursor like every list', async () => {
    const viewer = await createUser();
    for (const limit of ['0', '101', '-1', 'abc']) await expectProblem(await discoverRaw(viewer, { limit }), 400, 'limit');
    const homeShaped = btoa(JSON.stringify([Date.now(), '01ABC'])).replace(/=+$/, '');
    for (const cursor of ['garbage!', homeShaped]) await expectProblem(await discoverRaw(viewer, { cursor }), 400, 'cursor');
    const page = await discoverPage(viewer, { limit: 1 });
    expect(page.data.length).toBeLessThanOrEqual(1);
  });

  it('should answer anonymous callers with 200 and public content only', async () => {
    const [author, privateAccount] = [await createUser(), await createUser()];
    await makePrivate(privateAccount);
    const t = Date.now() - HOUR;
    const pub = await insertPost(author, { createdAt: t });
    const fr = await insertPost(author, { createdAt: t, visibility: 'friends' });
    const ofPrivate = await insertPost(privateAccount, { createdAt: t });
    const ids = await discoverAll(null);
    expect(ids).toContain(pub.id);
    expect(ids).not.toContain(fr.id);
    expect(ids).not.toContain(ofPrivate.id);
    const page = await discoverPage(null, { limit: 100 });
    for (const d of page.data) expect(d.liked_by_me).toBe(false);
  });
});

describe('Discover feed: ranking', () => {
  it('should rank a post with many likes and comments above an equally old one without', async () => {
    const [viewer, a, b] = [await createUser(), await createUser(), await createUser()];
    const t = Date.now() - 3 * HOUR;
    const [low, high] = idPair(t);
    // The engaged post gets the lower id, so the id tie-break alone would put it second.
    const engaged = await insertPost(a, { id: low, createdAt: t, likeCount: 40, commentCount: 10 });
    const quiet = await insertPost(b, { id: high, createdAt: t });
    const onlyLikes = await insertPost(b, { createdAt: t, likeCount: 3 });
    const onlyComments = await insertPost(b, { createdAt: t, commentCount: 2 }); // 1 + 2·2 = 5 > 1 + 3
    const ids = await discoverAll(viewer);
    expectBefore(ids, engaged.id, quiet.id);
    expectBefore(ids, onlyComments.id, onlyLikes.id);
    expectBefore(ids, onlyLikes.id, quiet.id);
  });

  it('should count real likes and comments made through the API', async () => {
    const [viewer, a, b, fan1, fan2] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    const t = Date.now() - 2 * HOUR;
    const [low, high] = idPair(t);
    const liked = await insertPost(a, { id: low, createdAt: t });
    const other = await insertPost(b, { id: high, createdAt: t });
    await like(fan1, liked.id);
    await like(fan2, liked.id);
    await expectStatus(await call(`/posts/${liked.id}/comments`, { body: { content: 'nice' }, token: fan1.accessToken }), 201);
    const page = await discoverPage(viewer, { limit: 100 });
    const ids = page.data.map((p) => p.id);
    expectBefore(ids, liked.id, other.id);
    expect(page.data.find((p) => p.id === liked.id)).toMatchObject({ like_count: 2, comment_count: 1 });
  });

  it('should rank a newer post above an older one with the same engagement', async () => {
    const [viewer, a] = [await createUser(), await createUser()];
    const now = Date.now();
    const older = await insertPost(a, { createdAt: now - 20 * HOUR, likeCount: 5, commentCount: 1 });
    const newer = await insertPost(a, { createdAt: now - 2 * HOUR, likeCount: 5, commentCount: 1 });
    const oldest = await insertPost(a, { createdAt: now - 5 * DAY, likeCount: 5, commentCount: 1 });
    const ids = await discoverAll(viewer);
    expectBefore(ids, newer.id, older.id);
    expectBefore(ids, older.id, oldest.id);
  });

  it('should rank a friend-of-friend’s post above an otherwise equal stranger’s post', async () => {
    const [viewer, friend, fof, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await befriend(viewer, friend);
    await befriend(friend, fof);
    const t = Date.now() - 4 * HOUR;
    const [low, high] = idPair(t);
    const pFof = await insertPost(fof, { id: low, createdAt: t, likeCount: 1 });
    const pStranger = await insertPost(stranger, { id: high, createdAt: t, likeCount: 1 });
    expectBefore(await discoverAll(viewer), pFof.id, pStranger.id);
    // Without the social term (a caller with no friends), the id tie-break decides: the stranger's first.
    const loner = await createUser();
    expectBefore(await discoverAll(loner), pStranger.id, pFof.id);
  });

  it('should rank a post liked by a friend above an otherwise equal stranger’s post', async () => {
    const [viewer, friend, s1, s2] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await befriend(viewer, friend);
    const t = Date.now() - 4 * HOUR;
    const [low, high] = idPair(t);
    const likedByFriend = await insertPost(s1, { id: low, createdAt: t });
    const notLiked = await insertPost(s2, { id: high, createdAt: t });
    await like(friend, likedByFriend.id);
    // Same engagement on both: one like each.
    await env.DB.prepare('UPDATE posts SET like_count = 1 WHERE id = ?1').bind(notLiked.id).run();

    expectBefore(await discoverAll(viewer), likedByFriend.id, notLiked.id);
    const loner = await createUser();
    expectBefore(await discoverAll(loner), notLiked.id, likedByFriend.id);
  });

  it('should rank a friend’s public post above an otherwise equal stranger’s post', async () => {
    const [viewer, friend, stranger] = [await createUser(), await createUser(), await createUser()];
    await befriend(viewer, friend);
    const t = Date.now() - 4 * HOUR;
    const [low, high] = idPair(t);
    const pFriend = await insertPost(friend, { id: low, createdAt: t });
    const pStranger = await insertPost(stranger, { id: high, createdAt: t });
    expectBefore(await discoverAll(viewer), pFriend.id, pStranger.id);
  });

  it('should rank a post in a topic the caller liked before above an otherwise equal post', async () => {
    const [viewer, author, other] = [await createUser(), await createUser(), await createUser()];
    const earlier = await insertPost(other, { createdAt: Date.now() - 30 * HOUR, topic: 'music' });
    await like(viewer, earlier.id);
    const t = Date.now() - 4 * HOUR;
    const [low, high] = idPair(t);
    const music = await insertPost(author, { id: low, createdAt: t, topic: 'music' });
    const food = await insertPost(author, { id: high, createdAt: t, topic: 'food' });
    expectBefore(await discoverAll(viewer), music.id, food.id);
    const loner = await createUser();
    expectBefore(await discoverAll(loner), food.id, music.id);
  });

  it('should rank anonymous callers without the social terms', async () => {
    const [viewer, friend, fof, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await befriend(viewer, friend);
    await befriend(friend, fof);
    const now = Date.now();
    // Stranger 2 h old vs friend-of-friend 3 h old: recency favours the stranger by ×1.40, proximity the other by ×1.5.
    const pStranger = await insertPost(stranger, { createdAt: now - 2 * HOUR });
    const pFof = await insertPost(fof, { createdAt: now - 3 * HOUR });
    expectBefore(await discoverAll(viewer), pFof.id, pStranger.id);
    expectBefore(await discoverAll(null), pStranger.id, pFof.id);
  });

  it('should order pages by descending score (checked against engagement at equal age)', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    const t = Date.now() - 5 * HOUR;
    const posts = await insertPosts(author, [7, 1, 30, 12, 3].map((likeCount) => ({ createdAt: t, likeCount, topic: 'career' })));
    const ids = (await discoverAll(viewer, { topic: 'career', limit: 2 })).filter((id) => posts.some((p) => p.id === id));
    const byLikes = [...posts].map((p, i) => ({ id: p.id, likes: [7, 1, 30, 12, 3][i]! })).sort((a, b) => b.likes - a.likes);
    expect(ids).toEqual(byLikes.map((p) => p.id));
  });
});

describe('Discover feed: pagination', () => {
  it('should give every candidate exactly once across pages', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    const t = Date.now() - 6 * HOUR;
    const mine = await insertPosts(
      author,
      Array.from({ length: 12 }, (_, i) => ({ createdAt: t + (i % 4) * 60_000, likeCount: i % 3, topic: 'events' })),
    );
    const whole = await discoverAll(viewer, { limit: 100 });
    const paged = await discoverAll(viewer, { limit: 5 });
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(whole);
    for (const p of mine) expect(paged).toContain(p.id);

    const topicPaged = await discoverAll(viewer, { topic: 'events', limit: 3 });
    expect(new Set(topicPaged).size).toBe(topicPaged.length);
    expect(new Set(topicPaged)).toEqual(new Set(mine.map((p) => p.id)));
  });

  it('should keep the snapshot of its first page: posts created later do not show up in that walk', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    const t = Date.now() - 10 * HOUR;
    const original = await insertPosts(author, Array.from({ length: 9 }, (_, i) => ({ createdAt: t + i * 1000, topic: 'arts', likeCount: i })));

    const first = await discoverPage(viewer, { topic: 'arts', limit: 3 });
    expect(first.data).toHaveLength(3);
    expect(first.next_cursor).toEqual(expect.any(String));
    const seen = first.data.map((p) => p.id);

    await sleep(5);
    // Brand-new posts with huge engagement would rank first on any fresh page.
    const late = await insertPosts(author, [
      { createdAt: Date.now(), topic: 'arts', likeCount: 1000 },
      { createdAt: Date.now(), topic: 'arts', likeCount: 900, commentCount: 10 },
    ]);
    const viaApi = await expectStatus(await call('/posts', { body: { content: 'late arrival', topic: 'arts' }, token: author.accessToken }), 201);
    const lateIds = [...late.map((p) => p.id), viaApi.id];

    let cursor: string | null = first.next_cursor;
    while (cursor) {
      const page = await discoverPage(viewer, { topic: 'arts', limit: 3, cursor });
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(original.map((p) => p.id)));
    for (const id of lateIds) expect(seen).not.toContain(id);

    await sleep(2);
    const fresh = await discoverPage(viewer, { topic: 'arts', limit: 2 });
    expect(fresh.data.map((p) => p.id)).toEqual([late[0]!.id, late[1]!.id]);
    const freshAll = await discoverAll(viewer, { topic: 'arts', limit: 4 });
    expect(new Set(freshAll)).toEqual(new Set([...original.map((p) => p.id), ...lateIds]));
  });
});
