import { and, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import { type D1Client, insertInParts, mapRow, toStatement, uniqueViolation } from '../../db/client';
import { communities, conversationDeclines, conversationMembers, conversations, media, type ConversationRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { createdBefore, createOrTaken, type IdempotentCreate, recordCreate } from '../../lib/idempotency';
import { newId } from '../../lib/ids';
import { encodeCursor, NEWEST_FIRST, timeKeyCursor } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { assertCanMessage, notAUser, recipientStandings, takeMessageRequests } from '../../policy/messaging';
import { isAccountVisible } from '../../policy/visibility';
import { screenText } from '../../policy/content-rules';
import { mediaUrl } from '../media/media.keys';
import { purgeMediaCopies } from '../media/media.service';
import { emitEvent } from '../notifications/events';
import { blockedEitherOf } from '../graph/relations';
import { presentHiddenUser, presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds } from '../users/users.service';
import { NOT_A_MEMBER, type Message, type MessageMedia, type RoomMember, type RoomResult } from './room.types';

/** The ConversationRoom of a conversation (one Durable Object per conversation id). */
export function roomFor(c: Context<AppEnv>, conversationId: string) {
  return c.env.ROOMS.get(c.env.ROOMS.idFromName(conversationId));
}

/** Turns a room's refusal into the API's error. */
export function unwrap<T>(result: RoomResult<T>): T {
  if (result.ok) return result.value;
  const code = result.code ?? ({ 400: 'validation_failed', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large', 422: 'content_rejected', 429: 'rate_limited' } as const)[result.status];
  throw new ApiError(code, result.detail, {
    errors: result.field ? [{ field: result.field, message: result.detail.replace(/^\w+: /, '') }] : undefined,
    headers: result.status === 429 ? { 'Retry-After': '10' } : undefined,
  });
}

const notFound = () => new ApiError('not_found', NOT_A_MEMBER);

/** The conversation if the viewer is a member (404 otherwise, as for one that does not exist). */
export async function conversationFor(c: Context<AppEnv>, viewerId: string, id: string): Promise<{ conversation: ConversationRow; role: 'admin' | 'member' }> {
  const db = c.get('db');
  const row = await db
    .select({ conversation: conversations, role: conversationMembers.role })
    .from(conversations)
    .innerJoin(conversationMembers, and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.userId, viewerId)))
    .where(eq(conversations.id, id))
    .get();
  if (!row) throw notFound();
  return row;
}

async function roomMembers(c: Context<AppEnv>, conversationId: string): Promise<RoomMember[]> {
  const rows = await c
    .get('db')
    .select({ userId: conversationMembers.userId, request: conversationMembers.request })
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, conversationId))
    .all();
  const users = await loadUsersByIds(c.get('db'), rows.map((r) => r.userId));
  return rows.filter((r) => users.has(r.userId)).map((r) => ({ userId: r.userId, user: presentPublicUser(users.get(r.userId)!, c.get('baseUrl')), request: r.request }));
}

/**
 * Runs an operation on the room of a conversation the caller belongs to (per D1). Should the room not
 * know them (its configuration never arrived, say), it is re-synced from D1 and the operation retried
 * once, so D1 stays the authority on membership.
 */
export async function withRoom<T>(
  c: Context<AppEnv>,
  viewerId: string,
  conversationId: string,
  op: (room: ReturnType<typeof roomFor>) => Promise<RoomResult<T>>,
): Promise<T> {
  const { conversation } = await conversationFor(c, viewerId, conversationId);
  const room = roomFor(c, conversationId);
  let result = await op(room);
  if (!result.ok && result.status === 404 && result.detail === NOT_A_MEMBER) {
    await syncRoom(c, conversation);
    result = await op(room);
  }
  return unwrap(result);
}

/**
 * After `userId` blocked or unblocked someone (`otherId`), every conversation the two share re-reads
 * that user's blocks, so its room stops (or resumes) relaying between them at once.
 */
export async function refreshSharedRooms(c: Context<AppEnv>, userId: string, otherId: string): Promise<void> {
  const { results } = await c.var.d1
    .prepare('SELECT m.conversation_id AS id FROM conversation_members m JOIN conversation_members o ON o.conversation_id = m.conversation_id AND o.user_id = ?2 WHERE m.user_id = ?1')
    .bind(userId, otherId)
    .all<{ id: string }>();
  await Promise.all(results.map((r) => roomFor(c, r.id).refreshBlocks(userId)));
}

/**
 * The conversations an account is a member of or left (`?1`: its id), as `id, kind`: every room that may
 * hold its messages or its profile (declines and departures: it may have written there before leaving).
 */
export const ACCOUNT_CONVERSATIONS_SQL = `SELECT c.id, c.kind FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = ?1
  UNION SELECT c.id, c.kind FROM conversation_declines d JOIN conversations c ON c.id = d.conversation_id WHERE d.user_id = ?1
  UNION SELECT c.id, c.kind FROM conversation_departures d JOIN conversations c ON c.id = d.conversation_id WHERE d.user_id = ?1`;

/** Tells the room who its members are now (it disconnects anyone removed). */
export async function syncRoom(c: Context<AppEnv>, conversation: ConversationRow): Promise<void> {
  await roomFor(c, conversation.id).configure(conversation.id, conversation.kind, await roomMembers(c, conversation.id), conversation.createdBy);
}

/** Runs `write` after its message requests were taken (`takeMessageRequests`): gives them back should it fail. */
async function writeTaking<T>(release: () => Promise<void>, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    await release();
    throw err;
  }
}

/** Member rows for people `adderId` puts in a conversation, each marked a request or not (src/policy/messaging.ts). */
/** Member rows as INSERTs for one batch (a group's fifty in several statements); a row already there is left as it is. */
function memberInserts(c: Context<AppEnv>, rows: (typeof conversationMembers.$inferInsert)[]): D1PreparedStatement[] {
  return insertInParts(c.var.d1, conversationMembers, rows, (part) => c.get('db').insert(conversationMembers).values(part).onConflictDoNothing());
}

function memberRows(conversationId: string, adderId: string, admitted: Map<string, { request: boolean }>, now: Date) {
  return [...admitted].map(([userId, { request }]) => ({ conversationId, userId, role: 'member' as const, joinedAt: now, lastActivityAt: now, request, addedBy: adderId }));
}

/** A group add notifies each member for whom it is a request, once (their messages will not, until they accept). */
function inviteRequests(c: Context<AppEnv>, adderId: string, conversation: ConversationRow, admitted: Map<string, { request: boolean }>): void {
  const recipientIds = [...admitted].filter(([, m]) => m.request).map(([id]) => id);
  if (recipientIds.length > 0) emitEvent(c, { type: 'conversation_invite', actorId: adderId, recipientIds, conversationId: conversation.id, title: conversation.title });
}

/**
 * Opens the existing direct conversation of a pair. A side who left it (by declining the request) is put
 * back: the caller at once, the other only if the policy lets the caller reach them again.
 */
async function reopenDirect(c: Context<AppEnv>, callerId: string, otherId: string, conversation: ConversationRow, field: string): Promise<void> {
  // As for a new conversation, a block either way hides the other person (404).
  const standing = (await recipientStandings(c.var.d1, callerId, [otherId])).get(otherId)!;
  if (!standing.exists || standing.blocked) throw notAUser(field, otherId);
  const present = new Set(
    (await c.get('db').select({ userId: conversationMembers.userId }).from(conversationMembers).where(eq(conversationMembers.conversationId, conversation.id)).all()).map((r) => r.userId),
  );
  if (present.has(callerId) && present.has(otherId)) return;
  const now = new Date();
  const admitted = present.has(otherId) ? new Map<string, { request: boolean }>() : await assertCanMessage(c.var.d1, callerId, [otherId], { field, conversationId: conversation.id });
  const rows = memberRows(conversation.id, callerId, admitted, now);
  if (!present.has(callerId)) rows.push({ conversationId: conversation.id, userId: callerId, role: 'member', joinedAt: now, lastActivityAt: now, request: false, addedBy: callerId });
  await writeTaking(await takeMessageRequests(c.var.d1, callerId, admitted), () => c.var.d1.batch(memberInserts(c, rows)));
  await syncRoom(c, conversation);
}

/**
 * Creates a conversation. One other participant makes a direct conversation, of which there is one per
 * pair: asking again returns the existing one (created: false). More make a group, the caller its admin.
 * Everyone named must admit the caller under their message_policy, or nothing is created (403); refusals
 * name `field` (the request's own name for the people: `participant_ids`, or `receiver_id` for POST /messages).
 */
export async function createConversation(
  c: Context<AppEnv>,
  creatorId: string,
  participantIds: string[],
  title?: string,
  field = 'participant_ids',
  retry: IdempotentCreate | null = null,
): Promise<{ id: string; created: boolean }> {
  // A retry (the same Idempotency-Key) gets the conversation its first request made.
  const before = retry ? await createdBefore(c.var.d1, creatorId, retry) : null;
  if (before) return { id: before, created: false };
  const others = [...new Set(participantIds)].filter((id) => id !== creatorId);
  if (others.length === 0) throw ApiError.field(field, 'must name at least one user other than you');
  const direct = others.length === 1;
  const directKey = direct ? [creatorId, others[0]!].sort().join(':') : null;
  const db = c.get('db');
  const existingDirect = async () => (directKey ? db.select().from(conversations).where(eq(conversations.directKey, directKey)).get() : undefined);
  const existing = await existingDirect();
  if (existing) {
    await reopenDirect(c, creatorId, others[0]!, existing, field);
    return { id: existing.id, created: false };
  }
  const admitted = await assertCanMessage(c.var.d1, creatorId, others, { field });
  if (!direct) await screenText(c, [{ field: 'title', text: title }], 'conversation');
  const now = new Date();
  const id = newId(now.getTime());
  const conversation = { id, kind: direct ? ('direct' as const) : ('group' as const), title: direct ? null : (title ?? null), createdBy: creatorId, directKey, createdAt: now, lastActivityAt: now, lastSeq: 0, lastMessage: null };
  const release = await takeMessageRequests(c.var.d1, creatorId, admitted);
  try {
    const outcome = await createOrTaken(c.var.d1, creatorId, retry, () =>
      writeTaking(release, () =>
        c.var.d1.batch([
          ...(retry ? recordCreate(c.var.d1, creatorId, retry, id, now.getTime()) : []),
          toStatement(c.var.d1, db.insert(conversations).values(conversation)),
          toStatement(c.var.d1, db.insert(conversationMembers).values({ conversationId: id, userId: creatorId, role: 'admin', joinedAt: now, lastActivityAt: now })),
          ...memberInserts(c, memberRows(id, creatorId, admitted, now)),
        ]),
      ),
    );
    // The same Idempotency-Key sent twice at once: the other request's batch took it.
    if ('takenBy' in outcome) return { id: outcome.takenBy, created: false };
  } catch (err) {
    // Two people opening the same direct conversation at once: the second gets the first's.
    if (directKey && uniqueViolation(err) === 'direct_key') {
      const raced = await existingDirect();
      if (raced) return { id: raced.id, created: false };
    }
    throw err;
  }
  await syncRoom(c, conversation);
  if (!direct) inviteRequests(c, creatorId, conversation, admitted);
  return { id, created: true };
}

/** A message indexed before messages had a kind is a text message. */
const withKind = (message: Message): Message => ({ ...message, kind: message.kind ?? 'text', call: message.call ?? null });

type ConversationListRow = ConversationRow & { unreadCount: number; memberActivity: number; request: boolean };

/**
 * Conversations as the viewer sees them: their participants, the last message and their unread count.
 * Someone across a block from the viewer, or suspended, is a hidden user there (as in the room's
 * messages): the entry stays, for the contract lists every member, but shows nothing current of them.
 */
export async function presentConversations(c: Context<AppEnv>, viewerId: string, rows: ConversationListRow[]) {
  if (rows.length === 0) return [];
  // Every member (the contract lists them all), longest-standing first.
  const { results: members } = await c.var.d1.prepare(
    `SELECT conversation_id, user_id FROM conversation_members
     WHERE conversation_id IN (SELECT value FROM json_each(?1)) ORDER BY conversation_id, created_at, user_id`,
  )
    .bind(JSON.stringify(rows.map((r) => r.id)))
    .all<{ conversation_id: string; user_id: string }>();
  // The last messages' senders too: one may have left the conversation since.
  const senders = rows.flatMap((r) => (r.lastMessage as Message | null)?.sender?.id ?? []);
  const users = await loadUsersByIds(c.get('db'), [...members.map((m) => m.user_id), ...senders]);
  const communities = await communityOfConversations(c, rows.filter((r) => r.kind === 'community').map((r) => r.id));
  const blocked = await blockedEitherOf(c.var.d1, viewerId);
  const hides = (id: string) => blocked.has(id) || (users.has(id) && !isAccountVisible(users.get(id)!));
  const baseUrl = c.get('baseUrl');
  const lastMessage = (message: Message): Message => (message.sender && hides(message.sender.id) ? { ...message, sender: presentHiddenUser(message.sender.id) } : message);
  return rows.map((row) => {
    const own = members.filter((m) => m.conversation_id === row.id);
    return {
      id: row.id,
      kind: row.kind,
      title: row.title,
      participants: own
        .filter((m) => users.has(m.user_id))
        .map((m) => (hides(m.user_id) ? presentHiddenUser(m.user_id) : presentPublicUser(users.get(m.user_id)!, baseUrl))),
      member_count: own.length,
      community_id: communities.get(row.id) ?? null,
      last_message: row.lastMessage ? lastMessage(withKind(row.lastMessage as unknown as Message)) : null,
      unread_count: row.unreadCount,
      request: row.request,
      created_at: row.createdAt.toISOString(),
    };
  });
}

/** The community owning each community chat. */
async function communityOfConversations(c: Context<AppEnv>, conversationIds: string[]): Promise<Map<string, string>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await c.get('db').select({ id: communities.id, conversationId: communities.conversationId }).from(communities).where(inArray(communities.conversationId, conversationIds)).all();
  return new Map(rows.map((r) => [r.conversationId, r.id]));
}

/**
 * The caller's conversations, most recent activity first (keyset on the member row's activity time);
 * `folder` keeps only message requests (`requests`) or only the others (`inbox`).
 */
export async function listConversations(c: Context<AppEnv>, viewerId: string, limit: number, cursor?: string, folder?: 'requests' | 'inbox') {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(
    `SELECT c.*, m.unread_count AS member_unread, m.last_activity_at AS member_activity, m.request AS member_request
     FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ?1 ${folder ? 'AND m.request = ?5' : ''} AND (m.last_activity_at, m.conversation_id) < (?2, ?3)
     ORDER BY m.last_activity_at DESC, m.conversation_id DESC LIMIT ?4`,
  )
    .bind(viewerId, ts, id, limit + 1, ...(folder ? [folder === 'requests' ? 1 : 0] : []))
    .all<Record<string, unknown>>();
  const rows = results.map((raw) => ({
    ...mapRow(conversations, raw),
    unreadCount: raw.member_unread as number,
    memberActivity: raw.member_activity as number,
    request: raw.member_request === 1,
  }));
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await presentConversations(c, viewerId, page),
    next_cursor: rows.length > limit && last ? encodeCursor([last.memberActivity, last.id]) : null,
  };
}

/** One conversation for a member, with their unread count. */
export async function getConversation(c: Context<AppEnv>, viewerId: string, id: string) {
  const { conversation } = await conversationFor(c, viewerId, id);
  const member = await c.get('db').select().from(conversationMembers).where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, viewerId))).get();
  const [presented] = await presentConversations(c, viewerId, [{ ...conversation, unreadCount: member?.unreadCount ?? 0, memberActivity: 0, request: member?.request ?? false }]);
  return presented!;
}

/** Attachments must be the sender's own uploads from POST /media. */
async function ownMedia(c: Context<AppEnv>, ownerId: string, ids: string[]): Promise<MessageMedia[]> {
  const unique = [...new Set(ids)];
  if (unique.length !== ids.length) throw ApiError.field('media_ids', 'must not repeat an id');
  if (unique.length === 0) return [];
  const rows = await c.get('db').select().from(media).where(and(inArray(media.id, unique), eq(media.ownerId, ownerId), eq(media.kind, 'attachment'))).all();
  if (rows.length !== unique.length) throw ApiError.field('media_ids', 'must be ids of your own uploads (POST /api/v1/media)');
  const byId = new Map(rows.map((r) => [r.id, r]));
  return unique.map((id) => {
    const m = byId.get(id)!;
    return { id: m.id, url: mediaUrl(c.get('baseUrl'), m.key), content_type: m.contentType, width: m.width, height: m.height };
  });
}

/** Sends through the room: the same method socket sends use, which also emits `new_message`. */
export async function sendMessage(c: Context<AppEnv>, senderId: string, conversationId: string, input: { content: string; media_ids?: string[]; client_id?: string }) {
  // The room records them in D1 (message_media) before the message exists: in use from then on.
  const attachments = await ownMedia(c, senderId, input.media_ids ?? []);
  const sender = (await loadUsersByIds(c.get('db'), [senderId])).get(senderId);
  return withRoom(c, senderId, conversationId, (room) =>
    room.send(senderId, {
      content: input.content,
      media: attachments,
      clientId: input.client_id ?? null,
      sender: sender ? presentPublicUser(sender, c.get('baseUrl')) : undefined,
      awaitIndex: true,
    }),
  );
}

/**
 * The sender deletes their message (a tombstone). Its images stop being in use by it (the room's index
 * flush deletes their message_media rows): one nothing else uses is withdrawn, so its edge copies go.
 */
export async function deleteMessage(c: Context<AppEnv>, senderId: string, conversationId: string, seq: number): Promise<void> {
  await purgeMediaCopies(await withRoom(c, senderId, conversationId, (room) => room.remove(senderId, seq)));
}

/** Adds members to a group (admins only). */
export async function addMembers(c: Context<AppEnv>, viewerId: string, conversationId: string, userIds: string[]): Promise<void> {
  const { conversation, role } = await conversationFor(c, viewerId, conversationId);
  if (conversation.kind !== 'group') throw new ApiError('forbidden', conversation.kind === 'community' ? "A community's chat follows its membership: join the community instead." : 'Only group conversations take new members.');
  if (role !== 'admin') throw new ApiError('forbidden', 'Only the conversation admins can add members.');
  const db = c.get('db');
  const already = new Set(
    (await db.select({ userId: conversationMembers.userId }).from(conversationMembers).where(and(eq(conversationMembers.conversationId, conversationId), inArray(conversationMembers.userId, userIds))).all()).map(
      (r) => r.userId,
    ),
  );
  const ids = [...new Set(userIds)].filter((id) => id !== viewerId && !already.has(id));
  if (ids.length === 0) {
    if (userIds.some((id) => id !== viewerId)) return; // everyone named is already a member
    throw ApiError.field('user_ids', 'must name at least one user other than you');
  }
  const admitted = await assertCanMessage(c.var.d1, viewerId, ids, { field: 'user_ids', conversationId });
  await writeTaking(await takeMessageRequests(c.var.d1, viewerId, admitted), () =>
    c.var.d1.batch(memberInserts(c, memberRows(conversationId, viewerId, admitted, new Date()))),
  );
  await syncRoom(c, conversation);
  inviteRequests(c, viewerId, conversation, admitted);
}

/** Removes a member from a group: admins remove anyone, a member removes themselves (leaving). */
export async function removeMember(c: Context<AppEnv>, viewerId: string, conversationId: string, userId: string): Promise<void> {
  const { conversation, role } = await conversationFor(c, viewerId, conversationId);
  if (conversation.kind !== 'group') throw new ApiError('forbidden', conversation.kind === 'community' ? "A community's chat follows its membership: leave the community instead." : 'Direct conversations have no members to remove.');
  if (userId !== viewerId && role !== 'admin') throw new ApiError('forbidden', 'Only the conversation admins can remove members.');
  await dropMembership(c, conversation, userId);
}

/** The caller's membership if the conversation is a message request for them: 404 when not a member, 409 when not a request. */
async function pendingRequest(c: Context<AppEnv>, viewerId: string, conversationId: string): Promise<ConversationRow> {
  const { conversation } = await conversationFor(c, viewerId, conversationId);
  const member = await c.get('db').select({ request: conversationMembers.request }).from(conversationMembers).where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, viewerId))).get();
  if (!member?.request) throw new ApiError('conflict', 'This conversation is not a message request for you.');
  return conversation;
}

/** Accepts a message request: it moves to the inbox and its messages notify again. */
export async function acceptRequest(c: Context<AppEnv>, viewerId: string, conversationId: string): Promise<void> {
  const conversation = await pendingRequest(c, viewerId, conversationId);
  await c.get('db').update(conversationMembers).set({ request: false }).where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, viewerId)));
  await syncRoom(c, conversation);
}

/** Declines a message request: the caller leaves, and only someone they follow or befriend can add them back. */
export async function declineRequest(c: Context<AppEnv>, viewerId: string, conversationId: string): Promise<void> {
  const conversation = await pendingRequest(c, viewerId, conversationId);
  const db = c.var.d1;
  const decline = toStatement(db, c.get('db').insert(conversationDeclines).values({ conversationId, userId: viewerId }).onConflictDoUpdate({ target: [conversationDeclines.conversationId, conversationDeclines.userId], set: { declinedAt: new Date() } }));
  await dropMembership(c, conversation, viewerId, [decline]);
}

/**
 * Notes that a user left a conversation (see conversationDepartures). Must come right after the batch's
 * `DELETE FROM conversation_members` of that user: it writes only when that statement removed a row
 * (SQLite's `changes()`), so a batch that removed nobody notes nothing. The latest departure wins.
 */
export function departureStatement(db: D1Client, conversationId: string, userId: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO conversation_departures (conversation_id, user_id, left_at) SELECT ?1, ?2, ?3 WHERE changes() > 0
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = excluded.left_at`,
    )
    .bind(conversationId, userId, Date.now());
}

/**
 * A group never ends up without an admin: in each of these conversations left without one, the
 * longest-standing member takes over. Runs in the batch that removes a member (or deletes an account).
 */
export function keepAnAdmin(db: D1Client, conversationIds: string[]): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE conversation_members SET role = 'admin'
       WHERE (conversation_id, user_id) IN (
         SELECT j.value, (SELECT m.user_id FROM conversation_members m WHERE m.conversation_id = j.value ORDER BY m.created_at, m.user_id LIMIT 1)
         FROM json_each(?1) j
         WHERE NOT EXISTS (SELECT 1 FROM conversation_members a WHERE a.conversation_id = j.value AND a.role = 'admin'))`,
    )
    .bind(JSON.stringify(conversationIds));
}

/**
 * Deletes a membership (with `also`, in the same batch), notes the departure (conversation_departures:
 * the room keeps what they wrote), keeps the group with an admin, and closes the member's sockets. A
 * group its last member leaves goes entirely, here and in its room (as when the last one deletes their
 * account): nobody could read it again, and the images its messages carried are withdrawn.
 */
async function dropMembership(c: Context<AppEnv>, conversation: ConversationRow, userId: string, also: D1PreparedStatement[] = []): Promise<void> {
  const conversationId = conversation.id;
  const db = c.var.d1;
  const results = await db.batch([
    db.prepare('DELETE FROM conversation_members WHERE conversation_id = ?1 AND user_id = ?2').bind(conversationId, userId),
    departureStatement(db, conversationId, userId),
    ...also,
    keepAnAdmin(db, [conversationId]),
    db.prepare("DELETE FROM conversations WHERE id = ?1 AND kind = 'group' AND NOT EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = ?1)").bind(conversationId),
  ]);
  if (!results[0]?.meta.changes) throw new ApiError('not_found', 'No such member.');
  await syncRoom(c, conversation);
  if (results.at(-1)?.meta.changes) await purgeMediaCopies(await roomFor(c, conversationId).dissolve());
}
