import { validatingFetch } from '../contract/validating-fetch';
import { expect } from 'vitest';
import { BASE, call, createUser, expectStatus, randomIp, type TestUser } from '../helpers/client';

export type { TestUser };

/** The public user shape (contract): exactly these keys, never a private field. */
export const PUBLIC_USER_KEYS = ['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username'];
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const NOTIFICATION_KEYS = ['created_at', 'data', 'id', 'read', 'type'];

export interface Notification {
  id: string;
  type: string;
  data: any;
  read: boolean;
  created_at: string;
}

export interface NotificationPage {
  data: Notification[];
  next_cursor: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `fn` until it stops throwing (an assertion passed) or `timeout` ms have passed; then rethrows
 * the last failure. Delivery runs in the background (`waitUntil`), so tests poll rather than sleep.
 */
export async function eventually<T>(fn: () => T | Promise<T>, timeout = 2_000, interval = 50): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(interval);
    }
  }
}

/**
 * A grace period for asserting that something did NOT happen. Use after a positive barrier (a delivery
 * of the same action that did arrive) where one exists, so the wait only covers stragglers.
 */
export const quiet = (ms = 300) => sleep(ms);

/** GET /notifications (200) with an optional query (string like `unread=true&limit=5` or an object). */
export async function notifications(user: TestUser, query: string | Record<string, string | number | boolean> = ''): Promise<NotificationPage> {
  const qs =
    typeof query === 'string' ? query.replace(/^\?/, '') : new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return expectStatus(await call(`/notifications${qs ? `?${qs}` : ''}`, { token: user.accessToken }), 200);
}

/** GET /notifications/unread_count (200) → the number. */
export async function unreadCount(user: TestUser): Promise<number> {
  const body = await expectStatus<{ unread_count: number }>(await call('/notifications/unread_count', { token: user.accessToken }), 200);
  expect(Object.keys(body)).toEqual(['unread_count']);
  return body.unread_count;
}

/** POST /notifications/read (200) → the unread count after. */
export async function markRead(user: TestUser, ids?: string[]): Promise<number> {
  const body = await expectStatus<{ unread_count: number }>(await call('/notifications/read', { token: user.accessToken, body: ids ? { ids } : {} }), 200);
  return body.unread_count;
}

/** The first page (limit 100) of a user's notifications of one type, newest first. */
export async function ofType(user: TestUser, type: string): Promise<Notification[]> {
  return (await notifications(user, 'limit=100')).data.filter((n) => n.type === type);
}

/**
 * Waits until the user has a notification of `type` matching `match` (on the first 100), and returns it.
 * Fails with what was listed when none arrives in time.
 */
export async function waitForNotification(user: TestUser, type: string, match: (n: Notification) => boolean = () => true, timeout = 2_000): Promise<Notification> {
  return eventually(async () => {
    const page = await notifications(user, 'limit=100');
    const found = page.data.find((n) => n.type === type && match(n));
    expect(found, `no ${type} notification for ${user.username}; listed: ${JSON.stringify(page.data.map((n) => [n.type, n.data]))}`).toBeDefined();
    return found!;
  }, timeout);
}

/** Waits until exactly `count` notifications of `type` (matching `match`) are listed, and returns them. */
export async function waitForCount(user: TestUser, type: string, count: number, match: (n: Notification) => boolean = () => true): Promise<Notification[]> {
  return eventually(async () => {
    const found = (await ofType(user, type)).filter(match);
    expect(found.length, `${type} notifications for ${user.username}: ${JSON.stringify(found.map((n) => n.data))}`).toBe(count);
    return found;
  });
}

/** Asserts the user has no notification of `type` matching `match` (after the caller let delivery settle). */
export async function expectNone(user: TestUser, type: string, match: (n: Notification) => boolean = () => true): Promise<void> {
  const found = (await ofType(user, type)).filter(match);
  expect(found, `unexpected ${type} notification(s) for ${user.username}`).toEqual([]);
}

/** Asserts the user's inbox is completely empty. */
export async function expectEmptyInbox(user: TestUser): Promise<void> {
  const page = await notifications(user, 'limit=100');
  expect(page.data.map((n) => [n.type, n.data]), `${user.username} should have no notifications`).toEqual([]);
  expect(await unreadCount(user)).toBe(0);
}

/** Asserts `value` is exactly the public user shape of `user` (no email or other private field). */
export function expectPublicUser(value: any, user: TestUser): void {
  expect(value, 'expected a public user').toBeTypeOf('object');
  expect(Object.keys(value).sort()).toEqual(PUBLIC_USER_KEYS);
  expect(value).toMatchObject({ id: user.id, username: user.username });
  expect(value).not.toHaveProperty('email');
  expect(JSON.stringify(value)).not.toContain(user.email);
}

/** Asserts the notification envelope `{ id, type, data, read, created_at }`. */
export function expectEnvelope(n: Notification, type: string, read = false): void {
  expect(Object.keys(n).sort()).toEqual(NOTIFICATION_KEYS);
  expect(n.type).toBe(type);
  expect(n.read).toBe(read);
  expect(n.id).toMatch(/^[0-9A-Za-z_-]{10,64}$/);
  expect(n.created_at).toMatch(ISO);
}

// ---------------------------------------------------------------- actions

type Tuple<T, N extends number, R extends T[] = []> = number extends N ? T[] : R['length'] extends N ? R : Tuple<T, N, [T, ...R]>;

/** `n` fresh accounts, typed as a tuple so destructuring needs no checks. */
export async function users<N extends number>(n: N): Promise<Tuple<TestUser, N>> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser());
  return out as Tuple<TestUser, N>;
}

export async function follow(by: TestUser, target: TestUser): Promise<{ following: boolean; requested: boolean }> {
  return expectStatus(await call(`/users/${target.id}/follow`, { method: 'POST', token: by.accessToken }), 200);
}

export async function setVisibility(user: TestUser, visibility: 'public' | 'private'): Promise<void> {
  const me = await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { visibility } }), 200);
  expect(me.visibility).toBe(visibility);
}

export async function requestFriend(from: TestUser, to: TestUser): Promise<any> {
  return expectStatus(await call('/friends/requests', { token: from.accessToken, body: { user_id: to.id } }), 201);
}

export async function acceptFriend(by: TestUser, requestId: string): Promise<any> {
  return expectStatus(await call(`/friends/requests/${requestId}/accept`, { method: 'POST', token: by.accessToken }), 200);
}

/** Makes `a` and `b` friends (a asks, b accepts). */
export async function befriend(a: TestUser, b: TestUser): Promise<void> {
  const request = await requestFriend(a, b);
  expect((await acceptFriend(b, request.id)).status).toBe('accepted');
}

export async function block(by: TestUser, target: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${target.id}/block`, { method: 'POST', token: by.accessToken }), 200);
}

export async function post(author: TestUser, body: string | Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/posts', { token: author.accessToken, body: typeof body === 'string' ? { content: body } : body }), 201);
}

export async function like(user: TestUser, postId: string): Promise<any> {
  return expectStatus(await call(`/posts/${postId}/like`, { method: 'POST', token: user.accessToken }), 200);
}

export async function comment(user: TestUser, postId: string, content: string, parentId?: string): Promise<any> {
  return expectStatus(await call(`/posts/${postId}/comments`, { token: user.accessToken, body: parentId ? { content, parent_id: parentId } : { content } }), 201);
}

export async function conversation(creator: TestUser, others: TestUser[]): Promise<any> {
  const res = await call('/conversations', { token: creator.accessToken, body: { participant_ids: others.map((o) => o.id) } });
  expect([200, 201]).toContain(res.status);
  return expectStatus(res, res.status);
}

export async function sendMessage(user: TestUser, conversationId: string, content: string): Promise<any> {
  return expectStatus(await call(`/conversations/${conversationId}/messages`, { token: user.accessToken, body: { content } }), 201);
}

/** Opens a socket on a conversation (the member is then "looking at" it); returns the client end, accepted. */
export async function openConversationSocket(user: TestUser, conversationId: string): Promise<WebSocket> {
  const res = await validatingFetch(`${BASE}/api/v1/conversations/${conversationId}/stream?token=${user.accessToken}`, {
    headers: { Upgrade: 'websocket', 'CF-Connecting-IP': randomIp() },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  return ws;
}
