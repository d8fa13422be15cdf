import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inboxOf, type UserInbox } from '../../src/modules/notifications/user-inbox';
import { FAN_OUT_CHUNK } from '../../src/queues/fanout.producer';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { consume as consumeQueue, deadLetters } from '../helpers/queues';
import { allMessages, getConversationRaw, listedConversation, memberRow, removeMemberRaw, roomStub, send, startDirect, startGroup, users } from '../messaging/helpers';
import { openSocket } from '../messaging/socket-helpers';
import { createCommunity, join, leaveRaw } from '../communities/helpers';
import { befriend, eventually, follow, like, notifications, post, waitForNotification } from '../notifications/helpers';

const deleteAccount = async (user: TestUser) => expect((await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } })).status).toBe(204);

/** Runs the fan-out queue's consumer on one batch, as Queues would. */
const consume = (bodies: unknown[], attempts = 1) => consumeQueue('kith-fanout', bodies, attempts);

/** How many removals an inbox has recorded (each one a `notification.removed` sent). */
const removals = (userId: string) =>
  runInDurableObject(env.INBOXES.get(env.INBOXES.idFromName(userId)) as DurableObjectStub<UserInbox>, (_, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM removed').one().n);

afterEach(() => vi.restoreAllMocks());

describe('DELETE /me: what lives outside D1', () => {
  it("should tombstone the account's messages and drop it from every conversation, keeping everyone else's", async () => {
    const [gone, partner, member, alone1, alone2] = await users(5);
    const direct = await startDirect(gone, partner);
    await send(gone, direct.id, 'hello from me');
    const kept = await send(partner, direct.id, 'hello back');
    await send(gone, direct.id, 'my last words');
    const group = await startGroup(gone, [partner, member], 'trio');
    const groupKept = await send(member, group.id, 'group words');
    await send(gone, group.id, 'admin words');
    // A group everyone else left: nobody is left once the account goes.
    const empty = await startGroup(gone, [alone1, alone2], 'soon empty');
    await send(gone, empty.id, 'anyone?');
    for (const u of [alone1, alone2]) expect((await removeMemberRaw(u, empty.id, u.id)).status).toBe(204);

    const watching = await openSocket(direct.id, partner.accessToken, { label: 'partner' });
    const leaving = await openSocket(direct.id, gone.accessToken, { label: 'gone' });

    await deleteAccount(gone);

    // Open sockets learn of each tombstone; the account's own socket closes.
    await watching.waitUntil((s) => s.ofType('message.deleted').length === 2, 'two message.deleted frames');
    expect(watching.ofType('message.deleted')).toEqual([1, 3].map((seq) => ({ type: 'message.deleted', conversation_id: direct.id, seq })));
    expect((await leaving.closed()).code).toBe(4403);
    watching.close();
    const messages = await allMessages(partner, direct.id);
    expect(messages.filter((m) => m.deleted).map((m) => m.seq)).toEqual([1, 3]);
    for (const m of messages.filter((m) => m.deleted)) expect(m).toMatchObject({ sender: null, content: '', media: [], deleted: true });
    expect(messages[1]).toMatchObject({ id: kept.id, content: 'hello back', deleted: false, sender: { id: partner.id } });
    expect(JSON.stringify(messages)).not.toContain(gone.id);
    // The direct conversation stays for the partner, who is its only participant now.
    const conversation = await eventually(async () => {
      const found = await expectStatus(await getConversationRaw(partner, direct.id), 200);
      expect(found.last_message).toMatchObject({ id: kept.id });
      return found;
    });
    expect(conversation.participants.map((p: { id: string }) => p.id)).toEqual([partner.id]);
    expect((await call(`/conversations/${direct.id}/messages`, { token: partner.accessToken, body: { content: 'are you there?' } })).status).toBe(403);

    // The group keeps working for the others, with a new admin and the account's words gone.
    const inGroup = await eventually(async () => {
      const listed = await listedConversation(member, group.id);
      expect(listed.last_message).toMatchObject({ id: groupKept.id });
      return listed;
    }, 10_000);
    expect(inGroup.participants.map((p: { id: string }) => p.id).sort()).toEqual([partner.id, member.id].sort());
    expect([(await memberRow(group.id, partner.id))?.role, (await memberRow(group.id, member.id))?.role].sort()).toEqual(['admin', 'member']);
    await send(member, group.id, 'still here');
    expect((await allMessages(partner, group.id)).map((m) => [m.content, m.sender?.id ?? null])).toEqual([
      ['group words', member.id],
      ['', null],
      ['still here', member.id],
    ]);

    // The group nobody is left in is erased, in D1 and in its room.
    await eventually(async () => expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM conversations WHERE id = ?1').bind(empty.id).first('n')).toBe(0), 10_000);
    expect(await runInDurableObject(roomStub(empty.id), (_, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM messages').one().n)).toBe(0);
  });

  it('should tombstone what the account wrote in a group it had left before the deletion', async () => {
    const [gone, admin, member] = await users(3);
    const group = await startGroup(admin, [gone, member], 'left earlier');
    await send(gone, group.id, 'said before leaving');
    const kept = await send(member, group.id, 'still here');
    expect((await removeMemberRaw(gone, group.id, gone.id)).status).toBe(204);
    // D1 no longer lists it as a member, only as a departure (what the deletion reads to find the room).
    const departures = () => env.DB.prepare('SELECT COUNT(*) AS n FROM conversation_departures WHERE user_id = ?1 AND conversation_id = ?2').bind(gone.id, group.id).first<{ n: number }>();
    expect((await departures())?.n).toBe(1);

    await deleteAccount(gone);

    const messages = await eventually(async () => {
      const all = await allMessages(member, group.id);
      expect(all[0]).toMatchObject({ seq: 1, deleted: true, sender: null, content: '' });
      return all;
    }, 10_000);
    expect(messages[1]).toMatchObject({ id: kept.id, content: 'still here', deleted: false, sender: { id: member.id } });
    expect(JSON.stringify(messages)).not.toContain(gone.id);
    expect((await departures())?.n).toBe(0);
  });

  it("should note a departure from a community's chat when its member leaves the community, and none on joining", async () => {
    const [owner, leaver] = await users(2);
    const community = await createCommunity(owner);
    await join(leaver, community.id);
    const noted = () =>
      env.DB.prepare('SELECT COUNT(*) AS n FROM conversation_departures WHERE user_id = ?1 AND conversation_id = ?2').bind(leaver.id, community.conversation_id).first<{ n: number }>();
    expect((await noted())?.n).toBe(0);
    expect((await leaveRaw(leaver, community.id)).status).toBe(204);
    expect((await noted())?.n).toBe(1);
  });

  it("should take the account's posts and profile out of its friends', followers' and mentioned people's notifications", async () => {
    const [gone, friend, follower, mentioned, bystander] = await users(5);
    await befriend(gone, friend);
    await follow(follower, gone);
    const words = await post(gone, `a post that should vanish, hi @${mentioned.username}`);
    const friendsPost = await post(friend, 'like this');
    await like(gone, friendsPost.id);
    await like(bystander, friendsPost.id);
    await waitForNotification(friend, 'new_post', (n) => n.data.id === words.id);
    await waitForNotification(follower, 'new_post', (n) => n.data.id === words.id);
    await waitForNotification(mentioned, 'mention', (n) => n.data.post_id === words.id);
    await waitForNotification(friend, 'post_like', (n) => n.data.count === 2);

    await deleteAccount(gone);

    for (const user of [friend, follower, mentioned]) {
      await eventually(async () => expect(JSON.stringify((await notifications(user, 'limit=100')).data)).not.toContain(gone.id), 10_000);
    }
    // A grouped notification keeps everyone else.
    const likes = (await notifications(friend, 'limit=100')).data.find((n) => n.type === 'post_like');
    expect(likes?.data).toMatchObject({ count: 1, user: { id: bystander.id } });
  });

  it('should forget an account through the queue once it is gone from D1, idempotently, and dead-letter invalid messages', async () => {
    const [gone, partner] = await users(2);
    const direct = await startDirect(gone, partner);
    await send(gone, direct.id, 'about to go');
    await send(partner, direct.id, 'mine stays');
    await waitForNotification(partner, 'new_message', (n) => n.data.sender.id === gone.id);
    await waitForNotification(gone, 'new_message', (n) => n.data.sender.id === partner.id);
    const message = { type: 'account.forget', user_id: gone.id, conversations: [direct.id], inboxes: [partner.id], own_inbox: true };

    // Still in D1 (its deletion has not committed): retried, and nothing is touched.
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const early = await consume([message]);
    expect(early.result.explicitAcks).toEqual([]);
    expect(early.result.retryMessages.map((r) => r.msgId)).toEqual([early.batch.messages[0]!.id]);
    expect((await allMessages(partner, direct.id)).map((m) => m.deleted)).toEqual([false, false]);
    expect((await inboxOf(env as Env, gone.id).list({ unread: false, limit: 5 })).data).not.toEqual([]);

    // Gone from D1 without DELETE /me, so only this test's batches clean up after it.
    await env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(gone.id).run();
    const snapshots: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const { result } = await consume([message], round);
      expect(result.explicitAcks).toHaveLength(1);
      const state = {
        history: await allMessages(partner, direct.id),
        inbox: await inboxOf(env as Env, partner.id).list({ unread: false, limit: 50 }),
        removals: await removals(partner.id),
        own: await inboxOf(env as Env, gone.id).list({ unread: false, limit: 50 }),
      };
      expect(state.own.data).toEqual([]);
      expect(state.history.map((m) => [m.content, m.deleted])).toEqual([
        ['', true],
        ['mine stays', false],
      ]);
      expect(JSON.stringify(state.inbox)).not.toContain(gone.id);
      expect(state.removals).toBeGreaterThan(0);
      snapshots.push(JSON.stringify(state));
    }
    expect(snapshots[1]).toBe(snapshots[0]);

    // Messages that can never succeed go to the dead-letter queue at once, with the reason kept.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const marker = `forget-${Math.random().toString(36).slice(2)}`;
    const tooMany = Array.from({ length: FAN_OUT_CHUNK + 1 }, (_, i) => `${marker}-${i}`);
    const { result } = await consume([
      { type: 'account.forget', user_id: marker, conversations: [], inboxes: [] },
      { type: 'account.forget', user_id: marker, conversations: [], inboxes: tooMany },
      { type: 'account.forget', conversations: [direct.id], inboxes: [], marker },
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    const rows = await deadLetters(marker, 3);
    expect(rows.every((r) => r.queue === 'kith-fanout')).toBe(true);
    expect(rows.map((r) => r.reason.split(':')[0]).sort()).toEqual(['inboxes', 'inboxes', 'user_id']);
    expect(rows.some((r) => r.reason.includes(`names 1 to ${FAN_OUT_CHUNK}`))).toBe(true);
  });
});
