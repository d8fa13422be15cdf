import type { D1Client } from '../db/client';
import { ApiError } from '../lib/errors';
import { RELATION, relationFlagsSql } from '../modules/graph/relations';
import { takeReach } from './reach';
import { isAccountVisible } from './visibility';

/**
 * Who may message whom: the one place that decides it, for conversation creation, group adds,
 * `POST /messages` and every send in a direct conversation (REST and socket alike go through the room).
 *
 * A recipient's `message_policy` says who may start a conversation with them or add them to one:
 * `everyone` (the default), `following` (people they follow, and friends), `friends`, or `nobody`.
 * Blocks either way hide the other person (404, as everywhere), and so does a suspension. A member who
 * declined a request can be added back to that conversation only by someone they follow or are friends
 * with. A silenced sender (moderation) may put only their friends in a conversation.
 */
export const MESSAGE_POLICIES = ['everyone', 'following', 'friends', 'nobody'] as const;
export type MessagePolicy = (typeof MESSAGE_POLICIES)[number];

/** How one recipient stands towards a sender. */
export interface RecipientStanding {
  exists: boolean;
  blocked: boolean;
  /** Their policy admits the sender. */
  accepts: boolean;
  /** They follow the sender or are friends with them: otherwise a conversation is a request for them. */
  connected: boolean;
  /** They declined a request in the conversation asked about. */
  declined: boolean;
  /** They are friends with the sender. */
  friend: boolean;
}

/** Whether a recipient with `policy`, relating to the sender as `flags` ({@link RELATION} bits, from their side), admits them. */
export function policyAdmits(policy: MessagePolicy, flags: number): boolean {
  const friend = (flags & RELATION.friend) !== 0;
  const follows = (flags & RELATION.following) !== 0;
  switch (policy) {
    case 'everyone':
      return true;
    case 'following':
      return friend || follows;
    case 'friends':
      return friend;
    case 'nobody':
      return false;
  }
}

/** Every recipient's standing towards the sender, in one statement. */
export async function recipientStandings(db: D1Client, senderId: string, recipientIds: string[], conversationId?: string): Promise<Map<string, RecipientStanding>> {
  const ids = [...new Set(recipientIds)];
  const { results } = await db
    .prepare(
      `SELECT j.value AS id, u.message_policy AS policy, u.suspended_at, ${relationFlagsSql('j.value', '?1')} AS r,
         EXISTS (SELECT 1 FROM conversation_declines d WHERE d.conversation_id = ?3 AND d.user_id = j.value) AS declined
       FROM json_each(?2) j JOIN users u ON u.id = j.value`,
    )
    .bind(senderId, JSON.stringify(ids), conversationId ?? '')
    .all<{ id: string; policy: MessagePolicy; suspended_at: number | null; r: number; declined: number }>();
  // A suspended account is absent for everyone else, here as on its profile.
  const found = new Map(results.filter((row) => isAccountVisible({ suspendedAt: row.suspended_at === null ? null : new Date(row.suspended_at) })).map((row) => [row.id, row]));
  return new Map(
    ids.map((id) => {
      const row = found.get(id);
      const flags = row?.r ?? 0;
      return [
        id,
        {
          exists: row !== undefined,
          blocked: (flags & RELATION.blocked) !== 0,
          accepts: row ? policyAdmits(row.policy, flags) : false,
          connected: (flags & (RELATION.friend | RELATION.following)) !== 0,
          declined: row?.declined === 1,
          friend: (flags & RELATION.friend) !== 0,
        },
      ];
    }),
  );
}

/** The 404 for a user who does not exist or is behind a block (invisible, as everywhere). */
export function notAUser(field: string, id: string): ApiError {
  return new ApiError('not_found', `No such user: ${id}.`, { errors: [{ field, message: `${id} is not a user you can message` }] });
}

/** The 403 for someone whose policy (or earlier decline) keeps the sender out. */
export function messagesNotAccepted(detail: string, field?: string, ids: string[] = []): ApiError {
  return new ApiError('messages_not_accepted', detail, field ? { errors: ids.map((id) => ({ field, message: `${id} does not accept messages from you` })) } : {});
}

/**
 * Checks that the sender may put every recipient in a conversation (start one with them, or add them to
 * one): 404 naming `field` for unknown or blocked users, 403 if the sender is silenced and any recipient
 * is not their friend, then 403 `/messages-not-accepted` if any recipient's policy excludes the sender
 * or they declined this conversation and do not follow the sender. All or nothing: callers create
 * nothing unless it passes, and then take the requests it makes from the sender's day with
 * `takeMessageRequests` just before writing the member rows. Returns, per recipient, whether the
 * conversation is a request for them.
 */
export async function assertCanMessage(
  db: D1Client,
  senderId: string,
  recipientIds: string[],
  options: { field: string; conversationId?: string },
): Promise<Map<string, { request: boolean }>> {
  const standings = await recipientStandings(db, senderId, recipientIds, options.conversationId);
  const refused: string[] = [];
  const out = new Map<string, { request: boolean }>();
  for (const [id, s] of standings) {
    if (!s.exists || s.blocked) throw notAUser(options.field, id);
    if (!s.accepts || (s.declined && !s.connected)) refused.push(id);
    out.set(id, { request: !s.connected });
  }
  if ([...standings.values()].some((s) => !s.friend) && (await isSilenced(db, senderId))) {
    throw new ApiError('forbidden', 'Your account is silenced: you can start conversations with your friends only.');
  }
  if (refused.length > 0) {
    const who = refused.length === 1 ? 'This user does not' : `${refused.length} of these users do not`;
    throw messagesNotAccepted(`${who} accept messages from you (their message_policy, or they declined this conversation).`, options.field, refused);
  }
  return out;
}

const noRelease = async (): Promise<void> => {};

/**
 * Takes the message requests of `admitted` (its strangers) from the sender's day (src/policy/reach.ts):
 * 429 when they do not all fit. Call it after every other check, just before writing the member rows,
 * and run what it returns should that write fail (it gives them back).
 */
export async function takeMessageRequests(db: D1Client, senderId: string, admitted: Map<string, { request: boolean }>): Promise<() => Promise<void>> {
  const n = [...admitted.values()].filter((m) => m.request).length;
  return n > 0 ? takeReach(db, senderId, 'message_request', n) : noRelease;
}

async function isSilenced(db: D1Client, userId: string): Promise<boolean> {
  const row = await db.prepare('SELECT silenced_at FROM users WHERE id = ?1').bind(userId).first<{ silenced_at: number | null }>();
  return row?.silenced_at !== null && row?.silenced_at !== undefined;
}

/**
 * Whether a send in a direct conversation may reach the other member. Their policy is checked on every
 * send (tightening it stops a stranger who already has a conversation open), except when they started
 * the conversation themselves. Null when the send may go ahead.
 */
export async function directSendRefusal(db: D1Client, senderId: string, recipientId: string | undefined, recipientStartedIt: boolean): Promise<'gone' | 'blocked' | 'not_accepted' | null> {
  if (!recipientId) return 'gone';
  const row = await db
    .prepare(`SELECT message_policy AS policy, ${relationFlagsSql('?2', '?1')} AS r FROM users WHERE id = ?2`)
    .bind(senderId, recipientId)
    .first<{ policy: MessagePolicy; r: number }>();
  if (!row) return 'gone';
  if (row.r & RELATION.blocked) return 'blocked';
  if (!recipientStartedIt && !policyAdmits(row.policy, row.r)) return 'not_accepted';
  return null;
}

/** Why a call does not ring someone (null: it rings). */
export type RingRefusal = 'blocked' | 'not_accepted' | 'request' | 'unavailable' | 'silenced';

/**
 * Whom a call may ring, decided with the same rules as messages: never across a block (either way);
 * in a direct conversation, only a callee whose message_policy admits the caller (unless the callee
 * started the conversation); never a member for whom the conversation is still a message request (a
 * stranger's call rings only once its request is accepted); never a suspended account; and a silenced
 * caller rings only friends. One statement for all callees.
 */
export async function callRefusals(
  db: D1Client,
  callerId: string,
  callees: { userId: string; request: boolean }[],
  options: { direct: boolean; startedBy: string | null },
): Promise<Map<string, RingRefusal | null>> {
  const { results } = await db
    .prepare(
      `SELECT j.value AS id, u.message_policy AS policy, u.suspended_at IS NOT NULL AS suspended, ${relationFlagsSql('j.value', '?1')} AS r,
         (SELECT c.silenced_at IS NOT NULL FROM users c WHERE c.id = ?1) AS caller_silenced
       FROM json_each(?2) j JOIN users u ON u.id = j.value`,
    )
    .bind(callerId, JSON.stringify(callees.map((c) => c.userId)))
    .all<{ id: string; policy: MessagePolicy; suspended: number; r: number; caller_silenced: number | null }>();
  const found = new Map(results.map((row) => [row.id, row]));
  return new Map(
    callees.map(({ userId, request }): [string, RingRefusal | null] => {
      const row = found.get(userId);
      if (!row || row.suspended) return [userId, 'unavailable'];
      if (row.r & RELATION.blocked) return [userId, 'blocked'];
      if (request) return [userId, 'request'];
      if (options.direct && options.startedBy !== userId && !policyAdmits(row.policy, row.r)) return [userId, 'not_accepted'];
      if (row.caller_silenced && !(row.r & RELATION.friend)) return [userId, 'silenced'];
      return [userId, null];
    }),
  );
}
