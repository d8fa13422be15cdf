import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chunk, forEachLimit } from '../../src/lib/concurrency';
import { newId } from '../../src/lib/ids';
import { inboxOf, type UserInbox } from '../../src/modules/notifications/user-inbox';
import { FAN_OUT_CHUNK } from '../../src/queues/fanout.producer';
import { retryDelaySeconds } from '../../src/queues/fanout';
import { call, createUser, expectStatus } from '../helpers/client';
import { consume, deadLetters } from '../helpers/queues';
import { addFollowers } from '../feeds/helpers';
import { eventually } from '../notifications/helpers';

/** A post row written straight into D1: nothing queues its fan-out, so only the test's batches run it. */
async function silentPost(authorId: string): Promise<string> {
  const id = newId();
  await env.DB.prepare(`INSERT INTO posts (id, author_id, content, visibility, created_at) VALUES (?1, ?2, 'quiet', 'public', ?3)`).bind(id, authorId, Date.now()).run();
  return id;
}

/** How many `new_post` notifications of this post each inbox holds. */
async function newPostCounts(recipients: string[], postId: string): Promise<number[]> {
  const pages = await Promise.all(recipients.map((id) => inboxOf(env as Env, id).list({ unread: false, limit: 20 })));
  return pages.map((page) => page.data.filter((n) => n.type === 'new_post' && n.data.id === postId).length);
}

afterEach(() => vi.restoreAllMocks());

describe('Fan-out on Queues', () => {
  it("should deliver a post to every follower of an audience larger than a chunk, through the queue, once each", async () => {
    const author = await createUser();
    const followers = await addFollowers(author.id, FAN_OUT_CHUNK + 1);
    const post = await expectStatus(await call('/posts', { body: { content: 'to everyone' }, token: author.accessToken }), 201);

    await eventually(async () => expect(await newPostCounts(followers, post.id)).toEqual(followers.map(() => 1)), 10_000);
    // The author got nothing.
    expect((await inboxOf(env as Env, author.id).list({ unread: false, limit: 5 })).data).toEqual([]);
  });

  it("should withdraw a deleted post's notifications from its whole audience, past the first chunk through the queue", async () => {
    const author = await createUser();
    // More than the 1,000 inboxes a removal used to clear inline (the rest kept the notification).
    const followers = await addFollowers(author.id, 1_001);
    const post = await expectStatus(await call('/posts', { body: { content: 'said in haste' }, token: author.accessToken }), 201);
    await eventually(async () => expect(await newPostCounts(followers, post.id)).toEqual(followers.map(() => 1)), 60_000, 500);

    await expectStatus(await call(`/posts/${post.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    await eventually(async () => expect(await newPostCounts(followers, post.id)).toEqual(followers.map(() => 0)), 60_000, 500);
  }, 150_000);

  it('should clear the inboxes a content.forget message names, idempotently, and refuse one that names nothing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const author = await createUser();
    const followers = await addFollowers(author.id, 2);
    const postId = await silentPost(author.id);
    await consume('kith-fanout', [{ type: 'post.fanout', post_id: postId, base_url: 'http://localhost', notify: true }]);
    expect(await newPostCounts(followers, postId)).toEqual([1, 1]);
    const forget = { type: 'content.forget', ref: { postId }, inboxes: followers };
    for (let round = 1; round <= 2; round++) {
      const { result } = await consume('kith-fanout', [forget], round);
      expect(result.explicitAcks).toHaveLength(1);
    }
    expect(await newPostCounts(followers, postId)).toEqual([0, 0]);
    const marker = `forget-${Math.random().toString(36).slice(2)}`;
    await consume('kith-fanout', [{ type: 'content.forget', ref: {}, inboxes: [marker] }]);
    expect((await deadLetters(marker, 1))[0]!.reason).toMatch(/names a post, a message or comments/);
  });

  it('should never duplicate a notification or a timeline row when a batch is delivered again', async () => {
    const author = await createUser();
    const followers = await addFollowers(author.id, 3);
    // One follower reads home, so they have a live timeline for the push to reach.
    await env.DB.prepare(`INSERT INTO home_timelines (user_id, expires_at, floor_at, floor_id) VALUES (?1, ?2, 0, '')`).bind(followers[0], Date.now() + 3_600_000).run();
    const postId = await silentPost(author.id);
    const message = { type: 'post.fanout', post_id: postId, base_url: 'http://localhost', notify: true };

    for (let round = 0; round < 2; round++) {
      const { result } = await consume('kith-fanout', [message, message]);
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(2);
    }
    expect(await newPostCounts(followers, postId)).toEqual([1, 1, 1]);
    const rows = await env.DB.prepare('SELECT user_id FROM home_timeline_entries WHERE post_id = ?1').bind(postId).all<{ user_id: string }>();
    expect(rows.results.map((r) => r.user_id)).toEqual([followers[0]]);

    // An inbox.deliver chunk redelivered under its key: still once per inbox.
    const chunkMessage = { type: 'inbox.deliver', key: `friend_accepted:${postId}`, recipients: followers, delivery: { type: 'friend_accepted', data: { friend: { id: author.id } } } };
    await consume('kith-fanout', [chunkMessage]);
    await consume('kith-fanout', [chunkMessage], 2);
    const pages = await Promise.all(followers.map((id) => inboxOf(env as Env, id).list({ unread: false, limit: 20 })));
    expect(pages.map((p) => p.data.filter((n) => n.type === 'friend_accepted').length)).toEqual([1, 1, 1]);
  });

  it('should retry a failed message with a growing backoff, and deliver it on the retry', async () => {
    const author = await createUser();
    const [reader] = await addFollowers(author.id, 1);
    await env.DB.prepare(`INSERT INTO home_timelines (user_id, expires_at, floor_at, floor_id) VALUES (?1, ?2, 0, '')`).bind(reader, Date.now() + 3_600_000).run();
    const postId = await silentPost(author.id);
    const message = { type: 'post.fanout', post_id: postId, base_url: 'http://localhost', notify: false };
    // A real failure inside D1: the timeline push of this post aborts while the trigger exists.
    await env.DB.prepare(`CREATE TRIGGER test_refuse_push BEFORE INSERT ON home_timeline_entries WHEN NEW.post_id = '${postId}' BEGIN SELECT RAISE(ABORT, 'refused'); END`).run();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { batch, result } = await consume('kith-fanout', [message], 3);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toEqual([{ msgId: batch.messages[0]!.id }]);
      expect(errors.mock.calls.some(([line]) => String(line).includes('post fan-out failed'))).toBe(true);
    } finally {
      await env.DB.prepare('DROP TRIGGER test_refuse_push').run();
    }
    const { result } = await consume('kith-fanout', [message], 4);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await env.DB.prepare('SELECT user_id FROM home_timeline_entries WHERE post_id = ?1').bind(postId).first('user_id')).toBe(reader);
    // The schedule: doubling from 2 s, capped at 5 minutes.
    expect([1, 2, 3, 4, 9, 20].map(retryDelaySeconds)).toEqual([2, 4, 8, 16, 300, 300]);
  });

  it('should send a message that fails validation to the dead-letter queue at once, with its reason logged and kept', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const marker = `bad-${Math.random().toString(36).slice(2)}`;
    const bad = [
      { type: 'post.fanout', notify: true, base_url: 'http://localhost', marker },
      { type: 'inbox.deliver', key: marker, recipients: [], delivery: { type: 'new_post', data: {} } },
      { type: 'no.such.kind', marker },
    ];
    const { result } = await consume('kith-fanout', bad);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    const logged = errors.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('dead-letter queue'));
    expect(logged).toHaveLength(3);
    expect(logged[0]).toContain('post_id');
    expect(logged[1]).toContain('recipients');

    // The real dead-letter queue's consumer keeps each with its reason.
    const rows = await deadLetters(marker, 3);
    expect(rows.every((r) => r.queue === 'kith-fanout' && r.attempts === 1)).toBe(true);
    expect(rows.map((r) => r.reason).join('\n')).toMatch(/post_id/);
    expect(rows.map((r) => JSON.parse(r.body).marker ?? JSON.parse(r.body).key)).toEqual([marker, marker, marker]);
  });

  it('should keep a message whose retries ran out (moved by Queues, unwrapped) as such', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const marker = `spent-${Math.random().toString(36).slice(2)}`;
    const { result } = await consume('kith-fanout-dlq', [{ type: 'post.fanout', post_id: marker, base_url: 'http://localhost', notify: true }], 6);
    expect(result.ackAll).toBe(true);
    const row = await env.DB.prepare('SELECT queue, reason, attempts FROM queue_dead_letters WHERE body LIKE ?1').bind(`%${marker}%`).first();
    expect(row).toEqual({ queue: 'kith-fanout', reason: 'retries exhausted', attempts: 6 });
  });

  it('should keep at most `limit` tasks in flight, try every item, and return the failures in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const items = Array.from({ length: 40 }, (_, i) => i);
    const failures = await forEachLimit(items, 7, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await Promise.resolve();
      await Promise.resolve();
      inFlight--;
      if (i % 13 === 0) throw new Error(`no ${i}`);
    });
    expect(peak).toBe(7);
    expect(failures.map((f) => f.item)).toEqual([0, 13, 26, 39]);
    expect(chunk(items, 15).map((c) => c.length)).toEqual([15, 15, 10]);
  });
});

describe('Fan-out: inboxes from before the queue', () => {
  it('should hand the rows an old alarm batch left undelivered to the queue, then drop its table', async () => {
    const author = await createUser();
    const followers = await addFollowers(author.id, 2);
    const stub = env.INBOXES.get(env.INBOXES.idFromName(author.id));
    const delivery = JSON.stringify({ type: 'friend_accepted', data: { friend: { id: author.id } } });
    await runInDurableObject(stub, async (inbox: UserInbox, state) => {
      state.storage.sql.exec('CREATE TABLE fanout (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, delivery TEXT NOT NULL)');
      for (const id of followers) state.storage.sql.exec('INSERT INTO fanout (recipient, delivery) VALUES (?, ?)', id, delivery);
      await inbox.alarm();
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'fanout'").one().n).toBe(0);
    });
    await eventually(async () => {
      const pages = await Promise.all(followers.map((id) => inboxOf(env as Env, id).list({ unread: false, limit: 5 })));
      expect(pages.map((p) => p.data.filter((n) => n.type === 'friend_accepted').length)).toEqual([1, 1]);
    }, 5_000);
  });
});
