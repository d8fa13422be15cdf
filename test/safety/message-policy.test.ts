import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { recordEvents } from '../helpers/events';
import { befriend, follow, ofType, quiet, setVisibility, users, waitForCount } from '../notifications/helpers';
import { openSocket } from '../messaging/socket-helpers';

const NOT_ACCEPTED = /\/messages-not-accepted$/;

const setPolicy = async (user: TestUser, message_policy: string) =>
  expect((await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { message_policy } }), 200)).message_policy).toBe(message_policy);
const createRaw = (user: TestUser, others: TestUser[], title?: string) => call('/conversations', { token: user.accessToken, body: { participant_ids: others.map((o) => o.id), title } });
const dmRaw = (from: TestUser, to: TestUser, content = 'hi') => call('/messages', { token: from.accessToken, body: { receiver_id: to.id, content } });
const sendRaw = (user: TestUser, convId: string, content: string) => call(`/conversations/${convId}/messages`, { token: user.accessToken, body: { content } });
const listRaw = (user: TestUser, query = '') => call(`/conversations${query}`, { token: user.accessToken });
const list = async (user: TestUser, query = '') => (await expectStatus(await listRaw(user, query), 200)).data as any[];

/** Asserts a 403 whose problem type ends in /messages-not-accepted. */
async function expectNotAccepted(res: Response, field?: string): Promise<any> {
  const problem = await expectProblem(res, 403, field);
  expect(problem.type).toMatch(NOT_ACCEPTED);
  return problem;
}

/** D1 rows of conversations the user is in (the whole index, not just a page). */
async function membershipCount(user: TestUser): Promise<number> {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM conversation_members WHERE user_id = ?1').bind(user.id).first<{ n: number }>())!.n;
}

describe('message_policy on the me shape', () => {
  it('should default to everyone and take each policy through PATCH /me', async () => {
    const user = await createUser();
    expect(user.me.message_policy).toBe('everyone');
    for (const policy of ['following', 'friends', 'nobody', 'everyone']) await setPolicy(user, policy);
  });

  it('should refuse an unknown message_policy with 400 naming the field', async () => {
    const user = await createUser();
    for (const message_policy of ['strangers', '', 'Everyone', null, 3]) {
      await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { message_policy } }), 400, 'message_policy');
    }
  });
});

describe('Who may message you', () => {
  it('should refuse a direct conversation and POST /messages to a nobody user with 403 /messages-not-accepted, creating nothing', async () => {
    const [stranger, victim] = await users(2);
    await setPolicy(victim, 'nobody');
    const problem = await expectNotAccepted(await createRaw(stranger, [victim]), 'participant_ids');
    expect(problem.errors).toEqual([{ field: 'participant_ids', message: `${victim.id} does not accept messages from you` }]);
    await expectNotAccepted(await dmRaw(stranger, victim), 'receiver_id');
    expect(await membershipCount(victim)).toBe(0);
    expect(await membershipCount(stranger)).toBe(0);
  });

  it('should refuse a group add of a nobody user with 403 and create nothing, at creation (whole) and through members', async () => {
    const [admin, friendly, other, nobody] = await users(4);
    await setPolicy(nobody, 'nobody');
    const problem = await expectNotAccepted(await createRaw(admin, [friendly, nobody, other], 'Party'), 'participant_ids');
    expect(problem.errors.map((e: any) => e.message)).toEqual([`${nobody.id} does not accept messages from you`]);
    for (const u of [admin, friendly, other, nobody]) expect(await membershipCount(u)).toBe(0);

    const group = await expectStatus(await createRaw(admin, [friendly, other], 'Party'), 201);
    await expectNotAccepted(await call(`/conversations/${group.id}/members`, { token: admin.accessToken, body: { user_ids: [nobody.id] } }), 'user_ids');
    const after = await expectStatus(await call(`/conversations/${group.id}`, { token: admin.accessToken }), 200);
    expect(after.participants.map((p: any) => p.id).sort()).toEqual([admin.id, friendly.id, other.id].sort());
    expect(await membershipCount(nobody)).toBe(0);
  });

  it('should admit only people they follow, and friends, under following', async () => {
    const [owner, followed, friend, stranger, follower] = await users(5);
    await setPolicy(owner, 'following');
    await follow(owner, followed);
    await befriend(owner, friend);
    await follow(follower, owner); // following the owner does not count: the owner must follow you
    await expectStatus(await createRaw(followed, [owner]), 201);
    await expectStatus(await dmRaw(friend, owner), 201);
    await expectNotAccepted(await createRaw(stranger, [owner]));
    await expectNotAccepted(await dmRaw(follower, owner));
  });

  it('should admit only friends under friends', async () => {
    const [owner, followed, friend] = await users(3);
    await setPolicy(owner, 'friends');
    await follow(owner, followed);
    await befriend(owner, friend);
    await expectNotAccepted(await createRaw(followed, [owner]));
    await expectStatus(await createRaw(friend, [owner]), 201);
  });

  it('should refuse nobody even to friends, while the nobody user can still start conversations', async () => {
    const [owner, friend] = await users(2);
    await befriend(owner, friend);
    await setPolicy(owner, 'nobody');
    await expectNotAccepted(await dmRaw(friend, owner));
    const conv = await expectStatus(await createRaw(owner, [friend]), 201);
    // The owner started it, so the friend may answer.
    await expectStatus(await sendRaw(friend, conv.id, 'hello back'), 201);
  });

  it('should stop a stranger who already has a conversation open once the recipient tightens the policy, over REST and the socket', async () => {
    const [stranger, victim] = await users(2);
    const conv = await expectStatus(await createRaw(stranger, [victim]), 201);
    await expectStatus(await sendRaw(stranger, conv.id, 'first'), 201);
    await setPolicy(victim, 'nobody');
    await expectNotAccepted(await sendRaw(stranger, conv.id, 'second'));
    await expectNotAccepted(await dmRaw(stranger, victim, 'third'));
    const sock = await openSocket(conv.id, stranger.accessToken);
    try {
      const reply = await sock.request({ type: 'message.send', client_id: 'x', content: 'fourth' }, (f) => f?.type === 'error' || f?.type === 'ack');
      expect(reply.data).toMatchObject({ type: 'error', status: 403 });
    } finally {
      sock.close();
    }
    const history = await expectStatus(await call(`/conversations/${conv.id}/messages`, { token: victim.accessToken }), 200);
    expect(history.data.map((m: any) => m.content)).toEqual(['first']);
  });

  it('should still hide blocked users with 404', async () => {
    const [a, b] = await users(2);
    await expectStatus(await call(`/users/${a.id}/block`, { method: 'POST', token: b.accessToken }), 200);
    await expectProblem(await createRaw(a, [b]), 404, 'participant_ids');
  });
});

describe('Message requests', () => {
  it('should make a stranger’s conversation a request for the recipient only, and file it by folder', async () => {
    const [stranger, victim, friend] = await users(3);
    await befriend(victim, friend);
    const fromStranger = await expectStatus(await createRaw(stranger, [victim]), 201);
    const fromFriend = await expectStatus(await createRaw(friend, [victim]), 201);
    expect(fromStranger.request).toBe(false); // the starter's own view
    const mine = await list(victim, '?limit=100');
    expect(mine.find((c) => c.id === fromStranger.id).request).toBe(true);
    expect(mine.find((c) => c.id === fromFriend.id).request).toBe(false);
    expect((await list(victim, '?folder=requests')).map((c) => c.id)).toEqual([fromStranger.id]);
    expect((await list(victim, '?folder=inbox')).map((c) => c.id)).toEqual([fromFriend.id]);
    expect((await expectStatus(await call(`/conversations/${fromStranger.id}`, { token: victim.accessToken }), 200)).request).toBe(true);
    expect((await list(stranger, '?folder=inbox')).map((c) => c.id)).toEqual([fromStranger.id]);
  });

  it('should not make it a request for someone who follows the starter', async () => {
    const [starter, follower] = await users(2);
    await follow(follower, starter);
    const conv = await expectStatus(await createRaw(starter, [follower]), 201);
    expect((await expectStatus(await call(`/conversations/${conv.id}`, { token: follower.accessToken }), 200)).request).toBe(false);
  });

  it('should refuse an unknown folder with 400 naming it', async () => {
    const user = await createUser();
    for (const folder of ['spam', 'REQUESTS', '']) await expectProblem(await listRaw(user, `?folder=${folder}`), 400, 'folder');
  });

  it('should notify a direct request once however many messages a stranger sends (30 messages, 1 notification)', async () => {
    const [stranger, victim] = await users(2);
    await setVisibility(victim, 'private');
    const rec = recordEvents();
    try {
      for (let i = 0; i < 30; i++) await expectStatus(await dmRaw(stranger, victim, `spam ${i}`), 201);
      await waitForCount(victim, 'new_message', 1);
      await quiet();
      const [n] = await ofType(victim, 'new_message');
      expect(n!.data.content).toBe('spam 0');
      expect((await ofType(victim, 'new_message')).length).toBe(1);
      expect(await expectStatus(await call('/notifications/unread_count', { token: victim.accessToken }), 200)).toEqual({ unread_count: 1 });
      // The room decided it: only the first message named the victim as a recipient.
      const events = rec.ofType('new_message').filter((e) => e.actorId === stranger.id);
      expect(events).toHaveLength(1);
      expect(events[0]!.recipientIds).toEqual([victim.id]);
    } finally {
      rec.stop();
    }
  });

  it('should notify each of ten strangers added to a group once (conversation_invite) however many messages follow', async () => {
    const spammer = await createUser();
    const victims = await users(10);
    await setVisibility(victims[0]!, 'private');
    const group = await expectStatus(await createRaw(spammer, victims, 'Free stuff'), 201);
    for (let i = 0; i < 30; i++) await expectStatus(await sendRaw(spammer, group.id, `buy ${i}`), 201);
    for (const v of victims) {
      const [invite] = await waitForCount(v, 'conversation_invite', 1);
      expect(invite!.data).toMatchObject({ conversation_id: group.id, title: 'Free stuff', request: true, from_user: { id: spammer.id } });
    }
    await quiet();
    for (const v of victims) {
      expect(await ofType(v, 'new_message')).toEqual([]);
      expect((await expectStatus(await call('/notifications/unread_count', { token: v.accessToken }), 200)).unread_count).toBe(1);
    }
  });

  it('should accept with POST /accept: request false, in the inbox, and notifying again', async () => {
    const [stranger, victim] = await users(2);
    const conv = await expectStatus(await createRaw(stranger, [victim]), 201);
    await expectStatus(await sendRaw(stranger, conv.id, 'one'), 201);
    await waitForCount(victim, 'new_message', 1);
    await expectStatus(await sendRaw(stranger, conv.id, 'two'), 201);
    const accepted = await expectStatus(await call(`/conversations/${conv.id}/accept`, { method: 'POST', token: victim.accessToken }), 200);
    expect(accepted).toMatchObject({ id: conv.id, request: false });
    expect((await list(victim, '?folder=inbox')).map((c) => c.id)).toEqual([conv.id]);
    expect(await list(victim, '?folder=requests')).toEqual([]);
    await expectStatus(await sendRaw(stranger, conv.id, 'three'), 201);
    const found = await waitForCount(victim, 'new_message', 2);
    expect(found.map((n) => n.data.content)).toEqual(['three', 'one']);
    // Accepting twice is a conflict: it is no longer a request.
    await expectProblem(await call(`/conversations/${conv.id}/accept`, { method: 'POST', token: victim.accessToken }), 409);
  });

  it('should accept a request when the member replies', async () => {
    const [stranger, victim] = await users(2);
    const conv = await expectStatus(await createRaw(stranger, [victim]), 201);
    await expectStatus(await sendRaw(stranger, conv.id, 'hello?'), 201);
    await expectStatus(await sendRaw(victim, conv.id, 'hi!'), 201);
    expect((await expectStatus(await call(`/conversations/${conv.id}`, { token: victim.accessToken }), 200)).request).toBe(false);
    expect((await list(victim, '?folder=inbox')).map((c) => c.id)).toEqual([conv.id]);
  });

  it('should decline with 204: the member leaves, their sockets close with 4403, and a stranger cannot add them back', async () => {
    const [spammer, victim, other, friendOfVictim] = await users(4);
    await befriend(friendOfVictim, victim);
    const group = await expectStatus(await createRaw(spammer, [victim, other]), 201);
    const sock = await openSocket(group.id, victim.accessToken);
    await expectStatus(await call(`/conversations/${group.id}/decline`, { method: 'POST', token: victim.accessToken }), 204);
    expect((await sock.closed(1000)).code).toBe(4403);
    await expectProblem(await call(`/conversations/${group.id}`, { token: victim.accessToken }), 404);
    expect(await list(victim)).toEqual([]);
    await expectNotAccepted(await call(`/conversations/${group.id}/members`, { token: spammer.accessToken, body: { user_ids: [victim.id] } }), 'user_ids');
    expect(await membershipCount(victim)).toBe(0);

    // Someone the victim is friends with may bring them back (once made an admin).
    await expectStatus(await call(`/conversations/${group.id}/members`, { token: spammer.accessToken, body: { user_ids: [friendOfVictim.id] } }), 200);
    await expectStatus(await call(`/conversations/${group.id}/members/${spammer.id}`, { method: 'DELETE', token: spammer.accessToken }), 204);
    await expectStatus(await call(`/conversations/${group.id}/members/${other.id}`, { method: 'DELETE', token: other.accessToken }), 204);
    await expectStatus(await call(`/conversations/${group.id}/members`, { token: friendOfVictim.accessToken, body: { user_ids: [victim.id] } }), 200);
    expect((await expectStatus(await call(`/conversations/${group.id}`, { token: victim.accessToken }), 200)).request).toBe(false);
  });

  it('should let a stranger’s direct request be declined: their further direct messages are refused', async () => {
    const [stranger, victim] = await users(2);
    await expectStatus(await dmRaw(stranger, victim, 'hey'), 201);
    const [conv] = await list(victim);
    await expectStatus(await call(`/conversations/${conv.id}/decline`, { method: 'POST', token: victim.accessToken }), 204);
    await expectNotAccepted(await dmRaw(stranger, victim, 'hey again'));
    await expectNotAccepted(await sendRaw(stranger, conv.id, 'hello?'));
    await expectNotAccepted(await createRaw(stranger, [victim]));
    expect(await membershipCount(victim)).toBe(0);
    // The victim can still write to the stranger later: that puts them back, on their own initiative.
    const msg = await expectStatus(await dmRaw(victim, stranger, 'changed my mind'), 201);
    expect(msg.conversation_id).toBe(conv.id);
    expect((await list(victim)).map((c) => [c.id, c.request])).toEqual([[conv.id, false]]);
  });

  it('should answer 409 to accept or decline on a conversation that is not a request, and 404 to a non-member', async () => {
    const [a, b, outsider] = await users(3);
    await follow(b, a);
    const conv = await expectStatus(await createRaw(a, [b]), 201);
    for (const action of ['accept', 'decline']) {
      await expectProblem(await call(`/conversations/${conv.id}/${action}`, { method: 'POST', token: b.accessToken }), 409);
      await expectProblem(await call(`/conversations/${conv.id}/${action}`, { method: 'POST', token: a.accessToken }), 409);
      await expectProblem(await call(`/conversations/${conv.id}/${action}`, { method: 'POST', token: outsider.accessToken }), 404);
      await expectProblem(await call(`/conversations/01JC6Z1W3R2J4D5E6F7G8H9J0K/${action}`, { method: 'POST', token: a.accessToken }), 404);
      await expectProblem(await call(`/conversations/not-an-id/${action}`, { method: 'POST', token: a.accessToken }), 400, 'id');
      await expectProblem(await call(`/conversations/${conv.id}/${action}`, { method: 'POST' }), 401);
    }
  });
});
