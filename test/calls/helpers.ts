import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { openSocket, type TestSocket } from '../messaging/socket-helpers';

import { startDirect, startGroup } from '../messaging/helpers';

export { users, startDirect, startGroup, expectPublicUser } from '../messaging/helpers';
export type { TestUser, TestSocket };

/** A small but well-formed SDP blob (the room relays it untouched; it never parses SDP). */
export const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n';
export const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };

let callCounter = 0;
export const newCallId = () => `call-${Date.now().toString(36)}-${++callCounter}`;

const sockets: TestSocket[] = [];
/** Opens a conversation socket for `user` (closed by {@link closeSockets}). */
export async function socketOf(user: TestUser, conversationId: string): Promise<TestSocket> {
  const s = await openSocket(conversationId, user.accessToken, { label: user.username });
  sockets.push(s);
  return s;
}
export function closeSockets(): void {
  for (const s of sockets.splice(0)) s.close();
}

/** Accepts the message request a direct conversation is for `user` (calls ring only once it is accepted). */
export async function accept(user: TestUser, conversationId: string): Promise<void> {
  await expectStatus(await call(`/conversations/${conversationId}/accept`, { token: user.accessToken, method: 'POST' }), 200);
}

/** Sends a frame and waits for the next frame of `type` (and the call) on `on` (the sender's own socket by default). */
export async function sendAndWait(from: TestSocket, frame: Record<string, unknown>, on: TestSocket, type: string): Promise<any> {
  const start = on.received.length;
  from.send(frame);
  return (await on.next((f) => f?.type === type && f.call_id === frame.call_id, `${type} for ${String(frame.call_id)}`, start)).data;
}

/** Sends a frame and returns the error frame it causes on the sender's socket. */
export async function expectErrorFrame(socket: TestSocket, frame: Record<string, unknown>, status: number): Promise<any> {
  const start = socket.received.length;
  socket.send(frame);
  // An error frame names the call, unless its call_id was the problem.
  const error = (await socket.next((f) => f?.type === 'error' && (f.call_id === frame.call_id || f.call_id === undefined), `an error frame for ${String(frame.call_id)}`, start)).data;
  if (error.status !== status) throw new Error(`expected an error frame ${status}, got ${JSON.stringify(error)}`);
  return error;
}

/** Runs the room's alarm (ring timeouts, grace periods, outbox retries) until `until` holds: no waiting out real time. */
export async function runRoomAlarms(conversationId: string, until: () => boolean, what: string): Promise<void> {
  const stub = env.ROOMS.get(env.ROOMS.idFromName(conversationId));
  for (let i = 0; i < 5 && !until(); i++) {
    if (!(await runDurableObjectAlarm(stub))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!until()) throw new Error(`the room's alarm did not bring about: ${what}`);
}

/** The whole history of a conversation, oldest first. */
export async function history(user: TestUser, conversationId: string): Promise<any[]> {
  return (await expectStatus(await call(`/conversations/${conversationId}/messages?after_seq=0&limit=100`, { token: user.accessToken }), 200)).data;
}

/** A direct conversation both sides accepted, with a socket each. */
export async function directPair(a: TestUser, b: TestUser) {
  const conv = await startDirect(a, b);
  await accept(b, conv.id);
  return { conv, sa: await socketOf(a, conv.id), sb: await socketOf(b, conv.id) };
}

/** A group `caller` starts with `members` (who accepted it), a socket each, the caller's first. */
export async function groupOf(caller: TestUser, members: TestUser[]): Promise<{ id: string; sockets: TestSocket[] }> {
  const group = await startGroup(caller, members);
  for (const member of members) await accept(member, group.id);
  const sockets: TestSocket[] = [];
  for (const user of [caller, ...members]) sockets.push(await socketOf(user, group.id));
  return { id: group.id, sockets };
}
