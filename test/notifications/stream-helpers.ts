import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { BASE, call, createUser, expectStatus, randomIp, type TestUser } from '../helpers/client';
import { validatingFetch } from '../contract/validating-fetch';
import { TestSocket } from '../messaging/socket-helpers';
import type { Delivery, ForgetRef } from '../../src/modules/notifications/user-inbox';
import { publicUserExample } from '../../src/modules/users/users.schemas';
import type { Notification } from './helpers';

/**
 * Notification-socket helpers: open GET /api/v1/notifications/stream in-process (through the worker's
 * default export), record every frame (the TestSocket of the messaging helpers is generic), and wait
 * for background deliveries with a timeout instead of fixed sleeps.
 */

export const STREAM_PATH = '/api/v1/notifications/stream';
export const FRAME_KEYS = ['created_at', 'data', 'id', 'type'];

export interface NotificationStreamOptions {
  /** How the token travels: `Authorization: Bearer` (default) or `?token=`. */
  via?: 'header' | 'query';
  /** `?since=<id>` on connect. */
  since?: string;
  /** `false` leaves out the Upgrade header. */
  upgrade?: boolean;
  headers?: Record<string, string>;
}

export function notificationStreamUrl(query: Record<string, string | undefined> = {}): string {
  const url = new URL(BASE + STREAM_PATH);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** The raw upgrade request: the Response (101 with a webSocket, or a problem) is returned as is. */
export function connectNotifications(token: string | null, options: NotificationStreamOptions = {}): Promise<Response> {
  const via = options.via ?? 'header';
  const headers = new Headers(options.headers);
  if (options.upgrade !== false) headers.set('Upgrade', 'websocket');
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', randomIp());
  if (token !== null && via === 'header') headers.set('Authorization', `Bearer ${token}`);
  const url = notificationStreamUrl({ token: token !== null && via === 'query' ? token : undefined, since: options.since });
  return validatingFetch(url, { headers });
}

/** Opens a notification socket and asserts the 101; the returned socket already records frames. */
export async function openNotifications(user: TestUser, options: NotificationStreamOptions & { label?: string } = {}): Promise<TestSocket> {
  const res = await connectNotifications(user.accessToken, options);
  if (res.status !== 101) {
    const text = await res.text();
    expect(res.status, `upgrade failed: ${res.status} ${text}`).toBe(101);
  }
  expect(res.webSocket, 'a 101 carries a webSocket').toBeTruthy();
  return new TestSocket(res.webSocket!, options.label ?? `inbox(${user.username})`);
}

/** The user's inbox stub (RPC surface typed like the worker's own `inboxOf`). */
export function inboxStub(userId: string): DurableObjectStub {
  return env.INBOXES.get(env.INBOXES.idFromName(userId));
}

/**
 * The type tests deliver straight into an inbox when they only count and order notifications: a real
 * type (GET /notifications is held to the closed list of types) whose open data carries a marker `n`.
 */
export const MARKED = 'follow_request' as const;

/** A delivery of type {@link MARKED} with data marked `n`. */
export function marked(n: number | string): { type: typeof MARKED; data: { from_user: typeof publicUserExample; n: number | string } } {
  return { type: MARKED, data: { from_user: publicUserExample, n } };
}

export interface InboxRpc {
  deliver(delivery: Delivery): Promise<void>;
  list(query: { unread: boolean; limit: number; before?: number }): Promise<{ data: Notification[]; next: number | null }>;
  forget(ref: ForgetRef): Promise<void>;
}

export function inboxRpc(userId: string): InboxRpc {
  return inboxStub(userId) as unknown as InboxRpc;
}

/** GET /notifications (first page, newest first). */
export async function listNotifications(user: TestUser, limit = 100): Promise<Notification[]> {
  const body = await expectStatus(await call(`/notifications?limit=${limit}`, { token: user.accessToken }), 200);
  return body.data as Notification[];
}

/** Polls `read` until `check` holds; fails with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh user sends `to` a friend request (a real `friend_request` event for `to`); returns the sender and request id. */
export async function sendFriendRequest(to: TestUser, from?: TestUser): Promise<{ from: TestUser; requestId: string }> {
  const sender = from ?? (await createUser());
  const body = await expectStatus(await call('/friends/requests', { body: { user_id: to.id }, token: sender.accessToken }), 201);
  return { from: sender, requestId: body.id };
}
