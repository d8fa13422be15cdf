import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { burstUntilLimited } from '../helpers/rate-limit';
import {
  UNKNOWN_ID,
  addMembersRaw,
  allMessages,
  block,
  conversations,
  createConversationRaw,
  deleteRaw,
  directMessageRaw,
  editRaw,
  getConversationRaw,
  history,
  historyRaw,
  listedConversation,
  readRaw,
  removeMemberRaw,
  send,
  sendRaw,
  startDirect,
  startGroup,
  unblock,
  upload,
  users,
} from './helpers';

describe('Messaging authentication', () => {
  it('should answer 401 on every messaging route without a token', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const routes: [string, string, unknown?][] = [
      ['POST', '/conversations', { participant_ids: [b.id] }],
      ['GET', '/conversations'],
      ['GET', `/conversations/${conv.id}`],
      ['GET', `/conversations/${conv.id}/messages`],
      ['POST', `/conversations/${conv.id}/messages`, { content: 'x' }],
      ['POST', '/messages', { receiver_id: b.id, content: 'x' }],
      ['PATCH', `/conversations/${conv.id}/messages/1`, { content: 'x' }],
      ['DELETE', `/conversations/${conv.id}/messages/1`],
      ['POST', `/conversations/${conv.id}/read`, {}],
      ['POST', `/conversations/${conv.id}/members`, { user_ids: [b.id] }],
      ['DELETE', `/conversations/${conv.id}/members/${b.id}`],
    ];
    for (const [method, path, body] of routes) {
      await expectProblem(await call(path, { method, body }), 401);
      await expectProblem(await call(path, { method, body, token: 'not.a.jwt' }), 401);
    }
    expect((await history(a, conv.id)).data).toEqual([]);
  });
});

describe('Starting conversations', () => {
  it('should refuse a conversation with only oneself (400)', async () => {
    const a = await createUser();
    await expectProblem(await createConversationRaw(a, { participant_ids: [a.id] }), 400, 'participant_ids');
    await expectProblem(await createConversationRaw(a, { participant_ids: [] }), 400, 'participant_ids');
    await expectProblem(await createConversationRaw(a, {}), 400, 'participant_ids');
    await expectProblem(await createConversationRaw(a, { participant_ids: ['not-an-id!'] }), 400);
    expect((await conversations(a)).data).toEqual([]);
  });

  it('should answer 404 for an unknown user, creating nothing', async () => {
    const [a, b] = await users(2);
    await expectProblem(await createConversationRaw(a, { participant_ids: [UNKNOWN_ID] }), 404);
    await expectProblem(await createConversationRaw(a, { participant_ids: [b.id, UNKNOWN_ID] }), 404);
    expect((await conversations(a)).data).toEqual([]);
    expect((await conversations(b)).data).toEqual([]);
  });

  it('should not let a blocked user start a direct conversation with the blocker, nor the blocker with them (404)', async () => {
    const [a, b] = await users(2);
    await block(a, b);
    await expectProblem(await createConversationRaw(b, { participant_ids: [a.id] }), 404);
    await expectProblem(await createConversationRaw(a, { participant_ids: [b.id] }), 404);
    await expectProblem(await directMessageRaw(b, { receiver_id: a.id, content: 'let me in' }), 404);
    await expectProblem(await directMessageRaw(a, { receiver_id: b.id, content: 'hi' }), 404);
    expect((await conversations(a)).data).toEqual([]);
    expect((await conversations(b)).data).toEqual([]);
  });

  it('should not let a group include someone blocked by or blocking the creator (404)', async () => {
    const [a, b, c, d] = await users(4);
    await block(c, a);
    await expectProblem(await createConversationRaw(a, { participant_ids: [b.id, c.id] }), 404);
    await expectProblem(await createConversationRaw(c, { participant_ids: [b.id, a.id] }), 404);
    const group = await startGroup(a, [b, d]);
    await expectProblem(await addMembersRaw(a, group.id, [c.id]), 404);
    expect((await conversations(c)).data).toEqual([]);
  });

  it('should let two users message again after an unblock', async () => {
    const [a, b] = await users(2);
    await block(a, b);
    await expectProblem(await createConversationRaw(b, { participant_ids: [a.id] }), 404);
    await unblock(a, b);
    const conv = await startDirect(b, a, 201);
    expect((await send(b, conv.id, 'hello again')).seq).toBe(1);
  });
});

describe('Conversation privacy', () => {
  it('should answer 404 to a non-member on every conversation route', async () => {
    const [a, b, stranger] = await users(3);
    const conv = await startDirect(a, b);
    const m = await send(a, conv.id, 'private');
    await expectProblem(await getConversationRaw(stranger, conv.id), 404);
    await expectProblem(await historyRaw(stranger, conv.id), 404);
    await expectProblem(await historyRaw(stranger, conv.id, { after_seq: 0 }), 404);
    await expectProblem(await sendRaw(stranger, conv.id, { content: 'intruder' }), 404);
    await expectProblem(await editRaw(stranger, conv.id, m.seq, { content: 'hacked' }), 404);
    await expectProblem(await deleteRaw(stranger, conv.id, m.seq), 404);
    await expectProblem(await readRaw(stranger, conv.id), 404);
    await expectProblem(await addMembersRaw(stranger, conv.id, [stranger.id]), 404);
    await expectProblem(await removeMemberRaw(stranger, conv.id, a.id), 404);
    // Same answer as for a conversation that does not exist.
    await expectProblem(await getConversationRaw(stranger, UNKNOWN_ID), 404);
    await expectProblem(await sendRaw(a, UNKNOWN_ID, { content: 'x' }), 404);
    expect((await conversations(stranger)).data).toEqual([]);
    const all = await allMessages(a, conv.id);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ content: 'private', edited_at: null, deleted: false });
    expect((await listedConversation(b, conv.id)).unread_count).toBe(1);
  });

  it('should never show a participant’s private fields', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'hi');
    const bodies = [
      await expectStatus(await getConversationRaw(b, conv.id), 200),
      await conversations(b),
      await history(b, conv.id),
    ];
    for (const body of bodies) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(a.email);
      expect(text).not.toContain(b.email);
      expect(text).not.toMatch(/"(email|password|password_hash|birthdate|gender)"/);
    }
  });
});

describe('Message ownership', () => {
  it('should let only the sender edit or delete (403 for another member)', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    const m = await send(a, group.id, 'mine');
    await expectProblem(await editRaw(b, group.id, m.seq, { content: 'yours now' }), 403);
    await expectProblem(await deleteRaw(b, group.id, m.seq), 403);
    // Not even the admin may change someone else's message.
    const fromB = await send(b, group.id, 'from b');
    await expectProblem(await editRaw(a, group.id, fromB.seq, { content: 'admin edit' }), 403);
    await expectProblem(await deleteRaw(a, group.id, fromB.seq), 403);
    expect((await allMessages(c, group.id)).map((x) => [x.content, x.edited_at, x.deleted])).toEqual([
      ['mine', null, false],
      ['from b', null, false],
    ]);
  });

  it('should refuse someone else’s upload as an attachment (400 naming media_ids)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const theirs = await upload(b);
    const mine = await upload(a);
    await expectProblem(await sendRaw(a, conv.id, { content: 'stolen', media_ids: [theirs.id] }), 400, 'media_ids');
    await expectProblem(await sendRaw(a, conv.id, { content: 'mixed', media_ids: [mine.id, theirs.id] }), 400, 'media_ids');
    await expectProblem(await directMessageRaw(a, { receiver_id: b.id, content: 'stolen', media_ids: [theirs.id] }), 400, 'media_ids');
    expect((await history(b, conv.id)).data).toEqual([]);
  });

  it('should refuse an avatar as an attachment (400 naming media_ids)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const form = new FormData();
    form.append('file', new File([IMAGE_FIXTURES.png.bytes], 'avatar.png', { type: 'image/png' }));
    await expectStatus(await call('/me/avatar', { method: 'PUT', token: a.accessToken, body: form }), 200);
    const avatar = await env.DB.prepare("SELECT id FROM media WHERE owner_id = ?1 AND kind = 'avatar'").bind(a.id).first<{ id: string }>();
    expect(avatar?.id).toEqual(expect.any(String));
    await expectProblem(await sendRaw(a, conv.id, { content: 'avatar', media_ids: [avatar!.id] }), 400, 'media_ids');
  });

  it('should keep client_id idempotency per sender (another sender cannot replay or read through it)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const fromA = await send(a, conv.id, { content: 'secret plan', client_id: 'k1' });
    const res = await sendRaw(b, conv.id, { content: 'my own', client_id: 'k1' });
    const fromB = await expectStatus(res, 201);
    expect(fromB).toMatchObject({ content: 'my own', seq: 2, client_id: 'k1' });
    expect(fromB.id).not.toBe(fromA.id);
    expect(fromB.sender.id).toBe(b.id);
  });
});

describe('Group administration', () => {
  it('should refuse adding members to a non-admin (403)', async () => {
    const [a, b, c, d] = await users(4);
    const group = await startGroup(a, [b, c]);
    await expectProblem(await addMembersRaw(b, group.id, [d.id]), 403);
    await expectProblem(await historyRaw(d, group.id), 404);
    const seen = await expectStatus(await getConversationRaw(a, group.id), 200);
    expect(seen.participants).toHaveLength(3);
  });

  it('should refuse a non-admin removing someone else (403)', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await expectProblem(await removeMemberRaw(b, group.id, c.id), 403);
    await expectProblem(await removeMemberRaw(b, group.id, a.id), 403);
    expect((await send(c, group.id, 'still in')).seq).toBe(1);
    expect((await expectStatus(await getConversationRaw(c, group.id), 200)).participants).toHaveLength(3);
  });

  it('should shut a removed member out of the conversation, its messages and sending (404)', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    const m = await send(b, group.id, 'before removal');
    await send(a, group.id, 'hello');
    await expectStatus(await removeMemberRaw(a, group.id, b.id), 204);
    await expectProblem(await getConversationRaw(b, group.id), 404);
    await expectProblem(await historyRaw(b, group.id), 404);
    await expectProblem(await sendRaw(b, group.id, { content: 'let me back' }), 404);
    await expectProblem(await editRaw(b, group.id, m.seq, { content: 'edited after removal' }), 404);
    await expectProblem(await deleteRaw(b, group.id, m.seq), 404);
    await expectProblem(await readRaw(b, group.id), 404);
    await expectProblem(await removeMemberRaw(b, group.id, b.id), 404);
    expect((await conversations(b)).data.map((x) => x.id)).not.toContain(group.id);
    // Nothing the removed member tried went through.
    expect((await allMessages(c, group.id)).map((x) => x.content)).toEqual(['before removal', 'hello']);
  });

  it('should shut a member who left out as well (404)', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await expectStatus(await removeMemberRaw(c, group.id, c.id), 204);
    await expectProblem(await sendRaw(c, group.id, { content: 'ghost' }), 404);
    await expectProblem(await historyRaw(c, group.id), 404);
    // A member who left cannot add themselves back.
    await expectProblem(await addMembersRaw(c, group.id, [c.id]), 404);
  });

  it('should refuse adding or removing members in a direct conversation (403)', async () => {
    const [a, b, c] = await users(3);
    const conv = await startDirect(a, b);
    await expectProblem(await addMembersRaw(a, conv.id, [c.id]), 403);
    await expectProblem(await addMembersRaw(b, conv.id, [c.id]), 403);
    await expectProblem(await removeMemberRaw(a, conv.id, b.id), 403);
    await expectProblem(await removeMemberRaw(b, conv.id, b.id), 403);
    const seen = await expectStatus(await getConversationRaw(a, conv.id), 200);
    expect(seen.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id].sort());
    await expectProblem(await historyRaw(c, conv.id), 404);
  });

  it('should refuse adding only oneself or unknown users (400 / 404), never a 500', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await expectProblem(await addMembersRaw(a, group.id, [a.id]), 400, 'user_ids');
    await expectProblem(await addMembersRaw(a, group.id, []), 400, 'user_ids');
    await expectProblem(await addMembersRaw(a, group.id, [UNKNOWN_ID]), 404);
    await expectProblem(await removeMemberRaw(a, group.id, UNKNOWN_ID), 404);
    expect((await expectStatus(await getConversationRaw(a, group.id), 200)).participants).toHaveLength(3);
  });

  it('should not let a new member be added by someone who is not in the group (404)', async () => {
    const [a, b, c, outsider] = await users(4);
    const group = await startGroup(a, [b, c]);
    await expectProblem(await addMembersRaw(outsider, group.id, [outsider.id]), 404);
    await expectProblem(await historyRaw(outsider, group.id), 404);
  });
});

describe('Blocks in existing conversations', () => {
  it('should stop both sides sending in their direct conversation after a block (403)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'hi');
    await send(b, conv.id, 'hi back');
    await block(a, b);
    await expectProblem(await sendRaw(b, conv.id, { content: 'why?' }), 403);
    await expectProblem(await sendRaw(a, conv.id, { content: 'because' }), 403);
    await expectProblem(await directMessageRaw(b, { receiver_id: a.id, content: 'please' }), 404);
    expect((await allMessages(a, conv.id)).map((m) => m.content)).toEqual(['hi', 'hi back']);
    // After the unblock the conversation works again.
    await unblock(a, b);
    expect((await send(b, conv.id, 'thanks')).seq).toBe(3);
  });

  it('should refuse sending either way when the other side made the block', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await block(b, a);
    await expectProblem(await sendRaw(a, conv.id, { content: 'hello?' }), 403);
    await expectProblem(await sendRaw(b, conv.id, { content: 'bye' }), 403);
    expect((await history(a, conv.id)).data).toEqual([]);
  });
});

describe('Send rate limit', () => {
  it('should rate-limit a fast sender (429 with Retry-After) without burning seqs, while retries still answer', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const { statuses, limited } = await burstUntilLimited({
      limit: 30,
      periodSeconds: 10,
      max: 100,
      send: (i) => sendRaw(a, conv.id, { content: `spam ${i}`, client_id: `rl-${i}` }),
    });
    const created = statuses.filter((s) => s === 201).length;
    expect(statuses.every((s) => s === 201 || s === 429)).toBe(true);
    expect(created).toBeGreaterThan(0);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    await expectProblem(limited, 429);
    // A retry of a stored message is not a new send: it still answers with the original.
    const retry = await expectStatus(await sendRaw(a, conv.id, { content: 'spam 0', client_id: 'rl-0' }), 200);
    expect(retry.seq).toBe(1);
    // Refused sends consumed no seq: history is gap-free.
    const all = await allMessages(b, conv.id);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: created }, (_, i) => i + 1));
    // The limit is per sender: the other side can still talk.
    expect((await send(b, conv.id, 'calm down')).seq).toBe(created + 1);
  });
});
