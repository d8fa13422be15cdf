import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { closeAll, connect, openSocket, settle, TestSocket, waitAll } from './socket-helpers';

// ------------------------------------------------------------------ local REST helpers

const opened: TestSocket[] = [];
async function open(conversationId: string, user: TestUser, options: Parameters<typeof openSocket>[2] = {}): Promise<TestSocket> {
  const s = await openSocket(conversationId, user.accessToken, { label: `${user.username}#${opened.length}`, ...options });
  opened.push(s);
  return s;
}
afterEach(() => {
  closeAll(...opened.splice(0));
});

async function startConversation(creator: TestUser, others: TestUser[], title?: string): Promise<string> {
  const res = await call('/conversations', { body: { participant_ids: others.map((o) => o.id), title }, token: creator.accessToken });
  const body = await expectStatus(res, 201);
  return body.id as string;
}

async function sendRest(conversationId: string, user: TestUser, content: string, clientId?: string, status = 201): Promise<any> {
  return expectStatus(await call(`/conversations/${conversationId}/messages`, { body: { content, client_id: clientId }, token: user.accessToken }), status);
}

/** The whole history, ascending from after_seq=0, paging with next_cursor. */
async function fullHistory(conversationId: string, user: TestUser, limit = 25): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const q = new URLSearchParams({ after_seq: '0', limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const body = await expectStatus(await call(`/conversations/${conversationId}/messages?${q}`, { token: user.accessToken }), 200);
    out.push(...body.data);
    cursor = body.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('history did not end');
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pick = (m: any) => ({ id: m.id, seq: m.seq, content: m.content, sender: m.sender?.id, client_id: m.client_id });

/** Expects a 101-less refusal: the status, a problem body, and no socket. */
async function expectRefused(res: Response, status: number): Promise<any> {
  expect(res.webSocket ?? null, 'no socket on a refused upgrade').toBeNull();
  return expectProblem(res, status);
}

function decodePayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1]!;
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
}

/** A correctly signed access token for `user` (same session) whose expiry is in the past. */
async function expiredToken(user: TestUser): Promise<string> {
  const { sid } = decodePayload(user.accessToken);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid, typ: 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer('kith')
    .setAudience('kith-api')
    .setIssuedAt(now - 3600)
    .setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(env.JWT_SECRET!));
}

// ------------------------------------------------------------------ tests

describe('Conversation socket authentication', () => {
  it('should refuse a missing token with a 401 problem before any upgrade', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const res = await connect(id, null);
    expect(res.status).not.toBe(101);
    const body = await expectRefused(res, 401);
    expect(body.detail).toMatch(/token/i);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });

  it('should refuse an invalid token (header or query) with 401', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    await expectRefused(await connect(id, 'not-a-jwt', { via: 'query' }), 401);
    await expectRefused(await connect(id, 'not-a-jwt', { via: 'header' }), 401);
    // A token that is structurally a JWT but signed with another key.
    const forged = await new SignJWT({ sid: 'x', typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(a.id)
      .setIssuer('kith')
      .setAudience('kith-api')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    await expectRefused(await connect(id, forged, { via: 'query' }), 401);
    // A malformed Authorization header is refused even with a valid ?token=.
    await expectRefused(await connect(id, a.accessToken, { via: 'query', headers: { Authorization: 'Basic abc' } }), 401);
  });

  it('should refuse an expired token with 401', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const expired = await expiredToken(a);
    const viaHeader = await expectRefused(await connect(id, expired, { via: 'header' }), 401);
    expect(viaHeader.detail).toMatch(/expired/i);
    await expectRefused(await connect(id, expired, { via: 'query' }), 401);
  });

  it('should accept a token in the Authorization header', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const res = await connect(id, a.accessToken, { via: 'header' });
    expect(res.status).toBe(101);
    expect(res.webSocket).toBeTruthy();
    const s = new TestSocket(res.webSocket!, 'header');
    opened.push(s);
    const pong = await s.request('{"type":"ping"}', (_f, raw) => raw.includes('pong'));
    expect(pong.raw).toBe('{"type":"pong"}');
  });

  it('should accept a token in ?token=', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const res = await connect(id, b.accessToken, { via: 'query' });
    expect(res.status).toBe(101);
    expect(res.webSocket).toBeTruthy();
    const s = new TestSocket(res.webSocket!, 'query');
    opened.push(s);
    const m = await sendRest(id, a, 'over query token');
    await s.waitForMessages(1);
    expect(s.messages[0].id).toBe(m.id);
  });

  it('should answer 404 for a non-member and for an unknown conversation, before any upgrade', async () => {
    const a = await createUser();
    const b = await createUser();
    const stranger = await createUser();
    const id = await startConversation(a, [b]);
    await expectRefused(await connect(id, stranger.accessToken), 404);
    await expectRefused(await connect(id, stranger.accessToken, { via: 'query' }), 404);
    await expectRefused(await connect('01HZZZZZZZZZZZZZZZZZZZZZZZ', a.accessToken), 404);
  });

  it('should answer 426 without an Upgrade header', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const res = await connect(id, a.accessToken, { upgrade: false });
    const body = await expectRefused(res, 426);
    expect(body.detail).toMatch(/websocket/i);
    // Authentication still comes first: no token and no Upgrade is a 401.
    await expectRefused(await connect(id, null, { upgrade: false }), 401);
  });
});

describe('Conversation socket frames', () => {
  it('should deliver a REST send as message.new on every socket of every member, the sender included', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    const id = await startConversation(a, [b, c], 'frames');
    const a1 = await open(id, a);
    const a2 = await open(id, a, { via: 'query' });
    const b1 = await open(id, b);
    const c1 = await open(id, c);
    const sent = await sendRest(id, a, 'hello everyone');
    const all = [a1, a2, b1, c1];
    await waitAll(all, (s) => s.messages.length >= 1, 'message.new');
    await settle();
    for (const s of all) {
      expect(s.frames).toEqual([{ type: 'message.new', message: sent }]);
      expect(s.messages[0]).toMatchObject({ conversation_id: id, seq: 1, content: 'hello everyone', sender: { id: a.id }, deleted: false });
    }
  });

  it('should broadcast a socket message.send and ack the sending socket with its seq', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const a2 = await open(id, a);
    const b1 = await open(id, b);
    a1.send({ type: 'message.send', client_id: 'c-1', content: 'from a socket' });
    await a1.next((f) => f?.type === 'ack', 'ack');
    await waitAll([a1, a2, b1], (s) => s.messages.length >= 1, 'message.new');
    await settle();
    const [msg] = a1.messages;
    expect(msg).toMatchObject({ seq: 1, content: 'from a socket', client_id: 'c-1', sender: { id: a.id } });
    // The sending socket: the message, then its ack. The others: only the message.
    expect(a1.frames).toEqual([{ type: 'message.new', message: msg }, { type: 'ack', client_id: 'c-1', seq: 1 }]);
    expect(a2.frames).toEqual([{ type: 'message.new', message: msg }]);
    expect(b1.frames).toEqual([{ type: 'message.new', message: msg }]);
    const history = await fullHistory(id, b);
    expect(history).toEqual([msg]);
  });

  it('should answer a socket retry with the same client_id with the same seq and no second message', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    const first = await a1.request({ type: 'message.send', client_id: 'retry-me', content: 'once' }, (f) => f?.type === 'ack', 'first ack');
    const second = await a1.request({ type: 'message.send', client_id: 'retry-me', content: 'once' }, (f) => f?.type === 'ack', 'second ack');
    // A retry with other content still returns the original.
    const third = await a1.request({ type: 'message.send', client_id: 'retry-me', content: 'changed' }, (f) => f?.type === 'ack', 'third ack');
    expect(first.data).toEqual({ type: 'ack', client_id: 'retry-me', seq: 1 });
    expect(second.data).toEqual(first.data);
    expect(third.data).toEqual(first.data);
    // The retry over REST with the same client_id returns the original message too (200).
    const viaRest = await sendRest(id, a, 'once', 'retry-me', 200);
    expect(viaRest.seq).toBe(1);
    // Another sender may use the same client_id: that is a different message.
    const other = await b1.request({ type: 'message.send', client_id: 'retry-me', content: 'mine' }, (f) => f?.type === 'ack', 'b ack');
    expect(other.data).toEqual({ type: 'ack', client_id: 'retry-me', seq: 2 });
    await waitAll([a1, b1], (s) => s.messages.length >= 2, 'two messages');
    await settle();
    for (const s of [a1, b1]) expect(s.seqs).toEqual([1, 2]);
    expect(a1.messages[0].content).toBe('once');
    expect((await fullHistory(id, a)).map(pick)).toEqual(a1.messages.map(pick));
  });

  it('should answer invalid frames with an error frame of status 400', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    const invalid: [string, unknown][] = [
      ['non-JSON', 'this is not json'],
      ['truncated JSON', '{"type":"message.send"'],
      ['JSON null', 'null'],
      ['a JSON number', '42'],
      ['a JSON array', '[1,2]'],
      ['unknown type', { type: 'dance' }],
      ['no type', { client_id: 'x', content: 'y' }],
      ['missing client_id', { type: 'message.send', content: 'hi' }],
      ['empty client_id', { type: 'message.send', client_id: '', content: 'hi' }],
      ['numeric client_id', { type: 'message.send', client_id: 7, content: 'hi' }],
      ['non-string content', { type: 'message.send', client_id: 'n1', content: 42 }],
      ['missing content', { type: 'message.send', client_id: 'n2' }],
      ['empty content', { type: 'message.send', client_id: 'n3', content: '' }],
      ['blank content', { type: 'message.send', client_id: 'n4', content: '   \n\t ' }],
      ['too long content', { type: 'message.send', client_id: 'n5', content: 'x'.repeat(100_000) }],
      ['read with a string seq', { type: 'read', seq: 'one' }],
      ['read with a negative seq', { type: 'read', seq: -1 }],
    ];
    for (const [name, frame] of invalid) {
      const got = await a1.request(frame, (f) => f?.type === 'error' || f?.type === 'ack' || f?.type === 'message.new', `an error for ${name}`);
      expect(got.data, name).toMatchObject({ type: 'error', status: 400, detail: expect.any(String) });
      expect(got.data.detail.length, name).toBeGreaterThan(0);
      // A refused send names its client_id when it had a valid one, so the client knows which send failed.
      const sentId = typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === 'message.send' ? (frame as { client_id?: unknown }).client_id : undefined;
      if (typeof sentId === 'string' && sentId.length > 0) expect(got.data.client_id, name).toBe(sentId);
      else expect(got.data, name).not.toHaveProperty('client_id');
    }
    // The socket is still open and usable afterwards, and nothing was stored or broadcast.
    expect(a1.closeEvent).toBeNull();
    const ok = await a1.request({ type: 'message.send', client_id: 'good', content: 'valid' }, (f) => f?.type === 'ack', 'ack after errors');
    expect(ok.data).toEqual({ type: 'ack', client_id: 'good', seq: 1 });
    await b1.waitForMessages(1);
    await settle();
    expect(b1.frames).toEqual([{ type: 'message.new', message: expect.objectContaining({ seq: 1, content: 'valid' }) }]);
    expect(a1.ofType('message.new')).toHaveLength(1);
  });

  it('should answer the exact text {"type":"ping"} with the exact text {"type":"pong"}', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    for (let i = 0; i < 3; i++) {
      const pong = await a1.request('{"type":"ping"}', () => true, 'pong');
      expect(pong.raw).toBe('{"type":"pong"}');
    }
    await settle();
    // Pings are answered to the pinging socket only.
    expect(a1.received.map((r) => r.raw)).toEqual(['{"type":"pong"}', '{"type":"pong"}', '{"type":"pong"}']);
    expect(b1.received).toEqual([]);
  });

  it('should send typing to other members only, with the public user', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    const id = await startConversation(a, [b, c]);
    const a1 = await open(id, a);
    const a2 = await open(id, a);
    const b1 = await open(id, b);
    const b2 = await open(id, b);
    const c1 = await open(id, c);
    a1.send({ type: 'typing' });
    await waitAll([b1, b2, c1], (s) => s.ofType('typing').length >= 1, 'typing');
    await settle();
    for (const s of [b1, b2, c1]) {
      expect(s.frames).toHaveLength(1);
      const [frame] = s.frames;
      expect(frame.type).toBe('typing');
      expect(frame.user).toMatchObject({ id: a.id, username: a.username, display_name: expect.any(String), is_verified: expect.any(Boolean) });
      expect(Object.keys(frame.user).sort()).toEqual(['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username']);
      expect(frame.user).not.toHaveProperty('email');
    }
    // Neither the typing socket nor the typist's other socket hears it.
    expect(a1.received).toEqual([]);
    expect(a2.received).toEqual([]);
    // Typing is not stored.
    expect(await fullHistory(id, a)).toEqual([]);
  });

  it('should broadcast read {seq} as {type:"read", user_id, seq} to every socket', async () => {
    const a = await createUser();
    const b = await createUser();
    // b follows a: not a message request for b, whose reads a may then see (test/safety/privacy-review.test.ts).
    await expectStatus(await call(`/users/${a.id}/follow`, { method: 'POST', token: b.accessToken }), 200);
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    const b2 = await open(id, b);
    for (let i = 1; i <= 3; i++) await sendRest(id, a, `m${i}`);
    await waitAll([a1, b1, b2], (s) => s.messages.length >= 3, '3 messages');
    b1.send({ type: 'read', seq: 2 });
    await waitAll([a1, b1, b2], (s) => s.ofType('read').length >= 1, 'read frame');
    for (const s of [a1, b1, b2]) expect(s.ofType('read')).toEqual([{ type: 'read', user_id: b.id, seq: 2 }]);
    // The position is stored: unread for b is now 1.
    const list = await expectStatus(await call('/conversations', { token: b.accessToken }), 200);
    expect(list.data.find((x: any) => x.id === id).unread_count).toBe(1);
    // Reading beyond the end clamps to the last seq.
    b2.send({ type: 'read', seq: 999 });
    await waitAll([a1, b1, b2], (s) => s.ofType('read').length >= 2, 'second read frame');
    for (const s of [a1, b1, b2]) expect(s.ofType('read')[1]).toEqual({ type: 'read', user_id: b.id, seq: 3 });
    // Reading an older position again moves nothing and broadcasts nothing.
    b1.send({ type: 'read', seq: 1 });
    await settle(200);
    for (const s of [a1, b1, b2]) expect(s.ofType('read')).toHaveLength(2);
  });
});

describe('Ordering and exactly-once delivery', () => {
  it('should deliver every message exactly once, in gap-free seq order, to every socket, equal to history', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    const id = await startConversation(a, [b, c], 'stress');
    const a1 = await open(id, a, { label: 'a1' });
    const a2 = await open(id, a, { label: 'a2', via: 'query' });
    const b1 = await open(id, b, { label: 'b1' });
    const b2 = await open(id, b, { label: 'b2' });
    const c1 = await open(id, c, { label: 'c1' });
    const sockets = [a1, a2, b1, b2, c1];

    // Six senders: each member over REST and over one of its sockets, 10 messages each (20 per user,
    // under the per-sender rate limit).
    const PER = 10;
    const socketSenders: [TestSocket, TestUser][] = [[a2, a], [b1, b], [c1, c]];
    const restSenders = [a, b, c];
    const expected = new Map<string, { sender: string; content: string }>();
    const restResults: Promise<any>[] = [];
    for (let i = 0; i < PER; i++) {
      for (const u of restSenders) {
        const content = `rest ${u.username} ${i}`;
        const cid = `rest-${u.id}-${i}`;
        expected.set(`${u.id}|${cid}`, { sender: u.id, content });
        restResults.push(sendRest(id, u, content, cid));
      }
      for (const [s, u] of socketSenders) {
        const content = `sock ${u.username} ${i}`;
        const cid = `sock-${u.id}-${i}`;
        expected.set(`${u.id}|${cid}`, { sender: u.id, content });
        s.send({ type: 'message.send', client_id: cid, content });
      }
    }
    const N = expected.size;
    expect(N).toBe(60);
    const restMessages = await Promise.all(restResults);
    await waitAll(sockets, (s) => s.messages.length >= N, `${N} messages`, 15_000);
    await waitAll(socketSenders.map(([s]) => s), (s) => s.ofType('ack').length >= PER, `${PER} acks`);
    await settle(200);

    const history = await fullHistory(id, c, 25);
    expect(history.map((m) => m.seq)).toEqual(range(1, N));
    // Every sent message is in history exactly once, with its sender and content.
    const inHistory = new Map(history.map((m) => [`${m.sender.id}|${m.client_id}`, m]));
    expect(inHistory.size).toBe(N);
    for (const [key, want] of expected) expect(inHistory.get(key), key).toMatchObject({ sender: { id: want.sender }, content: want.content });
    expect(new Set(history.map((m) => m.id)).size).toBe(N);

    for (const s of sockets) {
      const seqs = s.seqs;
      expect(seqs, `${s.label} seqs`).toEqual(range(1, N));
      expect(s.messages, `${s.label} equals history`).toEqual(history);
      expect(s.ofType('error'), `${s.label} errors`).toEqual([]);
    }
    // REST responses and socket acks name the seq history holds for that message.
    for (const m of restMessages) expect(history[m.seq - 1]).toEqual(m);
    for (const [s, u] of socketSenders) {
      const acks = s.ofType('ack');
      expect(acks).toHaveLength(PER);
      expect(new Set(acks.map((x) => x.client_id)).size).toBe(PER);
      for (const ack of acks) {
        const m = history[ack.seq - 1];
        expect(m.client_id).toBe(ack.client_id);
        expect(m.sender.id).toBe(u.id);
        // The sending socket has the message before its ack.
        const msgIndex = s.frames.findIndex((f) => f.type === 'message.new' && f.message.seq === ack.seq);
        const ackIndex = s.frames.findIndex((f) => f.type === 'ack' && f.client_id === ack.client_id);
        expect(msgIndex).toBeGreaterThanOrEqual(0);
        expect(msgIndex).toBeLessThan(ackIndex);
      }
    }
    // Descending history (no after_seq) is the mirror image.
    const desc = await expectStatus(await call(`/conversations/${id}/messages?limit=100`, { token: a.accessToken }), 200);
    expect(desc.data).toEqual([...history].reverse());
  });
});

describe('Reconnect with after_seq', () => {
  it('should replay exactly the missed messages in order, then continue live without duplicate or gap', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const first = await open(id, b);
    for (let i = 1; i <= 3; i++) await sendRest(id, a, `before ${i}`);
    await first.waitForMessages(3);
    expect(first.seqs).toEqual([1, 2, 3]);
    const lastSeen = first.seqs.at(-1)!;
    first.close();
    await first.closed();
    for (let i = 4; i <= 7; i++) await sendRest(id, a, `missed ${i}`);

    const again = await open(id, b, { afterSeq: lastSeen, via: 'query' });
    await again.waitForMessages(4);
    // The first frames are the replay: exactly seqs 4..7, in order, nothing else before them.
    expect(again.frames.slice(0, 4).map((f) => [f.type, f.message.seq])).toEqual(range(4, 7).map((s) => ['message.new', s]));
    const history = await fullHistory(id, b);
    expect(again.messages.slice(0, 4)).toEqual(history.slice(3, 7));

    await sendRest(id, a, 'live 8');
    await again.request({ type: 'message.send', client_id: 'b-live', content: 'live 9' }, (f) => f?.type === 'ack', 'ack');
    await again.waitForMessages(6);
    await settle();
    expect(again.seqs).toEqual(range(4, 9));
    expect(again.messages.map((m) => m.content)).toEqual(['missed 4', 'missed 5', 'missed 6', 'missed 7', 'live 8', 'live 9']);
  });

  it('should replay everything with after_seq=0 and nothing beyond the end', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    for (let i = 1; i <= 3; i++) await sendRest(id, a, `m${i}`);
    const all = await open(id, b, { afterSeq: 0 });
    await all.waitForMessages(3);
    const upToDate = await open(id, b, { afterSeq: 3 });
    const beyond = await open(id, b, { afterSeq: 50 });
    const live = await open(id, b);
    await settle();
    expect(all.seqs).toEqual([1, 2, 3]);
    expect(upToDate.received).toEqual([]);
    expect(beyond.received).toEqual([]);
    expect(live.received).toEqual([]);
    await sendRest(id, a, 'm4');
    await waitAll([all, upToDate, beyond, live], (s) => s.messages.length >= (s === all ? 4 : 1), 'm4');
    await settle();
    expect(all.seqs).toEqual([1, 2, 3, 4]);
    for (const s of [upToDate, beyond, live]) expect(s.seqs).toEqual([4]);
  });

  it('should neither drop nor duplicate messages sent while reconnecting', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    for (let i = 1; i <= 5; i++) await sendRest(id, a, `pre ${i}`);
    // Reconnect from seq 2 while 15 more messages are being sent concurrently.
    const sends = Promise.all(range(6, 20).map((i) => sendRest(id, a, `during ${i}`, `d${i}`)));
    const sockets = await Promise.all([open(id, b, { afterSeq: 2 }), open(id, b, { afterSeq: 4, via: 'query' }), open(id, a, { afterSeq: 0 })]);
    await sends;
    const [s2, s4, s0] = sockets as [TestSocket, TestSocket, TestSocket];
    await s2.waitForMessages(18);
    await s4.waitForMessages(16);
    await s0.waitForMessages(20);
    await settle();
    expect(s2.seqs).toEqual(range(3, 20));
    expect(s4.seqs).toEqual(range(5, 20));
    expect(s0.seqs).toEqual(range(1, 20));
    const history = await fullHistory(id, a);
    expect(s0.messages).toEqual(history);
  });
});

describe('Hibernation', () => {
  it('should keep serving existing sockets after the room is evicted', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    const id = await startConversation(a, [b, c]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    const b2 = await open(id, b);
    const c1 = await open(id, c);
    const sockets = [a1, b1, b2, c1];
    await sendRest(id, a, 'one');
    await b1.request({ type: 'message.send', client_id: 'pre', content: 'two' }, (f) => f?.type === 'ack', 'ack');
    await waitAll(sockets, (s) => s.messages.length >= 2, '2 messages');

    const stub = env.ROOMS.get(env.ROOMS.idFromName(id));
    // Mark the live instance, so the test can prove eviction really dropped in-memory state.
    await runInDurableObject(stub, (room) => {
      (room as unknown as { marker?: string }).marker = 'before eviction';
    });
    await evictDurableObject(stub);

    // Ping is answered by the runtime, before anything wakes the room.
    const pong = await c1.request('{"type":"ping"}', (_f, raw) => raw.includes('pong'), 'pong after eviction');
    expect(pong.raw).toBe('{"type":"pong"}');

    // A socket send after eviction: the identity comes from the socket attachment.
    const ack = await b2.request({ type: 'message.send', client_id: 'post', content: 'three' }, (f) => f?.type === 'ack' || f?.type === 'error', 'ack after eviction');
    expect(ack.data).toEqual({ type: 'ack', client_id: 'post', seq: 3 });
    await sendRest(id, c, 'four');
    expect(await runInDurableObject(stub, (room) => (room as unknown as { marker?: string }).marker)).toBeUndefined();
    await waitAll(sockets, (s) => s.messages.length >= 4, '4 messages');
    await settle();
    for (const s of sockets) {
      expect(s.seqs, s.label).toEqual([1, 2, 3, 4]);
      expect(s.messages[2]).toMatchObject({ content: 'three', sender: { id: b.id }, client_id: 'post' });
    }

    // Evict again: typing still knows who is who (the typist does not hear itself).
    await evictDurableObject(stub);
    const before = sockets.map((s) => s.received.length);
    a1.send({ type: 'typing' });
    await waitAll([b1, b2, c1], (s) => s.ofType('typing').length >= 1, 'typing after eviction');
    await settle();
    expect(a1.received.length).toBe(before[0]);
    for (const s of [b1, b2, c1]) expect(s.ofType('typing')[0].user.id).toBe(a.id);

    // A read over a socket after eviction is attributed to the right user.
    await evictDurableObject(stub);
    // (a last sent seq 1, so reading up to 4 moves its position.)
    a1.send({ type: 'read', seq: 4 });
    await waitAll(sockets, (s) => s.ofType('read').some((r) => r.user_id === a.id), 'read after eviction');
    for (const s of sockets) expect(s.ofType('read')).toEqual([{ type: 'read', user_id: a.id, seq: 4 }]);

    // Retrying the pre-eviction client_id still returns the original seq.
    const retry = await b1.request({ type: 'message.send', client_id: 'pre', content: 'two' }, (f) => f?.type === 'ack' || f?.type === 'error', 'retry ack');
    expect(retry.data).toEqual({ type: 'ack', client_id: 'pre', seq: 2 });
    await sendRest(id, a, 'five');
    await waitAll(sockets, (s) => s.messages.length >= 5, '5 messages');
    await settle();
    for (const s of sockets) expect(s.seqs).toEqual([1, 2, 3, 4, 5]);
    expect((await fullHistory(id, a)).map(pick)).toEqual(a1.messages.map(pick));
  });
});

describe('Membership on sockets', () => {
  it('should close a removed member’s sockets with 4403 and stop delivering to them', async () => {
    const admin = await createUser();
    const b = await createUser();
    const gone = await createUser();
    const id = await startConversation(admin, [b, gone], 'removal');
    const adminSock = await open(id, admin);
    const bSock = await open(id, b);
    const gone1 = await open(id, gone);
    const gone2 = await open(id, gone, { via: 'query' });
    await sendRest(id, admin, 'before removal');
    await waitAll([adminSock, bSock, gone1, gone2], (s) => s.messages.length >= 1, 'first message');

    await expectStatus(await call(`/conversations/${id}/members/${gone.id}`, { method: 'DELETE', token: admin.accessToken }), 204);
    const [close1, close2] = await Promise.all([gone1.closed(), gone2.closed()]);
    expect(close1.code).toBe(4403);
    expect(close2.code).toBe(4403);

    await sendRest(id, admin, 'after removal');
    await bSock.request({ type: 'message.send', client_id: 'b-after', content: 'b after removal' }, (f) => f?.type === 'ack', 'ack');
    await waitAll([adminSock, bSock], (s) => s.messages.length >= 3, 'messages after removal');
    await settle();
    for (const s of [adminSock, bSock]) expect(s.seqs).toEqual([1, 2, 3]);
    for (const s of [gone1, gone2]) {
      expect(s.seqs).toEqual([1]);
      expect(s.closeEvent).not.toBeNull();
    }
    expect(adminSock.closeEvent).toBeNull();
    expect(bSock.closeEvent).toBeNull();
    // The removed member cannot reconnect.
    await expectRefused(await connect(id, gone.accessToken), 404);
    await expectRefused(await connect(id, gone.accessToken, { afterSeq: 0 }), 404);
  });

  it('should close the sockets of a member who leaves', async () => {
    const admin = await createUser();
    const b = await createUser();
    const c = await createUser();
    const id = await startConversation(admin, [b, c], 'leaving');
    const cSock = await open(id, c);
    const bSock = await open(id, b);
    await expectStatus(await call(`/conversations/${id}/members/${c.id}`, { method: 'DELETE', token: c.accessToken }), 204);
    expect((await cSock.closed()).code).toBe(4403);
    await sendRest(id, admin, 'after leave');
    await bSock.waitForMessages(1);
    await settle();
    expect(cSock.messages).toEqual([]);
  });
});

describe('Blocks on sockets', () => {
  it('should refuse a socket message.send with 403 after one side blocks the other', async () => {
    const a = await createUser();
    const b = await createUser();
    const id = await startConversation(a, [b]);
    const a1 = await open(id, a);
    const b1 = await open(id, b);
    const okAck = await a1.request({ type: 'message.send', client_id: 'pre-block', content: 'hi' }, (f) => f?.type === 'ack' || f?.type === 'error', 'ack');
    expect(okAck.data).toEqual({ type: 'ack', client_id: 'pre-block', seq: 1 });
    await b1.waitForMessages(1);

    await expectStatus(await call(`/users/${a.id}/block`, { method: 'POST', token: b.accessToken }), 200);

    // The blocked side cannot continue the conversation…
    const refused = await a1.request({ type: 'message.send', client_id: 'post-block', content: 'still there?' }, (f) => f?.type === 'ack' || f?.type === 'error', 'refusal');
    expect(refused.data).toMatchObject({ type: 'error', status: 403, detail: expect.any(String) });
    // …nor can the blocker.
    const refusedB = await b1.request({ type: 'message.send', client_id: 'blocker', content: 'bye' }, (f) => f?.type === 'ack' || f?.type === 'error', 'refusal');
    expect(refusedB.data).toMatchObject({ type: 'error', status: 403 });
    // Over REST too.
    await expectProblem(await call(`/conversations/${id}/messages`, { body: { content: 'rest?' }, token: a.accessToken }), 403);
    await settle();
    for (const s of [a1, b1]) expect(s.seqs).toEqual([1]);
    expect((await fullHistory(id, a)).map((m) => m.seq)).toEqual([1]);
  });
});
