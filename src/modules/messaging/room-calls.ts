import type { z } from '@hono/zod-openapi';
import { callRefusals, type RingRefusal } from '../../policy/messaging';
import { callSource } from '../notifications/delivery';
import { publishEvent } from '../notifications/events';
import { inboxOf } from '../notifications/user-inbox';
import { presentHiddenUser } from '../users/users.presenter';
import type { RoomAlarms } from './room-alarms';
import { CallStore, type CallRow, type PartyRow } from './room-call-store';
import { CALL_ID, type ConversationServerFrame, IceCandidateSchema } from './room-frames';
import type { RoomMessages } from './room-messages';
import { type ErrorFrame, errorFrame, type Frame, type RoomSockets } from './room-protocol';
import type { RoomStore } from './room-store';
import type { Bindings } from '../../lib/types';
import { CALL_MEDIA, type CallEndReason, type CallMedia } from './room.types';

type IceCandidate = z.infer<typeof IceCandidateSchema>;

/** An unanswered call stops ringing after this long (contract: 60 s). */
export const RING_TIMEOUT_MS = 60_000;
/** A mesh call takes at most this many people (each sends its media to every other). */
export const MAX_CALL_PARTICIPANTS = 4;
/** Largest SDP (and candidates list) relayed, in bytes. */
export const MAX_SDP_BYTES = 64 * 1024;
/** A participant whose every socket on the room is gone this long has left the call (reason `failed`). */
export const DROP_GRACE_MS = 20_000;
const MAX_CANDIDATES = 50;
/**
 * A call ends this long after its invite at the latest, for everyone (as a hang-up): a call left
 * running (a forgotten tab, a bot) would otherwise relay signalling and keep TURN allocations forever.
 */
export const CALL_MAX_MS = 4 * 60 * 60 * 1000;

/** The longest call: `ROOM_CALL_MAX_SECONDS` (a whole number of seconds, at least 1), else {@link CALL_MAX_MS}. */
export function callMaxMs(setting: string | undefined): number {
  return setting && /^\d+$/.test(setting) && Number(setting) >= 1 ? Number(setting) * 1000 : CALL_MAX_MS;
}
/** A caller whose last this many calls in a conversation went unanswered (within {@link UNANSWERED_WINDOW_MS}) rings nobody more there ... */
export const MAX_UNANSWERED_CALLS = 3;
/** ... until this long after the first of them, or until someone else there calls, or one of theirs is answered. */
export const UNANSWERED_WINDOW_MS = 10 * 60_000;

const RING_REFUSALS: Record<RingRefusal, string> = {
  blocked: 'You cannot call this user.',
  not_accepted: 'This user does not accept calls from you (their message_policy).',
  request: 'This user has not accepted your message request yet; calls ring once they do.',
  unavailable: 'This user cannot take calls right now.',
  silenced: 'Your account is silenced: you can call your friends only.',
};

const bytes = (text: string) => new TextEncoder().encode(text).byteLength;
const ringJob = (callId: string) => `ring:${callId}`;
const dropJob = (userId: string, callId: string) => `drop:${userId}:${callId}`;
const limitJob = (callId: string) => `limit:${callId}`;
const inCall = (p: PartyRow) => p.status === 'joined';
const reachable = (p: PartyRow) => p.status === 'joined' || p.status === 'ringing';

/** An RTCIceCandidateInit, keeping only its own fields (nothing else is relayed); null when it is not one. */
function iceCandidate(value: unknown): IceCandidate | null {
  const parsed = IceCandidateSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** What a call message says to clients that only show `content`. */
function callSummary(media: CallMedia, reason: CallEndReason, durationS: number): string {
  const what = media === 'video' ? 'video call' : 'voice call';
  if (durationS > 0) {
    const [m, s] = [Math.floor(durationS / 60), durationS % 60];
    return `${what[0]!.toUpperCase()}${what.slice(1)} (${m > 0 ? `${m} min ` : ''}${s} s)`;
  }
  if (reason === 'rejected') return `Declined ${what}`;
  if (reason === 'failed') return `${what[0]!.toUpperCase()}${what.slice(1)} failed`;
  return `Missed ${what}`;
}

/**
 * Call signalling in a ConversationRoom. The room relays SDP and ICE candidates between the members of
 * one call (at most one ringing or running per conversation), adding `from`; it never sees media. It
 * rings every member the policy lets the caller reach (src/policy/messaging.ts `callRefusals`), ends an
 * unanswered call after {@link RING_TIMEOUT_MS}, tells everyone `call.ended`, notifies callees who never
 * answered (`missed_call`), and records each call in the history as a `kind: "call"` message.
 *
 * Two people across a block (either way) share no call: in a group call someone else started, neither
 * is told the other joined, rejected or left, neither is a participant the other may offer to, answer
 * or send candidates to (SDP and ICE candidates carry IP addresses), and candidates sent to everyone
 * skip them. A block made during a call parts them at once. A suspended account is a hidden user in
 * every call frame, and leaves the call when suspended.
 */
export class RoomCalls {
  readonly calls: CallStore;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: RoomStore,
    private readonly sockets: RoomSockets,
    private readonly alarms: RoomAlarms,
    private readonly messages: RoomMessages,
    sql: SqlStorage,
  ) {
    this.calls = new CallStore(sql);
  }

  /** The call frames being handled, one after another. */
  private turn: Promise<unknown> = Promise.resolve();

  /**
   * One `call.*` frame from a member's socket; a refusal is answered with an error frame (never relayed).
   * Call frames are handled one at a time, in arrival order: an invite waits on the rate limiter and D1,
   * and the Durable Object takes the next frame meanwhile, so the candidates a caller trickles right
   * behind its invite would otherwise find no call (404) and be lost.
   */
  handle(ws: WebSocket, userId: string, frame: Frame): Promise<ErrorFrame | null> {
    const handled = this.turn.then(() => this.handleInTurn(ws, userId, frame));
    this.turn = handled.catch(() => undefined);
    return handled;
  }

  private async handleInTurn(ws: WebSocket, userId: string, frame: Frame): Promise<ErrorFrame | null> {
    const callId = frame.call_id;
    if (typeof callId !== 'string' || !CALL_ID.test(callId)) return errorFrame(400, 'call_id: 1..100 characters of A-Z a-z 0-9 . _ : -');
    const fail = (status: ErrorFrame['status'], detail: string) => errorFrame(status, detail, callId);
    for (const key of ['sdp', 'candidates'] as const) {
      if (frame[key] !== undefined && bytes(JSON.stringify(frame[key])) > MAX_SDP_BYTES) return fail(413, `${key}: at most 64 KB`);
    }
    if (frame.sdp !== undefined && (typeof frame.sdp !== 'string' || frame.sdp.length === 0)) return fail(400, 'sdp: a non-empty string is required');
    if (frame.to !== undefined && typeof frame.to !== 'string') return fail(400, 'to: must be a user id');
    if (frame.type === 'call.invite') return this.invite(userId, callId, frame);

    const call = this.calls.get(callId);
    if (!call) return fail(404, 'No such call in this conversation.');
    if (call.state === 'ended') return fail(409, 'This call has ended.');
    const me = this.calls.party(callId, userId);
    if (!me) return fail(403, 'You are not in this call.');
    switch (frame.type) {
      case 'call.answer':
        return this.answer(ws, call, me, frame, fail);
      case 'call.offer':
        return this.offer(call, me, frame, fail);
      case 'call.candidates':
        return this.candidates(call, me, frame, fail);
      case 'call.join':
        return this.join(ws, call, me, fail);
      case 'call.reject':
        if (me.status === 'joined') return fail(409, 'You are in this call: hang up instead.');
        return this.leave(ws, call, me, 'reject', call.answered_at === null ? 'rejected' : 'hangup');
      case 'call.hangup': {
        const reason = frame.reason ?? 'hangup';
        if (reason !== 'hangup' && reason !== 'failed') return fail(400, 'reason: must be hangup or failed');
        return this.leave(ws, call, me, me.status === 'joined' ? 'hangup' : 'reject', call.answered_at === null && me.role === 'callee' ? 'rejected' : reason);
      }
      default:
        return fail(400, 'type: must be call.invite, call.answer, call.offer, call.candidates, call.join, call.reject or call.hangup');
    }
  }

  /** How a call frame names a member: as they look, or as a hidden user while suspended (those across a block get no frame about them). */
  private from(userId: string) {
    return this.store.profileOf(userId, this.store.hiddenFrom());
  }

  /** Sends a frame about `about` to `userIds`, except those across a block from them. */
  private tell(userIds: string[], about: string, frame: ConversationServerFrame, except?: WebSocket): void {
    const apart = this.store.blockedWith(about);
    this.sockets.sendTo(userIds.filter((id) => !apart.has(id)), frame, except);
  }

  /**
   * Whether `me` may negotiate with `other`: another party of the call, `present` in it (joined, by
   * default), and not across a block from `me` (`apart`: their {@link RoomStore.blockedWith}).
   */
  private mayReach(me: PartyRow, other: PartyRow | undefined, present: (p: PartyRow) => boolean = inCall, apart = this.store.blockedWith(me.user_id)): other is PartyRow {
    return other !== undefined && present(other) && other.user_id !== me.user_id && !apart.has(other.user_id);
  }

  private async invite(callerId: string, callId: string, frame: Frame): Promise<ErrorFrame | null> {
    const fail = (status: ErrorFrame['status'], detail: string) => errorFrame(status, detail, callId);
    const media = frame.media as CallMedia;
    if (!CALL_MEDIA.includes(media)) return fail(400, 'media: must be audio or video');
    if (typeof frame.sdp !== 'string') return fail(400, 'sdp: the offer is required');
    if (this.store.kind() === 'community') return fail(403, 'Calls are not available in community chats.');
    const busy = () => {
      if (this.calls.get(callId)) return fail(409, this.calls.get(callId)!.state === 'ended' ? 'This call has ended.' : 'This call is already under way.');
      if (this.calls.live()) return fail(409, 'A call is already ringing or running in this conversation.');
      return null;
    };
    if (busy()) return busy();
    // Ringing someone over and over who does not pick up is a flood, whatever the per-minute limit allows.
    if (this.calls.unansweredBy(callerId, Date.now() - UNANSWERED_WINDOW_MS) >= MAX_UNANSWERED_CALLS) {
      return fail(429, `Your last ${MAX_UNANSWERED_CALLS} calls here went unanswered: send a message, or wait up to ${UNANSWERED_WINDOW_MS / 60_000} minutes before calling again.`);
    }
    const { success } = await this.env.RL_CALLS.limit({ key: `calls:${callerId}` });
    if (!success) return fail(429, 'You are starting calls too fast; wait a minute.');
    const direct = this.store.kind() === 'direct';
    const others = this.store.members().filter((m) => m.userId !== callerId);
    const refusals = await callRefusals(this.env.DB, callerId, others, { direct, startedBy: direct ? await this.messages.startedBy() : null });
    // After the awaits: another invite may have started a call meanwhile.
    if (busy()) return busy();
    const callees = others.map((m) => m.userId).filter((id) => refusals.get(id) === null);
    if (direct && callees.length === 0) return fail(403, others[0] ? RING_REFUSALS[refusals.get(others[0].userId) ?? 'unavailable'] : 'The other person has left this conversation.');
    if (callees.length === 0) return fail(403, 'Nobody in this conversation can take a call from you right now.');

    const now = Date.now();
    const offline = callees.filter((id) => !this.sockets.has(id));
    this.ctx.storage.transactionSync(() => {
      this.calls.create({ callId, media, callerId, offer: frame.sdp as string, at: now }, callees);
      this.calls.markNotified(callId, offline);
      this.alarms.schedule(ringJob(callId), now + RING_TIMEOUT_MS);
      this.alarms.schedule(limitJob(callId), now + callMaxMs((this.env as Bindings).ROOM_CALL_MAX_SECONDS));
    });
    const caller = this.from(callerId);
    this.sockets.sendTo(callees, { type: 'call.invite', call_id: callId, media, sdp: frame.sdp, from: caller });
    if (offline.length > 0 && caller) {
      publishEvent(
        { type: 'call_incoming', actorId: callerId, recipientIds: offline, conversationId: this.store.conversationId(), callId, media, caller },
        { env: this.env, baseUrl: '' },
        (p) => this.ctx.waitUntil(p),
      );
    }
    return null;
  }

  /** Answers the invite's offer (a direct call's callee), or a participant's `call.offer` (`to`). */
  private answer(ws: WebSocket, call: CallRow, me: PartyRow, frame: Frame, fail: (s: ErrorFrame['status'], d: string) => ErrorFrame): ErrorFrame | null {
    if (typeof frame.sdp !== 'string') return fail(400, 'sdp: the answer is required');
    const to = (frame.to as string | undefined) ?? call.caller_id;
    if (to === me.user_id) return fail(400, 'to: you cannot answer yourself');
    if (me.role === 'callee' && me.status !== 'joined' && to === call.caller_id) {
      // Accepting the invite: only a direct call's offer can be answered (a group's callees join and offer).
      if (this.store.kind() !== 'direct') return fail(400, 'In a group call, send call.join, then call.offer to each participant.');
      if (me.status !== 'ringing' && me.status !== 'missed') return fail(409, 'You are no longer ringing in this call.');
      if (call.answered_at !== null) return fail(409, 'This call was already answered.');
      this.enter(call, me);
      const from = this.from(me.user_id);
      this.sockets.sendTo([call.caller_id], { type: 'call.answer', call_id: call.call_id, sdp: frame.sdp, from });
      // What the callee trickled while it rang goes now, behind the answer (never before consent).
      const held = this.calls.takeHeldCandidates(call.call_id, me.user_id);
      if (held.length > 0) this.sockets.sendTo([call.caller_id], { type: 'call.candidates', call_id: call.call_id, candidates: held as IceCandidate[], from });
      this.announceJoin(call, me.user_id, ws);
      return null;
    }
    if (!inCall(me)) return fail(403, 'Join the call before answering a participant.');
    if (!this.mayReach(me, this.calls.party(call.call_id, to))) return fail(404, 'to: not a participant of this call');
    this.sockets.sendTo([to], { type: 'call.answer', call_id: call.call_id, sdp: frame.sdp, to, from: this.from(me.user_id) });
    return null;
  }

  /** An offer from one participant to another (a joiner to each participant, or a renegotiation). */
  private offer(call: CallRow, me: PartyRow, frame: Frame, fail: (s: ErrorFrame['status'], d: string) => ErrorFrame): ErrorFrame | null {
    if (typeof frame.sdp !== 'string') return fail(400, 'sdp: the offer is required');
    if (typeof frame.to !== 'string') return fail(400, 'to: the participant the offer is for is required');
    if (!inCall(me)) return fail(403, 'Join the call before sending offers.');
    if (!this.mayReach(me, this.calls.party(call.call_id, frame.to))) return fail(404, 'to: not another participant of this call');
    this.sockets.sendTo([frame.to], { type: 'call.offer', call_id: call.call_id, sdp: frame.sdp, to: frame.to, from: this.from(me.user_id) });
    return null;
  }

  /**
   * Trickled ICE candidates. They carry IP addresses, so they flow only between people who chose to be in
   * the call together: between participants who joined, plus the caller's own to a direct call's ringing
   * callee (they go with its offer). A direct call's callee who has not answered yet has theirs held until
   * they answer (then sent right behind the answer; dropped if they never do); a group's callee still
   * ringing sends none (403: join first), and none are addressed to them.
   */
  private candidates(call: CallRow, me: PartyRow, frame: Frame, fail: (s: ErrorFrame['status'], d: string) => ErrorFrame): ErrorFrame | null {
    if (!Array.isArray(frame.candidates) || frame.candidates.length > MAX_CANDIDATES) return fail(400, `candidates: an array of at most ${MAX_CANDIDATES} ICE candidates is required`);
    const parsed = frame.candidates.map(iceCandidate);
    if (parsed.some((c) => c === null)) return fail(400, 'candidates: each must be an RTCIceCandidateInit ({ candidate, sdpMid?, sdpMLineIndex?, usernameFragment? })');
    const candidates = parsed as IceCandidate[];
    if (!reachable(me)) return fail(403, 'You are not in this call.');
    const to = frame.to as string | undefined;
    const direct = this.store.kind() === 'direct';
    if (!inCall(me)) {
      if (!direct) return fail(403, 'Join the call before sending candidates.');
      if (to !== undefined && to !== call.caller_id) return fail(404, 'to: not another participant of this call');
      this.calls.holdCandidates(call.call_id, me.user_id, candidates);
      return null;
    }
    const present = direct && me.role === 'caller' ? reachable : inCall;
    if (to !== undefined && !this.mayReach(me, this.calls.party(call.call_id, to), present)) return fail(404, 'to: not another participant of this call');
    const apart = this.store.blockedWith(me.user_id);
    const targets = to !== undefined ? [to] : this.calls.parties(call.call_id).filter((p) => this.mayReach(me, p, present, apart)).map((p) => p.user_id);
    // The caller's candidates before anyone answered: kept for a callee who connects later.
    if (direct && to === undefined && me.role === 'caller' && call.answered_at === null) this.calls.keepOfferCandidates(call.call_id, candidates);
    this.sockets.sendTo(targets, { type: 'call.candidates', call_id: call.call_id, candidates, ...(to ? { to } : {}), from: this.from(me.user_id) });
    return null;
  }

  /** A group call's callee comes in (after it was answered or missed, too, while it runs). */
  private join(ws: WebSocket, call: CallRow, me: PartyRow, fail: (s: ErrorFrame['status'], d: string) => ErrorFrame): ErrorFrame | null {
    if (this.store.kind() === 'direct') return fail(400, 'Answer a direct call with call.answer.');
    if (me.status === 'joined') return fail(409, 'You are already in this call.');
    if (this.calls.parties(call.call_id).filter(inCall).length >= MAX_CALL_PARTICIPANTS) {
      return fail(409, `This call is full: mesh calls take at most ${MAX_CALL_PARTICIPANTS} people. Join when someone leaves.`);
    }
    this.enter(call, me);
    this.announceJoin(call, me.user_id, ws);
    return null;
  }

  private enter(call: CallRow, me: PartyRow): void {
    this.calls.join(call.call_id, me.user_id, Date.now());
    if (this.store.kind() === 'direct') this.alarms.cancel(ringJob(call.call_id));
  }

  /**
   * `call.joined` to every socket of everyone the call rang (the joiner's other devices stop ringing; the
   * others learn who is in), except those across a block from the joiner; each learns of the
   * participants not across a block from them.
   */
  private announceJoin(call: CallRow, userId: string, except: WebSocket): void {
    const parties = this.calls.parties(call.call_id);
    const joined = parties.filter(inCall).map((p) => p.user_id);
    const views = new Map<string, { recipients: string[]; participants: string[] }>();
    for (const { user_id: recipient } of parties) {
      const apart = this.store.blockedWith(recipient);
      if (apart.has(userId)) continue;
      const participants = joined.filter((id) => !apart.has(id));
      const view = views.get(participants.join()) ?? { recipients: [], participants };
      view.recipients.push(recipient);
      views.set(participants.join(), view);
    }
    const user = this.from(userId);
    for (const { recipients, participants } of views.values()) {
      this.sockets.sendTo(recipients, { type: 'call.joined', call_id: call.call_id, user, participants: participants.map((id) => this.from(id)) }, except);
    }
  }

  /** A participant hangs up, or a callee rejects (or hangs up while ringing); the call ends when nobody is left to talk to. */
  private leave(ws: WebSocket | null, call: CallRow, me: PartyRow, how: 'hangup' | 'reject', endReason: CallEndReason): ErrorFrame | null {
    if (!reachable(me)) return errorFrame(409, 'You are not in this call.', call.call_id);
    this.calls.setStatus(call.call_id, me.user_id, how === 'reject' ? 'rejected' : 'left');
    const frame =
      how === 'reject'
        ? { type: 'call.reject' as const, call_id: call.call_id, from: this.from(me.user_id) }
        : { type: 'call.hangup' as const, call_id: call.call_id, reason: endReason === 'failed' ? ('failed' as const) : ('hangup' as const), from: this.from(me.user_id) };
    this.tell(this.calls.parties(call.call_id).map((p) => p.user_id), me.user_id, frame, ws ?? undefined);
    this.settle(call.call_id, endReason);
    return null;
  }

  /**
   * Ends the call once nobody in it can reach anyone: no participant has another participant, or a
   * callee still ringing, who is not across a block from them (nobody in it, or one person left with
   * nobody ringing, or only people who block each other).
   */
  private settle(callId: string, reason: CallEndReason): void {
    const call = this.calls.get(callId);
    if (!call || call.state === 'ended') return;
    const parties = this.calls.parties(callId);
    const reachesSomeone = (p: PartyRow) => {
      const apart = this.store.blockedWith(p.user_id);
      return parties.some((q) => this.mayReach(p, q, reachable, apart));
    };
    if (!parties.filter(inCall).some(reachesSomeone)) this.end(call, reason);
  }

  /**
   * The blocks between members change (`apply` stores them). Two participants now across a block each
   * see the other leave (`call.hangup` from a hidden user, so their clients drop that peer connection;
   * the room relays nothing more between them), and the call ends if nobody in it can reach anyone.
   */
  blocksChanged(apply: () => void): void {
    const call = this.calls.live();
    if (!call) return apply();
    const joined = this.calls.parties(call.call_id).filter(inCall).map((p) => p.user_id);
    const apartBefore = new Map(joined.map((id) => [id, this.store.blockedWith(id)]));
    apply();
    for (const id of joined) {
      for (const other of this.store.blockedWith(id)) {
        if (joined.includes(other) && !apartBefore.get(id)!.has(other)) this.sockets.sendTo([id], { type: 'call.hangup', call_id: call.call_id, reason: 'hangup', from: presentHiddenUser(other) });
      }
    }
    this.settle(call.call_id, 'hangup');
  }

  private end(call: CallRow, reason: CallEndReason): void {
    const now = Date.now();
    const duration = call.answered_at === null ? 0 : Math.max(0, Math.round((now - call.answered_at) / 1000));
    let missed: string[] = [];
    this.ctx.storage.transactionSync(() => {
      missed = this.calls.missRinging(call.call_id);
      this.calls.end(call.call_id, reason, now);
      this.alarms.cancel(ringJob(call.call_id));
      this.alarms.cancel(limitJob(call.call_id));
    });
    this.sockets.broadcast({ type: 'call.ended', call_id: call.call_id, reason, duration_s: duration });
    this.notifyMissed(call, missed);
    // A ring that reached someone as call_incoming is over: the notification goes.
    const rung = this.calls.parties(call.call_id).filter((p) => p.notified === 1).map((p) => p.user_id);
    for (const id of rung) this.ctx.waitUntil(inboxOf(this.env, id).retract({ source: callSource(call.call_id), at: now }).catch(() => undefined));
    this.messages.recordCall(call.caller_id, { call_id: call.call_id, media: call.media, duration_s: duration, reason }, callSummary(call.media, reason, duration));
  }

  private notifyMissed(call: CallRow, recipientIds: string[]): void {
    const caller = this.from(call.caller_id);
    if (recipientIds.length === 0 || !caller) return;
    publishEvent(
      { type: 'missed_call', actorId: call.caller_id, recipientIds, conversationId: this.store.conversationId(), callId: call.call_id, media: call.media, caller },
      { env: this.env, baseUrl: '' },
      (p) => this.ctx.waitUntil(p),
    );
  }

  /** The room's alarm ran one of the calls' jobs. */
  async runJob(job: string): Promise<void> {
    if (job.startsWith('ring:')) return this.ringTimedOut(job.slice('ring:'.length));
    if (job.startsWith('limit:')) return this.limitReached(job.slice('limit:'.length));
    if (job.startsWith('drop:')) {
      const [userId, ...rest] = job.slice('drop:'.length).split(':');
      return this.dropIfGone(rest.join(':'), userId!);
    }
  }

  /** Sixty seconds of ringing: an unanswered call ends (`timeout`); a group call under way goes on, and whoever still rang missed it. */
  private ringTimedOut(callId: string): void {
    const call = this.calls.get(callId);
    if (!call || call.state === 'ended') return;
    if (call.answered_at === null) return this.end(call, 'timeout');
    const ringing = this.calls.parties(callId).filter((p) => p.status === 'ringing').map((p) => p.user_id);
    const missed = this.calls.missRinging(callId);
    this.sockets.sendTo(ringing, { type: 'call.missed', call_id: callId });
    this.notifyMissed(call, missed);
    this.settle(callId, 'hangup');
  }

  /** The call reached its longest ({@link callMaxMs}): it ends for everyone, as when its last participants hang up. */
  private limitReached(callId: string): void {
    const call = this.calls.get(callId);
    if (call && call.state !== 'ended') this.end(call, 'hangup');
  }

  private dropIfGone(callId: string, userId: string): void {
    const call = this.calls.get(callId);
    const me = this.calls.party(callId, userId);
    if (!call || call.state === 'ended' || !me || !inCall(me) || this.sockets.of(userId).length > 0) return;
    this.leave(null, call, me, 'hangup', 'failed');
  }

  /** A socket closed: if it was its user's last one and they are in the live call, they leave it unless they are back within the grace period. */
  socketClosed(ws: WebSocket, userId: string): void {
    const call = this.calls.live();
    if (!call || this.sockets.of(userId, ws).length > 0) return;
    const me = this.calls.party(call.call_id, userId);
    if (me && inCall(me)) this.alarms.schedule(dropJob(userId, call.call_id), Date.now() + DROP_GRACE_MS);
  }

  /** A member left or was removed: they leave the live call at once. */
  memberGone(userId: string): void {
    const call = this.calls.live();
    const me = call && this.calls.party(call.call_id, userId);
    if (call && me && reachable(me)) this.leave(null, call, me, me.status === 'joined' ? 'hangup' : 'reject', call.answered_at === null && me.role === 'callee' ? 'rejected' : 'hangup');
  }

  /** A socket opened: a callee the live call still rings gets its invite (and the caller's candidates so far) again. */
  replay(ws: WebSocket, userId: string): void {
    const call = this.calls.live();
    const me = call && this.calls.party(call.call_id, userId);
    if (!call || me?.status !== 'ringing' || this.store.blockedWith(userId).has(call.caller_id)) return;
    const from = this.from(call.caller_id);
    ws.send(JSON.stringify({ type: 'call.invite', call_id: call.call_id, media: call.media, sdp: call.offer, from }));
    const candidates = JSON.parse(call.offer_candidates) as unknown[];
    if (candidates.length > 0 && call.answered_at === null) ws.send(JSON.stringify({ type: 'call.candidates', call_id: call.call_id, candidates, from }));
  }
}
