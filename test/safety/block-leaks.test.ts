import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runModerationJobs } from '../../src/scheduled';
import { call, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { openSocket, settle, type TestSocket } from '../messaging/socket-helpers';
import { befriend, block, comment, eventually, follow, post, setVisibility, users } from '../notifications/helpers';

/**
 * Hostile-review findings about blocks and suspensions: paths by which one side of a block kept
 * learning about the other, or by which a suspended account could be told apart from a deleted one.
 */

/** How a member hidden from the viewer (a block either way, or a suspension) appears in a conversation. */
const hidden = (user: TestUser) => ({ id: user.id, username: '', display_name: '', avatar_url: null, bio: '', is_verified: false });

const rename = async (user: TestUser, display_name: string) =>
  expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name, bio: `${display_name}, lately` } }), 200);

const conversationAs = async (user: TestUser, id: string) => expectStatus(await call(`/conversations/${id}`, { token: user.accessToken }), 200);
const listedAs = async (user: TestUser, id: string) => (await expectStatus(await call('/conversations?limit=100', { token: user.accessToken }), 200)).data.find((c: { id: string }) => c.id === id);
const historyAs = async (user: TestUser, id: string) => (await expectStatus(await call(`/conversations/${id}/messages?limit=100`, { token: user.accessToken }), 200)).data;
const participant = (conversation: { participants: { id: string; display_name: string }[] }, user: TestUser) => conversation.participants.find((p) => p.id === user.id);

/** Every `typing` or `read` frame about `user` that `socket` received after frame index `from`. */
const activityOf = (socket: TestSocket, user: TestUser, from: number) =>
  socket.frames.slice(from).filter((f) => (f?.type === 'typing' && f.user?.id === user.id) || (f?.type === 'read' && f.user_id === user.id));

/** `user` reads everything on `socket`; resolves once their own socket has its read frame back. */
async function readAll(socket: TestSocket, user: TestUser): Promise<void> {
  const from = socket.received.length;
  socket.send({ type: 'read' });
  await socket.next((f) => f?.type === 'read' && f.user_id === user.id, `${user.username}'s own read`, from);
}

/**
 * A group `host` starts with `members`, who follow the host first (so it is no message request for them),
 * and one socket open for everyone, the host first.
 */
async function groupWithSockets(host: TestUser, members: TestUser[]): Promise<{ id: string; sockets: TestSocket[] }> {
  for (const member of members) await follow(member, host);
  const group = await expectStatus(await call('/conversations', { token: host.accessToken, body: { participant_ids: members.map((m) => m.id), title: 'a group' } }), 201);
  const sockets: TestSocket[] = [];
  for (const user of [host, ...members]) sockets.push(await openSocket(group.id, user.accessToken, { label: user.username }));
  return { id: group.id, sockets };
}

describe('Blocks in a direct conversation', () => {
  // b has a message left to read; the block is made by either side.
  it.each([['b', 'the reader blocks'], ['a', 'the reader is blocked']])('should show neither side anything current of the other, and relay no typing or read between them (%s blocks: %s)', async (blockerName) => {
    const [a, b] = await users(2);
    const opened = await expectStatus(await call('/messages', { token: a.accessToken, body: { receiver_id: b.id, content: 'hello b' } }), 201);
    const id = opened.conversation_id;
    await expectStatus(await call(`/conversations/${id}/messages`, { token: b.accessToken, body: { content: 'hello a' } }), 201);
    await expectStatus(await call(`/conversations/${id}/messages`, { token: a.accessToken, body: { content: 'how are you?' } }), 201);
    const [aSock, bSock] = [await openSocket(id, a.accessToken, { label: 'a' }), await openSocket(id, b.accessToken, { label: 'b' })];
    try {
      // Before the block each side sees the other typing.
      const before = bSock.received.length;
      aSock.send({ type: 'typing' });
      await bSock.next((f) => f?.type === 'typing' && f.user.id === a.id, "a's typing before the block", before);

      const [blocker, blocked] = blockerName === 'b' ? [b, a] : [a, b];
      await block(blocker, blocked);
      const names = new Map([[a.id, 'A after the block'], [b.id, 'B after the block']]);
      await rename(a, names.get(a.id)!);
      await rename(b, names.get(b.id)!);
      const [aFrom, bFrom] = [aSock.received.length, bSock.received.length];
      aSock.send({ type: 'typing' });
      bSock.send({ type: 'typing' });
      await readAll(bSock, b);
      await settle();
      expect(activityOf(bSock, a, bFrom)).toEqual([]);
      expect(activityOf(aSock, b, aFrom)).toEqual([]);

      // Each sees the other as nobody in particular: in the conversation, the list and the history.
      for (const [viewer, other] of [[b, a], [a, b]] as const) {
        expect(participant(await conversationAs(viewer, id), other)).toEqual(hidden(other));
        expect(participant(await listedAs(viewer, id), other)).toEqual(hidden(other));
        expect(participant(await listedAs(viewer, id), viewer)?.display_name).toBe(names.get(viewer.id));
        const history = await historyAs(viewer, id);
        const theirs = history.filter((m: { sender: { id: string } }) => m.sender.id === other.id);
        expect(theirs.length).toBeGreaterThan(0);
        for (const m of theirs) expect(m.sender).toEqual(hidden(other));
        expect(JSON.stringify(history)).not.toContain(names.get(other.id));
      }
      expect((await listedAs(b, id)).last_message.sender).toEqual(hidden(a));

      // Neither may continue it (403: the conversation is theirs, the act is refused), nor rewrite what they said.
      for (const [sender, socket] of [[a, aSock], [b, bSock]] as const) {
        await expectProblem(await call(`/conversations/${id}/messages`, { token: sender.accessToken, body: { content: 'still there?' } }), 403);
        const refused = await socket.request({ type: 'message.send', client_id: `after-${sender.username}`, content: 'hello?' }, (f) => f?.type === 'error', 'a refusal');
        expect(refused.data).toMatchObject({ status: 403 });
      }
      await expectProblem(await call(`/conversations/${id}/messages/1`, { method: 'PATCH', token: a.accessToken, body: { content: 'edited after the block' } }), 403);

      // Unblocked, they see each other again.
      await expectStatus(await call(`/users/${blocked.id}/block`, { method: 'DELETE', token: blocker.accessToken }), 204);
      expect(participant(await conversationAs(b, id), a)?.display_name).toBe(names.get(a.id));
      const from = bSock.received.length;
      aSock.send({ type: 'typing' });
      await bSock.next((f) => f?.type === 'typing' && f.user.id === a.id, "a's typing after the unblock", from);
    } finally {
      aSock.close();
      bSock.close();
    }
  });
});

describe('Blocks in a group conversation', () => {
  it('should keep the group going for everyone while the two see nothing current of each other and no typing or reads', async () => {
    const [a, b, c] = await users(3);
    const { id, sockets } = await groupWithSockets(a, [b, c]);
    const [aSock, bSock, cSock] = sockets as [TestSocket, TestSocket, TestSocket];
    try {
      await expectStatus(await call(`/conversations/${id}/messages`, { token: c.accessToken, body: { content: 'hello both' } }), 201);
      await block(a, b);
      await rename(a, 'A in the group');
      const [aFrom, bFrom, cFrom] = [aSock.received.length, bSock.received.length, cSock.received.length];
      aSock.send({ type: 'typing' });
      bSock.send({ type: 'typing' });
      await readAll(aSock, a);
      await readAll(bSock, b);
      // The third member still sees both.
      for (const user of [a, b]) {
        await cSock.next((f) => f?.type === 'typing' && f.user.id === user.id, `${user.username}'s typing`, cFrom);
        await cSock.next((f) => f?.type === 'read' && f.user_id === user.id, `${user.username}'s read`, cFrom);
      }
      await settle();
      expect(activityOf(bSock, a, bFrom)).toEqual([]);
      expect(activityOf(aSock, b, aFrom)).toEqual([]);

      // Messages still reach every member; to the other side of the block their sender is nobody in particular.
      const sent = await expectStatus(await call(`/conversations/${id}/messages`, { token: a.accessToken, body: { content: 'hello group' } }), 201);
      const toB = await bSock.next((f) => f?.type === 'message.new' && f.message.seq === sent.seq, 'the message on b', bFrom);
      const toC = await cSock.next((f) => f?.type === 'message.new' && f.message.seq === sent.seq, 'the message on c', cFrom);
      expect(toB.data.message.sender).toEqual(hidden(a));
      expect(toC.data.message.sender.display_name).toBe('A in the group');
      expect((await historyAs(b, id)).find((m: { seq: number }) => m.seq === sent.seq).sender).toEqual(hidden(a));
      expect((await historyAs(c, id)).find((m: { seq: number }) => m.seq === sent.seq).sender.display_name).toBe('A in the group');
      expect(participant(await conversationAs(b, id), a)).toEqual(hidden(a));
      expect(participant(await conversationAs(a, id), b)).toEqual(hidden(b));
      expect(participant(await conversationAs(c, id), a)?.display_name).toBe('A in the group');
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe('Blocks that predate a shared conversation', () => {
  it('should keep apart two people someone else puts in one group after one blocked the other', async () => {
    const [host, a, b] = await users(3);
    await block(a, b);
    const { id, sockets } = await groupWithSockets(host, [a, b]);
    const [hostSock, aSock, bSock] = sockets as [TestSocket, TestSocket, TestSocket];
    try {
      expect(participant(await conversationAs(b, id), a)).toEqual(hidden(a));
      const [aFrom, hostFrom] = [aSock.received.length, hostSock.received.length];
      bSock.send({ type: 'typing' });
      await hostSock.next((f) => f?.type === 'typing' && f.user.id === b.id, "b's typing on the host", hostFrom);
      await settle();
      expect(activityOf(aSock, b, aFrom)).toEqual([]);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  it("should not hand someone the profile of whoever blocked them when they block back", async () => {
    const [a, b] = await users(2);
    await block(a, b);
    await rename(a, 'A, private now');
    const back = await expectStatus(await call(`/users/${a.id}/block`, { method: 'POST', token: b.accessToken }), 200);
    expect(back).toEqual({ blocking: true, user: hidden(a) });
    // The first blocker, who could see the other until then, is shown whom they blocked.
    const [c, d] = await users(2);
    expect((await expectStatus(await call(`/users/${d.id}/block`, { method: 'POST', token: c.accessToken }), 200)).user).toMatchObject({ id: d.id, username: d.username });
  });
});

describe('Suspended members in conversations', () => {
  it('should show a suspended member as a hidden user in every conversation they are or were in, live call included, and as themselves once lifted', async () => {
    const [host, member, caller] = await users(3);
    const staff = await createStaff('moderator');
    const { id, sockets } = await groupWithSockets(host, [member, caller]);
    const [hostSock, memberSock, callerSock] = sockets as [TestSocket, TestSocket, TestSocket];
    // A group the member wrote in and left: its room keeps their profile for their old messages.
    const leftId = (await expectStatus(await call('/conversations', { token: host.accessToken, body: { participant_ids: [member.id, caller.id], title: 'left' } }), 201)).id;
    await expectStatus(await call(`/conversations/${leftId}/messages`, { token: member.accessToken, body: { content: 'before I go' } }), 201);
    expect((await call(`/conversations/${leftId}/members/${member.id}`, { method: 'DELETE', token: member.accessToken })).status).toBe(204);
    try {
      // A call the member is in, and a message from them as the conversation's last.
      const callId = `suspension-${Date.now()}`;
      callerSock.send({ type: 'call.invite', call_id: callId, media: 'audio', sdp: 'v=0\r\n' });
      for (const socket of [hostSock, memberSock]) {
        await socket.next((f) => f?.type === 'call.invite' && f.call_id === callId, 'the ring');
        socket.send({ type: 'call.join', call_id: callId });
        await callerSock.next((f) => f?.type === 'call.joined' && f.user.id === (socket === hostSock ? host.id : member.id), 'the join');
      }
      await expectStatus(await call(`/conversations/${id}/messages`, { token: member.accessToken, body: { content: 'hello from the member' } }), 201);
      const hostFrom = hostSock.received.length;

      /** Whether `viewer` sees the member as `expected` everywhere: participants, list, last message, history, replays. */
      const seenAs = async (viewer: TestUser, expected: (sender: unknown) => void) => {
        expected(participant(await conversationAs(viewer, id), member));
        const listed = await listedAs(viewer, id);
        expected(participant(listed, member));
        expected(listed.last_message.sender);
        for (const conversation of [id, leftId]) {
          const theirs = (await historyAs(viewer, conversation)).filter((m: { sender: { id: string } }) => m.sender.id === member.id);
          expect(theirs.length).toBeGreaterThan(0);
          for (const m of theirs) expected(m.sender);
        }
        const replay = await openSocket(id, viewer.accessToken, { afterSeq: 0, label: 'replay' });
        try {
          await replay.waitUntil((s) => s.messages.some((m) => m.content === 'hello from the member'), 'the replay');
          for (const m of replay.messages.filter((m) => m.sender.id === member.id)) expected(m.sender);
        } finally {
          replay.close();
        }
      };
      const real = (sender: unknown) => expect(sender).toMatchObject({ id: member.id, username: member.username });
      const gone = (sender: unknown) => expect(sender).toEqual(hidden(member));
      // The rooms hear of a suspension and its lift through the fan-out queue (account.standing), moments later.
      const settled = (viewer: TestUser, expected: (sender: unknown) => void) => eventually(() => seenAs(viewer, expected), 10_000);

      await act(staff, member, 'suspend');
      // They leave the call, as nobody in particular.
      expect((await hostSock.next((f) => f?.type === 'call.hangup', 'the member leaving the call', hostFrom)).data).toMatchObject({ call_id: callId, from: hidden(member) });
      for (const viewer of [host, caller]) await settled(viewer, gone);
      expect(JSON.stringify(hostSock.frames.slice(hostFrom))).not.toContain(member.username);

      await act(staff, member, 'unsuspend');
      await settled(host, real);

      // A timed suspension, lifted by the Cron Trigger.
      await act(staff, member, 'suspend', { duration_hours: 1 });
      await settled(caller, gone);
      await runModerationJobs(env, Date.now() + 2 * 60 * 60 * 1000);
      await settled(caller, real);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe('Relations with a suspended account', () => {
  it('should answer every relation endpoint as for an account that does not exist', async () => {
    const [target, follower, friend, muter, blocker, owner] = await users(6);
    await follow(follower, target);
    await befriend(friend, target);
    await expectStatus(await call(`/users/${target.id}/mute`, { method: 'POST', token: muter.accessToken }), 200);
    await block(blocker, target);
    await setVisibility(owner, 'private');
    await follow(target, owner);
    const asked = await expectStatus(await call('/friends/requests', { token: target.accessToken, body: { user_id: owner.id } }), 201);
    const community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Suspensions ${Date.now()}` } }), 201);
    await expectStatus(await call(`/communities/${community.id}/join`, { method: 'POST', token: target.accessToken }), 200);
    const staff = await createStaff('moderator');
    await act(staff, target, 'suspend');

    const missing = '01JC6Z1W3R2J4D5E6F7G8H9J0K';
    for (const id of [missing, target.id]) {
      await expectProblem(await call(`/users/${id}/follow`, { method: 'DELETE', token: follower.accessToken }), 404);
      await expectProblem(await call(`/friends/${id}`, { method: 'DELETE', token: friend.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/mute`, { method: 'DELETE', token: muter.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/block`, { method: 'POST', token: follower.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/block`, { method: 'DELETE', token: blocker.accessToken }), 404);
      await expectProblem(await call(`/follow_requests/${id}/accept`, { method: 'POST', token: owner.accessToken }), 404);
      await expectProblem(await call(`/follow_requests/${id}/reject`, { method: 'POST', token: owner.accessToken }), 404);
      await expectProblem(await call(`/communities/${community.id}/members/${id}`, { token: owner.accessToken, body: { role: 'owner' } }), 404);
      await expectProblem(await call(`/communities/${community.id}/members/${id}`, { method: 'DELETE', token: owner.accessToken }), 404);
    }
    await expectProblem(await call(`/friends/requests/${asked.id}/accept`, { method: 'POST', token: owner.accessToken }), 404);
    await expectProblem(await call(`/friends/requests/${asked.id}/decline`, { method: 'POST', token: owner.accessToken }), 404);
    // Lists leave it out, as they would a deleted account, the block list and mute list included.
    const blocks = await expectStatus(await call('/me/blocks', { token: blocker.accessToken }), 200);
    expect(blocks.data.map((e: { user: { id: string } }) => e.user.id)).not.toContain(target.id);
    const mutes = await expectStatus(await call('/me/mutes', { token: muter.accessToken }), 200);
    expect(mutes.data.map((e: { user: { id: string } }) => e.user.id)).not.toContain(target.id);

    // Nothing was undone meanwhile: once the suspension is lifted, every relation is there to manage.
    await act(staff, target, 'unsuspend');
    const back = await expectStatus(await call('/me/blocks', { token: blocker.accessToken }), 200);
    expect(back.data.map((e: { user: { id: string } }) => e.user.id)).toContain(target.id);
    await expectProblem(await call(`/users/${target.id}`, { token: blocker.accessToken }), 404);
    await expectStatus(await call(`/users/${target.id}/block`, { method: 'DELETE', token: blocker.accessToken }), 204);
    await expectStatus(await call(`/friends/requests/${asked.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
    await expectStatus(await call(`/follow_requests/${target.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
    expect(await expectStatus(await call(`/users/${target.id}/follow`, { method: 'DELETE', token: follower.accessToken }), 200)).toEqual({ following: false, requested: false });
    expect((await expectStatus(await call(`/communities/${community.id}/members/${target.id}`, { token: owner.accessToken, body: { role: 'moderator' } }), 200)).role).toBe('moderator');
  });
});

describe('Replies under a hidden comment', () => {
  it('should answer 404 for the thread of a comment whose author blocks the caller, or whom the caller blocks', async () => {
    const [author, commenter, replier, blocked, blocking] = await users(5);
    const p = await post(author, 'a public post');
    const top = await comment(commenter, p.id, 'a top-level comment');
    const reply = await comment(replier, p.id, 'a reply under it', top.id);
    await block(commenter, blocked);
    await block(blocking, commenter);
    for (const viewer of [blocked, blocking]) {
      const listed = await expectStatus(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken }), 200);
      expect(listed.data.map((k: { id: string }) => k.id)).not.toContain(top.id);
      await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: viewer.accessToken }), 404, 'parent_id');
      await expectProblem(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken, body: { content: 'me too', parent_id: top.id } }), 404, 'parent_id');
      // The reply itself, though its author is visible, lives in a thread the caller cannot see.
      await expectProblem(await call('/reports', { token: viewer.accessToken, body: { subject_type: 'comment', subject_id: reply.id, category: 'spam' } }), 404);
    }
    // Everyone else still reads the thread.
    const thread = await expectStatus(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: author.accessToken }), 200);
    expect(thread.data.map((k: { id: string }) => k.id)).toEqual([reply.id]);
  });

  it('should answer 404 for the thread of a suspended account\'s comment, as for a deleted one', async () => {
    const [author, commenter, replier, reader] = await users(4);
    const p = await post(author, 'another public post');
    const top = await comment(commenter, p.id, 'soon suspended');
    await comment(replier, p.id, 'a reply', top.id);
    await act(await createStaff('moderator'), commenter, 'suspend');
    for (const viewer of [reader, author]) {
      await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: viewer.accessToken }), 404, 'parent_id');
      await expectProblem(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken, body: { content: 'reply to nobody', parent_id: top.id } }), 404, 'parent_id');
    }
    await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`), 404, 'parent_id');
  });
});
