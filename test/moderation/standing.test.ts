import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publishEvent } from '../../src/modules/notifications/events';
import { inboxOf, STANDING_RECHECK_MS } from '../../src/modules/notifications/user-inbox';
import { FAN_OUT_CHUNK } from '../../src/queues/fanout.producer';
import { STANDING_PATIENCE } from '../../src/queues/fanout';
import { runModerationJobs } from '../../src/scheduled';
import { call, expectStatus } from '../helpers/client';
import { consume as consumeQueue, deadLetters } from '../helpers/queues';
import { allMessages, send, startDirect } from '../messaging/helpers';
import { eventually, follow, like, markRead, notifications, post, quiet, requestFriend, type Notification, unreadCount, users, waitForNotification, comment } from '../notifications/helpers';
import { openNotifications } from '../notifications/stream-helpers';
import { act, createStaff, type TestUser } from './helpers';

/**
 * A suspension (and its lift) in the rooms and inboxes that show the account, through the fan-out
 * queue's `account.standing` messages: while it is suspended nobody else's notifications show it.
 */

const HOUR = 3_600_000;
const all = async (user: TestUser) => (await notifications(user, 'limit=100')).data;
const naming = (page: Notification[], user: TestUser) => JSON.stringify(page).includes(user.id) || JSON.stringify(page).includes(user.username);

/** Runs the fan-out queue's consumer on one batch, as Queues would. */
const consume = (bodies: unknown[], attempts = 1) => consumeQueue('kith-fanout', bodies, attempts);

const setSuspended = (user: TestUser, suspended: boolean) => env.DB.prepare('UPDATE users SET suspended_at = ?2 WHERE id = ?1').bind(user.id, suspended ? Date.now() : null).run();

/**
 * `reader`'s inbox holding every kind of notification `bad` causes (standalone ones, and a place in two
 * groups it shares with `other`), plus one of `other`'s own; `bad`'s friend request already read.
 */
async function inboxNamingBad() {
  const [bad, reader, other] = await users(3);
  await follow(reader, bad);
  const readers = await post(reader, 'likes welcome');
  await follow(other, reader);
  await follow(bad, reader);
  await like(other, readers.id);
  await like(bad, readers.id);
  await comment(other, readers.id, 'nice one');
  const words = await post(bad, `words of the soon suspended, hi @${reader.username}`);
  await requestFriend(bad, reader);
  const direct = await startDirect(bad, reader);
  await send(bad, direct.id, 'a direct word');
  await waitForNotification(reader, 'new_post', (n) => n.data.id === words.id);
  await waitForNotification(reader, 'mention', (n) => n.data.post_id === words.id);
  await waitForNotification(reader, 'new_message', (n) => n.data.sender?.id === bad.id);
  await waitForNotification(reader, 'post_like', (n) => n.data.count === 2);
  await waitForNotification(reader, 'new_follower', (n) => n.data.count === 2);
  const request = await waitForNotification(reader, 'friend_request', (n) => n.data.from_user.id === bad.id);
  await markRead(reader, [request.id]);
  const before = await all(reader);
  // Standalone notifications that name `bad` (they go while it is suspended), and those that stay.
  const badOnes = before.filter((n) => !['post_like', 'new_follower', 'post_comment'].includes(n.type));
  expect(badOnes.map((n) => n.type).sort()).toEqual(['friend_request', 'mention', 'new_message', 'new_post']);
  return { bad, reader, other, direct, before, badOnes, unread: await unreadCount(reader) };
}

/** `reader`'s notifications with `bad` out of them: its own gone, the groups shrunk to `other`. */
function expectWithout(page: Notification[], bad: TestUser, other: TestUser) {
  expect(naming(page, bad)).toBe(false);
  expect(page.map((n) => n.type).sort()).toEqual(['new_follower', 'post_comment', 'post_like']);
  for (const type of ['post_like', 'new_follower']) {
    const group = page.find((n) => n.type === type)!;
    expect(group.data.count).toBe(1);
    expect(group.data.actors.map((a: { id: string }) => a.id)).toEqual([other.id]);
  }
  expect(page.find((n) => n.type === 'post_like')!.data.user.id).toBe(other.id);
  expect(page.find((n) => n.type === 'new_follower')!.data.follower.id).toBe(other.id);
}

afterEach(() => vi.restoreAllMocks());

describe("A suspended account in other people's notifications", () => {
  it('should leave the list, the unread count and its groups while suspended, tell open sockets, and come back unchanged on unsuspend', async () => {
    const staff = await createStaff('moderator');
    const { bad, reader, other, before, badOnes, unread } = await inboxNamingBad();
    const live = await openNotifications(reader);
    try {
      await act(staff, bad, 'suspend');
      const during = await eventually(async () => {
        const page = await all(reader);
        expectWithout(page, bad, other);
        return page;
      }, 10_000);
      // Counted nowhere: three unread are bad's (the friend request was read).
      expect(await unreadCount(reader)).toBe(unread - 3);
      expect(naming((await notifications(reader, 'unread=true&limit=100')).data, bad)).toBe(false);
      // Open sockets got what a block sends: a removal for each of its own, the shrunk groups.
      await live.waitUntil((s) => s.ofType('notification.removed').length === badOnes.length, 'the removals');
      expect(live.ofType('notification.removed').map((f) => f.id).sort()).toEqual(badOnes.map((n) => n.id).sort());
      const groups = live.frames.filter((f) => f?.type === 'post_like' || f?.type === 'new_follower');
      expect(groups.map((f) => [f.type, f.data.count]).sort()).toEqual([
        ['new_follower', 1],
        ['post_like', 1],
      ]);
      expect(naming(groups, bad)).toBe(false);
      // The list is what a fresh read shows too (nothing was moved or re-dated).
      expect(during.map((n) => n.id)).toEqual(before.filter((n) => !badOnes.includes(n)).map((n) => n.id));

      const from = live.received.length;
      await act(staff, bad, 'unsuspend');
      await eventually(async () => expect(await all(reader)).toEqual(before), 10_000);
      expect(await unreadCount(reader)).toBe(unread);
      // Sockets get each notification back as a frame (same id, its original created_at).
      await live.waitUntil((s) => s.received.length - from >= badOnes.length + 2, 'the restored notifications');
      const restored = live.frames.slice(from);
      expect(restored.map((f) => f.id).sort()).toEqual(before.filter((n) => n.type !== 'post_comment').map((n) => n.id).sort());
      for (const frame of restored) expect(frame).toEqual(expect.objectContaining({ created_at: before.find((n) => n.id === frame.id)!.created_at }));
    } finally {
      live.close();
    }
  });

  it('should come back when the Cron Trigger lifts a timed suspension, unread ones still unread after a mark-all while hidden', async () => {
    const staff = await createStaff('moderator');
    const { bad, reader, other, before, badOnes } = await inboxNamingBad();
    await act(staff, bad, 'suspend', { duration_hours: 1 });
    await eventually(async () => expectWithout(await all(reader), bad, other), 10_000);
    // Marking everything read reaches only what the reader can see.
    expect(await markRead(reader)).toBe(0);

    await runModerationJobs(env, Date.now() + 2 * HOUR);
    const after = await eventually(async () => {
      const page = await all(reader);
      expect(page.map((n) => n.id)).toEqual(before.map((n) => n.id));
      return page;
    }, 10_000);
    for (const n of after) {
      const was = before.find((b) => b.id === n.id)!;
      expect(n.data).toEqual(was.data);
      expect(n.read).toBe(badOnes.includes(was) ? was.read : true);
    }
    expect(await unreadCount(reader)).toBe(3);
  });

  it('should replay a suspension and its lift to a socket reconnecting with ?since=, and leave it out of a replay from an unknown place', async () => {
    const [bad, reader, other] = await users(3);
    const target = await post(reader, 'like me');
    await requestFriend(other, reader);
    const anchor = await waitForNotification(reader, 'friend_request', (n) => n.data.from_user.id === other.id);
    await requestFriend(bad, reader);
    await like(bad, target.id);
    const theirs = [await waitForNotification(reader, 'friend_request', (n) => n.data.from_user.id === bad.id), await waitForNotification(reader, 'post_like')];
    const ids = theirs.map((n) => n.id).sort();
    const standing = (suspended: boolean) => ({ type: 'account.standing', user_id: bad.id, suspended, conversations: [], inboxes: [reader.id] });
    /** What a socket reconnecting with `since` is told, as the last frame per notification id. */
    const replayed = async (since: string, frames: number) => {
      const socket = await openNotifications(reader, { since });
      try {
        await socket.waitForFrames(frames);
        await quiet(100);
        return { last: new Map(socket.frames.map((f) => [f.id, f.type])), frames: socket.frames };
      } finally {
        socket.close();
      }
    };

    await setSuspended(bad, true);
    await consume([standing(true)]);
    const hiddenReplay = await replayed(anchor.id, 2);
    expect([...hiddenReplay.last.keys()].sort()).toEqual(ids);
    expect([...hiddenReplay.last.values()]).toEqual(['notification.removed', 'notification.removed']);
    const fresh = await replayed('01JC6Z1W3R2J4D5E6F7G8H9J0K', 1);
    expect(fresh.frames.map((f) => f.id)).toEqual([anchor.id]);

    await setSuspended(bad, false);
    await consume([standing(false)]);
    const back = await replayed(anchor.id, 2);
    expect([...back.last.keys()].sort()).toEqual(ids);
    expect([...back.last.values()].sort()).toEqual(['friend_request', 'post_like']);
    expect(back.frames.find((f) => f.type === 'post_like').data).toMatchObject({ count: 1, user: { id: bad.id } });
  });
});

describe('account.standing messages', () => {
  it("should bring the account's standing as D1 has it to every room and inbox named, whatever the message says, idempotently", async () => {
    const [bad, reader] = await users(2);
    const direct = await startDirect(bad, reader);
    await send(bad, direct.id, 'said before');
    await requestFriend(bad, reader);
    await waitForNotification(reader, 'friend_request');
    await waitForNotification(reader, 'new_message');
    const senders = async () => (await allMessages(reader, direct.id)).map((m) => m.sender.username);
    const message = (suspended: boolean) => ({ type: 'account.standing', user_id: bad.id, suspended, conversations: [direct.id], inboxes: [reader.id] });

    // Suspended in D1 alone: nothing else knows until the message comes.
    await setSuspended(bad, true);
    expect(await senders()).toEqual([bad.username]);
    expect(naming(await all(reader), bad)).toBe(true);
    const snapshots: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const { result } = await consume([message(true)], round);
      expect(result.explicitAcks).toHaveLength(1);
      expect(await senders()).toEqual(['']);
      const state = { list: await all(reader), unread: await unreadCount(reader) };
      expect(state).toEqual({ list: [], unread: 0 });
      snapshots.push(JSON.stringify(state));
    }
    expect(snapshots[1]).toBe(snapshots[0]);

    // A lift's message arriving before the lift committed (or after a later suspension) is retried, and
    // touches nothing meanwhile; once its patience runs out it tells them what D1 says.
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const early = await consume([message(false)]);
    expect(early.result.explicitAcks).toEqual([]);
    expect(early.result.retryMessages).toHaveLength(1);
    const spent = await consume([message(false)], STANDING_PATIENCE);
    expect(spent.result.explicitAcks).toHaveLength(1);
    expect(await senders()).toEqual(['']);
    expect(await all(reader)).toEqual([]);

    // Out of order: the suspension's message delivered after the lift restores, as D1 says.
    await setSuspended(bad, false);
    await consume([message(true)], STANDING_PATIENCE);
    expect(await senders()).toEqual([bad.username]);
    expect((await all(reader)).map((n) => n.type).sort()).toEqual(['friend_request', 'new_message']);
    expect(await unreadCount(reader)).toBe(2);
  });

  it('should find a lift no message brought by re-reading the accounts it hides a day later, and forget one deleted meanwhile', async () => {
    const [bad, gone, still, reader] = await users(4);
    await requestFriend(bad, reader);
    await follow(gone, reader);
    await follow(still, reader);
    await waitForNotification(reader, 'friend_request');
    await waitForNotification(reader, 'new_follower', (n) => n.data.count === 2);
    for (const user of [bad, gone, still]) await setSuspended(user, true);
    await consume([bad, gone, still].map((user) => ({ type: 'account.standing', user_id: user.id, suspended: true, conversations: [], inboxes: [reader.id] })));
    expect(await all(reader)).toEqual([]);
    const stub = env.INBOXES.get(env.INBOXES.idFromName(reader.id));
    const alarm = () => runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect((await alarm())! - Date.now()).toBeGreaterThan(STANDING_RECHECK_MS - 60_000);

    // Lifted with no message reaching this inbox, another deleted, the third still suspended.
    await setSuspended(bad, false);
    await env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(gone.id).run();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await all(reader)).map((n) => [n.type, n.data.from_user?.id])).toEqual([['friend_request', bad.id]]);
    expect(await alarm()).not.toBeNull();

    await setSuspended(still, false);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const group = (await all(reader)).find((n) => n.type === 'new_follower')!;
    expect(group.data).toMatchObject({ count: 1, follower: { id: still.id }, actors: [{ id: still.id }] });
    expect(naming(await all(reader), gone)).toBe(false);
    expect(await alarm()).toBeNull();
  });

  it('should send a malformed account.standing message to the dead-letter queue at once, with its reason', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const marker = `standing-${Math.random().toString(36).slice(2)}`;
    const tooMany = Array.from({ length: FAN_OUT_CHUNK + 1 }, (_, i) => `${marker}-${i}`);
    const { result } = await consume([
      { type: 'account.standing', user_id: marker, suspended: 'yes', conversations: [], inboxes: [marker] },
      { type: 'account.standing', user_id: marker, suspended: true, conversations: [], inboxes: [] },
      { type: 'account.standing', user_id: marker, suspended: true, conversations: tooMany, inboxes: [] },
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    const rows = await deadLetters(marker, 3);
    expect(rows.every((r) => r.queue === 'kith-fanout')).toBe(true);
    expect(rows.map((r) => r.reason.split(':')[0]).sort()).toEqual(['conversations', 'inboxes', 'suspended']);
  });
});

describe('Notifications naming a suspended account', () => {
  it('should not be delivered once it is suspended, and one arriving late at an inbox that hides it stays hidden until the lift', async () => {
    const [bad, reader] = await users(2);
    const target = await post(reader, 'a post');
    await setSuspended(bad, true);
    // An event of an action that passed its checks just before the suspension: nobody is notified.
    const pending: Promise<unknown>[] = [];
    publishEvent({ type: 'post_like', actorId: bad.id, recipientId: reader.id, postId: target.id }, { env, baseUrl: 'http://localhost' }, (p) => pending.push(p));
    await Promise.all(pending);
    await quiet();
    expect(await all(reader)).toEqual([]);

    // A delivery already on its way (queued before) reaches an inbox that hides the account: kept, unseen.
    await consume([{ type: 'account.standing', user_id: bad.id, suspended: true, conversations: [], inboxes: [reader.id] }]);
    const profile = { id: bad.id, username: bad.username, display_name: bad.username, avatar_url: null, bio: '', is_verified: false };
    await inboxOf(env as Env, reader.id).deliver({ type: 'friend_request', data: { request_id: 'r1', from_user: profile } });
    await inboxOf(env as Env, reader.id).deliver({ type: 'new_follower', data: { follower: profile }, groupKey: 'new_follower', actor: profile });
    expect(await all(reader)).toEqual([]);
    expect(await unreadCount(reader)).toBe(0);

    await setSuspended(bad, false);
    await consume([{ type: 'account.standing', user_id: bad.id, suspended: false, conversations: [], inboxes: [reader.id] }]);
    expect((await all(reader)).map((n) => n.type).sort()).toEqual(['friend_request', 'new_follower']);
    expect(await unreadCount(reader)).toBe(2);
    expect(await expectStatus(await call(`/users/${bad.id}`, { token: reader.accessToken }), 200)).toMatchObject({ id: bad.id });
  });
});
