import type { Message, NotificationFrame, SocketConnector, SocketEnd } from '@kith/client';
import { fetchConnector } from '@kith/client';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { validatingFetch } from '../../../test/contract/validating-fetch';
import { randomIp } from '../../../test/helpers/client';
import { fillRoom } from '../../../test/messaging/helpers';
import { openSocket, type TestSocket } from '../../../test/messaging/socket-helpers';
import { inboxRpc, marked } from '../../../test/notifications/stream-helpers';
import { expired, kithClient, recordingFetch, signUp, until } from './helpers';

/**
 * The reconnecting sockets against the real rooms and inboxes: the server drops the connection in the
 * middle of a burst (the Durable Object closes its sockets, as a restart would), the client reconnects
 * from the last item it delivered, and what reaches the handler is every item exactly once, in order.
 * The connector is the client's own (a fetch upgrade through the validating fetch), wrapped to see each
 * connection's URL and, on one reconnect, to ask for an earlier resume point than the client did, so
 * the server really sends items the client already has.
 */

const FAST = { initialDelayMs: 5, maxDelayMs: 50, heartbeatMs: 0 };

interface Tap {
  connect: SocketConnector;
  /** The URL of each connection as the client asked for it. */
  urls: URL[];
  /** What `resumePoint()` said when each connection was asked for. */
  resumePoints: (string | undefined)[];
  /** Rewrites the URL of the next connection (once). */
  rewriteNext(rewrite: (url: URL) => void): void;
}

function tap(ip: string, resumePoint: () => string | undefined): Tap {
  const inner = fetchConnector(validatingFetch, { 'CF-Connecting-IP': ip });
  const urls: URL[] = [];
  const resumePoints: (string | undefined)[] = [];
  let rewrite: ((url: URL) => void) | undefined;
  return {
    urls,
    resumePoints,
    rewriteNext: (fn) => {
      rewrite = fn;
    },
    connect: async (url, token) => {
      urls.push(new URL(url));
      resumePoints.push(resumePoint());
      const target = new URL(url);
      rewrite?.(target);
      rewrite = undefined;
      return inner(target, token);
    },
  };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0)) done();
});

describe('ConversationStream', () => {
  it('should lose and repeat nothing when the server drops it in the middle of a burst', async () => {
    const ip = randomIp();
    const delivered: Message[] = [];
    const sockets = tap(ip, () => delivered.at(-1)?.seq.toString());
    const asAlice = kithClient({ headers: { 'CF-Connecting-IP': ip }, connect: sockets.connect });
    const asBob = kithClient();
    const alice = await signUp(asAlice, 'alice');
    await signUp(asBob, 'bob');
    const first = await asBob.api.POST('/api/v1/messages', { body: { receiver_id: alice.id, content: 'before the socket', client_id: 'b-0' } });
    const conversationId = first.data?.conversation_id ?? '';
    expect(first.data?.seq).toBe(1);

    const chat = asAlice.conversation(conversationId, { ...FAST, onMessage: (m) => delivered.push(m) });
    cleanup.push(() => chat.close());
    await chat.opened();
    expect(sockets.urls[0]?.searchParams.get('after_seq'), 'starts at the newest message').toBe('1');

    // Bob sends a burst of 16 over his own socket without waiting for anything: after 5 of the first
    // 8 have arrived, the room drops Alice's socket (the rest of the 8 may be on their way), and the
    // other 8 go out while she reconnects. This once, the reconnect asks for everything after seq 3
    // instead of what the client asked for, so the room really replays messages she already has.
    const bob: TestSocket = await openSocket(conversationId, asBob.session?.access_token ?? '', { label: 'bob' });
    cleanup.push(() => bob.close());
    const BURST = 16;
    const send = (from: number, to: number) => {
      for (let i = from; i <= to; i++) bob.send({ type: 'message.send', client_id: `b-${i}`, content: `burst ${i}` });
    };
    send(1, 8);
    await until(() => delivered.length >= 5, '5 messages before the drop');
    sockets.rewriteNext((url) => url.searchParams.set('after_seq', '3'));
    await env.ROOMS.get(env.ROOMS.idFromName(conversationId)).closeSocketsOf(alice.id, 1012, 'restarting');
    send(9, BURST);

    await until(() => delivered.length >= BURST, `all ${BURST} messages`);
    await bob.waitUntil((s) => s.ofType('ack').length === BURST, 'every ack');
    expect(sockets.urls.length, 'one reconnect').toBe(2);
    // The reconnect resumed from the last message delivered before it.
    expect(sockets.urls[1]?.searchParams.get('after_seq')).toBe(sockets.resumePoints[1]);
    expect(Number(sockets.resumePoints[1])).toBeGreaterThanOrEqual(6);
    // Exactly once, in order: seqs 2..17, contents burst 1..16.
    expect(delivered.map((m) => m.seq)).toEqual(Array.from({ length: BURST }, (_, i) => i + 2));
    expect(delivered.map((m) => m.content)).toEqual(Array.from({ length: BURST }, (_, i) => `burst ${i + 1}`));
    expect(chat.lastSeq).toBe(BURST + 1);
    expect(chat.state).toBe('open');
  });

  it('should refresh an expired token for the upgrade, and stop for good when the server closes with a 4xxx code', async () => {
    const recorded = recordingFetch();
    const ip = randomIp();
    const asAlice = kithClient({ fetch: recorded.fetch, headers: { 'CF-Connecting-IP': ip } });
    const asBob = kithClient();
    const alice = await signUp(asAlice, 'alice');
    await signUp(asBob, 'bob');
    const sent = await asBob.api.POST('/api/v1/messages', { body: { receiver_id: alice.id, content: 'hello', client_id: 'x-1' } });
    const conversationId = sent.data?.conversation_id ?? '';
    const session = asAlice.session;
    if (!session) throw new Error('no session');
    asAlice.setSession({ ...session, access_token: await expired(session.access_token) });

    const ends: SocketEnd[] = [];
    const delivered: Message[] = [];
    const chat = asAlice.conversation(conversationId, { ...FAST, afterSeq: 0, onMessage: (m) => delivered.push(m), onEnd: (end) => ends.push(end) });
    cleanup.push(() => chat.close());
    await chat.opened();
    expect(recorded.count('/api/v1/auth/refresh')).toBe(1);
    expect(asAlice.session?.refresh_token).not.toBe(session.refresh_token);
    await until(() => delivered.length === 1, 'the replayed message');
    expect(delivered[0]?.content).toBe('hello');

    // Removed from the conversation (4403): no reconnect.
    const upgrades = recorded.count(`/api/v1/conversations/${conversationId}/stream`);
    await env.ROOMS.get(env.ROOMS.idFromName(conversationId)).closeSocketsOf(alice.id, 4403, 'removed');
    await until(() => ends.length === 1, 'the end');
    expect(ends).toEqual([{ reason: 'server', code: 4403, detail: 'removed' }]);
    expect(chat.state).toBe('closed');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(recorded.count(`/api/v1/conversations/${conversationId}/stream`)).toBe(upgrades);

    // A conversation she is not in: refused before any upgrade, no retries.
    const refused: SocketEnd[] = [];
    const elsewhere = asAlice.conversation('01JC6Z1W3R2J4D5E6F7G8H9J0K', { ...FAST, onEnd: (end) => refused.push(end) });
    await expect(elsewhere.opened()).rejects.toThrow('ended');
    expect(refused).toEqual([{ reason: 'refused', status: 404 }]);
  });
});

describe('ConversationStream far behind', () => {
  it('should catch up through the history when the room refuses a long replay (409), then go live, each message once', async () => {
    const asAlice = kithClient();
    const asBob = kithClient();
    const alice = await signUp(asAlice, 'alice');
    const bob = await signUp(asBob, 'bob');
    const first = await asBob.api.POST('/api/v1/messages', { body: { receiver_id: alice.id, content: 'message 1', client_id: 'far-1' } });
    const conversationId = first.data?.conversation_id ?? '';
    await fillRoom(conversationId, bob.id, 2, 1200);
    const delivered: Message[] = [];
    const chat = asAlice.conversation(conversationId, { ...FAST, afterSeq: 0, onMessage: (m) => delivered.push(m) });
    cleanup.push(() => chat.close());
    await chat.opened();
    expect(delivered.map((m) => m.seq)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    await asBob.api.POST('/api/v1/messages', { body: { receiver_id: alice.id, content: 'live', client_id: 'far-live' } });
    await until(() => delivered.length === 1201, 'the live message');
    expect(delivered.at(-1)?.content).toBe('live');
  });
});

describe('NotificationStream', () => {
  it('should lose and repeat nothing when the server drops it in the middle of a burst', async () => {
    const ip = randomIp();
    const delivered: NotificationFrame[] = [];
    const sockets = tap(ip, () => delivered.at(-1)?.id);
    const kith = kithClient({ headers: { 'CF-Connecting-IP': ip }, connect: sockets.connect });
    const me = await signUp(kith, 'inbox');
    const inbox = inboxRpc(me.id);
    // One notification from before: known, not delivered, and the first resume point.
    await inbox.deliver(marked(0));

    const stream = kith.notifications({ ...FAST, onNotification: (n) => delivered.push(n) });
    cleanup.push(() => stream.close());
    await stream.opened();
    const before = stream.anchor;
    expect(sockets.urls[0]?.searchParams.get('since')).toBe(before);

    // 30 notifications: the inbox drops the socket after 10 of the first 15 have arrived, the other 15
    // are stored while the client reconnects. This once, the reconnect asks to resume from the
    // notification before the socket opened, so everything delivered so far really comes again.
    const BURST = 30;
    const deliver = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await inbox.deliver(marked(n));
    };
    const firstHalf = deliver(1, 15);
    await until(() => delivered.length >= 10, '10 notifications before the drop');
    sockets.rewriteNext((url) => url.searchParams.set('since', before ?? ''));
    await env.INBOXES.get(env.INBOXES.idFromName(me.id)).closeSockets(1012, 'restarting');
    await firstHalf;
    await deliver(16, BURST);

    await until(() => delivered.length >= BURST, `all ${BURST} notifications`);
    expect(sockets.urls.length, 'one reconnect').toBe(2);
    expect(sockets.urls[1]?.searchParams.get('since'), 'resumed from the last delivered').toBe(sockets.resumePoints[1]);
    const marks = delivered.map((n) => (n.type === 'follow_request' ? Object.entries(n.data).find(([key]) => key === 'n')?.[1] : undefined));
    expect(marks).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));
    expect(new Set(delivered.map((n) => n.id)).size).toBe(BURST);
    expect(stream.anchor).toBe(delivered.at(-1)?.id);
  });
});
