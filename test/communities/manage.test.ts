import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser, walkPages } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import {
  addMember,
  createCommunity,
  createCommunityRaw,
  createPost,
  deleteCommunityRaw,
  expectCommunityShape,
  getCommunity,
  getCommunityRaw,
  join,
  patchCommunityRaw,
  UNKNOWN_ID,
  users,
} from './helpers';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PUBLIC_USER_KEYS = ['avatar_url', 'bio', 'display_name', 'id', 'is_verified', 'username'];

/** A lower-case word of letters only, unique enough to find one test's communities by `q`. */
function word(length = 10): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let out = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(length))) out += letters[byte % letters.length];
  return out;
}

let countryCounter = 0;
/** A two-letter code no other test of this file uses (the codes only need to look like ISO 3166-1 alpha-2). */
function country(): string {
  const n = countryCounter++;
  return `${'QXZ'[Math.floor(n / 26) % 3]}${String.fromCharCode(65 + (n % 26))}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One page of GET /communities?query. */
async function listPage(query: string, user?: TestUser): Promise<{ data: any[]; next_cursor: string | null }> {
  return expectStatus(await call(`/communities?${query}`, { token: user?.accessToken }), 200);
}

/** The ids of GET /communities?query (one page of up to 100). */
async function listIds(query: string, user?: TestUser): Promise<string[]> {
  return (await listPage(`${query}&limit=100`, user)).data.map((c) => c.id);
}

/** Every page of GET /communities?query with `limit`, checking each page's size; the items in order. */
const walk = async (query: string, limit: number, user?: TestUser, path = '/communities') =>
  (await walkPages(query ? `${path}?${query}` : path, user?.accessToken, limit, 500)).items;

const byMembers = (a: any, b: any) => b.member_count - a.member_count || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const byNew = (a: any, b: any) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const byName = (a: any, b: any) => {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

async function countByName(name: string): Promise<number> {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM communities WHERE name = ?1').bind(name).first<{ n: number }>();
  return row!.n;
}

async function myCommunities(user: TestUser): Promise<any[]> {
  return (await expectStatus(await call('/me/communities?limit=100', { token: user.accessToken }), 200)).data;
}

function putAvatar(user: TestUser, ref: string, bytes: Uint8Array, filename = 'avatar.bin', type = 'application/octet-stream'): Promise<Response> {
  const form = new FormData();
  form.append('file', new File([bytes], filename, { type }));
  return call(`/communities/${ref}/avatar`, { method: 'PUT', token: user.accessToken, body: form });
}

describe('Create community', () => {
  it('should create a global community from a brand-new account with only a name', async () => {
    const owner = await createUser({ display_name: 'Founder' });
    const name = `Only A Name ${word()}`;
    const body = await expectStatus(await createCommunityRaw(owner, { name }), 201);
    expectCommunityShape(body);
    expect(body).toEqual({
      id: expect.stringMatching(ULID),
      slug: expect.any(String),
      name,
      description: '',
      avatar_url: null,
      location: null,
      min_age: null,
      max_age: null,
      gender: 'any',
      visibility: 'public',
      join_policy: 'open',
      member_count: 1,
      my_role: 'owner',
      conversation_id: expect.stringMatching(ULID),
      created_by: { id: owner.id, username: owner.username, display_name: 'Founder', avatar_url: null, bio: expect.any(String), is_verified: false },
      created_at: expect.stringMatching(ISO),
    });
    expect(body.slug).toBe(name.toLowerCase().replace(/ /g, '-'));
    expect(Object.keys(body.created_by).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(body.created_by).not.toHaveProperty('email');
    expect(body.created_by).not.toHaveProperty('birthdate');
    expect(body.conversation_id).not.toBe(body.id);
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).toBeLessThan(60_000);

    // It reads back the same, and the creator is its owner and only member.
    expect(await getCommunity(body.id, owner)).toEqual(body);
    const memberList = await expectStatus(await call(`/communities/${body.id}/members`, { token: owner.accessToken }), 200);
    expect(memberList.data.map((m: any) => [m.user.id, m.role])).toEqual([[owner.id, 'owner']]);
    // ...and is in the community's chat.
    const chat = await expectStatus(await call(`/conversations/${body.conversation_id}`, { token: owner.accessToken }), 200);
    expect(chat.kind).toBe('community');
    expect(chat.participants.map((p: any) => p.id)).toEqual([owner.id]);
  });

  it('should echo back every field when all of them are set', async () => {
    const owner = await createUser();
    const name = `Every Field ${word()}`;
    const body = await expectStatus(
      await createCommunityRaw(owner, {
        name,
        description: 'Runs on Sundays, coffee after.',
        location: { country: 'pt', region: 'Área Metropolitana', city: 'lisBOA' },
        min_age: 18,
        max_age: 35,
        gender: 'female',
        visibility: 'private',
        join_policy: 'approval',
      }),
      201,
    );
    expectCommunityShape(body);
    expect(body).toMatchObject({
      name,
      description: 'Runs on Sundays, coffee after.',
      location: { country: 'PT', region: 'Área Metropolitana', city: 'lisBOA' },
      min_age: 18,
      max_age: 35,
      gender: 'female',
      visibility: 'private',
      join_policy: 'approval',
      member_count: 1,
      my_role: 'owner',
    });
    // A private community is still readable (and shows the same fields) to a stranger.
    const stranger = await createUser();
    const seen = await getCommunity(body.slug, stranger);
    expect(seen).toEqual({ ...body, my_role: null });
  });

  it('should keep a location without region and city, with region and city null', async () => {
    const owner = await createUser();
    const body = await createCommunity(owner, { location: { country: ' de ' } });
    expect(body.location).toEqual({ country: 'DE', region: null, city: null });
  });

  it('should refuse an anonymous creation with 401', async () => {
    await expectProblem(await call('/communities', { body: { name: 'Nobody Creates' } }), 401);
  });
});

describe('Community name and validation', () => {
  it('should refuse a name of 2 or of 81 characters naming name, and accept 3 and 80', async () => {
    const owner = await createUser();
    const tag = word(8);
    await expectProblem(await createCommunityRaw(owner, { name: 'ab' }), 400, 'name');
    const long81 = `${tag} `.padEnd(81, 'x');
    expect(long81).toHaveLength(81);
    await expectProblem(await createCommunityRaw(owner, { name: long81 }), 400, 'name');
    expect(await countByName(long81)).toBe(0);

    const three = await expectStatus(await createCommunityRaw(owner, { name: 'abc' }), 201);
    expect(three.name).toBe('abc');
    const long80 = `${tag} `.padEnd(80, 'y');
    const eighty = await expectStatus(await createCommunityRaw(owner, { name: long80 }), 201);
    expect(eighty.name).toBe(long80);
    expect(eighty.name).toHaveLength(80);
  });

  it('should trim surrounding whitespace of the name before checking its length', async () => {
    const owner = await createUser();
    const tag = word();
    const body = await expectStatus(await createCommunityRaw(owner, { name: `   Trimmed ${tag}  \n` }), 201);
    expect(body.name).toBe(`Trimmed ${tag}`);
    expect(body.slug).toBe(`trimmed-${tag}`);
    // Two characters padded with spaces are still two characters.
    await expectProblem(await createCommunityRaw(owner, { name: '   ab    ' }), 400, 'name');
    // 80 characters plus spaces are 80 characters.
    const padded = `  ${`${tag} `.padEnd(80, 'z')}  `;
    expect((await expectStatus(await createCommunityRaw(owner, { name: padded }), 201)).name).toHaveLength(80);
  });

  it('should refuse a missing or non-string name naming name', async () => {
    const owner = await createUser();
    await expectProblem(await createCommunityRaw(owner, {}), 400, 'name');
    await expectProblem(await createCommunityRaw(owner, { name: 12345 }), 400, 'name');
    await expectProblem(await createCommunityRaw(owner, { name: null }), 400, 'name');
  });

  it('should refuse invalid fields, naming each, and write nothing', async () => {
    const owner = await createUser();
    const tag = word();
    const name = `Nopartial ${tag}`;
    const cases: [Record<string, unknown>, string][] = [
      [{ min_age: 30, max_age: 20 }, 'max_age'],
      [{ max_age: 121 }, 'max_age'],
      [{ max_age: -1 }, 'max_age'],
      [{ max_age: 1.5 }, 'max_age'],
      [{ min_age: 121 }, 'min_age'],
      [{ min_age: -1 }, 'min_age'],
      [{ min_age: '18' }, 'min_age'],
      [{ gender: 'other' }, 'gender'],
      [{ visibility: 'secret' }, 'visibility'],
      [{ join_policy: 'invite' }, 'join_policy'],
      [{ colour: 'blue' }, 'colour'],
      [{ location: { country: 'Portugal' } }, 'location.country'],
      [{ location: { country: 'P1' } }, 'location.country'],
      [{ location: { region: 'Lisboa' } }, 'location.country'],
      [{ description: 'd'.repeat(2001) }, 'description'],
    ];
    for (const [fields, field] of cases) {
      const problem = await expectProblem(await createCommunityRaw(owner, { name, ...fields }), 400, field);
      expect(problem.errors.length, JSON.stringify(fields)).toBeGreaterThan(0);
    }
    // Malformed JSON is a 400 too.
    await expectProblem(await call('/communities', { token: owner.accessToken, body: '{"name": "Broken', headers: { 'Content-Type': 'application/json' } }), 400);

    // No partial write: no community, no membership, nothing to find.
    expect(await countByName(name)).toBe(0);
    expect((await listPage(`q=${tag}`)).data).toEqual([]);
    expect(await myCommunities(owner)).toEqual([]);
    const owned = await env.DB.prepare('SELECT COUNT(*) AS n FROM community_members WHERE user_id = ?1').bind(owner.id).first<{ n: number }>();
    expect(owned!.n).toBe(0);
  });

  it('should accept min_age equal to max_age and the bounds 0 and 120', async () => {
    const owner = await createUser();
    const same = await createCommunity(owner, { min_age: 40, max_age: 40 });
    expect([same.min_age, same.max_age]).toEqual([40, 40]);
    const widest = await createCommunity(owner, { min_age: 0, max_age: 120 });
    expect([widest.min_age, widest.max_age]).toEqual([0, 120]);
    const explicitNulls = await createCommunity(owner, { min_age: null, max_age: null, location: null });
    expect([explicitNulls.min_age, explicitNulls.max_age, explicitNulls.location]).toEqual([null, null, null]);
  });
});

describe('Community slug', () => {
  it('should derive the slug from the name and number the next ones with the same name', async () => {
    const owner = await createUser();
    const first = await createCommunity(owner, { name: 'Café Lisboa!' });
    expect(first.slug).toBe('cafe-lisboa');
    const second = await createCommunity(owner, { name: 'Café Lisboa!' });
    expect(second.slug).toBe('cafe-lisboa-2');
    const third = await createCommunity(owner, { name: 'Café Lisboa!' });
    expect(third.slug).toBe('cafe-lisboa-3');
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    // Each slug reads its own community.
    expect((await getCommunity('cafe-lisboa')).id).toBe(first.id);
    expect((await getCommunity('cafe-lisboa-2')).id).toBe(second.id);
    expect((await getCommunity('cafe-lisboa-3')).id).toBe(third.id);
  });

  it('should read a community by id, by slug and by upper-case slug', async () => {
    const owner = await createUser();
    const created = await createCommunity(owner, { name: `Read Me ${word()}` });
    const byId = await getCommunity(created.id);
    const bySlug = await getCommunity(created.slug);
    const byUpper = await getCommunity(created.slug.toUpperCase());
    expect(byId).toEqual({ ...created, my_role: null });
    expect(bySlug).toEqual(byId);
    expect(byUpper).toEqual(byId);
  });

  it('should keep the slug when the community is renamed', async () => {
    const owner = await createUser();
    const tag = word();
    const created = await createCommunity(owner, { name: `Before ${tag}` });
    expect(created.slug).toBe(`before-${tag}`);
    const renamed = await expectStatus(await patchCommunityRaw(owner, created.id, { name: `After ${tag}` }), 200);
    expect(renamed.name).toBe(`After ${tag}`);
    expect(renamed.slug).toBe(`before-${tag}`);
    expect((await getCommunity(`before-${tag}`)).name).toBe(`After ${tag}`);
    await expectProblem(await getCommunityRaw(`after-${tag}`), 404);
    // A new community with the old name does not get the slug that is still held.
    const again = await createCommunity(owner, { name: `Before ${tag}` });
    expect(again.slug).toBe(`before-${tag}-2`);
  });

  it('should never give the slug "eligible", which stays the eligible route', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner, { name: 'Eligible' });
    expect(community.slug).not.toBe('eligible');
    expect(community.slug).toMatch(/^eligible-\d+$/);
    expect((await getCommunity(community.slug)).id).toBe(community.id);

    // /communities/eligible is the list of communities one may join, not this community.
    const page = await expectStatus(await call('/communities/eligible', { token: owner.accessToken }), 200);
    expect(Object.keys(page).sort()).toEqual(['data', 'next_cursor']);
    expect(Array.isArray(page.data)).toBe(true);
    expect(page.data.map((c: any) => c.id)).not.toContain(community.id);
    await expectProblem(await call('/communities/eligible'), 401);
  });

  it('should give five concurrent creations with one name five distinct slugs', async () => {
    const owner = await createUser();
    const tag = word();
    const name = `Rush ${tag}`;
    const responses = await Promise.all(Array.from({ length: 5 }, () => createCommunityRaw(owner, { name })));
    const bodies = await Promise.all(responses.map((res) => expectStatus(res, 201)));
    const slugs = bodies.map((b) => b.slug);
    expect(new Set(slugs).size).toBe(5);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(5);
    expect(new Set(bodies.map((b) => b.conversation_id)).size).toBe(5);
    for (const slug of slugs) expect(slug.startsWith(`rush-${tag}`)).toBe(true);
    expect(slugs).toContain(`rush-${tag}`);
    expect(await countByName(name)).toBe(5);
    for (const body of bodies) {
      const read = await getCommunity(body.slug, owner);
      expect(read.id).toBe(body.id);
      expect(read.member_count).toBe(1);
      expect(read.my_role).toBe('owner');
    }
  });
});

describe('Read community', () => {
  it('should never give a community a slug that reads as another community\'s id', async () => {
    const owner = await createUser();
    const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const idLike = `01${Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => crockford[b % 32]).join('')}`;
    const community = await createCommunity(owner, { name: idLike });
    expect(community.slug).toBe(`${idLike.toLowerCase()}-2`);
    await expectProblem(await getCommunityRaw(idLike), 404);
    expect((await getCommunity(community.slug)).id).toBe(community.id);
  });

  it('should answer 404 for an unknown id or slug', async () => {
    const user = await createUser();
    await expectProblem(await getCommunityRaw(UNKNOWN_ID), 404);
    await expectProblem(await getCommunityRaw(UNKNOWN_ID, user), 404);
    await expectProblem(await getCommunityRaw(`no-such-community-${word()}`), 404);
  });

  it('should show my_role null to an anonymous reader and to a stranger', async () => {
    const [owner, stranger] = await users(2);
    const community = await createCommunity(owner);
    const anonymous = await getCommunity(community.id);
    expectCommunityShape(anonymous);
    expect(anonymous.my_role).toBeNull();
    expect((await getCommunity(community.id, stranger)).my_role).toBeNull();
    expect((await getCommunity(community.id, owner)).my_role).toBe('owner');
  });
});

describe('Edit community', () => {
  it('should let the owner change description, join policy and location', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner, { description: 'old' });
    const place = country();
    const edited = await expectStatus(
      await patchCommunityRaw(owner, community.id, { description: 'new words', join_policy: 'approval', location: { country: place.toLowerCase(), city: 'Springfield' } }),
      200,
    );
    expectCommunityShape(edited);
    expect(edited).toEqual({
      ...community,
      description: 'new words',
      join_policy: 'approval',
      location: { country: place, region: null, city: 'Springfield' },
    });
    expect(await getCommunity(community.id, owner)).toEqual(edited);
    // Found by its new place.
    expect(await listIds(`country=${place}&city=springfield`)).toEqual([community.id]);

    // location null makes it global again; an empty body changes nothing.
    const global = await expectStatus(await patchCommunityRaw(owner, community.id, { location: null }), 200);
    expect(global.location).toBeNull();
    expect(await listIds(`country=${place}`)).toEqual([]);
    expect(await expectStatus(await patchCommunityRaw(owner, community.id, {}), 200)).toEqual(global);
  });

  it('should let a moderator edit', async () => {
    const [owner, moderator] = await users(2);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, moderator, 'moderator');
    const edited = await expectStatus(await patchCommunityRaw(moderator, community.slug, { description: 'by the moderator', gender: 'nonbinary', min_age: 16 }), 200);
    expect(edited).toMatchObject({ description: 'by the moderator', gender: 'nonbinary', min_age: 16, my_role: 'moderator' });
    expect((await getCommunity(community.id)).description).toBe('by the moderator');
  });

  it('should refuse a member, a pending applicant and a stranger with 403, and an anonymous caller with 401', async () => {
    const [owner, member, applicant, stranger] = await users(4);
    const community = await createCommunity(owner, { description: 'unchanged' });
    await join(member, community.id);
    await expectStatus(await patchCommunityRaw(owner, community.id, { join_policy: 'approval' }), 200);
    expect(await join(applicant, community.id)).toBe('pending');

    for (const who of [member, applicant, stranger]) {
      await expectProblem(await patchCommunityRaw(who, community.id, { description: 'hijacked' }), 403);
    }
    await expectProblem(await call(`/communities/${community.id}`, { method: 'PATCH', body: { description: 'hijacked' } }), 401);
    expect((await getCommunity(community.id)).description).toBe('unchanged');
  });

  it('should refuse min_age above the existing max_age and max_age below the existing min_age', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner, { min_age: 18, max_age: 30 });
    await expectProblem(await patchCommunityRaw(owner, community.id, { min_age: 31 }), 400, 'min_age');
    await expectProblem(await patchCommunityRaw(owner, community.id, { max_age: 17 }), 400, 'max_age');
    await expectProblem(await patchCommunityRaw(owner, community.id, { min_age: 50, max_age: 40 }), 400, 'max_age');
    const read = await getCommunity(community.id);
    expect([read.min_age, read.max_age]).toEqual([18, 30]);
    // Moving both together, or lifting a bound, is fine.
    const moved = await expectStatus(await patchCommunityRaw(owner, community.id, { min_age: 40, max_age: 50 }), 200);
    expect([moved.min_age, moved.max_age]).toEqual([40, 50]);
    const open = await expectStatus(await patchCommunityRaw(owner, community.id, { max_age: null, min_age: 60 }), 200);
    expect([open.min_age, open.max_age]).toEqual([60, null]);
  });

  it('should refuse invalid fields on edit, naming them', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner);
    await expectProblem(await patchCommunityRaw(owner, community.id, { name: 'ab' }), 400, 'name');
    await expectProblem(await patchCommunityRaw(owner, community.id, { slug: 'mine-now' }), 400, 'slug');
    await expectProblem(await patchCommunityRaw(owner, community.id, { gender: 'other' }), 400, 'gender');
    await expectProblem(await patchCommunityRaw(owner, community.id, { location: { country: 'Portugal' } }), 400, 'location.country');
    await expectProblem(await patchCommunityRaw(owner, UNKNOWN_ID, { description: 'x' }), 404);
    expect(await getCommunity(community.id, owner)).toEqual(community);
  });

  it('should rename the community chat and the search text with the community', async () => {
    const [owner, member] = await users(2);
    const [oldWord, newWord] = [word(), word()];
    const community = await createCommunity(owner, { name: `Old ${oldWord}` });
    await join(member, community.id);
    const before = await expectStatus(await call(`/conversations/${community.conversation_id}`, { token: owner.accessToken }), 200);
    expect(before.title).toBe(`Old ${oldWord}`);

    await expectStatus(await patchCommunityRaw(owner, community.id, { name: `New ${newWord}` }), 200);
    for (const who of [owner, member]) {
      const after = await expectStatus(await call(`/conversations/${community.conversation_id}`, { token: who.accessToken }), 200);
      expect(after.title).toBe(`New ${newWord}`);
    }
    expect(await listIds(`q=${newWord}`)).toEqual([community.id]);
    expect(await listIds(`q=${oldWord}`)).toEqual([]);
  });
});

describe('Delete community', () => {
  it('should let only the owner delete', async () => {
    const [owner, moderator, member, stranger] = await users(4);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, moderator, 'moderator');
    await addMember(owner, community.id, member);
    for (const who of [moderator, member, stranger]) await expectProblem(await deleteCommunityRaw(who, community.id), 403);
    await expectProblem(await call(`/communities/${community.id}`, { method: 'DELETE' }), 401);
    expect((await getCommunity(community.id)).member_count).toBe(3);
  });

  it('should remove the community, its posts with likes and comments, its chat and its memberships', async () => {
    const [owner, member, outsider] = await users(3);
    const tag = word();
    const community = await createCommunity(owner, { name: `Doomed ${tag}` });
    await join(member, community.id);
    const post = await createPost(member, { content: 'in the community', community_id: community.id });
    expect(post.community_id).toBe(community.id);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: owner.accessToken }), 200);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: outsider.accessToken }), 200);
    await expectStatus(await call(`/posts/${post.id}/comments`, { token: outsider.accessToken, body: { content: 'nice' } }), 201);
    // An unrelated post by the member survives.
    const personal = await createPost(member, { content: 'on my own' });

    // Before: all of it is there.
    expect((await expectStatus(await call(`/posts/${post.id}`, { token: member.accessToken }), 200)).like_count).toBe(2);
    await expectStatus(await call(`/conversations/${community.conversation_id}`, { token: member.accessToken }), 200);
    expect((await myCommunities(member)).map((c) => c.id)).toContain(community.id);

    const res = await deleteCommunityRaw(owner, community.slug);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    await expectProblem(await getCommunityRaw(community.id), 404);
    await expectProblem(await getCommunityRaw(community.slug, owner), 404);
    for (const who of [member, owner, outsider]) await expectProblem(await call(`/posts/${post.id}`, { token: who.accessToken }), 404);
    await expectProblem(await call(`/posts/${post.id}/comments`, { token: outsider.accessToken }), 404);
    const leftovers = await env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM posts WHERE id = ?1 OR community_id = ?2) AS posts,
              (SELECT COUNT(*) FROM likes WHERE post_id = ?1) AS likes,
              (SELECT COUNT(*) FROM comments WHERE post_id = ?1) AS comments,
              (SELECT COUNT(*) FROM community_members WHERE community_id = ?2) AS members,
              (SELECT COUNT(*) FROM conversation_members WHERE conversation_id = ?3) AS chat_members`,
    )
      .bind(post.id, community.id, community.conversation_id)
      .first();
    expect(leftovers).toEqual({ posts: 0, likes: 0, comments: 0, members: 0, chat_members: 0 });
    for (const who of [owner, member]) await expectProblem(await call(`/conversations/${community.conversation_id}`, { token: who.accessToken }), 404);
    expect((await myCommunities(member)).map((c) => c.id)).not.toContain(community.id);
    expect((await myCommunities(owner)).map((c) => c.id)).not.toContain(community.id);
    expect(await listIds(`q=${tag}`)).toEqual([]);
    await expectStatus(await call(`/posts/${personal.id}`, { token: member.accessToken }), 200);
    // Deleting again finds nothing.
    await expectProblem(await deleteCommunityRaw(owner, community.id), 404);
  });
});

describe('Community avatar', () => {
  it('should let the owner upload an image and serve it at avatar_url', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner);
    const png = IMAGE_FIXTURES.png;
    const body = await expectStatus(await putAvatar(owner, community.id, png.bytes, 'a.png', png.type), 200);
    expectCommunityShape(body);
    expect(body.id).toBe(community.id);
    expect(body.avatar_url).toMatch(/^http:\/\/kith\.test\/api\/v1\/media\//);
    const image = await call(body.avatar_url);
    expect(image.status).toBe(200);
    expect(image.headers.get('Content-Type')).toBe('image/png');
    expect(new Uint8Array(await image.arrayBuffer())).toEqual(png.bytes);
    expect((await getCommunity(community.id)).avatar_url).toBe(body.avatar_url);
  });

  it('should let a moderator replace the avatar, removing the previous image', async () => {
    const [owner, moderator] = await users(2);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, moderator, 'moderator');
    const first = await expectStatus(await putAvatar(owner, community.id, IMAGE_FIXTURES.png.bytes), 200);
    const second = await expectStatus(await putAvatar(moderator, community.slug, IMAGE_FIXTURES.jpeg.bytes), 200);
    expect(second.avatar_url).toEqual(expect.any(String));
    expect(second.avatar_url).not.toBe(first.avatar_url);
    const image = await call(second.avatar_url);
    expect(image.status).toBe(200);
    expect(image.headers.get('Content-Type')).toBe('image/jpeg');
    expect((await call(first.avatar_url)).status).toBe(404);
  });

  it('should refuse a plain member (403) and a file that is not an image (415)', async () => {
    const [owner, member] = await users(2);
    const community = await createCommunity(owner);
    await join(member, community.id);
    await expectProblem(await putAvatar(member, community.id, IMAGE_FIXTURES.png.bytes), 403);
    await expectProblem(await call(`/communities/${community.id}/avatar`, { method: 'DELETE', token: member.accessToken }), 403);
    const text = new TextEncoder().encode('this is not an image at all, just some text');
    await expectProblem(await putAvatar(owner, community.id, text, 'notes.png', 'image/png'), 415);
    expect((await getCommunity(community.id)).avatar_url).toBeNull();
  });

  it('should remove the avatar with DELETE (204) and set avatar_url back to null', async () => {
    const owner = await createUser();
    const community = await createCommunity(owner);
    const withAvatar = await expectStatus(await putAvatar(owner, community.id, IMAGE_FIXTURES.webp.bytes), 200);
    const res = await call(`/communities/${community.id}/avatar`, { method: 'DELETE', token: owner.accessToken });
    expect(res.status).toBe(204);
    expect((await getCommunity(community.id)).avatar_url).toBeNull();
    expect((await call(withAvatar.avatar_url)).status).toBe(404);
    // Idempotent.
    expect((await call(`/communities/${community.id}/avatar`, { method: 'DELETE', token: owner.accessToken })).status).toBe(204);
  });
});

describe('List communities', () => {
  it('should sort by members, newest and name', async () => {
    const [owner, a, b, c] = await users(4);
    const place = country();
    const loc = { location: { country: place } };
    const one = await createCommunity(owner, { ...loc, name: `banana ${word()}` });
    await sleep(3);
    const three = await createCommunity(owner, { ...loc, name: `Apple ${word()}` });
    await sleep(3);
    const four = await createCommunity(owner, { ...loc, name: `cherry ${word()}` });
    await sleep(3);
    const two = await createCommunity(owner, { ...loc, name: `apricot ${word()}` });
    for (const u of [a, b]) await join(u, three.id);
    for (const u of [a, b, c]) await join(u, four.id);
    await join(c, two.id);

    const members = (await listPage(`country=${place}&sort=members`)).data;
    expect(members.map((x) => [x.id, x.member_count])).toEqual([
      [four.id, 4],
      [three.id, 3],
      [two.id, 2],
      [one.id, 1],
    ]);
    for (const item of members) expectCommunityShape(item);
    // members is the default order.
    expect(await listIds(`country=${place}`)).toEqual(members.map((x) => x.id));

    const newest = (await listPage(`country=${place}&sort=new`)).data;
    expect(newest.map((x) => x.id)).toEqual([two.id, four.id, three.id, one.id]);
    const times = newest.map((x) => Date.parse(x.created_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);

    const byNameList = (await listPage(`country=${place}&sort=name`)).data;
    expect(byNameList.map((x) => x.id)).toEqual([three.id, two.id, one.id, four.id]);
  });

  it('should refuse an unknown sort and other invalid query values, naming the parameter', async () => {
    await expectProblem(await call('/communities?sort=popular'), 400, 'sort');
    await expectProblem(await call('/communities?age=-1'), 400, 'age');
    await expectProblem(await call('/communities?age=old'), 400, 'age');
    await expectProblem(await call('/communities?gender=other'), 400, 'gender');
    await expectProblem(await call('/communities?country=Portugal'), 400, 'country');
    await expectProblem(await call('/communities?limit=0'), 400, 'limit');
    await expectProblem(await call('/communities?limit=101'), 400, 'limit');
  });

  it('should walk every page of each sort with limit=2 without gaps or duplicates', async () => {
    const [owner, a, b, c] = await users(4);
    const place = country();
    const names = ['delta', 'Alpha', 'echo', 'Bravo', 'charlie', 'Golf', 'foxtrot'];
    const joiners = [[], [a, b], [a], [], [a, b, c], [b], [c]];
    const created: any[] = [];
    for (const [i, name] of names.entries()) {
      const community = await createCommunity(owner, { name: `${name} ${word()}`, location: { country: place } });
      for (const u of joiners[i]!) await join(u, community.id);
      created.push({ ...community, member_count: 1 + joiners[i]!.length });
      await sleep(2);
    }
    const expected = { members: [...created].sort(byMembers), new: [...created].sort(byNew), name: [...created].sort(byName) };
    // Sanity of the expectation: newest first is the reverse creation order.
    expect(expected.new.map((x) => x.id)).toEqual([...created].reverse().map((x) => x.id));

    for (const sort of ['members', 'new', 'name'] as const) {
      const walked = await walk(`country=${place}&sort=${sort}`, 2, a);
      const ids = walked.map((x) => x.id);
      expect(new Set(ids).size, sort).toBe(ids.length);
      expect(ids, sort).toEqual(expected[sort].map((x) => x.id));
      expect(walked.map((x) => x.member_count), sort).toEqual(expected[sort].map((x) => x.member_count));
      // my_role is the viewer's own.
      expect(walked.filter((x) => x.my_role === 'member').map((x) => x.id).sort(), sort).toEqual(
        created.filter((_, i) => joiners[i]!.includes(a)).map((x) => x.id).sort(),
      );
    }
  });

  it('should walk all communities without a filter, each sort, without gaps or duplicates', async () => {
    const owner = await createUser();
    for (let i = 0; i < 3; i++) await createCommunity(owner);
    const { results } = await env.DB.prepare('SELECT id FROM communities').all<{ id: string }>();
    const all = results.map((r) => r.id).sort();
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const sort of ['members', 'new', 'name'] as const) {
      const walked = await walk(`sort=${sort}`, 7);
      const ids = walked.map((x) => x.id);
      expect(new Set(ids).size, sort).toBe(ids.length);
      expect([...ids].sort(), sort).toEqual(all);
      const comparator = sort === 'members' ? byMembers : sort === 'new' ? byNew : byName;
      expect(ids, sort).toEqual([...walked].sort(comparator).map((x) => x.id));
    }
  });

  it('should walk sort=name without gaps when names start with accented capitals', async () => {
    const owner = await createUser();
    const place = country();
    const tag = word();
    const names = ['Ébano', 'Ñandú', 'Óscar', 'Úrsula', 'alpha', 'Zulu', 'émile', 'Åsa'];
    const ids: string[] = [];
    for (const name of names) ids.push((await createCommunity(owner, { name: `${name} ${tag}`, location: { country: place } })).id);
    const onePage = await listIds(`country=${place}&sort=name`);
    expect([...onePage].sort()).toEqual([...ids].sort());
    for (const limit of [1, 2, 3]) {
      const walked = (await walk(`country=${place}&sort=name`, limit)).map((x) => x.id);
      expect(walked, `limit=${limit}`).toEqual(onePage);
    }
  });

  it('should find by a word prefix of the name or the description, ignoring case and accents', async () => {
    const owner = await createUser();
    const [nameWord, descWord, missing] = [word(), word(), word()];
    const cafe = await createCommunity(owner, { name: `Café ${nameWord}`, description: `Sourdough ${descWord} mornings` });
    const other = await createCommunity(owner, { name: `Bakery ${nameWord}zz`, description: 'Bread' });

    expect(await listIds(`q=${encodeURIComponent(`cafe ${nameWord}`)}`)).toEqual([cafe.id]);
    expect(await listIds(`q=${encodeURIComponent(`CAFÉ ${nameWord.toUpperCase()}`)}`)).toEqual([cafe.id]);
    // A prefix of a name word finds both; of the description, the one.
    expect((await listIds(`q=${nameWord.slice(0, 5)}`)).sort()).toEqual([cafe.id, other.id].sort());
    expect(await listIds(`q=${descWord.slice(0, 5)}`)).toEqual([cafe.id]);
    expect(await listIds(`q=${encodeURIComponent(`sourdough ${descWord}`)}`)).toEqual([cafe.id]);
    // Only prefixes: the middle of a word finds nothing.
    expect(await listIds(`q=${nameWord.slice(3)}`)).toEqual([]);
    // Every word must match.
    expect(await listIds(`q=${encodeURIComponent(`${nameWord} ${missing}`)}`)).toEqual([]);
    expect(await listIds(`q=${missing}`)).toEqual([]);
    expect(await listIds(`q=${encodeURIComponent('!!! ???')}`)).toEqual([]);
    // Combined with a filter.
    const place = country();
    await expectStatus(await patchCommunityRaw(owner, other.id, { location: { country: place } }), 200);
    expect(await listIds(`q=${nameWord.slice(0, 5)}&country=${place}`)).toEqual([other.id]);
  });

  it('should filter by country, region and city, alone and combined, case-insensitively', async () => {
    const owner = await createUser();
    const [home, away] = [country(), country()];
    const [north, south] = [`North ${word(5)}`, `South ${word(5)}`];
    const [river, hill] = [`River ${word(5)}`, `Hill ${word(5)}`];
    const make = async (location: Record<string, string>) => (await createCommunity(owner, { location })).id;
    const c1 = await make({ country: home, region: north, city: river });
    const c2 = await make({ country: home, region: north, city: hill });
    const c3 = await make({ country: home, region: south, city: river });
    const c4 = await make({ country: home });
    const c5 = await make({ country: away, region: north, city: river });
    const c6 = await make({ country: home, city: river });
    const q = (s: string) => encodeURIComponent(s);
    const expectIds = async (query: string, ids: string[]) => expect((await listIds(query)).sort(), query).toEqual([...ids].sort());

    await expectIds(`country=${home.toLowerCase()}`, [c1, c2, c3, c4, c6]);
    await expectIds(`country=${away}`, [c5]);
    await expectIds(`region=${q(north.toUpperCase())}`, [c1, c2, c5]);
    await expectIds(`region=${q(`  ${north.toLowerCase()} `)}`, [c1, c2, c5]);
    await expectIds(`city=${q(river.toLowerCase())}`, [c1, c3, c5, c6]);
    await expectIds(`country=${home}&region=${q(north)}`, [c1, c2]);
    await expectIds(`country=${home}&city=${q(river)}`, [c1, c3, c6]);
    await expectIds(`region=${q(north)}&city=${q(river)}`, [c1, c5]);
    await expectIds(`country=${home}&region=${q(north)}&city=${q(river.toUpperCase())}`, [c1]);
    await expectIds(`country=${away}&region=${q(south)}`, []);
  });

  it('should keep only the communities whose age range contains age, bounds included', async () => {
    const owner = await createUser();
    const place = country();
    const make = async (min_age: number | null, max_age: number | null) => (await createCommunity(owner, { location: { country: place }, min_age, max_age })).id;
    const adults18to30 = await make(18, 30);
    const upTo17 = await make(null, 17);
    const from21 = await make(21, null);
    const anyAge = await make(null, null);
    const exactly30 = await make(30, 30);
    const expectAge = async (age: number, ids: string[]) => expect((await listIds(`country=${place}&age=${age}`)).sort(), `age=${age}`).toEqual([...ids].sort());

    await expectAge(0, [upTo17, anyAge]);
    await expectAge(17, [upTo17, anyAge]);
    await expectAge(18, [adults18to30, anyAge]);
    await expectAge(21, [adults18to30, from21, anyAge]);
    await expectAge(30, [adults18to30, from21, anyAge, exactly30]);
    await expectAge(31, [from21, anyAge]);
    await expectAge(150, [from21, anyAge]);
    expect((await listIds(`country=${place}`)).length).toBe(5);
  });

  it('should keep "any" and the matching gender only, and combine gender with age', async () => {
    const owner = await createUser();
    const place = country();
    const make = async (gender: string, extra: Record<string, unknown> = {}) => (await createCommunity(owner, { location: { country: place }, gender, ...extra })).id;
    const anyone = await make('any');
    const women = await make('female');
    const men = await make('male');
    const nonbinary = await make('nonbinary');
    const adultWomen = await make('female', { min_age: 18 });
    const expectIds = async (query: string, ids: string[]) => expect((await listIds(`country=${place}&${query}`)).sort(), query).toEqual([...ids].sort());

    await expectIds('gender=female', [anyone, women, adultWomen]);
    await expectIds('gender=male', [anyone, men]);
    await expectIds('gender=nonbinary', [anyone, nonbinary]);
    await expectIds('gender=female&age=17', [anyone, women]);
    await expectIds('gender=female&age=18', [anyone, women, adultWomen]);
    await expectIds('gender=male&age=40', [anyone, men]);
  });

  it('should never count pending applicants in member_count', async () => {
    const [owner, applicant, other, joiner] = await users(4);
    const place = country();
    const approval = await createCommunity(owner, { join_policy: 'approval', location: { country: place } });
    const open = await createCommunity(owner, { location: { country: place } });
    expect(await join(applicant, approval.id)).toBe('pending');
    expect(await join(other, approval.id)).toBe('pending');
    await join(joiner, open.id);

    expect((await getCommunity(approval.id)).member_count).toBe(1);
    expect((await getCommunity(approval.id, applicant)).my_role).toBe('pending');
    const listed = (await listPage(`country=${place}&sort=members`, applicant)).data;
    expect(listed.map((x) => [x.id, x.member_count, x.my_role])).toEqual([
      [open.id, 2, null],
      [approval.id, 1, 'pending'],
    ]);

    await expectStatus(await call(`/communities/${approval.id}/members/${applicant.id}`, { method: 'POST', token: owner.accessToken, body: { role: 'member' } }), 200);
    expect((await getCommunity(approval.id)).member_count).toBe(2);
  });
});

describe('My communities', () => {
  it('should list my communities and applications with my_role, most recently joined first', async () => {
    const [me, owner] = await users(2);
    const joined = await createCommunity(owner);
    const applied = await createCommunity(owner, { join_policy: 'approval' });
    const moderated = await createCommunity(owner);
    const notMine = await createCommunity(owner);

    expect(await myCommunities(me)).toEqual([]);
    await join(me, joined.id);
    await sleep(3);
    expect(await join(me, applied.id)).toBe('pending');
    await sleep(3);
    await addMember(owner, moderated.id, me, 'moderator');
    await sleep(3);
    const mine = await createCommunity(me);

    const list = await myCommunities(me);
    for (const item of list) expectCommunityShape(item);
    expect(list.map((c) => [c.id, c.my_role])).toEqual([
      [mine.id, 'owner'],
      [moderated.id, 'moderator'],
      [applied.id, 'pending'],
      [joined.id, 'member'],
    ]);
    expect(list.map((c) => c.id)).not.toContain(notMine.id);
    // Pages of one give the same order.
    expect((await walk('', 1, me, '/me/communities')).map((c) => c.id)).toEqual(list.map((c) => c.id));
    // The owner's list has what they own, with their role.
    const ownerList = await myCommunities(owner);
    expect(ownerList.map((c) => c.id).sort()).toEqual([joined.id, applied.id, moderated.id, notMine.id].sort());
    expect(new Set(ownerList.map((c) => c.my_role))).toEqual(new Set(['owner']));
  });

  it('should need authentication', async () => {
    await expectProblem(await call('/me/communities'), 401);
  });
});
