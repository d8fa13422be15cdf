import { expect } from 'vitest';
import { onSocialEvent, type SocialEvent } from '../../src/modules/notifications/events';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const PUBLIC_USER_KEYS = ['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username'];
/** A syntactically valid ULID that no row carries. */
export const UNKNOWN_ID = '01ZZZZZZZZZZZZZZZZZZZZZZZZ';

export type Counts = { posts: number; followers: number; following: number; friends: number };

export async function users(n: number): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: n }, () => createUser()));
}

export const follow = (by: TestUser, target: { id: string }) => call(`/users/${target.id}/follow`, { method: 'POST', token: by.accessToken });
export const unfollow = (by: TestUser, target: { id: string }) => call(`/users/${target.id}/follow`, { method: 'DELETE', token: by.accessToken });

export async function followOk(by: TestUser, target: { id: string }): Promise<{ following: boolean; requested: boolean }> {
  return expectStatus(await follow(by, target), 200);
}

export async function makePrivate(user: TestUser): Promise<void> {
  const me = await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { visibility: 'private' } }), 200);
  expect(me.visibility).toBe('private');
}

export async function makePublic(user: TestUser): Promise<void> {
  const me = await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { visibility: 'public' } }), 200);
  expect(me.visibility).toBe('public');
}

export async function counts(user: { id: string }): Promise<Counts> {
  const profile = await expectStatus(await call(`/users/${user.id}`), 200);
  return profile.counts;
}

export async function profileAs(viewer: TestUser, target: { id: string }): Promise<any> {
  return expectStatus(await call(`/users/${target.id}`, { token: viewer.accessToken }), 200);
}

export async function relationship(viewer: TestUser, target: { id: string }): Promise<any> {
  return (await profileAs(viewer, target)).relationship;
}

export type ListKind = 'followers' | 'following' | 'friends';
export const listOf = (owner: { id: string }, kind: ListKind, viewer?: TestUser, query = '') =>
  call(`/users/${owner.id}/${kind}${query}`, { token: viewer?.accessToken });

/** Ids on the first page (limit 100) of a user's list. */
export async function listIds(owner: { id: string }, kind: ListKind, viewer?: TestUser): Promise<string[]> {
  const page = await expectStatus(await listOf(owner, kind, viewer, '?limit=100'), 200);
  return page.data.map((u: { id: string }) => u.id);
}

export const sendFriendRequest = (from: TestUser, to: { id: string }) => call('/friends/requests', { token: from.accessToken, body: { user_id: to.id } });

export async function requestFriend(from: TestUser, to: { id: string }): Promise<any> {
  return expectStatus(await sendFriendRequest(from, to), 201);
}

export const answer = (by: TestUser, requestId: string, verb: 'accept' | 'decline') =>
  call(`/friends/requests/${requestId}/${verb}`, { method: 'POST', token: by.accessToken });

export async function befriend(a: TestUser, b: TestUser): Promise<void> {
  const request = await requestFriend(a, b);
  const accepted = await expectStatus(await answer(b, request.id, 'accept'), 200);
  expect(accepted.status).toBe('accepted');
}

export async function friendRequests(user: TestUser, direction?: 'incoming' | 'outgoing'): Promise<any[]> {
  const qs = direction ? `?direction=${direction}&limit=100` : '?limit=100';
  return (await expectStatus(await call(`/friends/requests${qs}`, { token: user.accessToken }), 200)).data;
}

export const block = (by: TestUser, target: { id: string }) => call(`/users/${target.id}/block`, { method: 'POST', token: by.accessToken });
export const unblock = (by: TestUser, target: { id: string }) => call(`/users/${target.id}/block`, { method: 'DELETE', token: by.accessToken });

/**
 * Subscribes to the social-event seam and keeps the events that involve the given users (as actor or
 * recipient), so events of other tests never leak in. Listeners are called synchronously at emit time.
 */
export function captureEvents(...ids: string[]): { events: () => SocialEvent[]; stop: () => void } {
  const seen: SocialEvent[] = [];
  const stop = onSocialEvent((event) => {
    if (ids.includes(event.actorId) || ('recipientId' in event && ids.includes(event.recipientId))) seen.push(event);
  });
  return { events: () => [...seen], stop };
}
