import { visibleUserSql } from '../../policy/visibility';

/**
 * The community lookups, built here so a test can EXPLAIN each one and prove it walks an index.
 *
 * Every query yields community rows plus `my_role` (the viewer's role, or null): one statement per
 * page. Indexes: communities_place_idx (country, region_key, city_key) for place filters and the
 * eligibility probes, communities_region_idx / communities_city_idx for a region or city alone,
 * communities_fts for `q`, and for the orders communities_members_idx (member_count, id), the primary
 * key (id: a ULID, so newest first) and communities_name_idx (name_key, id). Without a place or `q`,
 * `gender` narrows through communities_gender_idx and `age` through communities_min_age_idx.
 */

export type CommunitySort = 'members' | 'new' | 'name';

export interface CommunityFilters {
  /** An FTS5 query, already built from the user's words. */
  match?: string;
  country?: string;
  regionKey?: string;
  cityKey?: string;
  age?: number;
  gender?: string;
}

/** Keyset positions: members → [member_count, id], new → [id], name → [name_key, id]. */
export type CommunityKey = [number, string] | [string] | [string, string];

const ORDERS: Record<CommunitySort, { order: string; after: string; keyLength: number }> = {
  members: { order: 'c.member_count DESC, c.id DESC', after: '(c.member_count, c.id) < (?, ?)', keyLength: 2 },
  new: { order: 'c.id DESC', after: 'c.id < ?', keyLength: 1 },
  name: { order: 'c.name_key, c.id', after: '(c.name_key, c.id) > (?, ?)', keyLength: 2 },
};

/** The viewer's (?) role in community `c`, as `my_role`. */
export const MY_ROLE = '(SELECT m.role FROM community_members m WHERE m.community_id = c.id AND m.user_id = ?) AS my_role';

/** `GET /communities`: filters, one of three orders, keyset after `key`, `limit` rows. */
export function communityListQuery(viewerId: string | null, filters: CommunityFilters, sort: CommunitySort, key: CommunityKey | null, limit: number) {
  const where: string[] = [];
  const params: unknown[] = [viewerId];
  const add = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    params.push(...values);
  };
  if (filters.match !== undefined) add('c.rowid IN (SELECT rowid FROM communities_fts WHERE communities_fts MATCH ?)', filters.match);
  if (filters.country !== undefined) add('c.country = ?', filters.country);
  if (filters.regionKey !== undefined) add('c.region_key = ?', filters.regionKey);
  if (filters.cityKey !== undefined) add('c.city_key = ?', filters.cityKey);
  // With a place or `q` narrowing the list, age and gender are checked on its rows (unary + keeps the
  // planner off their indexes); alone, they narrow through communities_gender_idx / communities_min_age_idx.
  const narrowed = [filters.match, filters.country, filters.regionKey, filters.cityKey].some((v) => v !== undefined);
  const col = (name: string) => (narrowed ? `+c.${name}` : `c.${name}`);
  if (filters.age !== undefined) add(`(${col('min_age')} IS NULL OR ${col('min_age')} <= ?) AND (c.max_age IS NULL OR c.max_age >= ?)`, filters.age, filters.age);
  if (filters.gender !== undefined) add(`${col('gender')} IN ('any', ?)`, filters.gender);
  const order = ORDERS[sort];
  if (key) add(order.after, ...key);
  params.push(limit);
  const sql = `SELECT c.*, ${MY_ROLE} FROM communities c ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order.order} LIMIT ?`;
  return { sql, params };
}

/** The keyset position of a listed row, for the next page's cursor. */
export function communityKey(sort: CommunitySort, row: { id: string; name_key: string; member_count: number }): CommunityKey {
  if (sort === 'members') return [row.member_count, row.id];
  if (sort === 'name') return [row.name_key, row.id];
  return [row.id];
}

export const keyShape = (sort: CommunitySort): ('string' | 'number')[] => (sort === 'members' ? ['number', 'string'] : sort === 'name' ? ['string', 'string'] : ['string']);

/** Where the caller is, and what the eligibility rules need of them. */
export interface EligibilityProfile {
  country: string | null;
  regionKey: string | null;
  cityKey: string | null;
  age: number | null;
  gender: string | null;
}

/**
 * `GET /communities/eligible`: the communities of the caller's city (rank 0), region (1), country (2)
 * and the global ones (3) — four index probes — that their age and gender qualify them for and that
 * they have not joined or applied to; nearest first, then most members. Keyset on
 * (rank, -member_count, id). A missing birthdate or gender leaves out the communities that need it.
 */
export function eligibleQuery(viewerId: string, me: EligibilityProfile, key: [number, number, string] | null, limit: number) {
  const sql = `
SELECT c.*, NULL AS my_role, place.rank AS place_rank FROM (
  SELECT id, 0 AS rank FROM communities WHERE country = ?2 AND region_key IS ?3 AND city_key = ?4
  UNION ALL SELECT id, 1 FROM communities WHERE country = ?2 AND region_key = ?3 AND city_key IS NULL
  UNION ALL SELECT id, 2 FROM communities WHERE country = ?2 AND region_key IS NULL AND city_key IS NULL
  UNION ALL SELECT id, 3 FROM communities WHERE country IS NULL
) place JOIN communities c ON c.id = place.id
WHERE (+c.min_age IS NULL OR +c.min_age <= ?5) AND (c.max_age IS NULL OR c.max_age >= ?5)
  AND +c.gender IN ('any', ?6)
  AND NOT EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = c.id AND m.user_id = ?1)
  AND (place.rank, -c.member_count, c.id) > (?7, ?8, ?9)
ORDER BY place.rank, c.member_count DESC, c.id
LIMIT ?10`;
  const [rank, negCount, id] = key ?? [-1, 0, ''];
  return { sql, params: [viewerId, me.country, me.regionKey, me.cityKey, me.age, me.gender, rank, negCount, id, limit] };
}

/**
 * Members of a community, longest-standing first (community_members_joined_idx, or
 * community_members_role_idx with a role); pending applicants only when asked for by role. Suspended
 * accounts and people on either side of a block with the viewer are left out, and so are private
 * accounts unless the viewer is a member (not an applicant) of the community: a public community's
 * list must not tell strangers who a private account keeps company with (the account, a member,
 * always sees itself). Parameters: ?1 community, ?2 viewer ('' when anonymous), ?3 joined_at after,
 * ?4 user id after, ?5 limit, ?6 role.
 */
export function memberListSql(byRole: boolean): string {
  return `SELECT m.user_id, m.role, m.created_at FROM community_members m
WHERE m.community_id = ?1 AND ${byRole ? 'm.role = ?6' : "m.role != 'pending'"} AND (m.created_at, m.user_id) > (?3, ?4)
  AND ${visibleUserSql('?2', 'm.user_id')}
  AND (EXISTS (SELECT 1 FROM community_members vm WHERE vm.community_id = ?1 AND vm.user_id = ?2 AND vm.role != 'pending')
    OR EXISTS (SELECT 1 FROM users vpu WHERE vpu.id = m.user_id AND vpu.visibility = 'public'))
ORDER BY m.created_at, m.user_id LIMIT ?5`;
}

/** Posts of a community, newest first (posts_community_created_idx). ?1 community, ?2/?3 cursor, ?4 limit + 1. */
export const COMMUNITY_POSTS_SQL = `SELECT * FROM posts WHERE community_id = ?1 AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4`;
