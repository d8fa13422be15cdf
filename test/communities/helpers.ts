import { expect } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';

export type { TestUser };

export const COMMUNITY_KEYS = [
  'avatar_url',
  'conversation_id',
  'created_at',
  'created_by',
  'description',
  'gender',
  'id',
  'join_policy',
  'location',
  'max_age',
  'member_count',
  'min_age',
  'my_role',
  'name',
  'slug',
  'visibility',
];

/** A syntactically valid id that points at nothing. */
export const UNKNOWN_ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';

type Tuple<T, N extends number, R extends T[] = []> = number extends N ? T[] : R['length'] extends N ? R : Tuple<T, N, [T, ...R]>;

/** `n` fresh accounts, typed as a tuple so destructuring needs no checks. */
export async function users<N extends number>(n: N): Promise<Tuple<TestUser, N>> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser());
  return out as Tuple<TestUser, N>;
}

let nameCounter = 0;
/** A community name unique within the test file. */
export function communityName(prefix = 'Community'): string {
  nameCounter += 1;
  return `${prefix} ${nameCounter} ${Math.random().toString(36).slice(2, 6)}`;
}

export const createCommunityRaw = (user: TestUser, body: unknown) => call('/communities', { token: user.accessToken, body });

/** POST /communities (201); the name defaults to a unique one. */
export async function createCommunity(owner: TestUser, body: Record<string, unknown> = {}): Promise<any> {
  return expectStatus(await createCommunityRaw(owner, { name: communityName(), ...body }), 201);
}

export const getCommunityRaw = (ref: string, user?: TestUser) => call(`/communities/${ref}`, { token: user?.accessToken });
export const patchCommunityRaw = (user: TestUser, ref: string, body: unknown) => call(`/communities/${ref}`, { method: 'PATCH', token: user.accessToken, body });
export const deleteCommunityRaw = (user: TestUser, ref: string) => call(`/communities/${ref}`, { method: 'DELETE', token: user.accessToken });
export const joinRaw = (user: TestUser, id: string) => call(`/communities/${id}/join`, { method: 'POST', token: user.accessToken });
export const leaveRaw = (user: TestUser, id: string) => call(`/communities/${id}/leave`, { method: 'POST', token: user.accessToken });
export const setRoleRaw = (actor: TestUser, id: string, userId: string, role: string) =>
  call(`/communities/${id}/members/${userId}`, { method: 'POST', token: actor.accessToken, body: { role } });
export const removeMemberRaw = (actor: TestUser, id: string, userId: string) => call(`/communities/${id}/members/${userId}`, { method: 'DELETE', token: actor.accessToken });

/** Joins and returns the role answered (200). */
export async function join(user: TestUser, id: string): Promise<string> {
  return (await expectStatus(await joinRaw(user, id), 200)).my_role;
}

/** A member of `id` with the given role: joins (and is approved or promoted by `owner` as needed). */
export async function addMember(owner: TestUser, id: string, user: TestUser, role: 'member' | 'moderator' = 'member'): Promise<void> {
  const joined = await join(user, id);
  if (joined === 'pending' || role === 'moderator') await expectStatus(await setRoleRaw(owner, id, user.id, role), 200);
}

/** PATCH /me with profile fields (birthdate, gender, location). */
export async function setProfile(user: TestUser, fields: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: fields }), 200);
}

/** GET /communities/{ref} as `user` (or anonymously), 200. */
export async function getCommunity(ref: string, user?: TestUser): Promise<any> {
  return expectStatus(await getCommunityRaw(ref, user), 200);
}

/** The member list of a community (first page of up to 100), as `user`. */
export async function members(id: string, user?: TestUser, query = ''): Promise<any[]> {
  const body = await expectStatus(await call(`/communities/${id}/members?limit=100${query}`, { token: user?.accessToken }), 200);
  return body.data;
}

/** YYYY-MM-DD of the day `years` years before today (UTC), shifted by `days`: whose birthday makes them exactly that old. */
export function birthdateYearsAgo(years: number, days = 0): string {
  const now = new Date();
  const date = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() + days));
  return date.toISOString().slice(0, 10);
}

/** Asserts the community JSON shape (no extra or missing keys). */
export function expectCommunityShape(value: any): void {
  expect(Object.keys(value).sort()).toEqual(COMMUNITY_KEYS);
}

/** Creates a post as `author` (201), in a community when given. */
export async function createPost(author: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/posts', { token: author.accessToken, body }), 201);
}
