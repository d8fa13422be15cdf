import { afterEach, describe, expect, it } from 'vitest';
import { block } from '../messaging/helpers';
import { settle } from '../messaging/socket-helpers';
import { CANDIDATE, closeSockets, expectErrorFrame, expectPublicUser, groupOf, newCallId, SDP, sendAndWait, users, type TestSocket, type TestUser } from './helpers';

/**
 * Two members of a group who block each other, in a call a third member starts: neither learns the
 * other is in it, and the room never relays SDP or ICE candidates between them (those carry their IP
 * addresses), so they have no media path to each other; everyone else's call goes on as usual.
 */

afterEach(closeSockets);

const hidden = (user: TestUser) => ({ id: user.id, username: '', display_name: '', avatar_url: null, bio: '', is_verified: false });

/** The call frames `socket` received (after index `from`) that name `user` anywhere: as `from`, `user`, a participant or `to`. */
const callFramesNaming = (socket: TestSocket, user: TestUser, from = 0) =>
  socket.frames.slice(from).filter((f) => typeof f?.type === 'string' && f.type.startsWith('call.') && JSON.stringify(f).includes(user.id));

/** `caller` starts a call that rings on every socket of `rung`. */
async function ring(caller: TestSocket, rung: TestSocket[]): Promise<string> {
  const callId = newCallId();
  caller.send({ type: 'call.invite', call_id: callId, media: 'video', sdp: SDP });
  for (const s of rung) await s.next((f) => f?.type === 'call.invite' && f.call_id === callId, 'the ring');
  return callId;
}

describe('Group calls across a block', () => {
  it('should keep two members who block each other out of each other’s sight and media path, while the caller connects with both', async () => {
    const [c, a, b] = await users(3);
    await block(a, b);
    const { sockets } = await groupOf(c, [a, b]);
    const [sc, sa, sb] = sockets as [TestSocket, TestSocket, TestSocket];
    const callId = await ring(sc, [sa, sb]);

    // Both join; the caller sees both, each of them only the caller.
    const aJoined = await sendAndWait(sa, { type: 'call.join', call_id: callId }, sc, 'call.joined');
    expectPublicUser(aJoined.user, a);
    const bJoined = await sendAndWait(sb, { type: 'call.join', call_id: callId }, sc, 'call.joined');
    expectPublicUser(bJoined.user, b);
    expect(bJoined.participants.map((p: { id: string }) => p.id).sort()).toEqual([a.id, b.id, c.id].sort());

    // No offer, answer or candidate passes between them, either way: as for someone not in the call.
    for (const [socket, other] of [[sa, b], [sb, a]] as const) {
      expect((await expectErrorFrame(socket, { type: 'call.offer', call_id: callId, to: other.id, sdp: SDP }, 404)).detail).toMatch(/^to:/);
      await expectErrorFrame(socket, { type: 'call.answer', call_id: callId, to: other.id, sdp: SDP }, 404);
      await expectErrorFrame(socket, { type: 'call.candidates', call_id: callId, to: other.id, candidates: [CANDIDATE] }, 404);
    }
    // Candidates for everyone reach the caller only.
    const fromA = await sendAndWait(sa, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] }, sc, 'call.candidates');
    expectPublicUser(fromA.from, a);
    await sendAndWait(sb, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] }, sc, 'call.candidates');
    // The caller and each of them negotiate as usual.
    for (const [socket, user] of [[sa, a], [sb, b]] as const) {
      const offer = await sendAndWait(socket, { type: 'call.offer', call_id: callId, to: c.id, sdp: SDP }, sc, 'call.offer');
      expectPublicUser(offer.from, user);
      const answer = await sendAndWait(sc, { type: 'call.answer', call_id: callId, to: user.id, sdp: SDP }, socket, 'call.answer');
      expect(answer.to).toBe(user.id);
    }
    // b leaves: the caller is told, a is not.
    await sendAndWait(sb, { type: 'call.hangup', call_id: callId }, sc, 'call.hangup');
    await settle();
    expect(callFramesNaming(sa, b)).toEqual([]);
    expect(callFramesNaming(sb, a)).toEqual([]);
  });

  it('should part two participants at once when one blocks the other during the call, and end it when nobody left can reach anyone', async () => {
    const [c, a, b] = await users(3);
    const { sockets } = await groupOf(c, [a, b]);
    const [sc, sa, sb] = sockets as [TestSocket, TestSocket, TestSocket];
    const callId = await ring(sc, [sa, sb]);
    await sendAndWait(sa, { type: 'call.join', call_id: callId }, sc, 'call.joined');
    await sendAndWait(sb, { type: 'call.join', call_id: callId }, sa, 'call.joined');
    await sendAndWait(sb, { type: 'call.offer', call_id: callId, to: a.id, sdp: SDP }, sa, 'call.offer');

    const [aFrom, bFrom] = [sa.received.length, sb.received.length];
    await block(a, b);
    // Each sees the other leave, as nobody in particular; the caller sees nobody leave.
    expect((await sa.next((f) => f?.type === 'call.hangup', 'b leaving, for a', aFrom)).data).toMatchObject({ call_id: callId, reason: 'hangup', from: hidden(b) });
    expect((await sb.next((f) => f?.type === 'call.hangup', 'a leaving, for b', bFrom)).data).toMatchObject({ call_id: callId, reason: 'hangup', from: hidden(a) });
    await expectErrorFrame(sb, { type: 'call.offer', call_id: callId, to: a.id, sdp: SDP }, 404);
    await expectErrorFrame(sa, { type: 'call.candidates', call_id: callId, to: b.id, candidates: [CANDIDATE] }, 404);
    await sendAndWait(sb, { type: 'call.offer', call_id: callId, to: c.id, sdp: SDP }, sc, 'call.offer');
    await settle();
    expect(sc.ofType('call.hangup')).toEqual([]);

    // The caller leaves: the two left cannot reach each other, so the call ends for everyone.
    sc.send({ type: 'call.hangup', call_id: callId });
    for (const s of [sa, sb]) expect((await s.next((f) => f?.type === 'call.ended', 'call.ended')).data).toMatchObject({ call_id: callId, reason: 'hangup' });
    expect(callFramesNaming(sa, b, aFrom)).toEqual([expect.objectContaining({ type: 'call.hangup', from: hidden(b) })]);
  });
});
