import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { settle } from '../messaging/socket-helpers';
import { CANDIDATE, closeSockets, directPair, expectErrorFrame, groupOf, newCallId, SDP, sendAndWait, users, type TestSocket } from './helpers';

/**
 * ICE candidates carry IP addresses: nobody's reach someone before they chose to be in the call with
 * them. A callee who has not answered yet gives the caller nothing; in a group, only those who joined
 * learn each other's candidates.
 */

afterEach(closeSockets);

const CALLEE_CANDIDATE = { candidate: 'candidate:2 1 udp 2122260223 198.51.100.7 61000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

describe('Candidates before consent', () => {
  it('should keep a ringing callee’s candidates from the caller until the callee answers, then hand them over after the answer', async () => {
    const [a, b] = await users(2);
    const { sa, sb } = await directPair(a, b);
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');

    // The callee's client gathers before the user picks up (or a hostile caller hopes it does).
    sb.send({ type: 'call.candidates', call_id: callId, candidates: [CALLEE_CANDIDATE] });
    await settle();
    expect(sa.ofType('call.candidates')).toEqual([]);
    expect(sb.ofType('error')).toEqual([]);

    // A rejected call gives nothing away either; an answered one delivers them right behind the answer.
    await sendAndWait(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, sa, 'call.answer');
    const held = (await sa.next((f) => f?.type === 'call.candidates' && f.call_id === callId, 'the held candidates')).data;
    expect(held.candidates).toEqual([CALLEE_CANDIDATE]);
    expect(held.from.id).toBe(b.id);
    expect(sa.frames.filter((f) => f?.call_id === callId).map((f) => f.type)).toEqual(['call.answer', 'call.candidates']);
  });

  it('should never hand a rejected callee’s early candidates to the caller', async () => {
    const [a, b] = await users(2);
    const { sa, sb } = await directPair(a, b);
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    sb.send({ type: 'call.candidates', call_id: callId, candidates: [CALLEE_CANDIDATE] });
    await sendAndWait(sb, { type: 'call.reject', call_id: callId }, sa, 'call.ended');
    await settle();
    expect(JSON.stringify(sa.frames)).not.toContain('198.51.100.7');
  });

  it('should relay a group participant’s candidates only to those who joined, and take none from a callee still ringing', async () => {
    const [a, b, c] = await users(3);
    const { sockets } = await groupOf(a, [b, c]);
    const [sa, sb, sc] = sockets as [TestSocket, TestSocket, TestSocket];
    const callId = newCallId();
    sa.send({ type: 'call.invite', call_id: callId, media: 'video', sdp: SDP });
    for (const s of [sb, sc]) await s.next((f) => f?.type === 'call.invite' && f.call_id === callId, 'the ring');
    await sendAndWait(sb, { type: 'call.join', call_id: callId }, sa, 'call.joined');

    // B joined: its candidates reach A, never C, who has not picked up.
    const fromB = await sendAndWait(sb, { type: 'call.candidates', call_id: callId, candidates: [CALLEE_CANDIDATE] }, sa, 'call.candidates');
    expect(fromB.from.id).toBe(b.id);
    // C, still ringing, cannot send any to anyone.
    expect((await expectErrorFrame(sc, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] }, 403)).detail).toMatch(/[Jj]oin/);
    expect((await expectErrorFrame(sc, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE], to: a.id }, 403)).detail).toMatch(/[Jj]oin/);
    // Nor may anyone address candidates to C before C joins.
    await expectErrorFrame(sb, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE], to: c.id }, 404);
    await settle();
    expect(sc.ofType('call.candidates')).toEqual([]);
    expect(sb.ofType('call.candidates')).toEqual([]);
  });
});

describe('Ring floods', () => {
  it('should stop a caller whose last three calls here went unanswered (429) until the callee calls back', async () => {
    const [a, b] = await users(2);
    const { sa, sb } = await directPair(a, b);
    for (let i = 0; i < 3; i++) {
      const callId = newCallId();
      await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
      await sendAndWait(sb, { type: 'call.reject', call_id: callId }, sa, 'call.ended');
    }
    const refused = await expectErrorFrame(sa, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 429);
    expect(refused.detail).toMatch(/unanswered/);
    await settle();
    expect(sb.ofType('call.invite')).toHaveLength(3);

    // The callee calling back (answered or not) lifts it.
    const back = newCallId();
    await sendAndWait(sb, { type: 'call.invite', call_id: back, media: 'audio', sdp: SDP }, sa, 'call.invite');
    await sendAndWait(sa, { type: 'call.reject', call_id: back }, sb, 'call.ended');
    await sendAndWait(sa, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, sb, 'call.invite');
  });
});

describe('What a room keeps of a call', () => {
  it('should keep no SDP, candidates or addresses once the call is over, only the record', async () => {
    const [a, b] = await users(2);
    const { conv, sa, sb } = await directPair(a, b);
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    await sendAndWait(sa, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] }, sb, 'call.candidates');
    sb.send({ type: 'call.candidates', call_id: callId, candidates: [CALLEE_CANDIDATE] });
    await sendAndWait(sb, { type: 'call.reject', call_id: callId }, sa, 'call.ended');
    const stored = await runInDurableObject(env.ROOMS.get(env.ROOMS.idFromName(conv.id)), (_room, state) =>
      JSON.stringify([...state.storage.sql.exec('SELECT * FROM calls').toArray(), ...state.storage.sql.exec('SELECT * FROM held_candidates').toArray()]),
    );
    expect(stored).toContain(callId);
    for (const address of ['127.0.0.1', '192.0.2.10', '198.51.100.7', 'v=0']) expect(stored).not.toContain(address);
  });
});
