import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMMUNITY_POSTS_SQL,
  communityKey,
  communityListQuery,
  type CommunityFilters,
  type CommunitySort,
  eligibleQuery,
  memberListSql,
} from '../../src/modules/communities/communities.queries';
import { nameKey } from '../../src/modules/communities/communities.service';
import { ftsMatch, parseSearchText } from '../../src/modules/search/search-query';
import { placeKey } from '../../src/modules/communities/eligibility';
import { HOME_FEED_SQL } from '../../src/modules/feeds/feeds.queries';
import { FIRST_PAGE } from '../../src/modules/posts/posts.service';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { addMember, createCommunity, createPost, join, setProfile, users } from './helpers';

/** Tables whose full scan would make a query grow with the data. */
const REAL_TABLES = ['communities', 'community_members', 'posts', 'users', 'blocks', 'follows', 'friendships', 'mutes', 'likes', 'comments'];
const SORTS: CommunitySort[] = ['members', 'new', 'name'];
/** The aliases communityListQuery uses. */
const LIST_ALIASES: Record<string, string> = { c: 'communities', m: 'community_members' };
const LIMIT = 21;

interface PlanRow {
  id: number;
  parent: number;
  notused: number;
  detail: string;
}

async function plan(query: { sql: string; params: unknown[] }): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
    .bind(...query.params)
    .all<PlanRow>();
  expect(results.length).toBeGreaterThan(0);
  return results.map((r) => r.detail.trim());
}

/**
 * The lines that scan a whole real table: `SCAN communities`, `SCAN c` where c aliases communities,
 * with or without `USING [COVERING] INDEX` (walking a whole index is as unbounded as walking the
 * table). Scans of CTEs, subqueries and the FTS virtual table (`SCAN communities_fts VIRTUAL TABLE INDEX …`)
 * are not table scans.
 */
function fullScans(lines: string[], aliases: Record<string, string>): string[] {
  return lines.filter((line) => {
    const m = /^SCAN (\S+)(?: (VIRTUAL TABLE INDEX|USING))?/.exec(line);
    if (!m || m[2] === 'VIRTUAL TABLE INDEX') return false;
    const table = aliases[m[1]!] ?? m[1]!;
    return REAL_TABLES.includes(table);
  });
}

const show = (lines: string[]) => lines.join('\n');
const uses = (lines: string[], index: string) => lines.some((l) => new RegExp(`^SEARCH \\S+ USING (COVERING )?INDEX ${index} \\(`).test(l));

let viewer: TestUser;
let owner: TestUser;
let lisbon: any;
let busiest: any;
let communityWithPosts: any;
let listedFirst: Record<CommunitySort, { id: string; name_key: string; member_count: number }>;

beforeAll(async () => {
  const people = await users(8);
  [viewer, owner] = [people[0]!, people[1]!];
  const others = people.slice(2);
  // Profiles that the seeded age and gender rules accept.
  for (const person of people) await setProfile(person, { birthdate: '1990-06-15', gender: 'female', location: { country: 'PT', region: 'PT-11', city: 'Lisbon' } });
  const places = [
    { country: 'PT', region: 'PT-11', city: 'Lisbon' },
    { country: 'PT', region: 'PT-11' },
    { country: 'PT' },
    { country: 'PT', region: 'PT-13', city: 'Porto' },
    { country: 'GB', region: 'GB-LND', city: 'London' },
    { country: 'GB' },
    null,
    null,
  ];
  const created: any[] = [];
  for (const [i, location] of places.entries()) {
    created.push(
      await createCommunity(owner, {
        name: `Plan seed ${['Runners', 'Readers', 'Cyclists', 'Painters', 'Climbers', 'Chess', 'Coders', 'Bakers'][i]}`,
        description: `Seeded community number ${i} for query plans`,
        location,
        min_age: i % 3 === 0 ? 18 : null,
        max_age: i % 4 === 0 ? 65 : null,
        gender: ['any', 'female', 'any', 'male'][i % 4],
        join_policy: i === 2 ? 'approval' : 'open',
      }),
    );
  }
  [lisbon, busiest] = [created[0]!, created[6]!];
  // Memberships: several members in the busiest, a moderator, a pending applicant, the viewer in a few.
  for (const person of others) await join(person, busiest.id);
  await addMember(owner, lisbon.id, others[0]!, 'moderator');
  await join(others[1]!, lisbon.id);
  expect(await join(others[2]!, created[2]!.id)).toBe('pending');
  await join(viewer, lisbon.id);
  await join(viewer, busiest.id);
  await expectStatus(await call(`/users/${others[3]!.id}/block`, { method: 'POST', token: viewer.accessToken }), 200);

  // Community posts (the viewer's home feed reaches them through their memberships), and a few own ones.
  communityWithPosts = lisbon;
  for (let i = 0; i < 6; i++) {
    await createPost(i % 2 ? owner : others[1]!, { content: `community post ${i}`, community_id: lisbon.id });
    await createPost(others[i % others.length]!, { content: `busy post ${i}`, community_id: busiest.id });
  }
  await createPost(viewer, { content: 'my own post' });

  // A real keyset position for each order: the first row of the unfiltered list.
  listedFirst = {} as typeof listedFirst;
  for (const sort of SORTS) {
    const page = await expectStatus(await call(`/communities?sort=${sort}&limit=1`), 200);
    const first = page.data[0];
    listedFirst[sort] = { id: first.id, name_key: nameKey(first.name), member_count: first.member_count };
  }
  // No ANALYZE: with statistics from a fixture this small SQLite rightly prefers scanning the tiny
  // tables; without them it plans for big ones, which is what these tests are about.
});

const listQuery = (filters: CommunityFilters, sort: CommunitySort, withKey = false) =>
  communityListQuery(viewer.id, filters, sort, withKey ? communityKey(sort, listedFirst[sort]) : null, LIMIT + 1);

describe('Community query plans', () => {
  it('should detect a full scan when there is one (the checker itself)', async () => {
    expect(fullScans(await plan({ sql: 'SELECT * FROM communities WHERE description = ?1', params: ['x'] }), {})).toEqual(['SCAN communities']);
    const aliased = await plan({ sql: "SELECT c.id FROM communities c WHERE c.description = ?1 ORDER BY c.member_count DESC, c.id DESC LIMIT 5", params: ['x'] });
    expect(fullScans(aliased, LIST_ALIASES), show(aliased)).toEqual(['SCAN c USING INDEX communities_members_idx']);
    const members = await plan({ sql: 'SELECT * FROM community_members m WHERE m.role = ?1', params: ['owner'] });
    expect(fullScans(members, LIST_ALIASES).length, show(members)).toBe(1);
    const fts = await plan({ sql: 'SELECT rowid FROM communities_fts WHERE communities_fts MATCH ?1', params: ['"plan"*'] });
    expect(fts.some((l) => l.startsWith('SCAN communities_fts VIRTUAL TABLE INDEX'))).toBe(true);
    expect(fullScans(fts, {})).toEqual([]);
    expect(fullScans(await plan({ sql: 'WITH x(id) AS (SELECT ?1) SELECT * FROM x', params: ['a'] }), {})).toEqual([]);
    const keyed = await plan({ sql: 'SELECT * FROM communities WHERE id = ?1', params: [lisbon.id] });
    expect(fullScans(keyed, {})).toEqual([]);
  });

  describe('communityListQuery without filters', () => {
    const ORDER_INDEX: Record<CommunitySort, string> = { members: 'communities_members_idx', new: 'sqlite_autoindex_communities_1', name: 'communities_name_idx' };

    for (const sort of SORTS) {
      it(`should read the first page of sort=${sort} in ${ORDER_INDEX[sort]} order, stopping at the limit`, async () => {
        const query = listQuery({}, sort);
        expect(query.sql.split('FROM communities c ')[1], 'no WHERE on the outer query').not.toMatch(/\bWHERE\b/);
        const lines = await plan(query);
        // With no WHERE at all, walking the order's index from its start is bounded by LIMIT: the
        // one acceptable SCAN, and only when it is that index and no sort step follows.
        const scans = fullScans(lines, LIST_ALIASES);
        expect(scans, show(lines)).toEqual([`SCAN c USING INDEX ${ORDER_INDEX[sort]}`]);
        expect(lines.some((l) => l.startsWith('USE TEMP B-TREE FOR ORDER BY')), show(lines)).toBe(false);
        expect(uses(lines, 'sqlite_autoindex_community_members_1'), show(lines)).toBe(true);
      });

      it(`should seek a later page of sort=${sort} through ${ORDER_INDEX[sort]} without a full scan`, async () => {
        const lines = await plan(listQuery({}, sort, true));
        expect(fullScans(lines, LIST_ALIASES), show(lines)).toEqual([]);
        expect(uses(lines, ORDER_INDEX[sort]), show(lines)).toBe(true);
        expect(lines.some((l) => l.startsWith('USE TEMP B-TREE FOR ORDER BY')), show(lines)).toBe(false);
      });
    }
  });

  describe('communityListQuery with place filters', () => {
    const cases: [string, CommunityFilters, string[]][] = [
      ['country', { country: 'PT' }, ['communities_place_idx']],
      ['region', { regionKey: placeKey('PT-11')! }, ['communities_region_idx']],
      ['city', { cityKey: placeKey('Lisbon')! }, ['communities_city_idx']],
      ['country+region', { country: 'PT', regionKey: placeKey('PT-11')! }, ['communities_place_idx']],
      ['country+city', { country: 'PT', cityKey: placeKey('Lisbon')! }, ['communities_place_idx', 'communities_city_idx']],
      ['region+city', { regionKey: placeKey('PT-11')!, cityKey: placeKey('Lisbon')! }, ['communities_region_idx', 'communities_city_idx']],
      ['country+region+city', { country: 'PT', regionKey: placeKey('PT-11')!, cityKey: placeKey('Lisbon')! }, ['communities_place_idx']],
      ['country+age+gender', { country: 'PT', age: 30, gender: 'female' }, ['communities_place_idx']],
    ];
    for (const sort of SORTS) {
      for (const [label, filters, indexes] of cases) {
        it(`should find sort=${sort} by ${label} through ${indexes.join(' or ')} without a full scan`, async () => {
          for (const withKey of [false, true]) {
            const lines = await plan(listQuery(filters, sort, withKey));
            expect(fullScans(lines, LIST_ALIASES), show(lines)).toEqual([]);
            expect(
              indexes.some((index) => uses(lines, index)),
              show(lines),
            ).toBe(true);
          }
        });
      }
    }
  });

  for (const sort of SORTS) {
    it(`should search q through the FTS index for sort=${sort} without a full scan`, async () => {
      const match = ftsMatch(parseSearchText('plan seed').words, 1)!;
      expect(match).toBe('"plan"* "seed"*');
      for (const filters of [{ match }, { match, country: 'PT' }, { match, age: 30, gender: 'male' }]) {
        const lines = await plan(listQuery(filters, sort));
        expect(fullScans(lines, LIST_ALIASES), show(lines)).toEqual([]);
        expect(lines.some((l) => l.startsWith('SCAN communities_fts VIRTUAL TABLE INDEX')), show(lines)).toBe(true);
      }
      // The index's rows are the communities' rowids (external content): each match is one rowid lookup.
      const lines = await plan(listQuery({ match }, sort));
      expect(lines.some((l) => /^SEARCH c USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(l)), show(lines)).toBe(true);
    });

    it(`should filter by age and gender for sort=${sort} without a full scan`, async () => {
      for (const withKey of [false, true]) {
        const lines = await plan(listQuery({ age: 30, gender: 'female' }, sort, withKey));
        expect(fullScans(lines, LIST_ALIASES), show(lines)).toEqual([]);
      }
    });
  }

  it('should read eligible communities through four probes of communities_place_idx without a full scan', async () => {
    const profiles = [
      { country: 'PT', regionKey: placeKey('PT-11'), cityKey: placeKey('Lisbon'), age: 30, gender: 'female' },
      { country: null, regionKey: null, cityKey: null, age: null, gender: null },
    ];
    for (const profile of profiles) {
      for (const key of [null, [1, -3, lisbon.id] as [number, number, string]]) {
        const lines = await plan(eligibleQuery(viewer.id, profile, key, LIMIT + 1));
        expect(fullScans(lines, LIST_ALIASES), show(lines)).toEqual([]);
        expect(lines.filter((l) => /^SEARCH communities USING (COVERING )?INDEX communities_place_idx \(country=\?/.test(l)).length, show(lines)).toBe(4);
        expect(uses(lines, 'sqlite_autoindex_community_members_1'), show(lines)).toBe(true);
      }
    }
  });

  it('should list members by role through community_members_role_idx without a full scan', async () => {
    for (const [role, who] of [
      ['member', viewer.id],
      ['pending', ''],
      ['moderator', viewer.id],
    ] as const) {
      const lines = await plan({ sql: memberListSql(true), params: [lisbon.id, who, 0, '', LIMIT + 1, role] });
      expect(fullScans(lines, { m: 'community_members', vb: 'blocks', vu: 'users', vm: 'community_members', vpu: 'users' }), show(lines)).toEqual([]);
      expect(uses(lines, 'community_members_role_idx'), show(lines)).toBe(true);
      // The users-visibility predicate: blocks either way, and the account's suspension, by key.
      expect(lines.some((l) => /^SEARCH vb /.test(l)), show(lines)).toBe(true);
      expect(lines.some((l) => /^SEARCH vu /.test(l)), show(lines)).toBe(true);
    }
  });

  it('should list members without a role through community_members_joined_idx without a full scan', async () => {
    for (const who of [viewer.id, '']) {
      for (const after of [[0, ''], [Date.now(), owner.id]] as const) {
        const lines = await plan({ sql: memberListSql(false), params: [busiest.id, who, ...after, LIMIT + 1] });
        expect(fullScans(lines, { m: 'community_members', vb: 'blocks', vu: 'users', vm: 'community_members', vpu: 'users' }), show(lines)).toEqual([]);
        expect(uses(lines, 'community_members_joined_idx'), show(lines)).toBe(true);
        expect(lines.some((l) => /^SEARCH vb /.test(l)), show(lines)).toBe(true);
        expect(lines.some((l) => /^SEARCH vu /.test(l)), show(lines)).toBe(true);
      }
    }
  });

  it('should read community posts through posts_community_created_idx without a full scan', async () => {
    const first = await plan({ sql: COMMUNITY_POSTS_SQL, params: [communityWithPosts.id, ...FIRST_PAGE, LIMIT + 1] });
    const later = await plan({ sql: COMMUNITY_POSTS_SQL, params: [communityWithPosts.id, Date.now(), communityWithPosts.id, LIMIT + 1] });
    for (const lines of [first, later]) {
      expect(fullScans(lines, {}), show(lines)).toEqual([]);
      expect(uses(lines, 'posts_community_created_idx'), show(lines)).toBe(true);
      expect(lines.some((l) => l.startsWith('USE TEMP B-TREE FOR ORDER BY')), show(lines)).toBe(false);
    }
  });

  it('should read the home feed of a community member without a full scan', async () => {
    // The viewer really is a member with community posts in reach (so the plan is of a real case).
    const feed = await expectStatus(await call('/feed/home?limit=20', { token: viewer.accessToken }), 200);
    expect(feed.data.some((p: any) => p.community_id === communityWithPosts.id)).toBe(true);

    const lines = await plan({ sql: HOME_FEED_SQL, params: [viewer.id, ...FIRST_PAGE, LIMIT] });
    expect(fullScans(lines, { q: 'posts', p: 'posts', m: 'mutes', k: 'community_members' }), show(lines)).toEqual([]);
    expect(lines.filter((l) => /^SEARCH k USING (COVERING )?INDEX community_members_user_idx \(user_id=\?\)/.test(l)).length, show(lines)).toBe(1);
    expect(lines.some((l) => /^SEARCH q USING (COVERING )?INDEX posts_community_created_idx/.test(l)), show(lines)).toBe(true);
    expect(lines.some((l) => /^SEARCH q USING (COVERING )?INDEX posts_author_created_idx/.test(l)), show(lines)).toBe(true);
  });
});
