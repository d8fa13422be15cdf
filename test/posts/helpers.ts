import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';

export type { TestUser };
export type FixtureName = keyof typeof IMAGE_FIXTURES;

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const PUBLIC_USER_KEYS = ['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username'];
export const POST_KEYS = [
  'author',
  'comment_count',
  'community_id',
  'content',
  'created_at',
  'edited_at',
  'id',
  'like_count',
  'liked_by_me',
  'media',
  'space',
  'tags',
  'target_user',
  'topic',
  'visibility',
];
export const COMMENT_KEYS = ['author', 'content', 'created_at', 'id', 'parent_id', 'post_id', 'reply_count'];

/** A syntactically valid id that points at nothing. */
export const UNKNOWN_ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';

export async function users(n: number): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser());
  return out;
}

// ---------------------------------------------------------------- social graph through the API

/** `a` follows `b`; when `b` is private the request is accepted by `b`. */
export async function follow(a: TestUser, b: TestUser): Promise<void> {
  const state = await expectStatus(await call(`/users/${b.id}/follow`, { method: 'POST', token: a.accessToken }), 200);
  if (state.requested) {
    await expectStatus(await call(`/follow_requests/${a.id}/accept`, { method: 'POST', token: b.accessToken }), 200);
  }
}

/** `a` asks to follow private `b`, and the request stays pending. */
export async function requestFollow(a: TestUser, b: TestUser): Promise<void> {
  const state = await expectStatus(await call(`/users/${b.id}/follow`, { method: 'POST', token: a.accessToken }), 200);
  expect(state).toEqual({ following: false, requested: true });
}

export async function makeFriends(a: TestUser, b: TestUser): Promise<void> {
  const req = await expectStatus(await call('/friends/requests', { token: a.accessToken, body: { user_id: b.id } }), 201);
  await expectStatus(await call(`/friends/requests/${req.id}/accept`, { method: 'POST', token: b.accessToken }), 200);
}

export async function unfriend(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/friends/${b.id}`, { method: 'DELETE', token: a.accessToken }), 204);
}

/** `a` blocks `b`. */
export async function block(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${b.id}/block`, { method: 'POST', token: a.accessToken }), 200);
}

export async function unblock(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${b.id}/block`, { method: 'DELETE', token: a.accessToken }), 204);
}

export async function patchMe(user: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body }), 200);
}

export const setWallPolicy = (user: TestUser, wall_policy: 'everyone' | 'friends' | 'nobody') => patchMe(user, { wall_policy });
export const makePrivate = (user: TestUser) => patchMe(user, { visibility: 'private' });

// ---------------------------------------------------------------- media

export async function upload(user: TestUser, fixture: FixtureName = 'png'): Promise<any> {
  const form = new FormData();
  form.append('file', new File([IMAGE_FIXTURES[fixture].bytes], `photo.${fixture}`, { type: IMAGE_FIXTURES[fixture].type }));
  return expectStatus(await call('/media', { method: 'POST', token: user.accessToken, body: form }), 201);
}

// ---------------------------------------------------------------- posts

export const createPostRaw = (user: TestUser, body: unknown) => call('/posts', { token: user.accessToken, body });

/** Creates a post (201) and returns it. A string is the content. */
export async function post(user: TestUser, body: string | Record<string, unknown> = {}): Promise<any> {
  const payload = typeof body === 'string' ? { content: body } : { content: 'hello kith', ...body };
  const created = await expectStatus(await createPostRaw(user, payload), 201);
  // Lists order by (created_at, id) and ids are random within a millisecond: keep creation order strict.
  await new Promise((resolve) => setTimeout(resolve, 2));
  return created;
}

export const getPost = (id: string, user?: TestUser) => call(`/posts/${id}`, { token: user?.accessToken });
export const patchPost = (user: TestUser, id: string, body: unknown) => call(`/posts/${id}`, { method: 'PATCH', token: user.accessToken, body });
export const deletePost = (user: TestUser, id: string) => call(`/posts/${id}`, { method: 'DELETE', token: user.accessToken });
export const like = (user: TestUser, id: string) => call(`/posts/${id}/like`, { method: 'POST', token: user.accessToken });
export const unlike = (user: TestUser, id: string) => call(`/posts/${id}/like`, { method: 'DELETE', token: user.accessToken });
export const likers = (id: string, user?: TestUser, query = '') => call(`/posts/${id}/likes${query}`, { token: user?.accessToken });
export const userPosts = (owner: TestUser | string, user?: TestUser, query = '') =>
  call(`/users/${typeof owner === 'string' ? owner : owner.id}/posts${query}`, { token: user?.accessToken });
export const wall = (owner: TestUser | string, user?: TestUser, query = '') =>
  call(`/users/${typeof owner === 'string' ? owner : owner.id}/wall${query}`, { token: user?.accessToken });

// ---------------------------------------------------------------- comments

export const commentRaw = (user: TestUser, postId: string, body: unknown) => call(`/posts/${postId}/comments`, { token: user.accessToken, body });

export async function comment(user: TestUser, postId: string, content = 'nice post', parent_id?: string): Promise<any> {
  const created = await expectStatus(await commentRaw(user, postId, parent_id ? { content, parent_id } : { content }), 201);
  await new Promise((resolve) => setTimeout(resolve, 2));
  return created;
}

export const listComments = (postId: string, user?: TestUser, query = '') => call(`/posts/${postId}/comments${query}`, { token: user?.accessToken });
export const deleteComment = (user: TestUser, id: string) => call(`/comments/${id}`, { method: 'DELETE', token: user.accessToken });

// ---------------------------------------------------------------- reading helpers

/** All pages of a list route, following next_cursor. */
export async function collect(fetchPage: (query: string) => Promise<Response>, limit = 100): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await expectStatus(await fetchPage(query), 200);
    out.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('too many pages');
}

export async function ids(res: Response): Promise<string[]> {
  const page = await expectStatus(res, 200);
  expect(page).toEqual({ data: expect.any(Array), next_cursor: null });
  return page.data.map((item: { id: string }) => item.id);
}

export async function profile(user: TestUser, viewer?: TestUser): Promise<any> {
  return expectStatus(await call(`/users/${user.id}`, { token: viewer?.accessToken }), 200);
}

export async function dbCount(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql).bind(...binds).first<{ n: number }>();
  return row?.n ?? -1;
}

// ---------------------------------------------------------------- events

export { recordEvents } from '../helpers/events';

/** Lets waitUntil'd deliveries settle (listeners run synchronously at emit time, this is belt and braces). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
