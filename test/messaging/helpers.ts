import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';

export type { TestUser };

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const PUBLIC_USER_KEYS = ['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username'];
/** Every message's keys (the contract's, plus `kind` and `call`, which calls added: `kind` is "text" and `call` null on text messages). */
export const MESSAGE_KEYS = ['call', 'client_id', 'content', 'conversation_id', 'created_at', 'deleted', 'edited_at', 'id', 'kind', 'media', 'sender', 'seq'];
export const CONVERSATION_KEYS = ['community_id', 'created_at', 'id', 'kind', 'last_message', 'member_count', 'participants', 'request', 'title', 'unread_count'];
/** A syntactically valid id that points at nothing. */
export const UNKNOWN_ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';

/** Strict creation order for things ordered by millisecond timestamps. */
export const tick = (ms = 3) => new Promise((resolve) => setTimeout(resolve, ms));

type Tuple<T, N extends number, R extends T[] = []> = number extends N ? T[] : R['length'] extends N ? R : Tuple<T, N, [T, ...R]>;

/** `n` fresh accounts, typed as a tuple so destructuring needs no checks. */
export async function users<N extends number>(n: N): Promise<Tuple<TestUser, N>> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser());
  return out as Tuple<TestUser, N>;
}

/** Asserts `value` is exactly the public user shape of `user` (no email or other private field). */
export function expectPublicUser(value: any, user: TestUser): void {
  expect(Object.keys(value).sort()).toEqual(PUBLIC_USER_KEYS);
  expect(value).toMatchObject({ id: user.id, username: user.username });
  expect(JSON.stringify(value)).not.toContain(user.email);
}

// ---------------------------------------------------------------- conversations

export const createConversationRaw = (user: TestUser, body: unknown) => call('/conversations', { token: user.accessToken, body });

/** Opens (or reopens) the direct conversation of `a` with `b`: 201 the first time, 200 afterwards. */
export async function startDirect(a: TestUser, b: TestUser, expected?: 200 | 201): Promise<any> {
  const res = await createConversationRaw(a, { participant_ids: [b.id] });
  if (expected) return expectStatus(res, expected);
  expect([200, 201], `POST /conversations answered ${res.status}`).toContain(res.status);
  return expectStatus(res, res.status);
}

/** Creates a group with `creator` as admin (201). */
export async function startGroup(creator: TestUser, others: TestUser[], title?: string): Promise<any> {
  const body: Record<string, unknown> = { participant_ids: others.map((o) => o.id) };
  if (title !== undefined) body.title = title;
  return expectStatus(await createConversationRaw(creator, body), 201);
}

export const getConversationRaw = (user: TestUser, convId: string) => call(`/conversations/${convId}`, { token: user.accessToken });

/** GET /conversations (one page). */
export async function conversations(user: TestUser, query = ''): Promise<{ data: any[]; next_cursor: string | null }> {
  return expectStatus(await call(`/conversations${query}`, { token: user.accessToken }), 200);
}

/** The caller's entry for one conversation in GET /conversations (fails when it is missing). */
export async function listedConversation(user: TestUser, convId: string): Promise<any> {
  const page = await conversations(user, '?limit=100');
  const found = page.data.find((c) => c.id === convId);
  expect(found, `conversation ${convId} is not listed for ${user.username}`).toBeDefined();
  return found;
}

// ---------------------------------------------------------------- messages

export const sendRaw = (user: TestUser, convId: string, body: unknown) => call(`/conversations/${convId}/messages`, { token: user.accessToken, body });

/** Sends a message (201) and returns it. A string is the content. */
export async function send(user: TestUser, convId: string, body: string | Record<string, unknown>): Promise<any> {
  const payload = typeof body === 'string' ? { content: body } : body;
  return expectStatus(await sendRaw(user, convId, payload), 201);
}

export const directMessageRaw = (user: TestUser, body: unknown) => call('/messages', { token: user.accessToken, body });

export const historyRaw = (user: TestUser, convId: string, query: string | Record<string, string | number> = '') => {
  const qs = typeof query === 'string' ? query.replace(/^\?/, '') : new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return call(`/conversations/${convId}/messages${qs ? `?${qs}` : ''}`, { token: user.accessToken });
};

/** One page of history (200). */
export async function history(user: TestUser, convId: string, query: string | Record<string, string | number> = ''): Promise<{ data: any[]; next_cursor: string | null }> {
  return expectStatus(await historyRaw(user, convId, query), 200);
}

/** Every message of the conversation, ascending by seq, following cursors. */
export async function allMessages(user: TestUser, convId: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const page: { data: any[]; next_cursor: string | null } = await history(user, convId, { after_seq: 0, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('too many pages');
}

export const editRaw = (user: TestUser, convId: string, seq: number, body: unknown) =>
  call(`/conversations/${convId}/messages/${seq}`, { method: 'PATCH', token: user.accessToken, body });
export const deleteRaw = (user: TestUser, convId: string, seq: number) => call(`/conversations/${convId}/messages/${seq}`, { method: 'DELETE', token: user.accessToken });

export const readRaw = (user: TestUser, convId: string, body: unknown = {}) => call(`/conversations/${convId}/read`, { token: user.accessToken, body });

/** Marks read (200) and returns `{ last_read_seq, unread_count }`. */
export async function markRead(user: TestUser, convId: string, seq?: number): Promise<{ last_read_seq: number; unread_count: number }> {
  return expectStatus(await readRaw(user, convId, seq === undefined ? {} : { seq }), 200);
}

// ---------------------------------------------------------------- members

export const addMembersRaw = (user: TestUser, convId: string, userIds: string[]) => call(`/conversations/${convId}/members`, { token: user.accessToken, body: { user_ids: userIds } });
export const removeMemberRaw = (user: TestUser, convId: string, userId: string) =>
  call(`/conversations/${convId}/members/${userId}`, { method: 'DELETE', token: user.accessToken });

// ---------------------------------------------------------------- graph and media

/** `a` blocks `b`. */
export async function block(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${b.id}/block`, { method: 'POST', token: a.accessToken }), 200);
}

export async function unblock(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${b.id}/block`, { method: 'DELETE', token: a.accessToken }), 204);
}

/** Uploads an attachment through POST /media (201) and returns it. */
export async function upload(user: TestUser, fixture: keyof typeof IMAGE_FIXTURES = 'png'): Promise<any> {
  const form = new FormData();
  form.append('file', new File([IMAGE_FIXTURES[fixture].bytes], `photo.${fixture}`, { type: IMAGE_FIXTURES[fixture].type }));
  return expectStatus(await call('/media', { method: 'POST', token: user.accessToken, body: form }), 201);
}

// ---------------------------------------------------------------- the room and the index

/** The ConversationRoom Durable Object of a conversation (the same id the worker uses). */
export function roomStub(convId: string) {
  return env.ROOMS.get(env.ROOMS.idFromName(convId));
}

/**
 * Messages `from`..`to` from `senderId` written straight into a conversation's room storage (sending that
 * many would take minutes of rate limit); the room serves them in history and replays like any other.
 */
export async function fillRoom(convId: string, senderId: string, from: number, to: number): Promise<void> {
  await runInDurableObject(roomStub(convId), (_room, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
       INSERT INTO messages (seq, id, sender_id, content, media, client_id, created_at) SELECT i, 'filled-' || i, ?3, 'message ' || i, '[]', NULL, ?4 FROM n`,
      from,
      to,
      senderId,
      Date.now(),
    );
  });
}

/** The D1 index row of one member. */
export async function memberRow(convId: string, userId: string) {
  return env.DB.prepare('SELECT role, last_read_seq, unread_count, last_activity_at FROM conversation_members WHERE conversation_id = ?1 AND user_id = ?2')
    .bind(convId, userId)
    .first<{ role: string; last_read_seq: number; unread_count: number; last_activity_at: number }>();
}

// ---------------------------------------------------------------- events

export { recordEvents } from '../helpers/events';

/** Lets waitUntil'd deliveries settle. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
