import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { READ_MARGIN } from '../../src/modules/suggestions/suggestions.queries';
import { decodeSuggestionPage } from '../../src/modules/suggestions/suggestions.service';
import { act, createStaff, nonsenseWord } from '../moderation/helpers';
import { createCommunity, join, users } from '../communities/helpers';
import { block, follow, makeFriends, makePrivate, patchMe, requestFollow, UNKNOWN_ID, type TestUser } from '../posts/helpers';

const TEN_MINUTES = 10 * 60 * 1000;

interface Suggestion {
  user: { id: string };
  reasons: string[];
  mutual_count: number;
  mutuals: { id: string }[];
}

async function suggestions(viewer: TestUser, query = ''): Promise<Suggestion[]> {
  const body = await expectStatus(await call(`/suggestions${query}`, { token: viewer.accessToken }), 200);
  expect(Object.keys(body)).toEqual(['data']);
  return body.data;
}

const suggestedIds = async (viewer: TestUser) => (await suggestions(viewer, '?limit=100')).map((s) => s.user.id);
const entryFor = (list: Suggestion[], user: TestUser) => list.find((s) => s.user.id === user.id);
/** The reasons `user` is suggested for, or [] when absent (new callers also get popular accounts). */
const reasonsFor = async (viewer: TestUser, user: TestUser) => entryFor(await suggestions(viewer, '?limit=100'), user)?.reasons ?? [];
const dismiss = (viewer: TestUser, id: string) => call(`/suggestions/${id}`, { method: 'DELETE', token: viewer.accessToken });

describe('GET /suggestions', () => {
  it('should suggest friends of friends with mutual counts and at most three mutuals, most mutuals first', async () => {
    const [me, f1, f2, f3, f4, many, one] = await users(7);
    for (const friend of [f1, f2, f3, f4]) await makeFriends(me, friend);
    for (const friend of [f1, f2, f3, f4]) await makeFriends(friend, many);
    await makeFriends(f1, one);
    const list = await suggestions(me, '?limit=100');
    const ids = list.map((s) => s.user.id);
    for (const known of [me, f1, f2, f3, f4]) expect(ids).not.toContain(known.id);
    const best = entryFor(list, many)!;
    // (A caller with few connections also gets popular accounts, so `popular` may follow.)
    expect(best).toMatchObject({ reasons: expect.arrayContaining(['mutual_friends']), mutual_count: 4 });
    expect(best.reasons[0]).toBe('mutual_friends');
    expect(best.mutuals).toHaveLength(3);
    for (const mutual of best.mutuals) expect([f1.id, f2.id, f3.id, f4.id]).toContain(mutual.id);
    expect(entryFor(list, one)).toMatchObject({ mutual_count: 1, mutuals: [{ id: f1.id }] });
    expect(entryFor(list, one)!.reasons[0]).toBe('mutual_friends');
    expect(ids.indexOf(many.id)).toBeLessThan(ids.indexOf(one.id));
    expect(await suggestions(me, '?limit=1')).toHaveLength(1);
  });

  it('should suggest follows of follows, members of shared communities and people nearby', async () => {
    const [me, followed, theirs, member, neighbour] = await users(5);
    await follow(me, followed);
    await follow(followed, theirs);
    const community = await createCommunity(member);
    await join(me, community.id);
    const city = nonsenseWord('Ci');
    for (const person of [me, neighbour]) await patchMe(person, { location: { country: 'PT', region: 'PT-11', city } });
    const list = await suggestions(me, '?limit=100');
    expect(entryFor(list, theirs)).toMatchObject({ mutual_count: 1, mutuals: [{ id: followed.id }] });
    expect(entryFor(list, member)).toMatchObject({ mutual_count: 0, mutuals: [] });
    expect(entryFor(list, neighbour)).toMatchObject({ mutual_count: 0, mutuals: [] });
    expect(entryFor(list, theirs)!.reasons.filter((r) => r !== 'popular')).toEqual(['mutual_follows']);
    expect(entryFor(list, member)!.reasons.filter((r) => r !== 'popular')).toEqual(['same_community']);
    expect(entryFor(list, neighbour)!.reasons.filter((r) => r !== 'popular')).toEqual(['nearby']);
  });

  it('should suggest popular accounts to a new user', async () => {
    const [star, fan] = await users(2);
    await follow(fan, star);
    const list = await suggestions(await createUser());
    expect(list.length).toBeGreaterThan(0);
    for (const entry of list) expect(entry.reasons).toEqual(['popular']);
  });

  it('should leave out everyone the contract excludes, as soon as the reason arises', async () => {
    const staff = await createStaff();
    const [me, hub] = await users(2);
    await makeFriends(me, hub);
    const names = ['clean', 'friend', 'followed', 'followRequested', 'requestedByMe', 'requestedMe', 'blockedByMe', 'blockingMe', 'dismissed', 'suspended', 'silenced', 'hidden'] as const;
    const c = {} as Record<(typeof names)[number], TestUser>;
    for (const name of names) {
      c[name] = await createUser();
      await makeFriends(hub, c[name]);
    }
    await makeFriends(me, c.friend);
    await makePrivate(c.followRequested);
    const before = await suggestedIds(me);
    for (const name of names) if (name !== 'friend') expect(before, name).toContain(c[name].id);
    expect(before).not.toContain(c.friend.id);
    // Each exclusion after the list was computed (and cached).
    await follow(me, c.followed);
    await requestFollow(me, c.followRequested);
    await expectStatus(await call('/friends/requests', { token: me.accessToken, body: { user_id: c.requestedByMe.id } }), 201);
    await expectStatus(await call('/friends/requests', { token: c.requestedMe.accessToken, body: { user_id: me.id } }), 201);
    await block(me, c.blockedByMe);
    await block(c.blockingMe, me);
    await expectStatus(await dismiss(me, c.dismissed.id), 204);
    await act(staff, c.suspended, 'suspend');
    await act(staff, c.silenced, 'silence');
    await patchMe(c.hidden, { discoverable: false });
    const after = await suggestedIds(me);
    for (const name of names) if (name !== 'clean') expect(after, name).not.toContain(c[name].id);
    expect(after).toContain(c.clean.id);
    // Someone else's suggestions never list the caller either.
    expect(await suggestedIds(c.clean)).not.toContain(c.clean.id);
  });

  it('should fill a page from further down the list when the accounts at its top became unfindable since', async () => {
    const staff = await createStaff();
    const [me, hub] = await users(2);
    await makeFriends(me, hub);
    // 1 + READ_MARGIN + 3 friends of the hub: suggestions to me, each through one mutual.
    const theirs = await users(1 + READ_MARGIN + 3);
    for (const person of theirs) await makeFriends(hub, person);
    const before = (await suggestions(me, '?limit=100')).filter((s) => s.reasons.includes('mutual_friends')).map((s) => s.user.id);
    expect(before).toHaveLength(theirs.length);
    // The page (limit 1) and the READ_MARGIN after it go unfindable without touching my graph: the cached
    // list stays, and the page must come from the entries past them.
    const gone = before.slice(0, 1 + READ_MARGIN);
    for (const id of gone) await act(staff, theirs.find((p) => p.id === id)!, 'suspend');
    const page = await suggestions(me, '?limit=1');
    expect(page).toHaveLength(1);
    expect(page[0]!.user.id).toBe(before.filter((id) => !gone.includes(id))[0]);
    const all = (await suggestions(me, '?limit=100')).map((s) => s.user.id);
    for (const id of gone) expect(all).not.toContain(id);
    for (const id of before.slice(1 + READ_MARGIN)) expect(all).toContain(id);
  });

  it('should keep a list for 10 minutes unless the caller\'s own graph changes', async () => {
    const [me, friend, later, other] = await users(4);
    await makeFriends(me, friend);
    expect(await reasonsFor(me, later)).not.toContain('mutual_friends');
    // A change in a friend's graph (not the caller's) shows once the cached list expires.
    await makeFriends(friend, later);
    expect(await reasonsFor(me, later)).not.toContain('mutual_friends');
    await env.DB.prepare('UPDATE suggestion_cache SET computed_at = computed_at - ?2 WHERE user_id = ?1').bind(me.id, TEN_MINUTES + 1).run();
    expect(await reasonsFor(me, later)).toContain('mutual_friends');
    // A change in the caller's own graph shows at once.
    await makeFriends(friend, other);
    expect(await reasonsFor(me, other)).not.toContain('mutual_friends');
    await follow(me, later);
    expect(await reasonsFor(me, other)).toContain('mutual_friends');
    expect(await suggestedIds(me)).not.toContain(later.id);
  });

  it('should read a page in the list’s order, whatever order the statement lists it in, and a missing list as none', () => {
    const entry = (id: string, position: number) => [id, id, id, null, '', 0, 1, 2, [['m', 'm', 'M', null, '', 0]], position];
    const { entries, results } = decodeSuggestionPage({ entries: 40, page: JSON.stringify([entry('c', 3), entry('a', 1), entry('d', 12), entry('b', 2)]) });
    expect(entries).toBe(40);
    expect(results.map((r) => r[0])).toEqual(['a', 'b', 'c', 'd']);
    expect(decodeSuggestionPage({ entries: null, page: '[]' })).toEqual({ entries: null, results: [] });
  });

  it('should refuse a bad limit and an anonymous caller', async () => {
    const me = await createUser();
    await expectProblem(await call('/suggestions?limit=0', { token: me.accessToken }), 400, 'limit');
    await expectProblem(await call('/suggestions?limit=101', { token: me.accessToken }), 400, 'limit');
    await expectProblem(await call('/suggestions'), 401);
  });
});

describe('DELETE /suggestions/{user_id}', () => {
  it('should be idempotent, refuse yourself, and answer 404 for anyone unknown or not visible', async () => {
    const [me, other, blocker] = await users(3);
    await expectStatus(await dismiss(me, other.id), 204);
    await expectStatus(await dismiss(me, other.id), 204);
    await expectProblem(await dismiss(me, me.id), 400, 'user_id');
    await expectProblem(await dismiss(me, 'not-an-id'), 400, 'user_id');
    await expectProblem(await dismiss(me, UNKNOWN_ID), 404);
    await block(blocker, me);
    await expectProblem(await dismiss(me, blocker.id), 404);
    await expectProblem(await call(`/suggestions/${other.id}`, { method: 'DELETE' }), 401);
  });
});
