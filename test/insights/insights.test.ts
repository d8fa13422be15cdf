import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { engagementRate } from '../../src/modules/insights/insights.service';
import { addToSketch, emptySketch, estimateSketch } from '../../src/modules/insights/hyperloglog';
import { IMPRESSION_SHARDS, impressionCounterOf, impressionShardOf } from '../../src/modules/insights/impression-counter';
import { combineImpressions, type PostViews } from '../../src/modules/insights/post-impressions';
import { IMPRESSIONS_MESSAGE_BYTES, IMPRESSIONS_PER_MESSAGE, ImpressionsBuffer, viewerHash } from '../../src/queues/impressions.producer';
import { inboxOf } from '../../src/modules/notifications/user-inbox';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { eventually } from '../notifications/helpers';

const insightsOf = (user: TestUser, postId: string) => call(`/posts/${postId}/insights`, { token: user.accessToken });

async function post(author: TestUser, body: Record<string, unknown>): Promise<{ id: string }> {
  return expectStatus(await call('/posts', { token: author.accessToken, body }), 201);
}

/** Runs the worker's queue handler on one batch of impressions messages, as Queues would. */
async function consume(bodies: unknown[]) {
  const batch = createMessageBatch(
    'kith-impressions',
    bodies.map((body, i) => ({ id: `i${i}-${Math.random().toString(36).slice(2)}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe('Post insights', () => {
  it('should count impressions from reads and lists (not the author’s own), distinct viewers, likes and comments', async () => {
    const [author, reader, liker] = await Promise.all([createUser(), createUser(), createUser()]);
    const { id } = await post(author, { content: 'counted' });
    await expectStatus(await call(`/posts/${id}`, { token: author.accessToken }), 200); // own view: not counted
    await expectStatus(await call(`/posts/${id}`, { token: reader.accessToken }), 200);
    await expectStatus(await call(`/users/${author.id}/posts`, { token: reader.accessToken }), 200);
    await expectStatus(await call(`/posts/${id}`, { token: liker.accessToken }), 200);
    // Two anonymous reads from one address: the second comes from the edge cache and still counts.
    await expectStatus(await call(`/posts/${id}`, { ip: '203.0.113.9' }), 200);
    const cached = await call(`/posts/${id}`, { ip: '203.0.113.9' });
    expect(cached.headers.get('X-Cache')).toBe('HIT');
    await expectStatus(cached, 200);
    await expectStatus(await call(`/posts/${id}/like`, { method: 'POST', token: liker.accessToken }), 200);
    await expectStatus(await call(`/posts/${id}/comments`, { token: reader.accessToken, body: { content: 'nice' } }), 201);

    const insights = await eventually(async () => {
      const body = await expectStatus(await insightsOf(author, id), 200);
      expect(body.impressions).toBe(5);
      return body;
    }, 15_000, 200);
    expect(insights).toEqual({ impressions: 5, unique_viewers: 3, likes: 1, comments: 1, engagement_rate: 0.4 });
  });

  it('should show insights to the author only: 403 to others who see the post, 404 when they cannot, 401 without a token', async () => {
    const [author, other] = await Promise.all([createUser(), createUser()]);
    const visible = await post(author, { content: 'public' });
    const hidden = await post(author, { content: 'mine', visibility: 'private' });
    await expectProblem(await insightsOf(other, visible.id), 403);
    await expectProblem(await insightsOf(other, hidden.id), 404);
    await expectProblem(await call(`/posts/${visible.id}/insights`), 401);
    expect(await expectStatus(await insightsOf(author, hidden.id), 200)).toEqual({ impressions: 0, unique_viewers: 0, likes: 0, comments: 0, engagement_rate: 0 });
  });

  it('should count a batch once however often it is delivered, and dead-letter an invalid message', async () => {
    const author = await createUser();
    const { id } = await post(author, { content: 'retried' });
    const [someone, other] = await Promise.all([viewerHash('salt', 'someone'), viewerHash('salt', 'other')]);
    // One isolate's second of views: the same post served twice to one reader and once to another.
    const message = { type: 'post.impressions', key: crypto.randomUUID(), views: [{ viewer: someone, post_ids: [id] }, { viewer: other, post_ids: [id] }, { viewer: someone, post_ids: [id, id] }], at: Date.now() };
    const first = await consume([message]);
    expect(first.retryMessages).toEqual([]);
    expect(first.explicitAcks).toHaveLength(1);
    await consume([message, message]);
    expect(await expectStatus(await insightsOf(author, id), 200)).toMatchObject({ impressions: 3, unique_viewers: 2 });
    // A message of one view, as producers sent them before views were gathered per isolate.
    const legacy = { type: 'post.impressions', key: crypto.randomUUID(), viewer: await viewerHash('salt', 'third'), post_ids: [id], at: Date.now() };
    expect((await consume([legacy])).explicitAcks).toHaveLength(1);
    expect(await expectStatus(await insightsOf(author, id), 200)).toMatchObject({ impressions: 4, unique_viewers: 3 });
    // The shape producers send now: summed per post (served twice, to someone and a fourth reader).
    const perPost = { type: 'post.impressions', key: crypto.randomUUID(), posts: [[id, 2, [someone, await viewerHash('salt', 'fourth')]]], at: Date.now() };
    expect((await consume([perPost, perPost])).explicitAcks).toHaveLength(2);
    expect(await expectStatus(await insightsOf(author, id), 200)).toMatchObject({ impressions: 6, unique_viewers: 4 });

    const tooMany = { ...message, key: crypto.randomUUID(), views: Array.from({ length: IMPRESSIONS_PER_MESSAGE / 100 + 1 }, () => ({ viewer: someone, post_ids: Array.from({ length: 100 }, () => id) })) };
    const unserved = { ...perPost, key: crypto.randomUUID(), posts: [[id, 0, [someone]]] };
    const noViewers = { ...perPost, key: crypto.randomUUID(), posts: [[id, 1, []]] };
    const invalid = await consume([{ type: 'post.impressions', key: 'k', viewer: 'not-hex', post_ids: [], at: 1 }, { ...message, views: [] }, tooMany, unserved, noViewers]);
    expect(invalid.explicitAcks).toHaveLength(5);
    expect(invalid.retryMessages).toEqual([]);
    expect(await expectStatus(await insightsOf(author, id), 200)).toMatchObject({ impressions: 6 });
  });

  it('should sum the messages of a batch into one call per counter shard, and count each once when one of them was counted before', async () => {
    const author = await createUser();
    const [{ id: p1 }, { id: p2 }] = [await post(author, { content: 'one' }), await post(author, { content: 'two' })];
    const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((who) => viewerHash('salt', who)))) as [string, string, string];
    const message = (views: { viewer: string; post_ids: string[] }[]) => ({ type: 'post.impressions', key: crypto.randomUUID(), views, at: Date.now() });
    const m1 = message([{ viewer: a, post_ids: [p1, p2] }, { viewer: b, post_ids: [p1] }]);
    const m2 = message([{ viewer: a, post_ids: [p1] }, { viewer: c, post_ids: [p2] }]);
    const m3 = message([{ viewer: c, post_ids: [p1] }]);
    const insights = async (id: string) => (await expectStatus(await insightsOf(author, id), 200)) as { impressions: number; unique_viewers: number };

    // Two messages in one batch: one summed call (p1 served 3 times to a and b, p2 twice to a and c).
    expect((await consume([m1, m2])).explicitAcks).toHaveLength(2);
    expect(await insights(p1)).toMatchObject({ impressions: 3, unique_viewers: 2 });
    expect(await insights(p2)).toMatchObject({ impressions: 2, unique_viewers: 2 });
    // The shard refuses a summed call when only some of its keys were counted, and counts nothing.
    const counter = impressionCounterOf(env, p1);
    expect(await counter.recordSummed([m1.key, m3.key], [[p1, 99, [c]]])).toBeNull();
    expect(await counter.recordSummed([m1.key, m2.key], [[p1, 99, [c]]])).toBe(0);
    expect(await insights(p1)).toMatchObject({ impressions: 3 });
    // m2 retried beside a new message: the consumer falls back to one batch per message, m3 alone counts.
    expect((await consume([m2, m3])).explicitAcks).toHaveLength(2);
    expect(await insights(p1)).toMatchObject({ impressions: 4, unique_viewers: 3 });
    expect(await insights(p2)).toMatchObject({ impressions: 2, unique_viewers: 2 });
  });

  it('should count a call in the shape before (one entry per view) as it counts views summed per post', async () => {
    const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((who) => viewerHash('salt', who)))) as [string, string, string];
    // An author's inbox (the call of the consumer before the shards) and a counter shard keep counters alike.
    const perView = inboxOf(env, `impressions-shape-${crypto.randomUUID()}`);
    const perPost = impressionCounterOf(env, `p-${crypto.randomUUID()}`);
    const [p1, p2, key] = [`p1-${crypto.randomUUID()}`, `p2-${crypto.randomUUID()}`, crypto.randomUUID()];
    // Post p1 served to a twice and to b once (once more in a view that named it twice), p2 to c.
    const views = [{ viewer: a, post_ids: [p1] }, { viewer: a, post_ids: [p1, p2] }, { viewer: b, post_ids: [p1, p1] }, { viewer: c, post_ids: [p2] }];
    expect(await perView.recordImpressions([{ key, views }])).toBe(5);
    expect(await perPost.record([{ key, posts: [[p1, 3, [a, b]], [p2, 2, [a, c]]] }])).toBe(5);
    expect(combineImpressions([await perView.storedImpressions(p1)])).toEqual({ impressions: 3, unique_viewers: 2 });
    expect(combineImpressions([await perView.storedImpressions(p2)])).toEqual({ impressions: 2, unique_viewers: 2 });
    expect(combineImpressions([await perPost.stored(p1)])).toEqual({ impressions: 3, unique_viewers: 2 });
    expect(combineImpressions([await perPost.stored(p2)])).toEqual({ impressions: 2, unique_viewers: 2 });
    // Either shape is counted once per key.
    expect(await perView.recordImpressions([{ key, posts: [[p1, 9, [c]]] }])).toBe(0);
    expect(await perPost.record([{ key, posts: [[p1, 9, [c]]] }])).toBe(0);
  });

  it('should keep counters in the post’s shard, not the author’s inbox, and add what the inbox counted before the shards', async () => {
    const author = await createUser();
    const { id } = await post(author, { content: 'counted twice over' });
    const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((who) => viewerHash('salt', who)))) as [string, string, string];
    // Views counted by the consumer before the shards: in the author's inbox.
    const inbox = inboxOf(env, author.id);
    expect(await inbox.recordImpressions([{ key: crypto.randomUUID(), posts: [[id, 2, [a, b]]] }])).toBe(2);
    // Views through the queue now: in the post's shard, none in the inbox.
    const before = await inbox.storedImpressions(id);
    expect((await consume([{ type: 'post.impressions', key: crypto.randomUUID(), posts: [[id, 3, [b, c]]], at: Date.now() }])).explicitAcks).toHaveLength(1);
    expect(await inbox.storedImpressions(id)).toEqual(before);
    expect(combineImpressions([await impressionCounterOf(env, id).stored(id)])).toEqual({ impressions: 3, unique_viewers: 2 });
    // Insights add both: 5 impressions, and b (in both) is one viewer of three.
    expect(await expectStatus(await insightsOf(author, id), 200)).toMatchObject({ impressions: 5, unique_viewers: 3 });
    // Deleting the post forgets its shard's counters.
    await expectStatus(await call(`/posts/${id}`, { method: 'DELETE', token: author.accessToken }), 204);
    expect(await impressionCounterOf(env, id).stored(id)).toBeNull();
  });

  it('should spread post ids over every shard, each post always to the same one', () => {
    const counts = new Array<number>(IMPRESSION_SHARDS).fill(0);
    for (let i = 0; i < IMPRESSION_SHARDS * 200; i++) counts[impressionShardOf(crypto.randomUUID())]!++;
    expect(Math.min(...counts)).toBeGreaterThan(100);
    expect(Math.max(...counts)).toBeLessThan(300);
    const id = crypto.randomUUID();
    expect(impressionShardOf(id)).toBe(impressionShardOf(id));
    expect(impressionShardOf(id)).toBeGreaterThanOrEqual(0);
  });

  it('should sum views per post into messages under both caps, sending a full one before the view that would overflow it', () => {
    const buffer = new ImpressionsBuffer();
    const ids = (n: number, from: number, idLength: number) => Array.from({ length: n }, (_, i) => String(from + i).padStart(idLength, '0'));
    const viewer = (i: number) => i.toString(16).padStart(16, '0');
    const entries = (posts: PostViews[]) => posts.reduce((n, p) => n + 1 + p[2].length, 0);
    // A reader reloading the same page 50 times, and a second reader once: one post entry each, counted.
    for (let i = 0; i < 50; i++) expect(buffer.add({ viewer: viewer(1), post_ids: ids(20, 0, 26) })).toBeNull();
    expect(buffer.add({ viewer: viewer(2), post_ids: [...ids(20, 0, 26), ...ids(1, 0, 26)] })).toBeNull();
    const page = buffer.take();
    expect(page).toHaveLength(20);
    for (const [, served, viewers] of page) {
      expect(served).toBe(51);
      expect(viewers).toEqual([viewer(1), viewer(2)]);
    }
    expect(buffer.take()).toEqual([]);

    // New readers of new posts, 100 short ids each (200 entries a view): 20 views fill a message by count.
    const sent: PostViews[][] = [];
    for (let i = 0; i < 45; i++) {
      const full = buffer.add({ viewer: viewer(i), post_ids: ids(100, i * 100, 10) });
      if (full) sent.push(full);
    }
    expect(sent.map(entries)).toEqual([IMPRESSIONS_PER_MESSAGE, IMPRESSIONS_PER_MESSAGE]);
    expect(buffer.take()).toHaveLength(500);
    // Ids of 64 characters fill one by size first, and every message stays under Queues' 128 KB.
    sent.length = 0;
    for (let i = 0; i < 40; i++) {
      const full = buffer.add({ viewer: viewer(i), post_ids: ids(100, i * 100, 64) });
      if (full) sent.push(full);
    }
    expect(sent.length).toBeGreaterThan(2);
    for (const posts of sent) {
      expect(entries(posts)).toBeLessThan(IMPRESSIONS_PER_MESSAGE);
      const bytes = JSON.stringify({ type: 'post.impressions', key: crypto.randomUUID(), posts, at: Date.now() }).length;
      expect(bytes).toBeLessThanOrEqual(IMPRESSIONS_MESSAGE_BYTES);
      expect(bytes).toBeGreaterThan(IMPRESSIONS_MESSAGE_BYTES * 0.75);
    }
    expect(buffer.take().length).toBeGreaterThan(0);
    expect(buffer.take()).toEqual([]);
  });

  it('should estimate distinct viewers exactly for small audiences and within a few percent for large ones', async () => {
    const sketch = emptySketch();
    const hashes = await Promise.all(Array.from({ length: 5_000 }, (_, i) => viewerHash('salt', `viewer-${i}`)));
    for (const hash of hashes.slice(0, 7)) addToSketch(sketch, hash);
    addToSketch(sketch, hashes[0]!);
    expect(estimateSketch(sketch)).toBe(7);
    for (const hash of hashes) addToSketch(sketch, hash);
    expect(Math.abs(estimateSketch(sketch) - 5_000) / 5_000).toBeLessThan(0.1);
    expect(engagementRate(2, 1, 0)).toBe(0);
    expect(engagementRate(2, 1, 7)).toBe(0.4286);
  });
});

describe('Community insights', () => {
  it('should give the owner and moderators members, new members, posts, active members and open reports; 403 to members, 404 to outsiders of a private one', async () => {
    const [owner, mod, member, outsider] = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    const community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: 'Insightful People', visibility: 'private', join_policy: 'open' } }), 201);
    for (const user of [mod, member]) await expectStatus(await call(`/communities/${community.id}/join`, { method: 'POST', token: user.accessToken }), 200);
    await expectStatus(await call(`/communities/${community.id}/members/${mod.id}`, { token: owner.accessToken, body: { role: 'moderator' } }), 200);
    const { id } = await post(member, { content: 'hello community', community_id: community.id });
    await expectStatus(await call(`/posts/${id}/like`, { method: 'POST', token: mod.accessToken }), 200);
    await expectStatus(await call('/reports', { token: mod.accessToken, body: { subject_type: 'post', subject_id: id, category: 'spam' } }), 201);

    const expected = { members: 3, new_members_7d: 3, posts_7d: 1, active_members_7d: 2, reports_open: 1 };
    expect(await expectStatus(await call(`/communities/${community.id}/insights`, { token: owner.accessToken }), 200)).toEqual(expected);
    expect(await expectStatus(await call(`/communities/${community.slug}/insights`, { token: mod.accessToken }), 200)).toEqual(expected);
    await expectProblem(await call(`/communities/${community.id}/insights`, { token: member.accessToken }), 403);
    await expectProblem(await call(`/communities/${community.id}/insights`, { token: outsider.accessToken }), 404);
  });
});
