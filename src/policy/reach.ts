import type { D1Client } from '../db/client';
import { ApiError } from '../lib/errors';
import { throttleCountStatement, throttleRefusal, throttleRelease, throttleTake, type ThrottleWindow } from '../lib/throttle';
import { RELATION, relationFlagsSql } from '../modules/graph/relations';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How many people one account may reach uninvited in a day, whoever they are: a stranger's other limits
 * (20 notifications an hour to one person, message requests that notify once) cap what one person
 * receives, these cap how many people one account can approach. Each is a fixed 24-hour window that
 * starts at its first counted action (D1 `auth_throttles`, keys `reach:<kind>:<user id>`). Past one,
 * the action answers 429 with `Retry-After` (seconds until the window ends) and nothing is written.
 *
 * - `follow`: follows and follow requests made (400, as large networks allow);
 * - `friend_request`: friend requests sent (accepting one that crosses yours is not counted);
 * - `message_request`: people a new conversation or a group add makes a message request for (someone
 *   who neither follows nor is friends with the sender), counted per person;
 * - `mention`: strangers (the same sense) notified of an @mention in a post or comment. Past this one
 *   the text is still published; its mentions just notify nobody else that day (`withinReach`);
 * - `wall_post`: posts written on the walls of strangers (the same sense) whose `wall_policy` is
 *   `everyone`, however many walls.
 */
export const REACH = {
  follow: { max: 400, ms: DAY_MS },
  friend_request: { max: 100, ms: DAY_MS },
  message_request: { max: 50, ms: DAY_MS },
  mention: { max: 100, ms: DAY_MS },
  wall_post: { max: 20, ms: DAY_MS },
} as const satisfies Record<string, ThrottleWindow>;
export type ReachKind = keyof typeof REACH;
/** The kinds whose action is refused past the day's budget (mentions are only left unnotified). */
type RefusedKind = Exclude<ReachKind, 'mention'>;

const DETAIL: Record<RefusedKind, string> = {
  follow: `At most ${REACH.follow.max} follows and follow requests a day: try again later.`,
  friend_request: `At most ${REACH.friend_request.max} friend requests a day: try again later.`,
  message_request: `At most ${REACH.message_request.max} message requests (people who do not follow you and are not your friends) a day: try again later.`,
  wall_post: `At most ${REACH.wall_post.max} posts a day on the walls of people who do not follow you and are not your friends: try again later.`,
};

/**
 * Whether `actorId` is silenced (moderation) and `otherId` neither follows nor is friends with them. A
 * silenced account reaches only the people who chose to hear from it (posts, walls, messages, calls), so
 * it approaches nobody else either: its friend requests to such people are refused (403), and its
 * follows of them are made without telling them.
 */
export async function silencedTowards(db: D1Client, actorId: string, otherId: string): Promise<boolean> {
  return (await db.prepare(`SELECT ${silencedTowardsSql('?1', '?2')} AS silenced`).bind(actorId, otherId).first<{ silenced: number }>())?.silenced === 1;
}

/**
 * {@link silencedTowards} as an SQL condition on two id expressions (never true of an account towards
 * itself), for statements that decide it row by row (a comment's release from review).
 */
export function silencedTowardsSql(actor: string, other: string): string {
  return `(${actor} != ${other} AND EXISTS (SELECT 1 FROM users sa WHERE sa.id = ${actor} AND sa.silenced_at IS NOT NULL)
    AND (${relationFlagsSql(other, actor)} & ${RELATION.friend | RELATION.following}) = 0)`;
}

export const reachKey = (kind: ReachKind, userId: string): string => `reach:${kind}:${userId}`;

/** Every reach counter of an account, for its deletion. */
export const reachKeysOf = (userId: string): string[] => Object.keys(REACH).map((k) => reachKey(k as ReachKind, userId));

/**
 * Takes `n` of the account's `kind` budget for the day before the action that uses them is written
 * (all or nothing, in one transaction: concurrent actions cannot pass the limit together), or answers
 * 429 when they do not fit. Returns what gives them back, for the caller to run should its write fail.
 */
export async function takeReach(db: D1Client, userId: string, kind: RefusedKind, n: number): Promise<() => Promise<void>> {
  const key = reachKey(kind, userId);
  const { taken, windowStart } = await throttleTake(db, key, REACH[kind], n, { whole: true });
  if (taken < n) throw await reachRefusal(db, userId, kind, n);
  return () => throttleRelease(db, key, windowStart, n);
}

/**
 * The 429 of `n` actions the budget stopped (inside their own statement, see `reachLeftSql`, or
 * `takeReach`); should the window have ended meanwhile, a 429 asking for a retry in a second.
 */
export async function reachRefusal(db: D1Client, userId: string, kind: RefusedKind, n = 1): Promise<ApiError> {
  return throttleRefusal(db, reachKey(kind, userId), REACH[kind], DETAIL[kind], n);
}

/**
 * A SQL condition, true while the account may still make one more `kind` action, for the statement that
 * makes it (so a refused action writes nothing, and a repeated one that finds its row is never refused).
 * Its parameters are numbered from `first`: bind `params` there.
 */
export function reachLeftSql(kind: RefusedKind, userId: string, first: number, now = Date.now()): { sql: string; params: (string | number)[] } {
  const [k, since, max] = [first, first + 1, first + 2];
  return {
    sql: `NOT EXISTS (SELECT 1 FROM auth_throttles WHERE key = ?${k} AND window_start > ?${since} AND count >= ?${max})`,
    params: [reachKey(kind, userId), now - REACH[kind].ms, REACH[kind].max],
  };
}

/** Counts a `kind` action (batched after the insert it counts; with `afterChange`, only if that insert wrote). */
export function reachCountStatement(db: D1Client, userId: string, kind: RefusedKind, options: { afterChange?: boolean } = {}): D1PreparedStatement {
  return throttleCountStatement(db, reachKey(kind, userId), REACH[kind], options);
}

/**
 * Of `recipients` of a `kind` notification from `userId`, those it may reach: everyone who follows or is
 * friends with the account, and strangers while its day's budget lasts (those kept are taken from it at
 * once, so concurrent texts cannot pass it together). The rest are dropped silently: the action that
 * caused the notification stands.
 */
export async function withinReach(db: D1Client, userId: string, kind: ReachKind, recipients: string[]): Promise<string[]> {
  if (recipients.length === 0) return recipients;
  const { results } = await db
    .prepare(`SELECT j.value AS id FROM json_each(?1) j WHERE (${relationFlagsSql('j.value', '?2')} & ${RELATION.friend + RELATION.following}) = 0`)
    .bind(JSON.stringify(recipients), userId)
    .all<{ id: string }>();
  const unknown = new Set(results.map((r) => r.id));
  if (unknown.size === 0) return recipients;
  const { taken } = await throttleTake(db, reachKey(kind, userId), REACH[kind], unknown.size);
  const kept = new Set(recipients.filter((id) => unknown.has(id)).slice(0, taken));
  return recipients.filter((id) => !unknown.has(id) || kept.has(id));
}
