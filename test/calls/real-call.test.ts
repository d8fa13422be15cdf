import { afterEach, describe, expect, inject, it } from 'vitest';
import { TestSocket } from '../messaging/socket-helpers';
import { accept, closeSockets, expectPublicUser, history, newCallId, socketOf, startDirect, users } from './helpers';

// Two real WebRTC stacks (werift peers in the test run's Node process, test/fixtures/webrtc/lab.ts) call
// each other with Kith as the only signalling path: every frame a peer sends goes into its user's
// conversation socket on the real worker, and every call frame the room sends that user goes back to
// the peer. Passes only when both peer connections reach `connected` and 64 KB flowed each way.

const LAB = inject('webrtcLabUrl');
const labSockets: TestSocket[] = [];
afterEach(() => {
  for (const s of labSockets.splice(0)) s.close();
  closeSockets();
});

/** Opens one lab peer (a WebSocket from workerd to the lab) and wires it to `kith`, a conversation socket. */
async function peer(role: 'caller' | 'callee', callId: string, kith: TestSocket): Promise<TestSocket> {
  const res = await fetch(`${LAB}/peer?role=${role}&call_id=${callId}`, { headers: { Upgrade: 'websocket' } });
  expect(res.status, 'the lab accepts the peer socket').toBe(101);
  const lab = new TestSocket(res.webSocket!, `werift ${role}`);
  labSockets.push(lab);
  lab.ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data));
    if (typeof frame.type === 'string' && frame.type.startsWith('call.')) kith.send(frame);
  });
  kith.ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data));
    if (typeof frame.type === 'string' && frame.type.startsWith('call.')) lab.send(frame);
  });
  return lab;
}

const result = (lab: TestSocket) => lab.next((f) => f?.type === 'lab.result' || f?.type === 'lab.error', `${lab.label}: connected with the other side's bytes`, 0, 15_000);

describe('A real call', () => {
  it('should connect two WebRTC peers through the room and carry bytes both ways', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    await accept(b, conv.id);
    const [sa, sb] = [await socketOf(a, conv.id), await socketOf(b, conv.id)];
    const callId = newCallId();
    // The callee's peer first, so it is listening when the invite is relayed; the caller's peer starts the call.
    const callee = await peer('callee', callId, sb);
    const caller = await peer('caller', callId, sa);

    const outcomes = (await Promise.all([result(caller), result(callee)])).map((r) => r.data);
    for (const [outcome, role] of [[outcomes[0], 'caller'], [outcomes[1], 'callee']] as const) {
      expect(outcome, JSON.stringify(outcome)).toEqual({ type: 'lab.result', role, connection_state: 'connected', received: 64 * 1024, intact: true });
    }
    // The signalling really went through Kith: the room relayed the offer, the answer and candidates with from.
    const invite = sb.ofType('call.invite').find((f) => f.call_id === callId);
    expect(invite.sdp).toContain('webrtc-datachannel');
    expectPublicUser(invite.from, a);
    expectPublicUser(sa.ofType('call.answer').find((f) => f.call_id === callId).from, b);
    expect(sa.ofType('call.candidates').some((f) => f.call_id === callId && f.from.id === b.id)).toBe(true);
    expect(sb.ofType('call.candidates').some((f) => f.call_id === callId && f.from.id === a.id)).toBe(true);

    // Hanging up ends it for both, with a call record in the history.
    sa.send({ type: 'call.hangup', call_id: callId });
    const ended = (await sb.next((f) => f?.type === 'call.ended' && f.call_id === callId, 'call.ended')).data;
    expect(ended).toMatchObject({ reason: 'hangup' });
    expect((await history(a, conv.id)).at(-1)).toMatchObject({ kind: 'call', call: { call_id: callId, media: 'audio', reason: 'hangup' } });
  });
});
