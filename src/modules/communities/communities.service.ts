import { eq } from 'drizzle-orm';
import { purgeEdgeGroups } from '../../lib/edge-cache';
import type { Context } from 'hono';
import { mapRow, toStatement, uniqueViolation, type D1Client } from '../../db/client';
import { communities, communityMembers, conversationMembers, conversations, type CommunityRole, type CommunityRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { ID_PATTERN, newId } from '../../lib/ids';
import { decodeCursor, encodeCursor, NEWEST_FIRST, timeKeyCursor } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { loadViewerRelations } from '../graph/relations';
import { mediaUrl } from '../media/media.keys';
import { deleteOwnerObjects, releaseObjectIfUnused } from '../media/media.service';
import { presentPublicUser } from '../users/users.presenter';
import { findUserById, loadUsersByIds, requireUserRow } from '../users/users.service';
import { dissolveChat, joinChat } from './community-chat';
import { communityKey, communityListQuery, type CommunityKey, type CommunitySort, eligibleQuery, keyShape } from './communities.queries';
import type { Community } from './communities.schemas';
import { ageOn, placeKey } from './eligibility';
import { isModerator } from './roles';
import { screenText, type TextVerdict } from '../../policy/content-rules';
import { insertAutoReport } from '../moderation/reports.store';
import { ftsMatch, parseSearchText } from '../search/search-query';
import { isAccountVisible } from '../../policy/visibility';

export type CommunityWithRole = CommunityRow & { myRole: CommunityRole | null };

/** Slugs that name routes under /communities, never given to a community. */
const RESERVED_SLUGS = new Set(['eligible', 'mine']);
/** A slug that reads as an id would shadow the community with that id in `/communities/{id_or_slug}`. */
const idShaped = (slug: string) => ID_PATTERN.test(slug.toUpperCase());
const MAX_SLUG_LENGTH = 60;

/** A name folded for A–Z order and slugs: lower case, accents removed ("Ébano" → "ebano"). */
export const nameKey = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();

/** `Lisbon Runners!` → `lisbon-runners`: ASCII letters and digits, accents folded, dashes between words. */
export function slugify(name: string): string {
  const slug = nameKey(name)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/-+$/, '');
  return slug.length >= 2 ? slug : 'community';
}

/** The base slug if free, else the base with the next free numeric suffix (`lisbon-runners-2`). */
async function freeSlug(db: D1Client, base: string): Promise<string> {
  const { results } = await db
    .prepare("SELECT slug FROM communities WHERE slug = ?1 OR (slug > ?1 || '-' AND slug < ?1 || '.')")
    .bind(base)
    .all<{ slug: string }>();
  const taken = new Set(results.map((r) => r.slug));
  if (!taken.has(base) && !RESERVED_SLUGS.has(base) && !idShaped(base)) return base;
  let n = 2;
  while (taken.has(`${base}-${n}`)) n++;
  return `${base}-${n}`;
}

/** A `SELECT c.*, … AS my_role` row as a community with the viewer's role. */
export const rowOf = (raw: Record<string, unknown>): CommunityWithRole => ({ ...mapRow(communities, raw), myRole: (raw.my_role as CommunityRole | null) ?? null });

/** A community by id or slug, with the viewer's role in it; 404 when there is none. */
export async function resolveCommunity(c: Context<AppEnv>, ref: string, viewerId: string | null): Promise<CommunityWithRole> {
  const raw = await c.var.d1.prepare(
    `SELECT c.*, (SELECT m.role FROM community_members m WHERE m.community_id = c.id AND m.user_id = ?2) AS my_role
     FROM communities c WHERE c.id = ?1 OR c.slug = lower(?1) ORDER BY c.id = ?1 DESC LIMIT 1`,
  )
    .bind(ref, viewerId)
    .first<Record<string, unknown>>();
  if (!raw) throw new ApiError('not_found', 'No such community.');
  return rowOf(raw);
}

/** The community JSON for one viewer; the creator is hidden (null) across a block, while suspended, or once their account is gone. */
export async function presentCommunities(c: Context<AppEnv>, viewerId: string | null, rows: CommunityWithRole[]): Promise<Community[]> {
  const creatorIds = rows.map((r) => r.createdBy).filter((id): id is string => id !== null);
  const [creators, relations] = await Promise.all([loadUsersByIds(c.get('db'), creatorIds), loadViewerRelations(c.var.d1, viewerId, creatorIds)]);
  const baseUrl = c.get('baseUrl');
  return rows.map((row) => {
    const found = row.createdBy && !relations.blockedEither.has(row.createdBy) ? creators.get(row.createdBy) : undefined;
    const creator = found && isAccountVisible(found) ? found : undefined;
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      description: row.description,
      avatar_url: row.avatarKey ? mediaUrl(baseUrl, row.avatarKey) : null,
      location: row.country ? { country: row.country, region: row.region, city: row.city } : null,
      min_age: row.minAge,
      max_age: row.maxAge,
      gender: row.gender,
      visibility: row.visibility,
      join_policy: row.joinPolicy,
      member_count: row.memberCount,
      my_role: row.myRole,
      conversation_id: row.conversationId,
      created_by: creator ? presentPublicUser(creator, baseUrl) : null,
      created_at: row.createdAt.toISOString(),
    };
  });
}

export async function presentCommunity(c: Context<AppEnv>, viewerId: string | null, row: CommunityWithRole): Promise<Community> {
  return (await presentCommunities(c, viewerId, [row]))[0]!;
}

interface LocationInput {
  country: string;
  region?: string | null;
  city?: string | null;
}

/** The place columns of a location (all null for a global community). */
function placeColumns(location: LocationInput | null | undefined) {
  const region = location?.region ?? null;
  const city = location?.city ?? null;
  return { country: location?.country ?? null, region, city, regionKey: placeKey(region), cityKey: placeKey(city) };
}

export interface CommunityInput {
  name?: string;
  description?: string;
  location?: LocationInput | null;
  min_age?: number | null;
  max_age?: number | null;
  gender?: CommunityRow['gender'];
  visibility?: CommunityRow['visibility'];
  join_policy?: CommunityRow['joinPolicy'];
}

/**
 * Creates a community, its owner membership and its chat in one D1 batch. The slug comes from the
 * name; should a concurrent creation take it first, another free one is picked.
 */
export async function createCommunity(c: Context<AppEnv>, creatorId: string, input: CommunityInput & { name: string }): Promise<Community> {
  const db = c.get('db');
  const now = new Date();
  const id = newId(now.getTime());
  const conversationId = newId(now.getTime());
  const base = slugify(input.name);
  const verdict = await screenCommunityText(c, input);
  for (let attempt = 0; ; attempt++) {
    // Creations racing for one name would keep picking the same next number: after two collisions a
    // random suffix settles it.
    const slug = attempt < 2 ? await freeSlug(c.var.d1, base) : `${base}-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
    try {
      await c.var.d1.batch([
        toStatement(
          c.var.d1,
          db.insert(communities).values({
            id,
            slug,
            name: input.name,
            nameKey: nameKey(input.name),
            description: input.description ?? '',
            ...placeColumns(input.location),
            minAge: input.min_age ?? null,
            maxAge: input.max_age ?? null,
            gender: input.gender ?? 'any',
            visibility: input.visibility ?? 'public',
            joinPolicy: input.join_policy ?? 'open',
            conversationId,
            createdBy: creatorId,
            createdAt: now,
            updatedAt: now,
          }),
        ),
        toStatement(c.var.d1, db.insert(communityMembers).values({ communityId: id, userId: creatorId, role: 'owner', joinedAt: now })),
        toStatement(
          c.var.d1,
          db.insert(conversations).values({ id: conversationId, kind: 'community', title: input.name, createdBy: creatorId, createdAt: now, lastActivityAt: now }),
        ),
        toStatement(c.var.d1, db.insert(conversationMembers).values({ conversationId, userId: creatorId, role: 'admin', joinedAt: now, lastActivityAt: now })),
        ...(await flaggedCommunityReport(c, verdict, { id, name: input.name, description: input.description ?? '' }, creatorId)),
      ]);
      break;
    } catch (err) {
      if (uniqueViolation(err) === 'slug' && attempt < 8) continue;
      throw err;
    }
  }
  await joinChat(c, conversationId, creatorId);
  await purgeEdgeGroups('communities');
  return presentCommunity(c, creatorId, await resolveCommunity(c, id, creatorId));
}

/** Owner and moderators edit. The slug never changes; a rename also renames the chat. */
export async function updateCommunity(c: Context<AppEnv>, viewerId: string, ref: string, input: CommunityInput): Promise<Community> {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, 'edit this community');
  const minAge = input.min_age !== undefined ? input.min_age : community.minAge;
  const maxAge = input.max_age !== undefined ? input.max_age : community.maxAge;
  if (minAge !== null && maxAge !== null && minAge > maxAge) {
    throw ApiError.field(input.max_age !== undefined ? 'max_age' : 'min_age', input.max_age !== undefined ? 'must not be less than min_age' : 'must not be more than max_age');
  }
  const verdict = await screenCommunityText(c, input);
  const changes: Partial<CommunityRow> = {};
  if (input.name !== undefined) Object.assign(changes, { name: input.name, nameKey: nameKey(input.name) });
  if (input.description !== undefined) changes.description = input.description;
  if (input.location !== undefined) Object.assign(changes, placeColumns(input.location));
  if (input.min_age !== undefined) changes.minAge = input.min_age;
  if (input.max_age !== undefined) changes.maxAge = input.max_age;
  if (input.gender !== undefined) changes.gender = input.gender;
  if (input.visibility !== undefined) changes.visibility = input.visibility;
  if (input.join_policy !== undefined) changes.joinPolicy = input.join_policy;
  if (Object.keys(changes).length > 0) {
    const db = c.get('db');
    const statements = [toStatement(c.var.d1, db.update(communities).set({ ...changes, updatedAt: new Date() }).where(eq(communities.id, community.id)))];
    if (input.name !== undefined) statements.push(c.var.d1.prepare('UPDATE conversations SET title = ?2 WHERE id = ?1').bind(community.conversationId, input.name));
    const owner = await c.var.d1.prepare("SELECT user_id FROM community_members WHERE community_id = ?1 AND role = 'owner'").bind(community.id).first<{ user_id: string }>();
    statements.push(
      ...(await flaggedCommunityReport(c, verdict, { id: community.id, name: input.name ?? community.name, description: input.description ?? community.description }, owner?.user_id ?? viewerId)),
    );
    await c.var.d1.batch(statements);
    // Every page of the list may show it; a community going private also hides its posts from anonymous readers.
    await purgeEdgeGroups('communities', ...(input.visibility !== undefined && input.visibility !== community.visibility ? (['posts'] as const) : []));
  }
  return presentCommunity(c, viewerId, await resolveCommunity(c, community.id, viewerId));
}

/**
 * The owner deletes a community: one D1 statement removes it, and with it (cascade and trigger) its
 * memberships, its posts with their likes and comments, and its chat's index; then the chat's room is
 * dissolved (sockets closed, messages erased) and the avatar released.
 */
export async function deleteCommunity(c: Context<AppEnv>, viewerId: string, ref: string): Promise<void> {
  const community = await resolveCommunity(c, ref, viewerId);
  if (community.myRole !== 'owner') throw new ApiError('forbidden', 'Only the owner can delete a community.');
  await c.var.d1.prepare('DELETE FROM communities WHERE id = ?1').bind(community.id).run();
  await dissolveChat(c, community.conversationId);
  // (It also moves the media group's epoch: images on its posts and nowhere else, withdrawn with them by
  // a post_media trigger, lose their edge copies too.)
  await deleteOwnerObjects(c.env, community.id);
  await purgeEdgeGroups('communities', 'posts');
}

/** Content rules on a community's name and description (a hold refuses like a reject: there is no author-only view). */
function screenCommunityText(c: Context<AppEnv>, input: CommunityInput) {
  return screenText(c, [{ field: 'name', text: input.name }, { field: 'description', text: input.description }], 'community');
}

/** The automatic report of a flagged name or description, to batch with the write; none otherwise. */
async function flaggedCommunityReport(c: Context<AppEnv>, verdict: TextVerdict, community: { id: string; name: string; description: string }, ownerId: string) {
  if (verdict.action !== 'flag') return [];
  const owner = await findUserById(c.get('db'), ownerId);
  return [
    insertAutoReport(c.var.d1, verdict.reason, {
      subjectType: 'community',
      subjectId: community.id,
      subjectUserId: ownerId,
      communityId: community.id,
      snapshot: { author: owner ? presentPublicUser(owner, c.get('baseUrl')) : null, content: `${community.name}\n\n${community.description}`, media: [] },
    }).statement,
  ];
}

/**
 * Who takes over each community a departing account owns (the rule of the community_members_owner_gone
 * trigger: the longest-standing moderator, else member), for the audit entries of the account's
 * deletion. Communities with nobody left are deleted by the trigger, not handed over.
 */
export async function ownerChangesOnDeparture(c: Context<AppEnv>, userId: string): Promise<{ communityId: string; successorId: string }[]> {
  const { results } = await c.var.d1.prepare(
    `SELECT m.community_id, (SELECT o.user_id FROM community_members o WHERE o.community_id = m.community_id AND o.role IN ('moderator', 'member')
       ORDER BY o.role = 'moderator' DESC, o.created_at, o.user_id LIMIT 1) AS successor
     FROM community_members m WHERE m.user_id = ?1 AND m.role = 'owner'`,
  )
    .bind(userId)
    .all<{ community_id: string; successor: string | null }>();
  return results.filter((r) => r.successor !== null).map((r) => ({ communityId: r.community_id, successorId: r.successor! }));
}

/** Refuses anyone but the owner and moderators. */
export function assertModerator(community: CommunityWithRole, action: string): void {
  if (!isModerator(community.myRole)) throw new ApiError('forbidden', `Only the owner and moderators can ${action}.`);
}

export interface ListFilters {
  q?: string;
  country?: string;
  region?: string;
  city?: string;
  age?: number;
  gender?: string;
  sort: CommunitySort;
}

export async function listCommunities(c: Context<AppEnv>, viewerId: string | null, filters: ListFilters, limit: number, cursor?: string) {
  // Every word must match, each as a prefix (`run lis` finds "Lisbon Runners").
  const match = filters.q !== undefined ? ftsMatch(parseSearchText(filters.q).words, 1) : undefined;
  if (match === null) return { data: [], next_cursor: null };
  const key = cursor ? (decodeCursor(cursor, keyShape(filters.sort)) as CommunityKey) : null;
  const { sql, params } = communityListQuery(
    viewerId,
    { match, country: filters.country, regionKey: placeKey(filters.region) ?? undefined, cityKey: placeKey(filters.city) ?? undefined, age: filters.age, gender: filters.gender },
    filters.sort,
    key,
    limit + 1,
  );
  const { results } = await c.var.d1.prepare(sql)
    .bind(...params)
    .all<Record<string, unknown>>();
  const rows = results.map(rowOf);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await presentCommunities(c, viewerId, page),
    next_cursor: rows.length > limit && last ? encodeCursor(communityKey(filters.sort, { id: last.id, name_key: last.nameKey, member_count: last.memberCount })) : null,
  };
}

/** Communities the caller may join, nearest place first (see {@link eligibleQuery}). */
export async function listEligible(c: Context<AppEnv>, viewerId: string, limit: number, cursor?: string) {
  const me = await requireUserRow(c.get('db'), viewerId);
  const key = cursor ? (decodeCursor(cursor, ['number', 'number', 'string']) as [number, number, string]) : null;
  const { sql, params } = eligibleQuery(
    viewerId,
    {
      country: me.locationCountry,
      regionKey: placeKey(me.locationRegion),
      cityKey: placeKey(me.locationCity),
      age: me.birthdate ? ageOn(me.birthdate, new Date()) : null,
      gender: me.gender,
    },
    key,
    limit + 1,
  );
  const { results } = await c.var.d1.prepare(sql)
    .bind(...params)
    .all<Record<string, unknown>>();
  const page = results.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await presentCommunities(c, viewerId, page.map(rowOf)),
    next_cursor: results.length > limit && last ? encodeCursor([last.place_rank as number, -(last.member_count as number), last.id as string]) : null,
  };
}

/** The caller's communities and applications, most recently joined first (community_members_user_idx). */
export async function listMyCommunities(c: Context<AppEnv>, viewerId: string, limit: number, cursor?: string) {
  const [ts, after] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1.prepare(
    `SELECT c.*, m.role AS my_role, m.created_at AS joined_at FROM community_members m JOIN communities c ON c.id = m.community_id
     WHERE m.user_id = ?1 AND (m.created_at, m.community_id) < (?2, ?3) ORDER BY m.created_at DESC, m.community_id DESC LIMIT ?4`,
  )
    .bind(viewerId, ts, after, limit + 1)
    .all<Record<string, unknown>>();
  const page = results.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await presentCommunities(c, viewerId, page.map(rowOf)),
    next_cursor: results.length > limit && last ? encodeCursor([last.joined_at as number, last.id as string]) : null,
  };
}

/** Owner and moderators set the avatar; it is stored under the community's own prefix, the old one released. */
export async function setCommunityAvatar(c: Context<AppEnv>, viewerId: string, ref: string, key: (communityId: string) => Promise<string | null>): Promise<Community> {
  const community = await resolveCommunity(c, ref, viewerId);
  assertModerator(community, "change the community's avatar");
  const newKey = await key(community.id);
  if (newKey !== community.avatarKey) {
    await c.var.d1.prepare('UPDATE communities SET avatar_key = ?2, updated_at = ?3 WHERE id = ?1').bind(community.id, newKey, Date.now()).run();
    if (community.avatarKey) await releaseObjectIfUnused(c, community.avatarKey);
  }
  return presentCommunity(c, viewerId, await resolveCommunity(c, community.id, viewerId));
}

/**
 * Communities that end with an account: those it owns with no other member (the database trigger
 * hands every other owned community to a moderator or member). Read before the account is deleted, so
 * their chats and avatars can be cleared after.
 */
export async function communitiesEndingWith(c: Context<AppEnv>, userId: string): Promise<{ id: string; conversation_id: string }[]> {
  const { results } = await c.var.d1.prepare(
    `SELECT c.id, c.conversation_id FROM community_members m JOIN communities c ON c.id = m.community_id
     WHERE m.user_id = ?1 AND m.role = 'owner'
       AND NOT EXISTS (SELECT 1 FROM community_members o WHERE o.community_id = c.id AND o.user_id != ?1 AND o.role != 'pending')`,
  )
    .bind(userId)
    .all<{ id: string; conversation_id: string }>();
  return results;
}

/** Clears what D1 cannot: the chats' rooms and the avatars of communities deleted with an account. */
export async function clearEndedCommunities(c: Context<AppEnv>, ended: { id: string; conversation_id: string }[]): Promise<void> {
  for (const community of ended) {
    await dissolveChat(c, community.conversation_id);
    await deleteOwnerObjects(c.env, community.id);
  }
}
