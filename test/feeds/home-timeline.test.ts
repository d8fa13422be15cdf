import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { HOME_TIMELINE_SIZE, HOME_TIMELINE_TTL_MS, NOW_MS } from '../../src/modules/feeds/home-timeline';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { addMember, createCommunity, createPost, join } from '../communities/helpers';
import { patchPost } from '../posts/helpers';
import {
  acceptFollow,
  befriend,
  block,
  follow,
  homeAll,
  homePage,
  HOUR,
  insertPost,
  fanOutNow,
  insertPosts,
  makePrivate,
  mute,
  newestFirst,
  unfollow,
  unfriend,
  type SeededPost,
} from './helpers';

/** D1's clock, the one the timeline triggers use. */
async function d1Now(): Promise<number> {
  const row = await env.DB.prepare(`SELECT ${NOW_MS} AS now`).first<{ now: number }>();
  return row!.now;
}

interface Timeline {
  expires_at: number;
  floor_at: number;
  floor_id: string;
  entries: string[];
}

/** The user's materialised timeline (entries newest first), or null when they have none. */
async function timelineOf(user: TestUser): Promise<Timeline | null> {
  const head = await env.DB.prepare('SELECT expires_at, floor_at, floor_id FROM home_timelines WHERE user_id = ?1')
    .bind(user.id)
    .first<Omit<Timeline, 'entries'>>();
  if (!head) return null;
  const { results } = await env.DB.prepare('SELECT post_id FROM home_timeline_entries WHERE user_id = ?1 ORDER BY created_at DESC, post_id DESC')
    .bind(user.id)
    .all<{ post_id: string }>();
  return { ...head, entries: results.map((r) => r.post_id) };
}

/** Reads the home feed once, which builds a timeline when the user has none; returns that timeline. */
async function warm(user: TestUser): Promise<Timeline> {
  await homePage(user);
  const timeline = await timelineOf(user);
  expect(timeline, `${user.username} should have a timeline after reading home`).not.toBeNull();
  return timeline!;
}

/** Puts a post into a user's timeline by hand: it shows on their home only if the timeline serves it. */
async function plant(user: TestUser, post: SeededPost): Promise<void> {
  await env.DB.prepare('INSERT INTO home_timeline_entries (user_id, created_at, post_id) VALUES (?1, ?2, ?3)').bind(user.id, post.createdAt, post.id).run();
}

async function setExpiry(user: TestUser, expiresAt: number): Promise<void> {
  await env.DB.prepare('UPDATE home_timelines SET expires_at = ?2 WHERE user_id = ?1').bind(user.id, expiresAt).run();
}

/** Runs `read` with the user's timeline gone and no timeline able to be built: reads fall back to the pull query. */
async function withoutTimelines<T>(user: TestUser, read: () => Promise<T>): Promise<T> {
  await env.DB.prepare('DELETE FROM home_timelines WHERE user_id = ?1').bind(user.id).run();
  await env.DB.prepare(`CREATE TRIGGER test_refuse_timelines BEFORE INSERT ON home_timelines BEGIN SELECT RAISE(ABORT, 'no timelines today'); END`).run();
  try {
    return await read();
  } finally {
    await env.DB.prepare('DROP TRIGGER test_refuse_timelines').run();
  }
}

/** Every page of the home feed, read from the pull query alone. */
const homeAllPulled = (user: TestUser, limit: number) => withoutTimelines(user, () => homeAll(user, limit));

/** Every page of the home feed with the timeline live throughout (built by the first page). */
async function homeAllFromTimeline(user: TestUser, limit: number): Promise<string[]> {
  await warm(user);
  return homeAll(user, limit);
}

describe('Home timeline: build and reads', () => {
  it('should build a timeline holding the newest page on the first read, and serve the next reads from it', async () => {
    const [viewer, author, stranger] = [await createUser(), await createUser(), await createUser()];
    await follow(viewer, author);
    const base = Date.now() - 50 * HOUR;
    const posts = await insertPosts(author, Array.from({ length: 30 }, (_, i) => ({ createdAt: base + i * HOUR })));
    const expected = newestFirst(posts).map((p) => p.id);
    expect(await timelineOf(viewer)).toBeNull();

    const first = await homePage(viewer);
    expect(first.data.map((p) => p.id)).toEqual(expected.slice(0, 20));
    const timeline = await timelineOf(viewer);
    expect(timeline!.entries).toEqual(expected.slice(0, HOME_TIMELINE_SIZE));
    const floor = newestFirst(posts)[HOME_TIMELINE_SIZE - 1]!;
    expect([timeline!.floor_at, timeline!.floor_id]).toEqual([floor.createdAt, floor.id]);
    const now = await d1Now();
    expect(timeline!.expires_at).toBeGreaterThan(now + HOME_TIMELINE_TTL_MS - 60_000);
    expect(timeline!.expires_at).toBeLessThanOrEqual(now + HOME_TIMELINE_TTL_MS);

    // A post planted in the timeline only (a stranger's, which the pull query would never return) shows
    // on the next read: that read came from the timeline. The rules still apply to it: a planted
    // private post stays hidden.
    const [shown, hidden] = [await insertPost(stranger, { createdAt: Date.now() }), await insertPost(stranger, { createdAt: Date.now() + 1, visibility: 'private' })];
    await plant(viewer, shown);
    await plant(viewer, hidden);
    const second = await homePage(viewer);
    // 20 skeleton rows: the two planted ones and 18 more; the rules drop the private one.
    expect(second.data.map((p) => p.id)).toEqual([shown.id, ...expected.slice(0, 18)]);
    expect(await timelineOf(viewer)).toMatchObject({ floor_id: floor.id });
  });

  it('should build with the whole feed and a bottom floor when the feed is shorter than a page', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const posts = await insertPosts(author, [{ createdAt: Date.now() - 2 * HOUR }, { createdAt: Date.now() - HOUR }]);
    const timeline = await warm(viewer);
    expect(timeline.entries).toEqual(newestFirst(posts).map((p) => p.id));
    expect([timeline.floor_at, timeline.floor_id]).toEqual([0, '']);
  });

  it('should build a deeper timeline for a longer first page', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const base = Date.now() - 60 * HOUR;
    const posts = newestFirst(await insertPosts(author, Array.from({ length: 40 }, (_, i) => ({ createdAt: base + i * HOUR }))));
    const page = await homePage(viewer, { limit: 30 });
    expect(page.data.map((p) => p.id)).toEqual(posts.slice(0, 30).map((p) => p.id));
    const timeline = await timelineOf(viewer);
    expect(timeline!.entries).toEqual(posts.slice(0, 31).map((p) => p.id));
    expect(timeline!.floor_id).toBe(posts[30]!.id);
  });

  it('should page through the timeline and on below its floor with no gap or repeat, also while posts arrive', async () => {
    const [viewer, author, friend] = [await createUser(), await createUser(), await createUser()];
    await follow(viewer, author);
    await befriend(viewer, friend);
    const base = Date.now() - 100 * HOUR;
    const posts = [
      ...(await insertPosts(author, Array.from({ length: 25 }, (_, i) => ({ createdAt: base + 2 * i * HOUR })))),
      ...(await insertPosts(friend, Array.from({ length: 20 }, (_, i) => ({ createdAt: base + (2 * i + 1) * HOUR, visibility: i % 2 ? 'friends' : 'public' })))),
      ...(await insertPosts(viewer, [{ createdAt: base + 5, visibility: 'private' }])),
    ];
    const expected = newestFirst(posts).map((p) => p.id);
    for (const limit of [5, 20, 7]) {
      await env.DB.prepare('DELETE FROM home_timelines WHERE user_id = ?1').bind(viewer.id).run();
      expect(await homeAllFromTimeline(viewer, limit), `limit ${limit}`).toEqual(expected);
    }

    // A post arriving between pages sorts before the cursor: the walk neither repeats nor skips.
    const seen: string[] = [];
    let page = await homePage(viewer, { limit: 10 });
    seen.push(...page.data.map((p) => p.id));
    const fresh = await createPost(author, { content: 'arrived mid-walk' });
    await fanOutNow(fresh.id);
    while (page.next_cursor) {
      page = await homePage(viewer, { limit: 10, cursor: page.next_cursor });
      seen.push(...page.data.map((p) => p.id));
    }
    expect(seen).toEqual(expected);
    expect((await homePage(viewer, { limit: 1 })).data[0]!.id).toBe(fresh.id);
  });

  it('should serve the same pages from timelines as the pull query does, for every reader of a mixed graph', async () => {
    const people = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    const [a, b, c, d, e, f] = people as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    await follow(a, b);
    await follow(a, c);
    await befriend(a, d);
    await follow(b, a);
    await befriend(b, c);
    await follow(c, e);
    await mute(a, c);
    await block(f, e);
    await makePrivate(d);
    await follow(e, d); // pending: a request, not a source
    const community = await createCommunity(f);
    await join(a, community.id);
    await join(c, community.id);
    const gated = await createCommunity(f, { join_policy: 'approval' });
    await join(b, gated.id); // pending applicant
    await addMember(f, gated.id, e);

    const base = Date.now() - 200 * HOUR;
    let n = 0;
    for (const author of people) {
      await insertPosts(
        author,
        Array.from({ length: 9 }, (_, i) => ({ createdAt: base + (n++ * 7 + i * 13) * 60_000, visibility: (['public', 'friends', 'private'] as const)[i % 3], targetUserId: i === 4 && author !== a ? a.id : null })),
      );
    }
    for (const [i, [author, where]] of ([[f, community], [c, community], [e, gated], [a, community], [f, gated]] as const).entries()) {
      await createPost(author, { content: `in community ${i}`, community_id: where.id });
    }

    for (const reader of people) {
      const pulled = await homeAllPulled(reader, 4);
      expect(pulled.length, reader.username).toBeGreaterThan(0);
      expect(await homeAllFromTimeline(reader, 4), reader.username).toEqual(pulled);
    }
  });

  it('should still answer from the pull query when a timeline cannot be built', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const post = await insertPost(author, { createdAt: Date.now() - HOUR });
    const page = await withoutTimelines(viewer, () => homePage(viewer));
    expect(page.data.map((p) => p.id)).toEqual([post.id]);
    expect(await timelineOf(viewer)).toBeNull();
    await warm(viewer);
  });
});

describe('Home timeline: fan-out on write', () => {
  it('should add a new post to the live timelines of exactly its audience', async () => {
    const [author, follower, friend, both, stranger] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(follower, author);
    await befriend(friend, author);
    await follow(both, author);
    await befriend(both, author);
    for (const user of [author, follower, friend, both, stranger]) await warm(user);

    const made: Record<string, string> = {};
    for (const visibility of ['public', 'friends', 'private'] as const) {
      made[visibility] = (await createPost(author, { content: `a ${visibility} post`, visibility })).id;
    }
    await fanOutNow(...Object.values(made));
    const has = async (user: TestUser) => (await timelineOf(user))!.entries.filter((id) => Object.values(made).includes(id)).sort();
    const sorted = (...ids: string[]) => ids.sort();
    expect(await has(author)).toEqual(sorted(made.public!, made.friends!, made.private!));
    expect(await has(follower)).toEqual([made.public]);
    expect(await has(friend)).toEqual(sorted(made.public!, made.friends!));
    expect(await has(both)).toEqual(sorted(made.public!, made.friends!));
    expect(await has(stranger)).toEqual([]);

    // And the feeds, served from those timelines, show them at once.
    expect((await homePage(follower)).data.map((p) => p.id)).toEqual([made.public]);
    expect((await homePage(friend)).data.map((p) => p.id)).toEqual([made.friends, made.public]);
  });

  it('should add a community post to the timelines of approved members, not of applicants', async () => {
    const [owner, member, applicant, outsider] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const gated = await createCommunity(owner, { join_policy: 'approval' });
    await addMember(owner, gated.id, member);
    expect(await join(applicant, gated.id)).toBe('pending');
    for (const user of [member, applicant, outsider]) await warm(user);

    const post = await createPost(owner, { content: 'members only news', community_id: gated.id });
    await fanOutNow(post.id);
    expect((await timelineOf(member))!.entries).toEqual([post.id]);
    expect((await timelineOf(applicant))!.entries).toEqual([]);
    expect((await timelineOf(outsider))!.entries).toEqual([]);
    expect((await homePage(member)).data.map((p) => p.id)).toEqual([post.id]);
  });

  it('should add a back-dated post only to timelines whose floor it is not below', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const base = Date.now() - 100 * HOUR;
    const posts = newestFirst(await insertPosts(author, Array.from({ length: 30 }, (_, i) => ({ createdAt: base + i * HOUR }))));
    const { floor_at: floorAt } = await warm(viewer);

    const below = await insertPost(author, { createdAt: floorAt - 30 * 60_000 });
    const above = await insertPost(author, { createdAt: posts[3]!.createdAt - 30 * 60_000 });
    const entries = (await timelineOf(viewer))!.entries;
    expect(entries).toContain(above.id);
    expect(entries).not.toContain(below.id);
    // Both are in the feed, in place: one from the timeline, one from the pull query below the floor.
    expect(await homeAll(viewer, 10)).toEqual(newestFirst([...posts, above, below]).map((p) => p.id));
  });

  it('should skip expired timelines and rebuild them on the next read', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    await warm(viewer);
    await setExpiry(viewer, (await d1Now()) - 1);

    const post = await createPost(author, { content: 'while away' });
    expect((await timelineOf(viewer))!.entries).not.toContain(post.id);
    expect((await homePage(viewer)).data.map((p) => p.id)).toEqual([post.id]);
    const rebuilt = await timelineOf(viewer);
    expect(rebuilt!.entries).toEqual([post.id]);
    expect(rebuilt!.expires_at).toBeGreaterThan((await d1Now()) + HOME_TIMELINE_TTL_MS - 60_000);
  });

  it('should not serve a timeline about to expire (its last minute), but rebuild it', async () => {
    const [viewer, author, stranger] = [await createUser(), await createUser(), await createUser()];
    await follow(viewer, author);
    await warm(viewer);
    await setExpiry(viewer, (await d1Now()) + 30_000);
    const planted = await insertPost(stranger, { createdAt: Date.now() });
    await plant(viewer, planted);
    expect((await homePage(viewer)).data.map((p) => p.id)).toEqual([]);
    expect((await timelineOf(viewer))!.expires_at).toBeGreaterThan((await d1Now()) + HOME_TIMELINE_TTL_MS - 60_000);
  });

  it('should delete expired timelines of other users when building one', async () => {
    const [idle, reader] = [await createUser(), await createUser()];
    await warm(idle);
    await setExpiry(idle, (await d1Now()) - HOUR);
    await env.DB.prepare('DELETE FROM home_timelines WHERE user_id = ?1').bind(reader.id).run();
    await warm(reader);
    expect(await timelineOf(idle)).toBeNull();
    const { n } = (await env.DB.prepare('SELECT COUNT(*) AS n FROM home_timeline_entries WHERE user_id = ?1').bind(idle.id).first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it('should take a deleted post out of every timeline, and move a post whose visibility changes', async () => {
    const [author, follower, friend] = [await createUser(), await createUser(), await createUser()];
    await follow(follower, author);
    await befriend(friend, author);
    for (const user of [author, follower, friend]) await warm(user);
    const post = await createPost(author, { content: 'changing' });
    const kept = await createPost(author, { content: 'staying' });
    await fanOutNow(post.id, kept.id);

    // A visibility change takes the post out of every timeline but its author's at once (a trigger);
    // the fan-out queue pushes it back to its new audience.
    await expectStatus(await patchPost(author, post.id, { visibility: 'friends' }), 200);
    await fanOutNow(post.id);
    expect((await timelineOf(follower))!.entries).toEqual([kept.id]);
    expect((await timelineOf(friend))!.entries).toEqual([kept.id, post.id]);
    await expectStatus(await patchPost(author, post.id, { visibility: 'public' }), 200);
    await fanOutNow(post.id);
    expect((await timelineOf(follower))!.entries).toEqual([kept.id, post.id]);
    await expectStatus(await patchPost(author, post.id, { content: 'edited text only' }), 200);
    expect((await timelineOf(follower))!.entries).toEqual([kept.id, post.id]);

    await expectStatus(await call(`/posts/${post.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    for (const user of [author, follower, friend]) expect((await timelineOf(user))!.entries).toEqual([kept.id]);
  });
});

describe('Home timeline: invalidation', () => {
  /** Runs `change` on a reader with a live timeline; returns whether it dropped the timeline. */
  async function drops(reader: TestUser, change: () => Promise<unknown>): Promise<boolean> {
    await warm(reader);
    await change();
    return (await timelineOf(reader)) === null;
  }

  it('should drop the timeline when a follow starts, is approved or ends, and show the change on the next read', async () => {
    const [viewer, author, closed] = [await createUser(), await createUser(), await createUser()];
    const old = await insertPost(author, { createdAt: Date.now() - 10 * HOUR });
    expect(await drops(viewer, () => follow(viewer, author))).toBe(true);
    expect((await homePage(viewer)).data.map((p) => p.id)).toEqual([old.id]);
    expect(await drops(viewer, () => unfollow(viewer, author))).toBe(true);
    expect((await homePage(viewer)).data).toEqual([]);

    await makePrivate(closed);
    const hidden = await insertPost(closed, { createdAt: Date.now() - 5 * HOUR });
    expect(await drops(viewer, () => follow(viewer, closed))).toBe(false); // a request only
    expect(await drops(viewer, () => acceptFollow(closed, viewer))).toBe(true);
    expect((await homePage(viewer)).data.map((p) => p.id)).toEqual([hidden.id]);
  });

  it('should drop the timelines of both sides when a friendship starts or ends, or a block ends it', async () => {
    const [a, b, c] = [await createUser(), await createUser(), await createUser()];
    const fromB = await insertPost(b, { createdAt: Date.now() - HOUR, visibility: 'friends' });
    await warm(b);
    expect(await drops(a, () => befriend(a, b))).toBe(true);
    expect(await timelineOf(b)).toBeNull();
    expect((await homePage(a)).data.map((p) => p.id)).toEqual([fromB.id]);
    await warm(b);
    expect(await drops(a, () => unfriend(a, b))).toBe(true);
    expect(await timelineOf(b)).toBeNull();
    expect((await homePage(a)).data).toEqual([]);

    await befriend(a, c);
    await follow(c, a);
    await warm(c);
    expect(await drops(a, () => block(a, c))).toBe(true);
    expect(await timelineOf(c)).toBeNull();
  });

  it('should drop the timeline when the reader joins, is approved in, or leaves a community', async () => {
    const [owner, reader] = [await createUser(), await createUser()];
    const open = await createCommunity(owner);
    const post = await createPost(owner, { content: 'hello members', community_id: open.id });
    expect(await drops(reader, () => join(reader, open.id))).toBe(true);
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([post.id]);
    expect(await drops(reader, async () => expectStatus(await call(`/communities/${open.id}/leave`, { method: 'POST', token: reader.accessToken }), 204))).toBe(true);
    expect((await homePage(reader)).data).toEqual([]);

    const gated = await createCommunity(owner, { join_policy: 'approval' });
    expect(await drops(reader, () => join(reader, gated.id))).toBe(false); // pending
    expect(await drops(reader, async () => expectStatus(await call(`/communities/${gated.id}/members/${reader.id}`, { method: 'POST', token: owner.accessToken, body: { role: 'member' } }), 200))).toBe(true);
  });

  it('should keep the timeline on a mute (reads skip the muted author) and drop it on an unmute', async () => {
    const [viewer, author] = [await createUser(), await createUser()];
    await follow(viewer, author);
    const post = await insertPost(author, { createdAt: Date.now() - HOUR });
    expect(await drops(viewer, () => mute(viewer, author))).toBe(false);
    expect((await homePage(viewer)).data).toEqual([]);
    const later = await createPost(author, { content: 'still muted' });
    await fanOutNow(later.id);
    expect((await timelineOf(viewer))!.entries).toContain(later.id);
    expect((await homePage(viewer)).data).toEqual([]);
    expect(await drops(viewer, async () => expectStatus(await call(`/users/${author.id}/mute`, { method: 'DELETE', token: viewer.accessToken }), 204))).toBe(true);
    expect((await homePage(viewer)).data.map((p) => p.id)).toEqual([later.id, post.id]);
  });

  it('should not drop timelines for changes that do not touch the reader’s sources', async () => {
    const [viewer, author, other] = [await createUser(), await createUser(), await createUser()];
    await follow(viewer, author);
    expect(await drops(viewer, () => follow(author, other))).toBe(false);
    expect(await drops(viewer, () => follow(other, viewer))).toBe(false);
    expect(await drops(viewer, () => createPost(author, { content: 'new' }))).toBe(false);
  });
});

