import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  CONVERSATION_KEYS,
  ISO,
  MESSAGE_KEYS,
  ULID,
  addMembersRaw,
  allMessages,
  conversations,
  createConversationRaw,
  deleteRaw,
  directMessageRaw,
  editRaw,
  expectPublicUser,
  getConversationRaw,
  history,
  historyRaw,
  listedConversation,
  markRead,
  memberRow,
  readRaw,
  recordEvents,
  removeMemberRaw,
  roomStub,
  send,
  sendRaw,
  settle,
  startDirect,
  startGroup,
  tick,
  upload,
  users,
} from './helpers';

describe('Conversations', () => {
  it('should create a direct conversation (201) listing both participants as public users', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b, 201);
    expect(Object.keys(conv).sort()).toEqual(CONVERSATION_KEYS);
    expect(conv).toMatchObject({ id: expect.stringMatching(ULID), kind: 'direct', title: null, last_message: null, unread_count: 0, created_at: expect.stringMatching(ISO) });
    expect(conv.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id].sort());
    for (const p of conv.participants) expectPublicUser(p, p.id === a.id ? a : b);
  });

  it('should return the same direct conversation (200) when either side asks again', async () => {
    const [a, b] = await users(2);
    const first = await startDirect(a, b, 201);
    const again = await startDirect(a, b, 200);
    const reverse = await startDirect(b, a, 200);
    expect(again.id).toBe(first.id);
    expect(reverse.id).toBe(first.id);
    expect(reverse.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id].sort());
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM conversation_members WHERE conversation_id = ?1').bind(first.id).first<{ n: number }>();
    expect(row?.n).toBe(2);
  });

  it('should give both sides the same conversation when they open it concurrently', async () => {
    const [a, b] = await users(2);
    const [ra, rb] = await Promise.all([createConversationRaw(a, { participant_ids: [b.id] }), createConversationRaw(b, { participant_ids: [a.id] })]);
    expect([ra.status, rb.status].sort()).toEqual([200, 201]);
    const ca = await ra.json<any>();
    const cb = await rb.json<any>();
    expect(ca.id).toBe(cb.id);
    const key = [a.id, b.id].sort().join(':');
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM conversations WHERE direct_key = ?1').bind(key).first<{ n: number }>();
    expect(rows?.n).toBe(1);
    // And the conversation works for both.
    await send(a, ca.id, 'hi');
    expect((await history(b, ca.id)).data.map((m) => m.content)).toEqual(['hi']);
  });

  it('should let both sides send a first direct message concurrently into one conversation', async () => {
    for (let i = 0; i < 3; i++) {
      const [a, b] = await users(2);
      const [ra, rb] = await Promise.all([directMessageRaw(a, { receiver_id: b.id, content: 'from a' }), directMessageRaw(b, { receiver_id: a.id, content: 'from b' })]);
      const ma = await expectStatus(ra, 201);
      const mb = await expectStatus(rb, 201);
      expect(ma.conversation_id).toBe(mb.conversation_id);
      expect([ma.seq, mb.seq].sort()).toEqual([1, 2]);
      expect((await allMessages(a, ma.conversation_id)).map((m) => m.seq)).toEqual([1, 2]);
      expect(await listedConversation(a, ma.conversation_id)).toMatchObject({ unread_count: ma.seq === 1 ? 1 : 0 });
    }
  });

  it('should create a group (201) with its title, the caller included among the participants', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c], 'Climbing');
    expect(group).toMatchObject({ kind: 'group', title: 'Climbing', last_message: null, unread_count: 0 });
    expect(group.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id, c.id].sort());
    // A second group with the same people is a new conversation.
    const other = await startGroup(a, [b, c]);
    expect(other.id).not.toBe(group.id);
    expect(other.title).toBeNull();
  });

  it('should make one other participant a direct conversation even with a title', async () => {
    const [a, b] = await users(2);
    const conv = await expectStatus(await createConversationRaw(a, { participant_ids: [b.id], title: 'Ignored' }), 201);
    expect(conv).toMatchObject({ kind: 'direct', title: null });
    expect((await startDirect(b, a, 200)).id).toBe(conv.id);
  });

  it('should ignore the caller in participant_ids', async () => {
    const [a, b] = await users(2);
    const conv = await expectStatus(await createConversationRaw(a, { participant_ids: [a.id, b.id, b.id] }), 201);
    expect(conv.kind).toBe('direct');
    expect(conv.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('should show a conversation to its members', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'hello');
    const seen = await expectStatus(await getConversationRaw(b, conv.id), 200);
    expect(seen).toMatchObject({ id: conv.id, kind: 'direct', unread_count: 1, last_message: { seq: 1, content: 'hello' } });
  });
});

describe('Messages', () => {
  it('should answer 201 with the full message shape', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const m = await send(a, conv.id, { content: 'hello there', client_id: 'c-1' });
    expect(Object.keys(m).sort()).toEqual(MESSAGE_KEYS);
    expect(m).toMatchObject({
      id: expect.stringMatching(ULID),
      conversation_id: conv.id,
      seq: 1,
      content: 'hello there',
      media: [],
      client_id: 'c-1',
      created_at: expect.stringMatching(ISO),
      edited_at: null,
      deleted: false,
    });
    expectPublicUser(m.sender, a);
    const noClientId = await send(b, conv.id, 'reply');
    expect(noClientId.client_id).toBeNull();
    expectPublicUser(noClientId.sender, b);
  });

  it('should number messages gap-free from 1 across senders', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    const seqs: number[] = [];
    for (const [i, who] of [a, b, c, a, b, c, a].entries()) seqs.push((await send(who, group.id, `m${i}`)).seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const all = await allMessages(c, group.id);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all.map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(new Set(all.map((m) => m.id)).size).toBe(7);
  });

  it('should assign distinct gap-free seqs to concurrent sends', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i % 2 ? a : b, conv.id, { content: `c${i}`, client_id: `p${i}` })));
    expect(sent.map((m) => m.seq).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const all = await allMessages(a, conv.id);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('should return the original message (200) for a retry with the same client_id, never a duplicate', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const first = await send(a, conv.id, { content: 'once', client_id: 'retry-1' });
    const retry = await expectStatus(await sendRaw(a, conv.id, { content: 'once', client_id: 'retry-1' }), 200);
    expect(retry).toEqual(first);
    // Even with different content, a retry is the first message.
    const changed = await expectStatus(await sendRaw(a, conv.id, { content: 'changed', client_id: 'retry-1' }), 200);
    expect(changed).toEqual(first);
    const next = await send(a, conv.id, { content: 'twice', client_id: 'retry-2' });
    expect(next.seq).toBe(2);
    const all = await allMessages(b, conv.id);
    expect(all.map((m) => [m.seq, m.content, m.client_id])).toEqual([
      [1, 'once', 'retry-1'],
      [2, 'twice', 'retry-2'],
    ]);
  });

  it('should be idempotent under concurrent retries of the same client_id', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const responses = await Promise.all(Array.from({ length: 5 }, () => sendRaw(a, conv.id, { content: 'burst', client_id: 'same' })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 201]);
    const bodies = await Promise.all(responses.map((r) => r.json<any>()));
    expect(new Set(bodies.map((m) => m.id)).size).toBe(1);
    expect((await allMessages(a, conv.id)).length).toBe(1);
  });

  it('should treat the same client_id from another sender as a different message', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const fromA = await send(a, conv.id, { content: 'from a', client_id: 'shared' });
    const fromB = await send(b, conv.id, { content: 'from b', client_id: 'shared' });
    expect(fromB.id).not.toBe(fromA.id);
    expect(fromB.seq).toBe(2);
    expect(fromB.content).toBe('from b');
    expect((await allMessages(a, conv.id)).map((m) => m.content)).toEqual(['from a', 'from b']);
  });

  it('should refuse an empty or blank message without media (400)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await expectProblem(await sendRaw(a, conv.id, { content: '' }), 400, 'content');
    await expectProblem(await sendRaw(a, conv.id, { content: '   \n\t ' }), 400, 'content');
    await expectProblem(await sendRaw(a, conv.id, {}), 400, 'content');
    expect((await history(a, conv.id)).data).toEqual([]);
  });

  it('should accept 4000 characters and refuse 4001 (400)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const max = await send(a, conv.id, 'x'.repeat(4000));
    expect(max.content.length).toBe(4000);
    await expectProblem(await sendRaw(a, conv.id, { content: 'y'.repeat(4001) }), 400, 'content');
    expect((await allMessages(a, conv.id)).length).toBe(1);
  });

  it('should refuse a non-string content and malformed JSON (400)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await expectProblem(await sendRaw(a, conv.id, { content: 42 }), 400, 'content');
    await expectProblem(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: '{"content": "unterminated', headers: { 'Content-Type': 'application/json' } }), 400);
    await expectProblem(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: 'content=hi', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
    expect((await history(a, conv.id)).data).toEqual([]);
    await expectProblem(await sendRaw(a, conv.id, { content: 'ok', client_id: '' }), 400, 'client_id');
  });

  it('should attach the sender’s own uploads as media objects', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const png = await upload(a, 'png');
    const webp = await upload(a, 'webp');
    const m = await send(a, conv.id, { content: 'look', media_ids: [png.id, webp.id] });
    expect(m.media).toEqual([
      { id: png.id, url: png.url, content_type: 'image/png', width: 300, height: 200 },
      { id: webp.id, url: webp.url, content_type: 'image/webp', width: 300, height: 200 },
    ]);
    // Media alone is enough.
    const only = await send(a, conv.id, { content: '', media_ids: [png.id] });
    expect(only).toMatchObject({ content: '', media: [{ id: png.id }] });
    const [latest, previous] = (await history(b, conv.id)).data;
    expect(latest.media.map((x: any) => x.id)).toEqual([png.id]);
    expect(previous.media.map((x: any) => x.id)).toEqual([png.id, webp.id]);
  });

  it('should refuse unknown or repeated media ids (400 naming media_ids)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const png = await upload(a);
    await expectProblem(await sendRaw(a, conv.id, { content: 'x', media_ids: ['01JC6Z1W3R2J4D5E6F7G8H9J0K'] }), 400, 'media_ids');
    await expectProblem(await sendRaw(a, conv.id, { content: 'x', media_ids: [png.id, png.id] }), 400, 'media_ids');
    await expectProblem(await sendRaw(a, conv.id, { content: 'x', media_ids: ['not an id'] }), 400);
    expect((await history(a, conv.id)).data).toEqual([]);
  });

  it('should send a direct message with POST /messages, creating the conversation once and reusing it', async () => {
    const [a, b] = await users(2);
    const first = await expectStatus(await directMessageRaw(a, { receiver_id: b.id, content: 'hey', client_id: 'dm-1' }), 201);
    expect(first).toMatchObject({ seq: 1, content: 'hey', client_id: 'dm-1', conversation_id: expect.stringMatching(ULID) });
    expectPublicUser(first.sender, a);
    const conv = await startDirect(b, a, 200);
    expect(conv.id).toBe(first.conversation_id);
    expect(conv.kind).toBe('direct');
    const second = await expectStatus(await directMessageRaw(b, { receiver_id: a.id, content: 'hello back' }), 201);
    expect(second).toMatchObject({ conversation_id: first.conversation_id, seq: 2 });
    const retry = await expectStatus(await directMessageRaw(a, { receiver_id: b.id, content: 'hey', client_id: 'dm-1' }), 200);
    expect(retry.id).toBe(first.id);
    expect((await conversations(a)).data.filter((c) => c.kind === 'direct').map((c) => c.id)).toEqual([first.conversation_id]);
  });

  it('should refuse POST /messages to an unknown receiver (404) or to oneself (400)', async () => {
    const a = await createUser();
    await expectProblem(await directMessageRaw(a, { receiver_id: '01JC6Z1W3R2J4D5E6F7G8H9J0K', content: 'hi' }), 404);
    await expectProblem(await directMessageRaw(a, { receiver_id: a.id, content: 'hi' }), 400);
    await expectProblem(await directMessageRaw(a, { content: 'hi' }), 400, 'receiver_id');
    expect((await conversations(a)).data).toEqual([]);
  });
});

describe('History', () => {
  it('should list descending by seq by default and walk older pages with next_cursor', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    for (let i = 1; i <= 7; i++) await send(i % 2 ? a : b, conv.id, `m${i}`);
    const full = await history(b, conv.id);
    expect(full.data.map((m) => m.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(full.next_cursor).toBeNull();

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data: any[]; next_cursor: string | null } = await history(b, conv.id, { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((m) => m.seq));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('should page before_seq descending', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    for (let i = 1; i <= 5; i++) await send(a, conv.id, `m${i}`);
    const page = await history(a, conv.id, { before_seq: 4, limit: 2 });
    expect(page.data.map((m) => m.seq)).toEqual([3, 2]);
    expect(page.next_cursor).not.toBeNull();
    const rest = await history(a, conv.id, { before_seq: 4, limit: 2, cursor: page.next_cursor! });
    expect(rest.data.map((m) => m.seq)).toEqual([1]);
    expect(rest.next_cursor).toBeNull();
  });

  it('should list ascending after after_seq, with cursors', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    for (let i = 1; i <= 7; i++) await send(a, conv.id, `m${i}`);
    const page = await history(b, conv.id, { after_seq: 2, limit: 3 });
    expect(page.data.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(page.next_cursor).not.toBeNull();
    const next = await history(b, conv.id, { after_seq: 2, limit: 3, cursor: page.next_cursor! });
    expect(next.data.map((m) => m.seq)).toEqual([6, 7]);
    expect(next.next_cursor).toBeNull();
    expect((await history(b, conv.id, { after_seq: 7 })).data).toEqual([]);
    expect((await history(b, conv.id, { after_seq: 0 })).data.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('should return an empty page for a conversation without messages', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    expect(await history(a, conv.id)).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['before_seq=0', 'before_seq'],
    ['before_seq=-3', 'before_seq'],
    ['after_seq=-1', 'after_seq'],
    ['after_seq=1.5', 'after_seq'],
    ['after_seq=', 'after_seq'],
    ['cursor=garbage', 'cursor'],
    ['cursor=-5', 'cursor'],
  ])('should refuse an invalid query %s (400)', async (query, field) => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'x');
    await expectProblem(await historyRaw(a, conv.id, query), 400, field);
  });
});

describe('Edit and delete', () => {
  it('should let the sender edit (200 with edited_at) and show the edit in history', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const m = await send(a, conv.id, 'draft');
    const edited = await expectStatus(await editRaw(a, conv.id, m.seq, { content: 'final' }), 200);
    expect(edited).toMatchObject({ id: m.id, seq: m.seq, content: 'final', edited_at: expect.stringMatching(ISO), deleted: false, created_at: m.created_at });
    const [seen] = (await history(b, conv.id)).data;
    expect(seen).toMatchObject({ id: m.id, content: 'final', edited_at: edited.edited_at });
    expect((await listedConversation(b, conv.id)).last_message).toMatchObject({ seq: 1, content: 'final' });
  });

  it('should refuse an edit to blank or over-long content (400)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const m = await send(a, conv.id, 'keep');
    await expectProblem(await editRaw(a, conv.id, m.seq, { content: '  ' }), 400, 'content');
    await expectProblem(await editRaw(a, conv.id, m.seq, { content: 'z'.repeat(4001) }), 400, 'content');
    expect((await history(a, conv.id)).data[0]).toMatchObject({ content: 'keep', edited_at: null });
  });

  it('should let the sender delete (204), leaving a tombstone with the same seq', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const png = await upload(a);
    await send(a, conv.id, 'one');
    const two = await send(a, conv.id, { content: 'two', media_ids: [png.id] });
    await send(b, conv.id, 'three');
    await expectStatus(await deleteRaw(a, conv.id, two.seq), 204);
    const data = (await history(b, conv.id)).data;
    expect(data.map((m) => m.seq)).toEqual([3, 2, 1]);
    expect(data[1]).toMatchObject({ id: two.id, seq: 2, deleted: true, content: '', media: [] });
    expect(data[0]).toMatchObject({ seq: 3, deleted: false, content: 'three' });
    // The next message keeps numbering after the tombstone.
    expect((await send(a, conv.id, 'four')).seq).toBe(4);
  });

  it('should answer 404 for editing or deleting a deleted message or an unknown seq', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const m = await send(a, conv.id, 'gone soon');
    await expectStatus(await deleteRaw(a, conv.id, m.seq), 204);
    await expectProblem(await editRaw(a, conv.id, m.seq, { content: 'back' }), 404);
    await expectProblem(await deleteRaw(a, conv.id, m.seq), 404);
    await expectProblem(await editRaw(a, conv.id, 99, { content: 'nope' }), 404);
    await expectProblem(await deleteRaw(a, conv.id, 99), 404);
    await expectProblem(await editRaw(a, conv.id, 0, { content: 'nope' }), 400);
  });

  it('should move last_message back to the newest live message when the last one is deleted', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'first');
    const second = await send(a, conv.id, 'second');
    await expectStatus(await deleteRaw(a, conv.id, second.seq), 204);
    const listed = await listedConversation(b, conv.id);
    expect(listed.last_message).toMatchObject({ seq: 1, content: 'first' });
    expect(listed.unread_count).toBe(1);
  });
});

describe('Read state and unread counts', () => {
  it('should list conversations by most recent activity with last_message and unread_count', async () => {
    const [me, b, c, d] = await users(4);
    const withB = await startDirect(me, b);
    await tick();
    const withC = await startDirect(c, me);
    await tick();
    const group = await startGroup(d, [me, b]);
    await tick();
    // Activity order: group (created last) ... then messages reorder.
    await send(b, withB.id, 'b1');
    await tick();
    await send(c, withC.id, 'c1');
    await send(c, withC.id, 'c2');
    await tick();
    await send(me, withB.id, 'mine');
    const page = await conversations(me);
    expect(page.data.map((x) => x.id)).toEqual([withB.id, withC.id, group.id]);
    const [first, second, third] = page.data;
    expect(first).toMatchObject({ last_message: { seq: 2, content: 'mine' }, unread_count: 0 });
    expectPublicUser(first.last_message.sender, me);
    expect(second).toMatchObject({ last_message: { seq: 2, content: 'c2' }, unread_count: 2 });
    expect(third).toMatchObject({ last_message: null, unread_count: 0, kind: 'group' });
    for (const conv of page.data) expect(Object.keys(conv).sort()).toEqual(CONVERSATION_KEYS);
    // The other side's view of the same conversation.
    expect(await listedConversation(b, withB.id)).toMatchObject({ unread_count: 1, last_message: { content: 'mine' } });
  });

  it('should paginate GET /conversations with a cursor, without gaps or duplicates', async () => {
    const [me, ...others] = await users(5);
    const ids: string[] = [];
    for (const o of others) {
      ids.unshift((await startDirect(o, me)).id);
      await tick();
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await conversations(me, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(ids);
  });

  it('should count only other people’s messages after last_read_seq', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await send(a, group.id, 'a1');
    await send(b, group.id, 'b1');
    await send(c, group.id, 'c1');
    await send(b, group.id, 'b2');
    expect((await listedConversation(a, group.id)).unread_count).toBe(3);
    // Sending moves the sender's read position to their own message.
    expect((await listedConversation(b, group.id)).unread_count).toBe(0);
    expect((await listedConversation(c, group.id)).unread_count).toBe(1);
    expect((await expectStatus(await getConversationRaw(a, group.id), 200)).unread_count).toBe(3);
  });

  it('should mark everything read with an empty body', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    for (let i = 0; i < 3; i++) await send(a, conv.id, `m${i}`);
    expect((await listedConversation(b, conv.id)).unread_count).toBe(3);
    expect(await markRead(b, conv.id)).toEqual({ last_read_seq: 3, unread_count: 0 });
    expect((await listedConversation(b, conv.id)).unread_count).toBe(0);
    expect((await memberRow(conv.id, b.id))?.last_read_seq).toBe(3);
  });

  it('should move the read position forward only', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    for (let i = 0; i < 5; i++) await send(a, conv.id, `m${i}`);
    expect(await markRead(b, conv.id, 3)).toEqual({ last_read_seq: 3, unread_count: 2 });
    expect((await listedConversation(b, conv.id)).unread_count).toBe(2);
    expect(await markRead(b, conv.id, 1)).toEqual({ last_read_seq: 3, unread_count: 2 });
    expect((await listedConversation(b, conv.id)).unread_count).toBe(2);
    // Past the end is the end.
    expect(await markRead(b, conv.id, 999)).toEqual({ last_read_seq: 5, unread_count: 0 });
    await send(a, conv.id, 'new');
    expect((await listedConversation(b, conv.id)).unread_count).toBe(1);
  });

  it('should refuse an invalid read seq (400)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await expectProblem(await readRaw(b, conv.id, { seq: -1 }), 400, 'seq');
    await expectProblem(await readRaw(b, conv.id, { seq: 'two' }), 400, 'seq');
  });

  it('should not count deleted messages as unread', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'm1');
    const m2 = await send(a, conv.id, 'oops');
    await send(a, conv.id, 'm3');
    expect((await listedConversation(b, conv.id)).unread_count).toBe(3);
    await expectStatus(await deleteRaw(a, conv.id, m2.seq), 204);
    expect((await listedConversation(b, conv.id)).unread_count).toBe(2);
    expect(await markRead(b, conv.id, 1)).toEqual({ last_read_seq: 1, unread_count: 1 });
  });
});

describe('Groups', () => {
  it('should create a group of 50, and add 40 to a group at once (more rows than one statement may bind)', async () => {
    const people = await users(50);
    const [creator, ...others] = people;
    const group = await startGroup(creator!, others, 'Fifty');
    expect(group.participants).toHaveLength(50);
    expect(await memberRow(group.id, others[48]!.id)).toBeTruthy();
    // Another creator (each may make 50 message requests a day).
    const [second, ...rest] = others;
    const small = await startGroup(second!, rest.slice(0, 2), 'Grows');
    const grown = await expectStatus(await addMembersRaw(second!, small.id, rest.slice(2, 42).map((u) => u.id)), 200);
    expect(grown.participants).toHaveLength(43);
  });

  it('should let the creator (admin) add members (200)', async () => {
    const [a, b, c, d] = await users(4);
    const group = await startGroup(a, [b, c], 'Team');
    const updated = await expectStatus(await addMembersRaw(a, group.id, [d.id]), 200);
    expect(updated.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    await send(a, group.id, 'welcome');
    expect((await history(d, group.id)).data.map((m) => m.content)).toEqual(['welcome']);
    expect(await listedConversation(d, group.id)).toMatchObject({ unread_count: 1, title: 'Team' });
    // A new member can send too.
    expect((await send(d, group.id, 'thanks')).seq).toBe(2);
    // Adding an existing member changes nothing.
    const again = await expectStatus(await addMembersRaw(a, group.id, [d.id, b.id]), 200);
    expect(again.participants).toHaveLength(4);
  });

  it('should let the admin remove a member (204) and a member leave (204)', async () => {
    const [a, b, c, d] = await users(4);
    const group = await startGroup(a, [b, c, d]);
    await expectStatus(await removeMemberRaw(a, group.id, b.id), 204);
    await expectStatus(await removeMemberRaw(c, group.id, c.id), 204);
    const seen = await expectStatus(await getConversationRaw(a, group.id), 200);
    expect(seen.participants.map((p: any) => p.id).sort()).toEqual([a.id, d.id].sort());
    expect((await conversations(b)).data.map((x) => x.id)).not.toContain(group.id);
    expect((await conversations(c)).data.map((x) => x.id)).not.toContain(group.id);
    expect((await send(d, group.id, 'still here')).seq).toBe(1);
    // Removing someone who is no longer a member.
    await expectProblem(await removeMemberRaw(a, group.id, b.id), 404);
  });

  it('should keep a former member’s messages in history with their sender', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await send(b, group.id, 'bye all');
    await expectStatus(await removeMemberRaw(b, group.id, b.id), 204);
    const [m] = (await history(c, group.id)).data;
    expect(m).toMatchObject({ content: 'bye all' });
    expectPublicUser(m.sender, b);
  });
});

describe('Message events', () => {
  let rec: ReturnType<typeof recordEvents>;
  beforeEach(() => {
    rec = recordEvents();
  });
  afterEach(() => rec.stop());

  it('should emit exactly one new_message to every other member per created message', async () => {
    const [a, b, c] = await users(3);
    // c follows a, so the group is not a message request for c (requests notify once: test/safety).
    await expectStatus(await call(`/users/${a.id}/follow`, { method: 'POST', token: c.accessToken }), 200);
    const group = await startGroup(a, [b, c]);
    const m = await send(b, group.id, { content: 'ping all', client_id: 'ev-1' });
    await settle();
    const events = rec.messagesIn(group.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      type: 'new_message',
      actorId: b.id,
      conversationId: group.id,
      messageId: m.id,
      seq: 1,
      recipientIds: expect.any(Array),
      sender: m.sender,
      content: 'ping all',
      createdAt: m.created_at,
    });
    expect([...events[0]!.recipientIds].sort()).toEqual([a.id, c.id].sort());
  });

  it('should emit nothing for an idempotent retry or a refused send', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, { content: 'once', client_id: 'ev-r' });
    await expectStatus(await sendRaw(a, conv.id, { content: 'once', client_id: 'ev-r' }), 200);
    await expectProblem(await sendRaw(a, conv.id, { content: '' }), 400);
    await settle();
    const events = rec.messagesIn(conv.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: a.id, recipientIds: [b.id], seq: 1 });
  });

  it('should emit new_message for POST /messages too', async () => {
    const [a, b] = await users(2);
    const m = await expectStatus(await directMessageRaw(a, { receiver_id: b.id, content: 'dm' }), 201);
    await settle();
    expect(rec.messagesIn(m.conversation_id)).toEqual([
      { type: 'new_message', actorId: a.id, conversationId: m.conversation_id, messageId: m.id, seq: 1, recipientIds: [b.id], sender: m.sender, content: 'dm', createdAt: m.created_at },
    ]);
  });
});

describe('Index outbox', () => {
  /** Makes every D1 index write of the rooms fail (no mock: the table is simply not there). */
  async function withConversationsTableOff<T>(fn: () => Promise<T>): Promise<T> {
    await env.DB.prepare('ALTER TABLE conversations RENAME TO conversations_off').run();
    try {
      return await fn();
    } finally {
      await env.DB.prepare('ALTER TABLE conversations_off RENAME TO conversations').run();
    }
  }

  it('should store a message while D1 fails and converge the index from the alarm, exactly once', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await send(a, conv.id, 'before the outage');
    const stub = roomStub(conv.id);

    const sent = await withConversationsTableOff(async () => {
      const result = await stub.send(a.id, { content: 'during the outage', media: [], clientId: 'outage-1' });
      if (!result.ok) throw new Error(`room refused: ${result.detail}`);
      expect(result.value.created).toBe(true);
      return result.value.message;
    });
    expect(sent.seq).toBe(2);

    // The message is stored in the room even though the index did not follow.
    expect((await history(b, conv.id)).data.map((m) => m.seq)).toEqual([2, 1]);
    expect(await listedConversation(b, conv.id)).toMatchObject({ last_message: { seq: 1 }, unread_count: 1 });

    // The room scheduled a retry; running it converges the index.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const converged = await listedConversation(b, conv.id);
    expect(converged.last_message).toMatchObject({ id: sent.id, seq: 2, content: 'during the outage' });
    expect(converged.unread_count).toBe(2);
    expect((await listedConversation(a, conv.id)).unread_count).toBe(0);
    expect((await conversations(b)).data[0].id).toBe(conv.id);

    // Flushing again changes nothing: values are absolute, never applied twice.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    expect(await stub.flushIndex()).toBe(true);
    expect(await stub.flushIndex()).toBe(true);
    expect(await listedConversation(b, conv.id)).toMatchObject({ unread_count: 2, last_message: { seq: 2 } });
    expect(await memberRow(conv.id, b.id)).toMatchObject({ unread_count: 2, last_read_seq: 0 });
    expect(await memberRow(conv.id, a.id)).toMatchObject({ unread_count: 0, last_read_seq: 2 });
    const row = await env.DB.prepare('SELECT last_seq FROM conversations WHERE id = ?1').bind(conv.id).first<{ last_seq: number }>();
    expect(row?.last_seq).toBe(2);

    // Later traffic keeps counting from the right place.
    await send(a, conv.id, 'after');
    expect(await listedConversation(b, conv.id)).toMatchObject({ unread_count: 3, last_message: { seq: 3, content: 'after' } });
  });

  it('should converge several writes made during the outage (sends, read, delete) in one flush', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    await send(b, group.id, 'b0');
    const stub = roomStub(group.id);
    await withConversationsTableOff(async () => {
      for (const [who, text] of [[a, 'a1'], [b, 'b1'], [a, 'a2']] as const) {
        const r = await stub.send(who.id, { content: text, media: [], clientId: `o-${text}` });
        expect(r.ok).toBe(true);
      }
      const read = await stub.markRead(c.id, 2);
      expect(read).toEqual({ ok: true, value: { last_read_seq: 2, unread_count: 2 } });
      const removed = await stub.remove(a.id, 4);
      expect(removed.ok).toBe(true);
      // A retry during the outage is still idempotent.
      const retry = await stub.send(a.id, { content: 'a1', media: [], clientId: 'o-a1' });
      expect(retry.ok && retry.value.created).toBe(false);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // Messages: 1 b0, 2 a1, 3 b1, 4 a2 (deleted).
    expect(await listedConversation(c, group.id)).toMatchObject({ unread_count: 1, last_message: { seq: 3, content: 'b1' } });
    expect(await listedConversation(a, group.id)).toMatchObject({ unread_count: 0 });
    expect(await listedConversation(b, group.id)).toMatchObject({ unread_count: 0 });
    expect(await memberRow(group.id, c.id)).toMatchObject({ last_read_seq: 2, unread_count: 1 });
    expect(await stub.flushIndex()).toBe(true);
    expect(await memberRow(group.id, c.id)).toMatchObject({ last_read_seq: 2, unread_count: 1 });
    expect((await allMessages(c, group.id)).map((m) => [m.seq, m.deleted])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
  });
});

describe('Group admins', () => {
  it('should hand the admin role to the longest-standing member when the last admin leaves', async () => {
    const [admin, first, second, newcomer] = await users(4);
    const group = await startGroup(admin, [first, second], 'hand-over');
    await expectStatus(await call(`/conversations/${group.id}/members/${admin.id}`, { method: 'DELETE', token: admin.accessToken }), 204);
    // Someone can still manage the group: a member who joined with it becomes admin and adds people.
    const byFirst = await call(`/conversations/${group.id}/members`, { token: first.accessToken, body: { user_ids: [newcomer.id] } });
    const bySecond = await call(`/conversations/${group.id}/members`, { token: second.accessToken, body: { user_ids: [newcomer.id] } });
    expect([byFirst.status, bySecond.status].sort()).toEqual([200, 403]);
    const participants = (await expectStatus(await getConversationRaw(newcomer, group.id), 200)).participants.map((p: { id: string }) => p.id);
    expect(participants).toContain(newcomer.id);
    expect(participants).not.toContain(admin.id);
  });
});
