import { describe, expect, it } from 'vitest';
import { ageOn, joinRefusal } from '../../src/modules/communities/eligibility';
import { call, expectProblem, expectStatus, type TestUser, walkPages } from '../helpers/client';
import { addMember, birthdateYearsAgo, createCommunity, getCommunity, join, joinRaw, setProfile, users } from './helpers';

const day = (iso: string) => new Date(`${iso}T12:00:00.000Z`);
const ANY = { minAge: null, maxAge: null, gender: 'any' as const };
const NOBODY = { birthdate: null, gender: null };

describe('ageOn', () => {
  it('should go up exactly on the birthday', () => {
    expect(ageOn('2000-06-15', day('2018-06-14'))).toBe(17);
    expect(ageOn('2000-06-15', day('2018-06-15'))).toBe(18);
    expect(ageOn('2000-06-15', day('2018-06-16'))).toBe(18);
    expect(ageOn('2000-06-15', day('2019-06-14'))).toBe(18);
  });

  it('should compare the month before the day', () => {
    expect(ageOn('2000-06-15', day('2018-05-31'))).toBe(17);
    expect(ageOn('2000-06-15', day('2018-07-01'))).toBe(18);
    expect(ageOn('2000-06-30', day('2018-06-01'))).toBe(17);
  });

  it('should handle birthdays at the ends of the year', () => {
    expect(ageOn('2000-12-31', day('2018-12-30'))).toBe(17);
    expect(ageOn('2000-12-31', day('2018-12-31'))).toBe(18);
    expect(ageOn('2000-12-31', day('2019-01-01'))).toBe(18);
    expect(ageOn('2000-01-01', day('2017-12-31'))).toBe(17);
    expect(ageOn('2000-01-01', day('2018-01-01'))).toBe(18);
  });

  it('should count in UTC, whatever the time of day', () => {
    expect(ageOn('2000-06-15', new Date('2018-06-14T23:59:59.999Z'))).toBe(17);
    expect(ageOn('2000-06-15', new Date('2018-06-15T00:00:00.000Z'))).toBe(18);
  });

  it('should be 0 on the day of birth and until the first birthday', () => {
    expect(ageOn('2024-05-10', day('2024-05-10'))).toBe(0);
    expect(ageOn('2024-05-10', day('2025-05-09'))).toBe(0);
    expect(ageOn('2024-05-10', day('2025-05-10'))).toBe(1);
  });

  it('should give a 29 February birthday on 1 March in common years', () => {
    expect(ageOn('2004-02-29', day('2022-02-28'))).toBe(17);
    expect(ageOn('2004-02-29', day('2022-03-01'))).toBe(18);
    expect(ageOn('2004-02-29', day('2023-02-28'))).toBe(18);
    expect(ageOn('2004-02-29', day('2023-03-01'))).toBe(19);
  });

  it('should give a 29 February birthday on 29 February in leap years', () => {
    expect(ageOn('2004-02-29', day('2024-02-28'))).toBe(19);
    expect(ageOn('2004-02-29', day('2024-02-29'))).toBe(20);
    expect(ageOn('2004-02-29', day('2024-03-01'))).toBe(20);
  });

  it('should not treat a 28 February or 1 March birthday differently in leap years', () => {
    expect(ageOn('2003-02-28', day('2024-02-27'))).toBe(20);
    expect(ageOn('2003-02-28', day('2024-02-28'))).toBe(21);
    expect(ageOn('2003-03-01', day('2024-02-29'))).toBe(20);
    expect(ageOn('2003-03-01', day('2024-03-01'))).toBe(21);
  });
});

describe('joinRefusal', () => {
  it('should let anyone join a community with no rules, even with an empty profile', () => {
    expect(joinRefusal(ANY, NOBODY, day('2026-01-01'))).toBeNull();
  });

  it('should name birthdate when an age-limited community meets a profile without one', () => {
    for (const rules of [
      { ...ANY, minAge: 18 },
      { ...ANY, maxAge: 30 },
      { ...ANY, minAge: 18, maxAge: 30 },
    ]) {
      const refusal = joinRefusal(rules, { birthdate: null, gender: 'female' }, day('2026-01-01'));
      expect(refusal).toMatchObject({ rule: 'age', missingField: 'birthdate' });
      expect(refusal?.detail).toContain('birthdate');
    }
  });

  it('should name gender when a gender community meets a profile without one', () => {
    const refusal = joinRefusal({ ...ANY, gender: 'female' }, { birthdate: '1990-01-01', gender: null }, day('2026-01-01'));
    expect(refusal).toMatchObject({ rule: 'gender', missingField: 'gender' });
    expect(refusal?.detail).toContain('gender');
  });

  it('should report the age rule before the gender rule', () => {
    const refusal = joinRefusal({ minAge: 18, maxAge: null, gender: 'male' }, NOBODY, day('2026-01-01'));
    expect(refusal).toMatchObject({ rule: 'age', missingField: 'birthdate' });
  });

  it('should apply min_age inclusively, from the birthday on', () => {
    const rules = { ...ANY, minAge: 18 };
    const young = joinRefusal(rules, { birthdate: '2008-03-10', gender: null }, day('2026-03-09'));
    expect(young).toMatchObject({ rule: 'age' });
    expect(young?.missingField).toBeUndefined();
    expect(young?.detail).toMatch(/\bage/i);
    expect(joinRefusal(rules, { birthdate: '2008-03-10', gender: null }, day('2026-03-10'))).toBeNull();
  });

  it('should apply max_age inclusively, until the day before the next birthday', () => {
    const rules = { ...ANY, maxAge: 30 };
    expect(joinRefusal(rules, { birthdate: '1995-07-20', gender: null }, day('2026-07-19'))).toBeNull();
    const old = joinRefusal(rules, { birthdate: '1995-07-20', gender: null }, day('2026-07-20'));
    expect(old).toMatchObject({ rule: 'age' });
    expect(old?.missingField).toBeUndefined();
  });

  it('should let a 29 February child join an 18+ community on 1 March of a common year, not before', () => {
    const rules = { ...ANY, minAge: 18 };
    expect(joinRefusal(rules, { birthdate: '2004-02-29', gender: null }, day('2022-02-28'))).toMatchObject({ rule: 'age' });
    expect(joinRefusal(rules, { birthdate: '2004-02-29', gender: null }, day('2022-03-01'))).toBeNull();
  });

  it('should refuse a gender mismatch without naming a missing field, and accept a match', () => {
    const refusal = joinRefusal({ ...ANY, gender: 'female' }, { birthdate: null, gender: 'male' }, day('2026-01-01'));
    expect(refusal).toMatchObject({ rule: 'gender' });
    expect(refusal?.missingField).toBeUndefined();
    expect(joinRefusal({ ...ANY, gender: 'female' }, { birthdate: null, gender: 'female' }, day('2026-01-01'))).toBeNull();
    expect(joinRefusal({ ...ANY, gender: 'nonbinary' }, { birthdate: null, gender: 'nonbinary' }, day('2026-01-01'))).toBeNull();
  });
});

/** A user with the given profile fields already set. */
async function userWith(fields: Record<string, unknown>): Promise<TestUser> {
  const [user] = await users(1);
  if (Object.keys(fields).length) await setProfile(user, fields);
  return user;
}

describe('Joining with eligibility rules', () => {
  it('should let someone turning 18 today join an 18+ community, and refuse someone turning 18 tomorrow', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { min_age: 18 });
    const today = await userWith({ birthdate: birthdateYearsAgo(18) });
    const tomorrow = await userWith({ birthdate: birthdateYearsAgo(18, 1) });
    expect(await join(today, community.id)).toBe('member');
    const problem = await expectProblem(await joinRaw(tomorrow, community.id), 403);
    expect(problem.detail).toMatch(/\bage/i);
    expect(problem.detail).toContain('18');
    expect((await getCommunity(community.id)).member_count).toBe(2);
    expect((await getCommunity(community.id, tomorrow)).my_role).toBeNull();
  });

  it('should refuse someone turning 31 today from a community up to 30, and let someone turning 31 tomorrow in', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { max_age: 30 });
    const today = await userWith({ birthdate: birthdateYearsAgo(31) });
    const tomorrow = await userWith({ birthdate: birthdateYearsAgo(31, 1) });
    const problem = await expectProblem(await joinRaw(today, community.id), 403);
    expect(problem.detail).toMatch(/\bage/i);
    expect(problem.detail).toContain('30');
    expect(await join(tomorrow, community.id)).toBe('member');
  });

  it('should apply the age rule to applications as well', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { min_age: 18, join_policy: 'approval' });
    const young = await userWith({ birthdate: birthdateYearsAgo(18, 1) });
    const adult = await userWith({ birthdate: birthdateYearsAgo(18) });
    await expectProblem(await joinRaw(young, community.id), 403);
    expect(await join(adult, community.id)).toBe('pending');
  });

  it('should name birthdate when an age-limited community meets a profile without one', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { min_age: 18 });
    const user = await userWith({});
    const problem = await expectProblem(await joinRaw(user, community.id), 403, 'birthdate');
    expect(problem.detail).toContain('birthdate');
    // Filling it in lets them join.
    await setProfile(user, { birthdate: birthdateYearsAgo(40) });
    expect(await join(user, community.id)).toBe('member');
  });

  it('should name gender when a gender community meets a profile without one', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { gender: 'female' });
    const user = await userWith({ birthdate: birthdateYearsAgo(25) });
    const problem = await expectProblem(await joinRaw(user, community.id), 403, 'gender');
    expect(problem.detail).toContain('gender');
  });

  it('should refuse a gender mismatch naming the gender rule', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { gender: 'female' });
    const user = await userWith({ gender: 'male' });
    const problem = await expectProblem(await joinRaw(user, community.id), 403);
    expect(problem.detail).toMatch(/gender/i);
    expect((await getCommunity(community.id, user)).my_role).toBeNull();
    expect((await getCommunity(community.id)).member_count).toBe(1);
  });

  it('should let a matching gender join', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { gender: 'nonbinary' });
    const user = await userWith({ gender: 'nonbinary' });
    expect(await join(user, community.id)).toBe('member');
  });

  it('should need no profile fields for an "any" community without age limits', async () => {
    const [owner, user] = await users(2);
    const community = await createCommunity(owner, { gender: 'any' });
    expect(await join(user, community.id)).toBe('member');
  });

  it('should check the age rule before the gender rule', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner, { min_age: 18, gender: 'female' });
    const user = await userWith({});
    await expectProblem(await joinRaw(user, community.id), 403, 'birthdate');
    await setProfile(user, { birthdate: birthdateYearsAgo(20) });
    await expectProblem(await joinRaw(user, community.id), 403, 'gender');
    await setProfile(user, { gender: 'female' });
    expect(await join(user, community.id)).toBe('member');
  });
});

interface Page {
  data: any[];
  next_cursor: string | null;
}

/** Every page of GET /communities/eligible, `limit` at a time. */
const walkEligible = (user: TestUser, limit: number) => walkPages('/communities/eligible', user.accessToken, limit, 100);

const idsOf = (list: { id: string }[]) => list.map((c) => c.id);

/** The place rank of a listed community for a caller at `me` (0 city … 3 global), as the API describes it. */
function rankFor(me: { country: string; region: string; city: string }, community: any): number {
  const loc = community.location;
  if (!loc) return 3;
  const key = (v: string | null) => (v === null ? null : v.trim().toLowerCase());
  if (loc.country !== me.country) return -1;
  if (key(loc.region) === key(me.region) && loc.city !== null && key(loc.city) === key(me.city)) return 0;
  if (key(loc.region) === key(me.region) && loc.city === null) return 1;
  if (loc.region === null && loc.city === null) return 2;
  return -1;
}

/** Makes `count` fresh accounts join an open community. */
async function fill(owner: TestUser, id: string, count: number): Promise<void> {
  for (const u of await users(count)) await addMember(owner, id, u);
}

describe('Communities one may join (GET /communities/eligible)', () => {
  it('should list exactly the eligible communities, nearest place first and most members first within a place', async () => {
    const [owner] = await users(1);
    const caller = await userWith({
      birthdate: birthdateYearsAgo(25),
      gender: 'female',
      // Different case and spacing than the communities use: places match case-insensitively.
      location: { country: 'NZ', region: 'nz-auk', city: 'AUCKLAND' },
    });
    const make = (body: Record<string, unknown>) => createCommunity(owner, body);
    const city = { country: 'NZ', region: 'NZ-AUK', city: 'Auckland' };
    const region = { country: 'NZ', region: 'NZ-AUK' };
    const country = { country: 'NZ' };

    // Eligible.
    const cityBig = await make({ location: city });
    const citySmall = await make({ location: { ...city, city: ' auckland' }, gender: 'female', min_age: 18, max_age: 25 });
    const regionOne = await make({ location: region, join_policy: 'approval' });
    const countryOne = await make({ location: country, visibility: 'private' });
    const globalBig = await make({});
    const globalSmall = await make({ min_age: 25 });
    await fill(owner, cityBig.id, 2);
    await fill(owner, globalBig.id, 2);

    // Not eligible.
    const otherCity = await make({ location: { ...city, city: 'Manukau' } });
    const otherRegion = await make({ location: { country: 'NZ', region: 'NZ-WGN' } });
    const otherRegionCity = await make({ location: { country: 'NZ', region: 'NZ-WGN', city: 'Auckland' } });
    const otherCountry = await make({ location: { country: 'TO', region: 'NZ-AUK', city: 'Auckland' } });
    const tooYoung = await make({ location: city, min_age: 26 });
    const tooOld = await make({ min_age: 18, max_age: 24 });
    const wrongGender = await make({ location: region, gender: 'male' });
    const joined = await make({ location: city });
    const applied = await make({ location: country, join_policy: 'approval' });
    const ownCommunity = await createCommunity(caller, { location: city });
    await join(caller, joined.id);
    expect(await join(caller, applied.id)).toBe('pending');

    const ours = [cityBig, citySmall, regionOne, countryOne, globalBig, globalSmall];
    const notOurs = [otherCity, otherRegion, otherRegionCity, otherCountry, tooYoung, tooOld, wrongGender, joined, applied, ownCommunity];
    const created = new Set(idsOf([...ours, ...notOurs]));

    const { items } = await walkEligible(caller, 100);
    const listed = idsOf(items);
    expect(new Set(listed).size).toBe(listed.length);
    // Other tests of this file add global communities of their own; ours keep this exact order.
    expect(listed.filter((id) => created.has(id))).toEqual(idsOf(ours));
    // Everything listed in this country is ours: none of the ineligible ones slipped in.
    expect(items.filter((c) => c.location !== null).map((c) => c.id)).toEqual(idsOf([cityBig, citySmall, regionOne, countryOne]));
    for (const c of items) expect(c.my_role).toBeNull();
    // Place ranks never go down along the list, and member counts never go up within a rank.
    const me = { country: 'NZ', region: 'nz-auk', city: 'AUCKLAND' };
    const ranks = items.map((c) => rankFor(me, c));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect([...ranks].sort((x, y) => x - y)).toEqual(ranks);
    for (let i = 1; i < items.length; i++) {
      if (ranks[i] === ranks[i - 1]) expect(items[i].member_count).toBeLessThanOrEqual(items[i - 1].member_count);
    }
    expect(items.find((c) => c.id === cityBig.id).member_count).toBe(3);
  });

  it('should walk the list two at a time without gaps or duplicates', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ birthdate: birthdateYearsAgo(30), gender: 'male', location: { country: 'IS', region: 'IS-1', city: 'Reykjavik' } });
    const made = [];
    for (const location of [
      { country: 'IS', region: 'IS-1', city: 'Reykjavik' },
      { country: 'IS', region: 'IS-1', city: 'reykjavik' },
      { country: 'IS', region: 'IS-1' },
      { country: 'IS', region: 'is-1' },
      { country: 'IS' },
      { country: 'IS' },
      undefined,
    ]) {
      made.push(await createCommunity(owner, location ? { location } : {}));
    }
    // Ties on member count and a few unequal counts, so the keyset crosses both.
    await fill(owner, made[1].id, 1);
    await fill(owner, made[4].id, 2);
    const all = await expectStatus<Page>(await call('/communities/eligible?limit=100', { token: caller.accessToken }), 200);
    expect(all.next_cursor).toBeNull();
    const { items, pages } = await walkEligible(caller, 2);
    expect(idsOf(items)).toEqual(idsOf(all.data));
    expect(new Set(idsOf(items)).size).toBe(items.length);
    expect(pages).toBe(Math.ceil(all.data.length / 2));
    for (const c of made) expect(idsOf(items)).toContain(c.id);
    // Rank order: both city ones (bigger first), both region ones, both country ones (bigger first), then global.
    const positions = made.map((c) => idsOf(items).indexOf(c.id));
    expect(new Set(positions.slice(0, 2))).toEqual(new Set([0, 1]));
    expect(items[0].id).toBe(made[1].id);
    expect(new Set(positions.slice(2, 4))).toEqual(new Set([2, 3]));
    expect(items[4].id).toBe(made[4].id);
    expect(items[5].id).toBe(made[5].id);
    expect(positions[6]).toBeGreaterThanOrEqual(6);
  });

  it('should show a caller with no location only global communities', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ birthdate: birthdateYearsAgo(30), gender: 'female' });
    const global = await createCommunity(owner);
    const local = await createCommunity(owner, { location: { country: 'ET' } });
    const localCity = await createCommunity(owner, { location: { country: 'ET', region: 'ET-AA', city: 'Addis Ababa' } });
    const { items } = await walkEligible(caller, 100);
    expect(items.length).toBeGreaterThan(0);
    for (const c of items) expect(c.location).toBeNull();
    expect(idsOf(items)).toContain(global.id);
    expect(idsOf(items)).not.toContain(local.id);
    expect(idsOf(items)).not.toContain(localCity.id);
  });

  it('should show a caller with only a country the country and global communities, not regional ones', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ location: { country: 'UY' } });
    const countryOne = await createCommunity(owner, { location: { country: 'UY' } });
    const regionOne = await createCommunity(owner, { location: { country: 'UY', region: 'UY-MO' } });
    const cityOne = await createCommunity(owner, { location: { country: 'UY', region: 'UY-MO', city: 'Montevideo' } });
    const global = await createCommunity(owner);
    const listed = idsOf((await walkEligible(caller, 100)).items);
    expect(listed).toContain(countryOne.id);
    expect(listed).toContain(global.id);
    expect(listed).not.toContain(regionOne.id);
    expect(listed).not.toContain(cityOne.id);
    expect(listed.indexOf(countryOne.id)).toBeLessThan(listed.indexOf(global.id));
  });

  it('should leave out age-limited communities for a caller without birthdate, and gendered ones without gender', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ location: { country: 'PY' } });
    const open = await createCommunity(owner, { location: { country: 'PY' } });
    const minAge = await createCommunity(owner, { location: { country: 'PY' }, min_age: 0 });
    const maxAge = await createCommunity(owner, { location: { country: 'PY' }, max_age: 120 });
    const gendered = await createCommunity(owner, { location: { country: 'PY' }, gender: 'female' });
    const listed = idsOf((await walkEligible(caller, 100)).items);
    expect(listed).toContain(open.id);
    expect(listed).not.toContain(minAge.id);
    expect(listed).not.toContain(maxAge.id);
    expect(listed).not.toContain(gendered.id);
    // Once the profile has them, they appear.
    await setProfile(caller, { birthdate: birthdateYearsAgo(40), gender: 'female' });
    const after = idsOf((await walkEligible(caller, 100)).items);
    for (const c of [open, minAge, maxAge, gendered]) expect(after).toContain(c.id);
  });

  it('should apply the age edges as joining does', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ birthdate: birthdateYearsAgo(18), location: { country: 'GH' } });
    const from18 = await createCommunity(owner, { location: { country: 'GH' }, min_age: 18 });
    const from19 = await createCommunity(owner, { location: { country: 'GH' }, min_age: 19 });
    const upTo18 = await createCommunity(owner, { location: { country: 'GH' }, max_age: 18 });
    const upTo17 = await createCommunity(owner, { location: { country: 'GH' }, max_age: 17 });
    const listed = idsOf((await walkEligible(caller, 100)).items);
    expect(listed).toContain(from18.id);
    expect(listed).toContain(upTo18.id);
    expect(listed).not.toContain(from19.id);
    expect(listed).not.toContain(upTo17.id);
    // And the listed ones can be joined, the others not.
    expect(await join(caller, from18.id)).toBe('member');
    expect(await join(caller, upTo18.id)).toBe('member');
    await expectProblem(await joinRaw(caller, from19.id), 403);
    await expectProblem(await joinRaw(caller, upTo17.id), 403);
    const after = idsOf((await walkEligible(caller, 100)).items);
    expect(after).not.toContain(from18.id);
    expect(after).not.toContain(upTo18.id);
  });

  it('should list a community again after the caller leaves it', async () => {
    const [owner] = await users(1);
    const caller = await userWith({ location: { country: 'BO' } });
    const community = await createCommunity(owner, { location: { country: 'BO' } });
    await join(caller, community.id);
    expect(idsOf((await walkEligible(caller, 100)).items)).not.toContain(community.id);
    expect((await call(`/communities/${community.id}/leave`, { method: 'POST', token: caller.accessToken })).status).toBe(204);
    expect(idsOf((await walkEligible(caller, 100)).items)).toContain(community.id);
  });

  it('should answer 401 to anonymous callers', async () => {
    await expectProblem(await call('/communities/eligible'), 401);
  });
});

describe('Finding communities by age and gender (GET /communities?age=&gender=)', () => {
  async function listIds(query: string): Promise<string[]> {
    const page = await expectStatus<Page>(await call(`/communities?limit=100&${query}`), 200);
    expect(page.next_cursor).toBeNull();
    return idsOf(page.data);
  }

  it('should keep exactly the communities such a person may join, bounds included', async () => {
    const [owner] = await users(1);
    const loc = { location: { country: 'KE' } };
    // Only KE communities made here are judged (unlocated ones of other tests never match country=KE).
    const rules = [
      { min_age: 18 },
      { max_age: 30 },
      { min_age: 18, max_age: 30 },
      { min_age: 31 },
      { max_age: 17 },
      {},
      { gender: 'female' },
      { gender: 'male', min_age: 18 },
      { gender: 'nonbinary', max_age: 30 },
    ] as const;
    const made: { id: string; rules: (typeof rules)[number] }[] = [];
    for (const r of rules) made.push({ id: (await createCommunity(owner, { ...loc, ...r })).id, rules: r });
    const mine = new Set(made.map((m) => m.id));
    const today = new Date();

    for (const age of [0, 17, 18, 30, 31, 60]) {
      for (const gender of [undefined, 'female', 'male', 'nonbinary'] as const) {
        const query = `country=KE&age=${age}${gender ? `&gender=${gender}` : ''}`;
        const listed = (await listIds(query)).filter((id) => mine.has(id));
        const expected = made
          .filter(({ rules: r }) => {
            const community = { minAge: 'min_age' in r ? r.min_age : null, maxAge: 'max_age' in r ? r.max_age : null, gender: 'gender' in r ? r.gender : ('any' as const) };
            // With no gender asked, only the age is filtered: judge as someone of the community's own gender.
            const profileGender = gender ?? (community.gender === 'any' ? 'female' : community.gender);
            return joinRefusal(community, { birthdate: birthdateYearsAgo(age), gender: profileGender }, today) === null;
          })
          .map((m) => m.id);
        expect(new Set(listed), query).toEqual(new Set(expected));
      }
    }
  });

  it('should include a min_age community from exactly that age and a max_age community up to exactly that age', async () => {
    const [owner] = await users(1);
    const loc = { location: { country: 'TZ' } };
    const from18 = (await createCommunity(owner, { ...loc, min_age: 18 })).id;
    const upTo30 = (await createCommunity(owner, { ...loc, max_age: 30 })).id;
    expect(await listIds('country=TZ&age=17')).toEqual([upTo30]);
    expect(new Set(await listIds('country=TZ&age=18'))).toEqual(new Set([from18, upTo30]));
    expect(new Set(await listIds('country=TZ&age=30'))).toEqual(new Set([from18, upTo30]));
    expect(await listIds('country=TZ&age=31')).toEqual([from18]);
  });

  it('should keep "any" and the matching gender only', async () => {
    const [owner] = await users(1);
    const loc = { location: { country: 'UG' } };
    const any = (await createCommunity(owner, loc)).id;
    const female = (await createCommunity(owner, { ...loc, gender: 'female' })).id;
    const male = (await createCommunity(owner, { ...loc, gender: 'male' })).id;
    expect(new Set(await listIds('country=UG&gender=female'))).toEqual(new Set([any, female]));
    expect(new Set(await listIds('country=UG&gender=male'))).toEqual(new Set([any, male]));
    expect(await listIds('country=UG&gender=nonbinary')).toEqual([any]);
    expect(new Set(await listIds('country=UG'))).toEqual(new Set([any, female, male]));
  });

  it('should refuse malformed age and gender filters with 400', async () => {
    await expectProblem(await call('/communities?age=-1'), 400, 'age');
    await expectProblem(await call('/communities?age=abc'), 400, 'age');
    // An empty age is no age of 0 (the validating fetch found it read as 0).
    await expectProblem(await call('/communities?age='), 400, 'age');
    await expectProblem(await call('/communities?age=1e1'), 400, 'age');
    await expectProblem(await call('/communities?gender=any'), 400, 'gender');
  });
});
