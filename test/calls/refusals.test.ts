import { afterEach, describe, expect, it } from 'vitest';
import { settle } from '../messaging/socket-helpers';
import { accept, CANDIDATE, closeSockets, expectErrorFrame, history, newCallId, SDP, sendAndWait, socketOf, startDirect, startGroup, users } from './helpers';

// Each call frame's own checks, one refusal after another on one call (test/calls/signalling.test.ts has the
// flows): every refusal is an error frame naming the call, and nothing is relayed to the other side.
afterEach(closeSockets);

describe('Call frames: what each one is refused for', () => {
  it('should check the fields of a direct call’s frames and who may send them', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await accept(b, conv.id);
    const [sa, sb] = [await socketOf(a, conv.id), await socketOf(b, conv.id)];
    const callId = newCallId();

    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: '' }, 400)).detail).toMatch(/^sdp:/);
    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP, to: 7 }, 400)).detail).toMatch(/^to:/);
    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio' }, 400)).detail).toMatch(/offer is required/);
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, 409)).detail).toMatch(/under way/);

    expect((await expectErrorFrame(sa, { type: 'call.dance', call_id: callId }, 400)).detail).toMatch(/^type:/);
    expect((await expectErrorFrame(sa, { type: 'call.hangup', call_id: callId, reason: 'bored' }, 400)).detail).toMatch(/^reason:/);
    expect((await expectErrorFrame(sb, { type: 'call.answer', call_id: callId }, 400)).detail).toMatch(/answer is required/);
    expect((await expectErrorFrame(sb, { type: 'call.offer', call_id: callId, to: a.id }, 400)).detail).toMatch(/offer is required/);
    expect((await expectErrorFrame(sb, { type: 'call.offer', call_id: callId, sdp: SDP }, 400)).detail).toMatch(/^to:/);
    // Still ringing: the callee may not offer until it answered.
    expect((await expectErrorFrame(sb, { type: 'call.offer', call_id: callId, to: a.id, sdp: SDP }, 403)).detail).toMatch(/Join the call/);
    expect((await expectErrorFrame(sb, { type: 'call.candidates', call_id: callId, candidates: 'many' }, 400)).detail).toMatch(/^candidates:/);
    expect((await expectErrorFrame(sb, { type: 'call.candidates', call_id: callId, candidates: [{ ...CANDIDATE, sdpMLineIndex: '0' }] }, 400)).detail).toMatch(/^candidates:/);
    expect((await expectErrorFrame(sb, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE], to: b.id }, 404)).detail).toMatch(/^to:/);

    await sendAndWait(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, sa, 'call.answer');
    expect((await expectErrorFrame(sb, { type: 'call.reject', call_id: callId }, 409)).detail).toMatch(/hang up instead/);
    expect((await expectErrorFrame(sa, { type: 'call.offer', call_id: callId, to: a.id, sdp: SDP }, 404)).detail).toMatch(/^to:/);
    expect((await expectErrorFrame(sa, { type: 'call.join', call_id: callId }, 400)).detail).toMatch(/call\.answer/);
    // Renegotiation and candidates addressed to one participant reach exactly that one, with `to`.
    const renegotiated = await sendAndWait(sa, { type: 'call.offer', call_id: callId, to: b.id, sdp: `${SDP}a=again\r\n` }, sb, 'call.offer');
    expect(renegotiated).toMatchObject({ to: b.id, sdp: expect.stringContaining('a=again') });
    const addressed = await sendAndWait(sa, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE], to: b.id }, sb, 'call.candidates');
    expect(addressed).toMatchObject({ to: b.id, candidates: [CANDIDATE] });

    // A participant whose connection failed ends the call as failed; the same id cannot ring again.
    const ended = await sendAndWait(sb, { type: 'call.hangup', call_id: callId, reason: 'failed' }, sa, 'call.ended');
    expect(ended).toMatchObject({ call_id: callId, reason: 'failed' });
    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, 409)).detail).toBe('This call has ended.');
    expect((await expectErrorFrame(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, 409)).detail).toBe('This call has ended.');
    const record = (await history(a, conv.id)).filter((m) => m.kind === 'call');
    expect(record).toEqual([expect.objectContaining({ call: expect.objectContaining({ call_id: callId, reason: 'failed' }) })]);
    await settle();
    expect(sa.ofType('call.offer')).toEqual([]);
    expect(sa.ofType('call.candidates')).toEqual([]);
  });

  it('should keep a group call’s offers and answers between participants who joined', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    for (const u of [b, c]) await accept(u, group.id);
    const [sa, sb, sc] = [await socketOf(a, group.id), await socketOf(b, group.id), await socketOf(c, group.id)];
    const callId = newCallId();
    sa.send({ type: 'call.invite', call_id: callId, media: 'video', sdp: SDP });
    for (const s of [sb, sc]) await s.next((f) => f?.type === 'call.invite' && f.call_id === callId, 'the ring');
    await sendAndWait(sb, { type: 'call.join', call_id: callId }, sa, 'call.joined');

    expect((await expectErrorFrame(sb, { type: 'call.join', call_id: callId }, 409)).detail).toMatch(/already in this call/);
    expect((await expectErrorFrame(sc, { type: 'call.answer', call_id: callId, to: b.id, sdp: SDP }, 403)).detail).toMatch(/Join the call/);
    expect((await expectErrorFrame(sb, { type: 'call.answer', call_id: callId, to: c.id, sdp: SDP }, 404)).detail).toMatch(/^to:/);
    expect((await expectErrorFrame(sb, { type: 'call.answer', call_id: callId, to: b.id, sdp: SDP }, 400)).detail).toMatch(/yourself/);
    expect((await expectErrorFrame(sb, { type: 'call.offer', call_id: callId, to: c.id, sdp: SDP }, 404)).detail).toMatch(/^to:/);

    // Declining a call that others already took is leaving it: the call goes on for those in it.
    const declined = await sendAndWait(sc, { type: 'call.reject', call_id: callId }, sa, 'call.reject');
    expect(declined).toMatchObject({ call_id: callId });
    await settle();
    expect(sa.ofType('call.ended')).toEqual([]);
    expect((await expectErrorFrame(sc, { type: 'call.reject', call_id: callId }, 409)).detail).toBe('You are not in this call.');
    sa.send({ type: 'call.hangup', call_id: callId });
    expect((await sb.next((f) => f?.type === 'call.ended' && f.call_id === callId, 'call.ended')).data.reason).toBe('hangup');
  });
});
