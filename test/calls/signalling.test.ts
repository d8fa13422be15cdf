import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { call, expectStatus } from '../helpers/client';
import { block } from '../messaging/helpers';
import { CALL_MAX_MS, callMaxMs } from '../../src/modules/messaging/room-calls';
import { settle } from '../messaging/socket-helpers';
import { eventually, expectNone, ofType, waitForNotification } from '../notifications/helpers';
import {
  accept,
  CANDIDATE,
  closeSockets,
  directPair as pairOf,
  expectErrorFrame,
  expectPublicUser,
  history,
  newCallId,
  runRoomAlarms,
  SDP,
  sendAndWait,
  socketOf,
  startDirect,
  startGroup,
  users,
} from './helpers';

afterEach(closeSockets);

/** Two new users with a direct conversation both accepted, a socket each. */
async function directPair() {
  const [a, b] = await users(2);
  return { a, b, ...(await pairOf(a, b)) };
}

describe('Direct calls', () => {
  it('should relay invite, answer and candidates with from, and end with call.ended and a call message for everyone', async () => {
    const { a, b, conv, sa, sb } = await directPair();
    const callId = newCallId();
    const invite = await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'video', sdp: SDP }, sb, 'call.invite');
    expect(invite).toMatchObject({ call_id: callId, media: 'video', sdp: SDP });
    expectPublicUser(invite.from, a);

    const offered = await sendAndWait(sa, { type: 'call.candidates', call_id: callId, candidates: [{ ...CANDIDATE, smuggled: 'x' }] }, sb, 'call.candidates');
    expect(offered.candidates).toEqual([CANDIDATE]);
    const answer = await sendAndWait(sb, { type: 'call.answer', call_id: callId, sdp: `${SDP}a=answer\r\n` }, sa, 'call.answer');
    expect(answer.sdp).toContain('a=answer');
    expectPublicUser(answer.from, b);
    const back = await sendAndWait(sb, { type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] }, sa, 'call.candidates');
    expectPublicUser(back.from, b);

    const ended = await sendAndWait(sa, { type: 'call.hangup', call_id: callId }, sb, 'call.ended');
    expect(ended).toEqual({ type: 'call.ended', call_id: callId, reason: 'hangup', duration_s: expect.any(Number) });
    await sa.next((f) => f?.type === 'call.ended', 'call.ended on the caller');
    expect(sb.ofType('call.hangup')[0]).toMatchObject({ call_id: callId, reason: 'hangup' });

    const record = (await sb.next((f) => f?.type === 'message.new' && f.message.kind === 'call', 'the call message')).data.message;
    expect(record).toMatchObject({ kind: 'call', conversation_id: conv.id, call: { call_id: callId, media: 'video', reason: 'hangup', duration_s: ended.duration_s } });
    expectPublicUser(record.sender, a);
    const listed = await history(b, conv.id);
    expect(listed.at(-1)).toMatchObject({ kind: 'call', call: { call_id: callId } });
    // Text messages say so, with no call.
    await expectStatus(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: { content: 'after the call' } }), 201);
    expect((await history(b, conv.id)).at(-1)).toMatchObject({ kind: 'text', call: null });
    // A call record is not edited.
    const edit = await call(`/conversations/${conv.id}/messages/${record.seq}`, { method: 'PATCH', token: a.accessToken, body: { content: 'changed' } });
    expect(edit.status).toBe(403);
  });

  it('should relay candidates sent right behind the invite, after it (frames keep their order while the invite is checked)', async () => {
    const { sa, sb } = await directPair();
    const callId = newCallId();
    sa.send({ type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP });
    sa.send({ type: 'call.candidates', call_id: callId, candidates: [CANDIDATE] });
    await sb.next((f) => f?.type === 'call.candidates' && f.call_id === callId, 'the candidates');
    expect(sb.frames.filter((f) => f?.call_id === callId).map((f) => f.type)).toEqual(['call.invite', 'call.candidates']);
    expect(sa.ofType('error')).toEqual([]);
  });

  it('should end with rejected when the callee rejects, and refuse a second invite with 409 while one rings', async () => {
    const { sa, sb } = await directPair();
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    await expectErrorFrame(sa, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 409);
    await expectErrorFrame(sb, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 409);
    const ended = await sendAndWait(sb, { type: 'call.reject', call_id: callId }, sa, 'call.ended');
    expect(ended).toMatchObject({ reason: 'rejected', duration_s: 0 });
    expect(sa.ofType('call.reject')[0]).toMatchObject({ call_id: callId });
    // Over: answering it now is a conflict, and so is reusing its id.
    await expectErrorFrame(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, 409);
    await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, 409);
    // A new call may start.
    await sendAndWait(sa, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, sb, 'call.invite');
  });

  it('should time out after the ring, notify missed_call, and ring an offline callee with call_incoming (removed when it ends)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await accept(b, conv.id);
    const sa = await socketOf(a, conv.id);
    const callId = newCallId();
    sa.send({ type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP });
    const incoming = await waitForNotification(b, 'call_incoming', (n) => n.data.call_id === callId);
    expect(incoming.data).toMatchObject({ call_id: callId, conversation_id: conv.id, media: 'audio' });
    expectPublicUser(incoming.data.from_user, a);

    // Connecting while it rings gets the invite again, offer included.
    const sb = await socketOf(b, conv.id);
    expect((await sb.next((f) => f?.type === 'call.invite', 'the replayed invite')).data).toMatchObject({ call_id: callId, sdp: SDP });

    await runRoomAlarms(conv.id, () => sa.ofType('call.ended').length > 0, 'call.ended after the ring timeout');
    expect(sa.ofType('call.ended')[0]).toEqual({ type: 'call.ended', call_id: callId, reason: 'timeout', duration_s: 0 });
    await sb.next((f) => f?.type === 'call.ended', 'call.ended on the callee');
    const missed = await waitForNotification(b, 'missed_call', (n) => n.data.call_id === callId);
    expectPublicUser(missed.data.from_user, a);
    await eventually(async () => expectNone(b, 'call_incoming', (n) => n.data.call_id === callId));
    expect((await history(a, conv.id)).at(-1)).toMatchObject({ kind: 'call', content: 'Missed voice call', call: { reason: 'timeout', duration_s: 0 } });
    await expectNone(a, 'missed_call');
  });

  it('should end a call whose participant lost every socket, after the grace period, as failed', async () => {
    const { conv, sa, sb } = await directPair();
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    await sendAndWait(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, sa, 'call.answer');
    sb.close();
    await settle();
    await runRoomAlarms(conv.id, () => sa.ofType('call.ended').length > 0, 'call.ended after the grace period');
    expect(sa.ofType('call.ended')[0]).toMatchObject({ call_id: callId, reason: 'failed' });
  });
});

describe('The longest call', () => {
  it('should be 4 hours unless ROOM_CALL_MAX_SECONDS says otherwise (a whole number of seconds)', () => {
    expect(callMaxMs(undefined)).toBe(4 * 60 * 60 * 1000);
    for (const bad of ['', '0', '-5', '1.5', 'soon']) expect(callMaxMs(bad)).toBe(CALL_MAX_MS);
    expect(callMaxMs('90')).toBe(90_000);
  });

  it('should end a call that reaches ROOM_CALL_MAX_SECONDS for everyone, with the frames and record of a hang-up', async () => {
    const configured = (env as unknown as { ROOM_CALL_MAX_SECONDS?: string }).ROOM_CALL_MAX_SECONDS;
    Object.assign(env, { ROOM_CALL_MAX_SECONDS: '2' });
    try {
      const { a, conv, sa, sb } = await directPair();
      const callId = newCallId();
      await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
      await sendAndWait(sb, { type: 'call.answer', call_id: callId, sdp: SDP }, sa, 'call.answer');
      expect(sa.ofType('call.ended')).toEqual([]);
      // The room's own alarm, in real time: nobody hangs up.
      const ended = (await sb.next((f) => f?.type === 'call.ended', 'call.ended at the limit')).data;
      expect(ended).toEqual({ type: 'call.ended', call_id: callId, reason: 'hangup', duration_s: expect.any(Number) });
      expect(ended.duration_s).toBeLessThanOrEqual(3);
      expect((await sa.next((f) => f?.type === 'call.ended', 'call.ended on the caller')).data).toEqual(ended);
      expect((await history(a, conv.id)).at(-1)).toMatchObject({ kind: 'call', call: { call_id: callId, reason: 'hangup', duration_s: ended.duration_s } });
      await expectErrorFrame(sa, { type: 'call.hangup', call_id: callId }, 409);
    } finally {
      Object.assign(env, { ROOM_CALL_MAX_SECONDS: configured });
    }
  });
});

describe('Call frames that are refused', () => {
  it('should answer bad frames with error frames and relay nothing', async () => {
    const { sa, sb } = await directPair();
    const callId = newCallId();
    const big = 'a'.repeat(64 * 1024 + 1);
    expect((await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'video', sdp: big }, 413)).call_id).toBe(callId);
    await expectErrorFrame(sa, { type: 'call.invite', call_id: callId, media: 'hologram', sdp: SDP }, 400);
    await expectErrorFrame(sa, { type: 'call.invite', call_id: 'has spaces', media: 'audio', sdp: SDP }, 400);
    // A call ringing in another conversation is unknown here: frames naming it are 404, and reach nobody there.
    const other = await directPair();
    const elsewhere = newCallId();
    await sendAndWait(other.sa, { type: 'call.invite', call_id: elsewhere, media: 'audio', sdp: SDP }, other.sb, 'call.invite');
    await expectErrorFrame(sb, { type: 'call.answer', call_id: elsewhere, sdp: SDP }, 404);
    await expectErrorFrame(sb, { type: 'call.candidates', call_id: elsewhere, candidates: [CANDIDATE] }, 404);
    await expectErrorFrame(sa, { type: 'call.hangup', call_id: elsewhere }, 404);
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'video', sdp: SDP }, sb, 'call.invite');
    await expectErrorFrame(sb, { type: 'call.answer', call_id: callId, sdp: big }, 413);
    await expectErrorFrame(sb, { type: 'call.candidates', call_id: callId, candidates: [{ nope: 1 }] }, 400);
    await expectErrorFrame(sa, { type: 'call.answer', call_id: callId, sdp: SDP }, 400);
    await expectErrorFrame(sa, { type: 'call.join', call_id: callId }, 400);
    await settle();
    expect(sb.ofType('call.invite')).toHaveLength(1);
    expect(sa.ofType('call.answer')).toEqual([]);
    expect(sb.ofType('call.candidates')).toEqual([]);
    expect(other.sa.ofType('call.answer')).toEqual([]);
    expect(other.sa.ofType('call.candidates')).toEqual([]);
  });

  it('should refuse call frames from a socket whose user is no longer a member with 403, then close it', async () => {
    const [admin, b, c] = await users(3);
    const group = await startGroup(admin, [b, c]);
    const [sb, sc] = await Promise.all([socketOf(b, group.id), socketOf(c, group.id)]);
    // The room forgets c without closing the socket (as if the removal raced the frame).
    await runInDurableObject(env.ROOMS.get(env.ROOMS.idFromName(group.id)), (_room, state) => {
      state.storage.sql.exec('DELETE FROM members WHERE user_id = ?', c.id);
    });
    await expectErrorFrame(sc, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 403);
    expect((await sc.closed(1000)).code).toBe(4403);
    await settle();
    expect(sb.ofType('call.invite')).toEqual([]);
  });

  it('should not ring across a block, a refusing message_policy, or an unaccepted request', async () => {
    const [a, b, c, d, e] = await users(5);
    const blocked = await startDirect(a, b);
    await accept(b, blocked.id);
    await block(b, a);
    const [sa1, sb] = [await socketOf(a, blocked.id), await socketOf(b, blocked.id)];
    expect((await expectErrorFrame(sa1, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 403)).detail).toMatch(/cannot call/);

    const request = await startDirect(a, c);
    const sa2 = await socketOf(a, request.id);
    expect((await expectErrorFrame(sa2, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 403)).detail).toMatch(/request/);

    const refusing = await startDirect(a, e);
    await accept(e, refusing.id);
    await expectStatus(await call('/me', { method: 'PATCH', token: e.accessToken, body: { message_policy: 'nobody' } }), 200);
    const [sa3, se] = [await socketOf(a, refusing.id), await socketOf(e, refusing.id)];
    expect((await expectErrorFrame(sa3, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 403)).detail).toMatch(/message_policy/);

    // A callee who started the conversation is rung whatever their policy (as for messages).
    const theirs = await startDirect(d, a);
    await expectStatus(await call('/me', { method: 'PATCH', token: d.accessToken, body: { message_policy: 'nobody' } }), 200);
    const [sa4, sd] = [await socketOf(a, theirs.id), await socketOf(d, theirs.id)];
    await sendAndWait(sa4, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, sd, 'call.invite');

    await settle();
    expect(sb.ofType('call.invite')).toEqual([]);
    expect(se.ofType('call.invite')).toEqual([]);
    for (const user of [b, c, e]) await expectNone(user, 'call_incoming');
  });

  it('should not ring a suspended member of a group, and refuse calls in a community chat', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    for (const u of [b, c]) await accept(u, group.id);
    await env.DB.prepare('UPDATE users SET suspended_at = ?1 WHERE id = ?2').bind(Date.now(), c.id).run();
    const sa = await socketOf(a, group.id);
    const sb = await socketOf(b, group.id);
    const callId = newCallId();
    await sendAndWait(sa, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb, 'call.invite');
    await settle();
    await expectNone(c, 'call_incoming');
    const community = await expectStatus(await call('/communities', { token: a.accessToken, body: { name: `Calls ${callId}`.slice(0, 60) } }), 201);
    const chat = await socketOf(a, community.conversation_id);
    expect((await expectErrorFrame(chat, { type: 'call.invite', call_id: newCallId(), media: 'audio', sdp: SDP }, 403)).detail).toMatch(/community/);
  });
});

describe('Group calls', () => {
  it('should ring every member, let four join with pairwise offers, and turn a fifth away with 409', async () => {
    const [a, b, c, d, e] = await users(5);
    const group = await startGroup(a, [b, c, d, e], 'Five');
    for (const u of [b, c, d, e]) await accept(u, group.id);
    const [sa, sb, sc, sd, se] = await Promise.all([a, b, c, d, e].map((u) => socketOf(u, group.id)));
    const callId = newCallId();
    sa!.send({ type: 'call.invite', call_id: callId, media: 'video', sdp: SDP });
    for (const s of [sb!, sc!, sd!, se!]) expect((await s.next((f) => f?.type === 'call.invite', 'the ring')).data.call_id).toBe(callId);

    // A group's callees join, then offer to each participant.
    await expectErrorFrame(sb!, { type: 'call.answer', call_id: callId, sdp: SDP }, 400);
    const joined = await sendAndWait(sb!, { type: 'call.join', call_id: callId }, sa!, 'call.joined');
    expectPublicUser(joined.user, b);
    expect(joined.participants.map((p: any) => p.id).sort()).toEqual([a.id, b.id].sort());
    const offer = await sendAndWait(sb!, { type: 'call.offer', call_id: callId, to: a.id, sdp: SDP }, sa!, 'call.offer');
    expectPublicUser(offer.from, b);
    const answer = await sendAndWait(sa!, { type: 'call.answer', call_id: callId, to: b.id, sdp: SDP }, sb!, 'call.answer');
    expect(answer).toMatchObject({ to: b.id });
    expectPublicUser(answer.from, a);
    await sendAndWait(sc!, { type: 'call.join', call_id: callId }, sa!, 'call.joined');
    await sendAndWait(sd!, { type: 'call.join', call_id: callId }, sa!, 'call.joined');
    const full = await expectErrorFrame(se!, { type: 'call.join', call_id: callId }, 409);
    expect(full.detail).toMatch(/full/);
    // Offers go only to whom they name.
    await sendAndWait(sd!, { type: 'call.offer', call_id: callId, to: c.id, sdp: SDP }, sc!, 'call.offer');
    await settle();
    expect(sb!.ofType('call.offer')).toEqual([]);
    // Someone leaves: the fifth gets in.
    await sendAndWait(sc!, { type: 'call.hangup', call_id: callId }, sa!, 'call.hangup');
    await sendAndWait(se!, { type: 'call.join', call_id: callId }, sa!, 'call.joined');
    // Everyone else hangs up: the call ends for everyone, recorded once.
    for (const s of [sa!, sb!, sd!, se!]) s.send({ type: 'call.hangup', call_id: callId });
    const ended = (await sc!.next((f) => f?.type === 'call.ended', 'call.ended')).data;
    expect(ended).toMatchObject({ call_id: callId, reason: 'hangup' });
    await sc!.next((f) => f?.type === 'message.new' && f.message.kind === 'call', 'the call record');
    expect((await history(a, group.id)).filter((m) => m.kind === 'call')).toHaveLength(1);
    expect(await ofType(e, 'missed_call')).toEqual([]);
  });

  it('should keep ringing the others when one callee rejects, and notify those who never answered', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    for (const u of [b, c]) await accept(u, group.id);
    const [sa, sb] = await Promise.all([socketOf(a, group.id), socketOf(b, group.id)]);
    const callId = newCallId();
    await sendAndWait(sa!, { type: 'call.invite', call_id: callId, media: 'audio', sdp: SDP }, sb!, 'call.invite');
    await waitForNotification(c, 'call_incoming', (n) => n.data.call_id === callId);
    sb!.send({ type: 'call.reject', call_id: callId });
    await sa!.next((f) => f?.type === 'call.reject', 'the rejection');
    await settle();
    expect(sa!.ofType('call.ended')).toEqual([]);
    await runRoomAlarms(group.id, () => sa!.ofType('call.ended').length > 0, 'the ring timeout');
    expect(sa!.ofType('call.ended')[0]).toMatchObject({ reason: 'timeout' });
    await waitForNotification(c, 'missed_call', (n) => n.data.call_id === callId);
    await expectNone(b, 'missed_call');
  });
});
