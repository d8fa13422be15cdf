import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_BURST, FRAME_RATE_PER_S, frameBudget } from '../../src/modules/messaging/room.types';
import { createUser, expectProblem, type TestUser } from '../helpers/client';
import { fillRoom, startDirect } from './helpers';
import { closeAll, connect, openSocket, settle, type TestSocket } from './socket-helpers';

/**
 * What one member can make a conversation's room do to the others: frames are capped in size and in
 * rate (per member, across their sockets), and a member keeps
 * at most ten sockets open on one conversation. A refusal is an error frame; the room goes on.
 */

const opened: TestSocket[] = [];
async function open(conversationId: string, user: TestUser, afterSeq?: number): Promise<TestSocket> {
  const s = await openSocket(conversationId, user.accessToken, { label: `${user.username}#${opened.length}`, afterSeq });
  opened.push(s);
  return s;
}
afterEach(() => closeAll(...opened.splice(0)));

async function pair() {
  const [a, b] = [await createUser(), await createUser()];
  const conv = await startDirect(a, b);
  return { a, b, id: conv.id as string };
}

describe('Conversation socket limits', () => {
  it('should refuse an oversized frame with a 413 error frame and keep the socket and room working', async () => {
    const { a, b, id } = await pair();
    const [a1, b1] = [await open(id, a), await open(id, b)];
    const huge = JSON.stringify({ type: 'message.send', client_id: 'big', content: 'x'.repeat(200 * 1024) });
    const refused = await a1.request(huge, (f) => f?.type === 'error' || f?.type === 'ack', 'a refusal of the huge frame');
    expect(refused.data).toMatchObject({ type: 'error', status: 413, detail: expect.stringMatching(/^frames?: at most 128 KB/) });
    const ok = await a1.request({ type: 'message.send', client_id: 'small', content: 'still here' }, (f) => f?.type === 'ack', 'the ack');
    expect(ok.data).toEqual({ type: 'ack', client_id: 'small', seq: 1 });
    await b1.waitForMessages(1);
    expect(a1.closeEvent).toBeNull();
  });

  it('should relay no more than a burst of a frame flood, and answer the rest with 429 error frames (naming the refused send)', async () => {
    const { a, b, id } = await pair();
    const [a1, b1] = [await open(id, a), await open(id, b)];
    for (let i = 0; i < 80; i++) a1.send({ type: 'typing' });
    await a1.next((f) => f?.type === 'error' && f.status === 429, 'a 429 for the flood');
    const refusedSend = await a1.request({ type: 'message.send', client_id: 'during-flood', content: 'hi' }, (f) => f?.type === 'ack' || (f?.type === 'error' && f.client_id === 'during-flood'), 'the send');
    expect(refusedSend.data).toMatchObject({ type: 'error', status: 429, client_id: 'during-flood', detail: expect.stringMatching(/^frames:/) });
    await settle();
    const relayed = b1.ofType('typing').length;
    expect(relayed).toBeGreaterThan(0);
    expect(relayed).toBeLessThan(80);
    expect(b1.ofType('message.new')).toEqual([]);
    expect(a1.closeEvent).toBeNull();
  });

  it('should keep at most ten sockets per member on a conversation, closing the oldest with 4429', async () => {
    const { a, id } = await pair();
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 11; i++) sockets.push(await open(id, a));
    expect(await sockets[0]!.closed()).toMatchObject({ code: 4429 });
    await settle();
    expect(sockets.slice(1).map((s) => s.closeEvent)).toEqual(Array(10).fill(null));
  });
});

describe('Frame budget setting', () => {
  it('should take ROOM_FRAME_RATE frames a second (bursts of six seconds\' worth), and the defaults when unset or not a rate', () => {
    expect(frameBudget('100')).toEqual({ rate: 100, burst: 600 });
    for (const setting of [undefined, '', 'fast', '0', '-5', 'Infinity']) expect(frameBudget(setting), String(setting)).toEqual({ rate: FRAME_RATE_PER_S, burst: FRAME_BURST });
  });
});

describe('Replays on connect', () => {
  it('should refuse a replay of more than 1,000 messages before the upgrade (409 naming after_seq), never loading them all', async () => {
    const { a, b, id } = await pair();
    await fillRoom(id, a.id, 1, 1200);
    const refused = await connect(id, b.accessToken, { afterSeq: 0 });
    expect(refused.webSocket ?? null).toBeNull();
    const problem = await expectProblem(refused, 409);
    expect(problem.errors).toEqual([{ field: 'after_seq', message: expect.stringMatching(/1,?000/) }]);
    // Caught up through REST to within 1,000, the socket replays the rest exactly.
    const s = await open(id, b, 200);
    await s.waitForMessages(1000);
    expect(s.seqs[0]).toBe(201);
    expect(s.seqs.at(-1)).toBe(1200);
  });
});
