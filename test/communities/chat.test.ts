import { afterEach, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import {
  addMembersRaw,
  conversations,
  CONVERSATION_KEYS,
  expectPublicUser,
  getConversationRaw,
  historyRaw,
  removeMemberRaw as removeConversationMemberRaw,
  send,
  sendRaw,
} from '../messaging/helpers';
import { closeAll, connect, openSocket, settle, type TestSocket } from '../messaging/socket-helpers';
import {
  addMember,
  createCommunity,
  deleteCommunityRaw,
  getCommunity,
  join,
  leaveRaw,
  patchCommunityRaw,
  removeMemberRaw,
  setRoleRaw,
  users,
} from './helpers';

// ---------------------------------------------------------------- local helpers

const opened: TestSocket[] = [];
async function open(conversationId: string, user: TestUser, options: Parameters<typeof openSocket>[2] = {}): Promise<TestSocket> {
  const socket = await openSocket(conversationId, user.accessToken, { label: `${user.username}#${opened.length}`, ...options });
  opened.push(socket);
  return socket;
}
afterEach(() => {
  closeAll(...opened.splice(0));
});

/** GET /conversations/{id} as `user`, 200. */
async function getConversation(user: TestUser, conversationId: string): Promise<any> {
  return expectStatus(await getConversationRaw(user, conversationId), 200);
}

/** Whether `user`'s GET /conversations lists the conversation (first page of 100). */
async function listed(user: TestUser, conversationId: string): Promise<any | undefined> {
  return (await conversations(user, '?limit=100')).data.find((c) => c.id === conversationId);
}

/** A refused upgrade: the status as a problem, and no socket. */
async function expectRefused(res: Response, status: number): Promise<void> {
  expect(res.status, `upgrade should be refused with ${status}`).toBe(status);
  expect(res.webSocket ?? null, 'no socket on a refused upgrade').toBeNull();
  await expectProblem(res, status);
}

/** `user` is not in the chat: not listed, GET/history/send 404, the socket refused. */
async function expectOutOfChat(user: TestUser, conversationId: string): Promise<void> {
  await expectProblem(await getConversationRaw(user, conversationId), 404);
  expect(await listed(user, conversationId), `${user.username} should not list the chat`).toBeUndefined();
  await expectProblem(await historyRaw(user, conversationId), 404);
  await expectProblem(await sendRaw(user, conversationId, { content: `from ${user.username}` }), 404);
  await expectRefused(await connect(conversationId, user.accessToken), 404);
}

/** The sender ids of every message in the chat, oldest first, as `reader` reads them. */
async function senders(reader: TestUser, conversationId: string): Promise<string[]> {
  const body = await expectStatus(await historyRaw(reader, conversationId, { after_seq: 0, limit: 100 }), 200);
  return body.data.map((m: any) => m.sender?.id);
}

// ---------------------------------------------------------------- tests

describe('Community chat: creation', () => {
  it('should put the owner in the community’s chat, listed with kind community, community_id and the name as title', async () => {
    const [owner, stranger] = await users(2);
    const community = await createCommunity(owner);
    expect(community.conversation_id).toEqual(expect.any(String));
    const id = community.conversation_id as string;

    const entry = await listed(owner, id);
    expect(entry, 'the owner lists the chat').toBeDefined();
    expect(Object.keys(entry).sort()).toEqual(CONVERSATION_KEYS);
    expect(entry).toMatchObject({ id, kind: 'community', community_id: community.id, title: community.name, member_count: 1, last_message: null, unread_count: 0 });
    expect(entry.participants).toHaveLength(1);
    expectPublicUser(entry.participants[0], owner);

    const read = await getConversation(owner, id);
    expect(read).toMatchObject({ id, kind: 'community', community_id: community.id, title: community.name, member_count: 1 });
    expect(read.participants.map((u: any) => u.id)).toEqual([owner.id]);

    // The owner can talk in it at once, and nobody else is in it.
    const message = await send(owner, id, 'hello, community');
    expect(message).toMatchObject({ conversation_id: id, seq: 1, sender: { id: owner.id } });
    await expectOutOfChat(stranger, id);
  });

  it('should rename the chat with the community', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner);
    const renamed = `${community.name} renamed`;
    await expectStatus(await patchCommunityRaw(owner, community.id, { name: renamed }), 200);
    expect((await getConversation(owner, community.conversation_id)).title).toBe(renamed);
  });
});

describe('Community chat: joining', () => {
  it('should list every member as a participant, however many (the contract lists them all), longest-standing first', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner);
    const joined: TestUser[] = [];
    for (let i = 0; i < 55; i++) {
      const user = await createUser();
      await join(user, community.id);
      joined.push(user);
    }
    const read = await getConversation(owner, community.conversation_id);
    expect(read.member_count).toBe(56);
    expect(read.participants.map((u: any) => u.id)).toEqual([owner.id, ...joined.map((u) => u.id)]);
    expect((await listed(joined[54]!, community.conversation_id)).participants).toHaveLength(56);
  }, 30_000);

  it('should let a member who joins an open community see the chat, send, and open its socket; member_count grows', async () => {
    const [owner, member] = await users(2);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    // Before joining: outside.
    await expectOutOfChat(member, id);

    expect(await join(member, community.id)).toBe('member');
    const entry = await listed(member, id);
    expect(entry).toMatchObject({ id, kind: 'community', community_id: community.id, title: community.name, member_count: 2 });
    expect(entry.participants.map((u: any) => u.id).sort()).toEqual([owner.id, member.id].sort());
    expect((await getConversation(owner, id)).member_count).toBe(2);

    const ownerSock = await open(id, owner);
    const memberSock = await open(id, member);
    const sent = await send(member, id, 'hi from the new member');
    expect(sent).toMatchObject({ conversation_id: id, sender: { id: member.id } });
    await ownerSock.next((f) => f?.type === 'message.new' && f.message.id === sent.id, 'the member’s message');
    await memberSock.next((f) => f?.type === 'message.new' && f.message.id === sent.id, 'own message echoed');
    // Over the socket too.
    await memberSock.request({ type: 'message.send', client_id: 'joined-1', content: 'via socket' }, (f) => f?.type === 'ack' && f.client_id === 'joined-1', 'ack');
    await ownerSock.next((f) => f?.type === 'message.new' && f.message.content === 'via socket', 'the socket message');

    // A third member grows the count again.
    const third = await createUser();
    await join(third, community.id);
    expect((await getConversation(third, id)).member_count).toBe(3);
    expect((await getCommunity(community.id)).member_count).toBe(3);
  });

  it('should keep a pending applicant out of the chat until approved, then let them in', async () => {
    const [owner, applicant] = await users(2);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    const id = community.conversation_id as string;
    expect(await join(applicant, community.id)).toBe('pending');
    await expectOutOfChat(applicant, id);
    expect((await getConversation(owner, id)).member_count).toBe(1);

    const ownerSock = await open(id, owner);
    await expectStatus(await setRoleRaw(owner, community.id, applicant.id, 'member'), 200);
    const conversation = await getConversation(applicant, id);
    expect(conversation).toMatchObject({ kind: 'community', community_id: community.id, member_count: 2 });
    expect(await listed(applicant, id)).toBeDefined();
    const applicantSock = await open(id, applicant);
    const sent = await send(applicant, id, 'thanks for approving');
    await ownerSock.next((f) => f?.type === 'message.new' && f.message.id === sent.id, 'the approved member’s message');
    await applicantSock.next((f) => f?.type === 'message.new' && f.message.id === sent.id, 'own message');
  });
});

describe('Community chat: leaving and removal', () => {
  it('should take a member who leaves out of the chat and close their socket with 4003, while the others keep receiving', async () => {
    const [owner, leaver, stayer] = await users(3);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    await join(leaver, community.id);
    await join(stayer, community.id);
    const ownerSock = await open(id, owner);
    const stayerSock = await open(id, stayer);
    const leaverSock = await open(id, leaver);
    const leaverSock2 = await open(id, leaver, { via: 'query' });
    const first = await send(owner, id, 'before leaving');
    for (const s of [ownerSock, stayerSock, leaverSock, leaverSock2]) await s.next((f) => f?.type === 'message.new' && f.message.id === first.id, 'first');

    await expectStatus(await leaveRaw(leaver, community.id), 204);
    expect((await leaverSock.closed()).code).toBe(4003);
    expect((await leaverSock2.closed()).code).toBe(4003);
    await expectOutOfChat(leaver, id);
    expect((await getConversation(owner, id)).member_count).toBe(2);

    const second = await send(owner, id, 'after leaving');
    const ack = await stayerSock.request({ type: 'message.send', client_id: 'stay-1', content: 'still here' }, (f) => f?.type === 'ack', 'ack');
    for (const s of [ownerSock, stayerSock]) {
      await s.next((f) => f?.type === 'message.new' && f.message.id === second.id, 'second');
      await s.next((f) => f?.type === 'message.new' && f.message.seq === ack.data.seq, 'the stayer’s message');
    }
    await settle();
    expect(ownerSock.closeEvent).toBeNull();
    expect(stayerSock.closeEvent).toBeNull();
    for (const s of [leaverSock, leaverSock2]) expect(s.messages.map((m) => m.id)).toEqual([first.id]);
    expect(await senders(owner, id)).toEqual([owner.id, owner.id, stayer.id]);
  });

  it('should take a member removed by a moderator out of the chat and close their socket with 4003', async () => {
    const [owner, moderator, removed, bystander] = await users(4);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    await addMember(owner, community.id, moderator, 'moderator');
    await addMember(owner, community.id, removed);
    await addMember(owner, community.id, bystander);
    const moderatorSock = await open(id, moderator);
    const bystanderSock = await open(id, bystander);
    const removedSock = await open(id, removed);
    await send(removed, id, 'I am here');
    await removedSock.waitForMessages(1);

    await expectStatus(await removeMemberRaw(moderator, community.id, removed.id), 204);
    expect((await removedSock.closed()).code).toBe(4003);
    await expectOutOfChat(removed, id);
    expect((await getConversation(moderator, id)).member_count).toBe(3);

    const after = await send(moderator, id, 'moving on');
    for (const s of [moderatorSock, bystanderSock]) await s.next((f) => f?.type === 'message.new' && f.message.id === after.id, 'after removal');
    await settle();
    expect(moderatorSock.closeEvent).toBeNull();
    expect(bystanderSock.closeEvent).toBeNull();
    expect(removedSock.messages).toHaveLength(1);
  });

  it('should take a rejected applicant nowhere near the chat', async () => {
    const [owner, applicant] = await users(2);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    const id = community.conversation_id as string;
    expect(await join(applicant, community.id)).toBe('pending');
    await expectStatus(await removeMemberRaw(owner, community.id, applicant.id), 204);
    await expectOutOfChat(applicant, id);
    expect((await getConversation(owner, id)).member_count).toBe(1);
  });
});

describe('Community chat: managed by the community only', () => {
  it('should refuse adding or removing members through the conversation endpoints with 403', async () => {
    const [owner, member, outsider] = await users(3);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    await join(member, community.id);

    // The owner is the chat's admin, yet cannot manage it directly; nor can a member.
    for (const actor of [owner, member]) {
      await expectProblem(await addMembersRaw(actor, id, [outsider.id]), 403);
    }
    await expectProblem(await removeConversationMemberRaw(owner, id, member.id), 403);
    await expectProblem(await removeConversationMemberRaw(member, id, owner.id), 403);
    // Leaving the chat alone is refused as well: membership follows the community.
    await expectProblem(await removeConversationMemberRaw(member, id, member.id), 403);

    // Nothing changed.
    await expectOutOfChat(outsider, id);
    const conversation = await getConversation(member, id);
    expect(conversation.member_count).toBe(2);
    expect(conversation.participants.map((u: any) => u.id).sort()).toEqual([owner.id, member.id].sort());
    expect((await getCommunity(community.id, member)).my_role).toBe('member');
  });
});

describe('Community chat: deletion', () => {
  it('should make the chat 404 for everyone and close every open socket with 4004 when the community is deleted', async () => {
    const [owner, member, moderator] = await users(3);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    await addMember(owner, community.id, member);
    await addMember(owner, community.id, moderator, 'moderator');
    const ownerSock = await open(id, owner);
    const memberSock = await open(id, member);
    const moderatorSock = await open(id, moderator, { via: 'query' });
    const message = await send(member, id, 'last words');
    for (const s of [ownerSock, memberSock, moderatorSock]) await s.next((f) => f?.type === 'message.new' && f.message.id === message.id, 'message');

    await expectStatus(await deleteCommunityRaw(owner, community.id), 204);
    for (const s of [ownerSock, memberSock, moderatorSock]) expect((await s.closed()).code).toBe(4004);
    for (const user of [owner, member, moderator]) await expectOutOfChat(user, id);
    await expectProblem(await call(`/communities/${community.id}`), 404);
  });
});

describe('Community chat: ownership hand-over', () => {
  it('should keep both the former and the new owner in the chat', async () => {
    const [owner, heir] = await users(2);
    const community = await createCommunity(owner);
    const id = community.conversation_id as string;
    await join(heir, community.id);
    const ownerSock = await open(id, owner);
    const heirSock = await open(id, heir);

    const handed = await expectStatus(await setRoleRaw(owner, community.id, heir.id, 'owner'), 200);
    expect(handed.role).toBe('owner');
    expect((await getCommunity(community.id, owner)).my_role).toBe('moderator');
    expect((await getCommunity(community.id, heir)).my_role).toBe('owner');

    for (const user of [owner, heir]) {
      const conversation = await getConversation(user, id);
      expect(conversation.member_count).toBe(2);
      expect(await listed(user, id)).toBeDefined();
    }
    const fromFormer = await send(owner, id, 'from the former owner');
    const fromNew = await send(heir, id, 'from the new owner');
    for (const s of [ownerSock, heirSock]) {
      await s.next((f) => f?.type === 'message.new' && f.message.id === fromFormer.id, 'former owner’s message');
      await s.next((f) => f?.type === 'message.new' && f.message.id === fromNew.id, 'new owner’s message');
    }
    await settle();
    expect(ownerSock.closeEvent).toBeNull();
    expect(heirSock.closeEvent).toBeNull();

    // The former owner, now a moderator, may leave; the chat follows.
    await expectStatus(await leaveRaw(owner, community.id), 204);
    expect((await ownerSock.closed()).code).toBe(4003);
    await expectOutOfChat(owner, id);
    expect((await getConversation(heir, id)).member_count).toBe(1);
  });
});
