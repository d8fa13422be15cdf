import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { OWN_TIMELINE_ENTRY_SQL, pushPostToTimelines } from '../../src/modules/feeds/hybrid';
import { newId } from '../../src/lib/ids';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export type Visibility = 'public' | 'friends' | 'private';

export interface PostSeed {
  /** Defaults to a fresh ULID of createdAt. */
  id?: string;
  content?: string;
  topic?: string | null;
  visibility?: Visibility;
  createdAt?: number;
  likeCount?: number;
  commentCount?: number;
  targetUserId?: string | null;
}

export interface SeededPost {
  id: string;
  authorId: string;
  createdAt: number;
}

/**
 * What the fan-out queue's consumer does for each post (src/queues/fanout.ts), run now: its push into
 * the live timelines of its audience. Tests call it rather than wait for the queue (which also runs,
 * and does the same: the push is idempotent).
 */
export async function fanOutNow(...postIds: string[]): Promise<void> {
  for (const id of postIds) await pushPostToTimelines(env.DB, id);
}

/**
 * Inserts a post row straight into D1 (controlled timestamp and counters; triggers keep
 * users.posts_count), then puts it where POST /posts and the fan-out queue would: the author's own
 * live timeline and those of its pushed audience.
 */
export async function insertPost(author: TestUser | string, seed: PostSeed = {}): Promise<SeededPost> {
  const authorId = typeof author === 'string' ? author : author.id;
  const createdAt = seed.createdAt ?? Date.now();
  const id = seed.id ?? newId(createdAt);
  await env.DB.prepare(
    `INSERT INTO posts (id, author_id, target_user_id, community_id, content, topic, visibility, like_count, comment_count, created_at, edited_at)
     VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8, ?9, NULL)`,
  )
    .bind(
      id,
      authorId,
      seed.targetUserId ?? null,
      seed.content ?? `post ${id}`,
      seed.topic ?? null,
      seed.visibility ?? 'public',
      seed.likeCount ?? 0,
      seed.commentCount ?? 0,
      createdAt,
    )
    .run();
  await env.DB.prepare(OWN_TIMELINE_ENTRY_SQL).bind(authorId, createdAt, id).run();
  await fanOutNow(id);
  return { id, authorId, createdAt };
}

/** Inserts several posts in one batch; returns them in the order given. */
export async function insertPosts(author: TestUser | string, seeds: PostSeed[]): Promise<SeededPost[]> {
  const out: SeededPost[] = [];
  for (const seed of seeds) out.push(await insertPost(author, seed));
  return out;
}

/** Sorts like the home feed: created_at DESC, id DESC. */
export function newestFirst<T extends { id: string; createdAt: number }>(posts: T[]): T[] {
  return [...posts].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Two distinct ULIDs of the same instant, lower first (the lower one loses discover's id tie-break). */
export function idPair(at: number): [string, string] {
  const a = newId(at);
  let b = newId(at);
  while (b === a) b = newId(at);
  return a < b ? [a, b] : [b, a];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- graph, through the API

export async function follow(follower: TestUser, followee: TestUser): Promise<{ following: boolean; requested: boolean }> {
  return expectStatus(await call(`/users/${followee.id}/follow`, { method: 'POST', token: follower.accessToken }), 200);
}

export async function unfollow(follower: TestUser, followee: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${followee.id}/follow`, { method: 'DELETE', token: follower.accessToken }), 200);
}

export async function acceptFollow(owner: TestUser, follower: TestUser): Promise<void> {
  const body = await expectStatus(await call(`/follow_requests/${follower.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
  expect(body.following).toBe(true);
}

export async function befriend(a: TestUser, b: TestUser): Promise<void> {
  const request = await expectStatus(await call('/friends/requests', { body: { user_id: b.id }, token: a.accessToken }), 201);
  const accepted = await expectStatus(await call(`/friends/requests/${request.id}/accept`, { method: 'POST', token: b.accessToken }), 200);
  expect(accepted.status).toBe('accepted');
}

export async function unfriend(a: TestUser, b: TestUser): Promise<void> {
  await expectStatus(await call(`/friends/${b.id}`, { method: 'DELETE', token: a.accessToken }), 204);
}

export async function block(blocker: TestUser, blocked: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${blocked.id}/block`, { method: 'POST', token: blocker.accessToken }), 200);
}

export async function mute(muter: TestUser, muted: TestUser): Promise<void> {
  await expectStatus(await call(`/users/${muted.id}/mute`, { method: 'POST', token: muter.accessToken }), 200);
}

export async function makePrivate(user: TestUser): Promise<void> {
  const me = await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { visibility: 'private' } }), 200);
  expect(me.visibility).toBe('private');
}

export async function like(user: TestUser, postId: string): Promise<void> {
  const body = await expectStatus(await call(`/posts/${postId}/like`, { method: 'POST', token: user.accessToken }), 200);
  expect(body.liked).toBe(true);
}

export async function users(n: number): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser());
  return out;
}

// ---------------------------------------------------------------- feeds

export interface FeedPage {
  data: Array<{ id: string; author: { id: string }; content: string; topic: string | null; visibility: Visibility; created_at: string; like_count: number; comment_count: number; liked_by_me: boolean }>;
  next_cursor: string | null;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function homeRaw(user: TestUser | null, params: Record<string, string | number | undefined> = {}): Promise<Response> {
  return call(`/feed/home${query(params)}`, { token: user?.accessToken });
}

export function discoverRaw(user: TestUser | null, params: Record<string, string | number | undefined> = {}): Promise<Response> {
  return call(`/feed/discover${query(params)}`, { token: user?.accessToken });
}

export async function homePage(user: TestUser, params: Record<string, string | number | undefined> = {}): Promise<FeedPage> {
  return expectStatus(await homeRaw(user, params), 200);
}

export async function discoverPage(user: TestUser | null, params: Record<string, string | number | undefined> = {}): Promise<FeedPage> {
  return expectStatus(await discoverRaw(user, params), 200);
}

/** Walks every page, returning the ids in feed order (and failing on a runaway walk). */
async function walk(fetchPage: (cursor?: string) => Promise<FeedPage>, maxPages = 50): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    ids.push(...page.data.map((p) => p.id));
    if (!page.next_cursor) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('feed walk did not end');
}

export function homeAll(user: TestUser, limit = 100): Promise<string[]> {
  return walk((cursor) => homePage(user, { limit, cursor }));
}

export function discoverAll(user: TestUser | null, params: { limit?: number; topic?: string } = {}): Promise<string[]> {
  return walk((cursor) => discoverPage(user, { limit: params.limit ?? 100, topic: params.topic, cursor }));
}

/** Asserts that `a` comes before `b` in `ids` (both present). */
export function expectBefore(ids: string[], a: string, b: string): void {
  const ia = ids.indexOf(a);
  const ib = ids.indexOf(b);
  expect(ia, `${a} should be in the feed`).toBeGreaterThanOrEqual(0);
  expect(ib, `${b} should be in the feed`).toBeGreaterThanOrEqual(0);
  expect(ia, `${a} should rank above ${b}`).toBeLessThan(ib);
}

/**
 * `count` accepted followers of an author made directly in D1 (registering hundreds of accounts
 * through PBKDF2 would take seconds; they have no timelines or inboxes until something opens them).
 */
export async function addFollowers(authorId: string, count: number): Promise<string[]> {
  const prefix = `fan${Math.random().toString(36).slice(2, 8)}`;
  await env.DB.prepare(
    `WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < ?1)
     INSERT INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, created_at, updated_at)
     SELECT ?2 || '_' || j, ?2 || '_' || j, ?2 || '_' || j || '@example.com', 'x', 'Fan ' || j, '', '[]', 'public', 'friends', ?3, ?3 FROM n`,
  )
    .bind(count, prefix, Date.now())
    .run();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}_${i + 1}`);
  await env.DB.prepare(`INSERT INTO follows (follower_id, followee_id, status, created_at) SELECT value, ?1, 'accepted', ?2 FROM json_each(?3)`)
    .bind(authorId, Date.now(), JSON.stringify(ids))
    .run();
  return ids;
}
