import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser, walkPages } from '../helpers/client';
import {
  addMember,
  createCommunity,
  getCommunity,
  getCommunityRaw,
  join,
  joinRaw,
  leaveRaw,
  members,
  removeMemberRaw,
  setRoleRaw,
  UNKNOWN_ID,
  users,
} from './helpers';

/** Lets the worker's clock move on, so memberships made one after the other never share a millisecond. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** The member count as `viewer` (or anonymously) reads it. */
async function memberCount(id: string, viewer?: TestUser): Promise<number> {
  return (await getCommunity(id, viewer)).member_count;
}

async function myRole(id: string, user: TestUser): Promise<string | null> {
  return (await getCommunity(id, user)).my_role;
}

/** `{ user_id: role }` of the member list (first 100) as `viewer`. */
async function rolesOf(id: string, viewer: TestUser, query = ''): Promise<Record<string, string>> {
  const list = await members(id, viewer, query);
  return Object.fromEntries(list.map((m: { user: { id: string }; role: string }) => [m.user.id, m.role]));
}

const ids = (list: { user: { id: string } }[]) => list.map((m) => m.user.id);

/** Every page of a member list, `limit` at a time, checking the page sizes on the way. */
const walkMembers = (id: string, viewer: TestUser, limit: number, query = '') =>
  walkPages(`/communities/${id}/members${query.replace(/^&/, '?')}`, viewer.accessToken, limit);

const deleteAccount = (user: TestUser) => call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } });

/** An open community with an owner, two moderators (m1 joined before m2), two members and a stranger. */
async function roleSetup() {
  const [owner, m1, m2, a, b, stranger] = await users(6);
  const community = await createCommunity(owner);
  await addMember(owner, community.id, m1, 'moderator');
  await addMember(owner, community.id, m2, 'moderator');
  await addMember(owner, community.id, a);
  await addMember(owner, community.id, b);
  return { id: community.id as string, owner, m1, m2, a, b, stranger };
}

describe('Joining an open community', () => {
  it('should make the joiner a member, count them, and list them', async () => {
    const [owner, joiner] = await users(2);
    const community = await createCommunity(owner);
    expect(community.member_count).toBe(1);
    expect(await expectStatus(await joinRaw(joiner, community.id), 200)).toEqual({ my_role: 'member' });
    expect(await memberCount(community.id)).toBe(2);
    expect(await myRole(community.id, joiner)).toBe('member');
    const list = await members(community.id, owner);
    expect(list.find((m) => m.user.id === joiner.id)).toMatchObject({ role: 'member', joined_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(Object.keys(list.find((m) => m.user.id === joiner.id)).sort()).toEqual(['joined_at', 'role', 'user']);
  });

  it('should answer the same role when joining again without counting twice', async () => {
    const [owner, joiner] = await users(2);
    const community = await createCommunity(owner);
    await join(joiner, community.id);
    expect(await expectStatus(await joinRaw(joiner, community.id), 200)).toEqual({ my_role: 'member' });
    expect(await memberCount(community.id)).toBe(2);
    expect(ids(await members(community.id, owner)).filter((id) => id === joiner.id)).toHaveLength(1);
  });

  it('should answer the owner their own role when they join their community', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner);
    expect(await expectStatus(await joinRaw(owner, community.id), 200)).toEqual({ my_role: 'owner' });
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should count 10 concurrent joins exactly once each', async () => {
    const [owner] = await users(1);
    const joiners = await users(10);
    const community = await createCommunity(owner);
    const answers = await Promise.all(joiners.map((u) => joinRaw(u, community.id)));
    for (const res of answers) expect(await expectStatus(res, 200)).toEqual({ my_role: 'member' });
    const listed = await members(community.id, owner);
    expect(await memberCount(community.id)).toBe(11);
    expect(listed).toHaveLength(11);
    expect(new Set(ids(listed))).toEqual(new Set([owner.id, ...joiners.map((u) => u.id)]));
  });

  it('should leave with 204, uncount the member, and stay 204 when leaving again', async () => {
    const [owner, joiner] = await users(2);
    const community = await createCommunity(owner);
    await join(joiner, community.id);
    expect(await memberCount(community.id)).toBe(2);
    expect((await leaveRaw(joiner, community.id)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(1);
    expect(await myRole(community.id, joiner)).toBeNull();
    expect(ids(await members(community.id, owner))).not.toContain(joiner.id);
    expect((await leaveRaw(joiner, community.id)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should answer 204 to a stranger leaving a community they never joined, counting nothing', async () => {
    const [owner, stranger] = await users(2);
    const community = await createCommunity(owner);
    expect((await leaveRaw(stranger, community.id)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should answer 404 when joining an unknown community', async () => {
    const [user] = await users(1);
    await expectProblem(await joinRaw(user, UNKNOWN_ID), 404);
    await expectProblem(await leaveRaw(user, UNKNOWN_ID), 404);
  });

  it('should answer 401 to an anonymous join and not count it', async () => {
    const [owner] = await users(1);
    const community = await createCommunity(owner);
    await expectProblem(await call(`/communities/${community.id}/join`, { method: 'POST' }), 401);
    await expectProblem(await call(`/communities/${community.id}/leave`, { method: 'POST' }), 401);
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should join by slug as well as by id', async () => {
    const [owner, joiner] = await users(2);
    const community = await createCommunity(owner);
    expect(await expectStatus(await joinRaw(joiner, community.slug), 200)).toEqual({ my_role: 'member' });
    expect(await myRole(community.id, joiner)).toBe('member');
  });
});

describe('Joining a community under approval', () => {
  async function approvalSetup() {
    const [owner, mod, member, applicant, stranger] = await users(5);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await addMember(owner, community.id, mod, 'moderator');
    await addMember(owner, community.id, member);
    return { id: community.id as string, owner, mod, member, applicant, stranger };
  }

  it('should make the applicant pending, uncounted and absent from the default member list', async () => {
    const { id, owner, applicant } = await approvalSetup();
    expect(await memberCount(id)).toBe(3);
    expect(await expectStatus(await joinRaw(applicant, id), 200)).toEqual({ my_role: 'pending' });
    expect(await memberCount(id)).toBe(3);
    expect(await myRole(id, applicant)).toBe('pending');
    expect(ids(await members(id, owner))).not.toContain(applicant.id);
    // Applying again changes nothing.
    expect(await expectStatus(await joinRaw(applicant, id), 200)).toEqual({ my_role: 'pending' });
    expect(await memberCount(id)).toBe(3);
  });

  it('should list applicants with role=pending to the owner and moderators only', async () => {
    const { id, owner, mod, member, applicant, stranger } = await approvalSetup();
    await join(applicant, id);
    for (const viewer of [owner, mod]) {
      const pending = await members(id, viewer, '&role=pending');
      expect(ids(pending)).toEqual([applicant.id]);
      expect(pending[0].role).toBe('pending');
    }
    for (const viewer of [member, stranger, applicant]) {
      await expectProblem(await call(`/communities/${id}/members?role=pending`, { token: viewer.accessToken }), 403);
    }
    await expectProblem(await call(`/communities/${id}/members?role=pending`), 403);
  });

  it('should let a moderator approve an applicant, who then counts as a member', async () => {
    const { id, mod, owner, applicant } = await approvalSetup();
    await join(applicant, id);
    await tick();
    const before = Date.now();
    const approved = await expectStatus(await setRoleRaw(mod, id, applicant.id, 'member'), 200);
    expect(Object.keys(approved).sort()).toEqual(['joined_at', 'role', 'user']);
    expect(approved.role).toBe('member');
    expect(approved.user.id).toBe(applicant.id);
    expect(approved.user.username).toBe(applicant.username);
    expect(approved.user).not.toHaveProperty('email');
    expect(Date.parse(approved.joined_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(await memberCount(id)).toBe(4);
    expect(await myRole(id, applicant)).toBe('member');
    expect((await rolesOf(id, owner))[applicant.id]).toBe('member');
    expect(await members(id, owner, '&role=pending')).toEqual([]);
  });

  it('should let the owner approve an applicant', async () => {
    const { id, owner, applicant } = await approvalSetup();
    await join(applicant, id);
    expect((await expectStatus(await setRoleRaw(owner, id, applicant.id, 'member'), 200)).role).toBe('member');
    expect(await memberCount(id)).toBe(4);
  });

  it('should not let a member or the applicant approve an application', async () => {
    const { id, member, applicant } = await approvalSetup();
    await join(applicant, id);
    await expectProblem(await setRoleRaw(member, id, applicant.id, 'member'), 403);
    await expectProblem(await setRoleRaw(applicant, id, applicant.id, 'member'), 403);
    expect(await myRole(id, applicant)).toBe('pending');
    expect(await memberCount(id)).toBe(3);
  });

  it('should let a moderator reject an applicant, who may then apply again', async () => {
    const { id, mod, owner, applicant } = await approvalSetup();
    await join(applicant, id);
    expect((await removeMemberRaw(mod, id, applicant.id)).status).toBe(204);
    expect(await members(id, owner, '&role=pending')).toEqual([]);
    expect(await myRole(id, applicant)).toBeNull();
    expect(await memberCount(id)).toBe(3);
    expect(await expectStatus(await joinRaw(applicant, id), 200)).toEqual({ my_role: 'pending' });
    expect(ids(await members(id, owner, '&role=pending'))).toEqual([applicant.id]);
    expect(await memberCount(id)).toBe(3);
  });

  it('should let the applicant withdraw with /leave', async () => {
    const { id, owner, applicant } = await approvalSetup();
    await join(applicant, id);
    expect((await leaveRaw(applicant, id)).status).toBe(204);
    expect(await myRole(id, applicant)).toBeNull();
    expect(await members(id, owner, '&role=pending')).toEqual([]);
    expect(await memberCount(id)).toBe(3);
  });
});

describe('Community roles', () => {
  it('should let the owner promote a member to moderator and demote them again', async () => {
    const { id, owner, a } = await roleSetup();
    const promoted = await expectStatus(await setRoleRaw(owner, id, a.id, 'moderator'), 200);
    expect(promoted).toMatchObject({ role: 'moderator', user: { id: a.id } });
    expect((await rolesOf(id, owner))[a.id]).toBe('moderator');
    expect(await myRole(id, a)).toBe('moderator');
    const demoted = await expectStatus(await setRoleRaw(owner, id, a.id, 'member'), 200);
    expect(demoted).toMatchObject({ role: 'member', user: { id: a.id } });
    expect(await myRole(id, a)).toBe('member');
    expect(await memberCount(id)).toBe(5);
  });

  it('should let a moderator promote a member to moderator', async () => {
    const { id, owner, m1, a } = await roleSetup();
    expect((await expectStatus(await setRoleRaw(m1, id, a.id, 'moderator'), 200)).role).toBe('moderator');
    expect((await rolesOf(id, owner))[a.id]).toBe('moderator');
  });

  it('should not let a moderator demote another moderator', async () => {
    const { id, owner, m1, m2 } = await roleSetup();
    await expectProblem(await setRoleRaw(m1, id, m2.id, 'member'), 403);
    expect((await rolesOf(id, owner))[m2.id]).toBe('moderator');
  });

  it('should let a moderator remove a member but not another moderator or the owner', async () => {
    const { id, owner, m1, m2, a } = await roleSetup();
    expect((await removeMemberRaw(m1, id, a.id)).status).toBe(204);
    expect(await myRole(id, a)).toBeNull();
    await expectProblem(await removeMemberRaw(m1, id, m2.id), 403);
    await expectProblem(await removeMemberRaw(m1, id, owner.id), 403);
    const roles = await rolesOf(id, owner);
    expect(roles[m2.id]).toBe('moderator');
    expect(roles[owner.id]).toBe('owner');
    expect(await memberCount(id)).toBe(4);
  });

  it("should not let a moderator change the owner's role", async () => {
    const { id, owner, m1 } = await roleSetup();
    await expectProblem(await setRoleRaw(m1, id, owner.id, 'member'), 403);
    await expectProblem(await setRoleRaw(m1, id, owner.id, 'moderator'), 403);
    expect(await myRole(id, owner)).toBe('owner');
  });

  it('should let the owner remove a moderator', async () => {
    const { id, owner, m1 } = await roleSetup();
    expect((await removeMemberRaw(owner, id, m1.id)).status).toBe(204);
    expect(await myRole(id, m1)).toBeNull();
    expect(await memberCount(id)).toBe(4);
  });

  it('should let a moderator step down to member, after which they cannot promote', async () => {
    const { id, owner, m1, a } = await roleSetup();
    const stepped = await expectStatus(await setRoleRaw(m1, id, m1.id, 'member'), 200);
    expect(stepped).toMatchObject({ role: 'member', user: { id: m1.id } });
    expect(await myRole(id, m1)).toBe('member');
    expect((await rolesOf(id, owner))[m1.id]).toBe('member');
    await expectProblem(await setRoleRaw(m1, id, a.id, 'moderator'), 403);
  });

  it('should not let a member promote, demote or remove anyone', async () => {
    const { id, owner, m1, a, b } = await roleSetup();
    await expectProblem(await setRoleRaw(a, id, b.id, 'moderator'), 403);
    await expectProblem(await setRoleRaw(a, id, m1.id, 'member'), 403);
    await expectProblem(await removeMemberRaw(a, id, b.id), 403);
    await expectProblem(await removeMemberRaw(a, id, m1.id), 403);
    await expectProblem(await removeMemberRaw(a, id, owner.id), 403);
    const roles = await rolesOf(id, owner);
    expect(roles).toMatchObject({ [b.id]: 'member', [m1.id]: 'moderator', [owner.id]: 'owner' });
    expect(await memberCount(id)).toBe(5);
  });

  it('should refuse a stranger every role change and removal', async () => {
    const { id, owner, a, stranger } = await roleSetup();
    await expectProblem(await setRoleRaw(stranger, id, a.id, 'moderator'), 403);
    await expectProblem(await removeMemberRaw(stranger, id, a.id), 403);
    await expectProblem(await setRoleRaw(stranger, id, stranger.id, 'member'), 403);
    expect((await rolesOf(id, owner))[a.id]).toBe('member');
  });

  it('should refuse the role values "pending" and "admin" with 400 naming role', async () => {
    const { id, owner, a } = await roleSetup();
    for (const role of ['pending', 'admin', '']) {
      await expectProblem(await setRoleRaw(owner, id, a.id, role), 400, 'role');
    }
    await expectProblem(await call(`/communities/${id}/members/${a.id}`, { method: 'POST', token: owner.accessToken, body: {} }), 400, 'role');
    expect((await rolesOf(id, owner))[a.id]).toBe('member');
  });

  it('should answer 404 when the target is not a member', async () => {
    const { id, owner, m1, stranger } = await roleSetup();
    await expectProblem(await setRoleRaw(owner, id, stranger.id, 'moderator'), 404);
    await expectProblem(await setRoleRaw(m1, id, stranger.id, 'member'), 404);
    await expectProblem(await removeMemberRaw(owner, id, stranger.id), 404);
    await expectProblem(await setRoleRaw(owner, id, UNKNOWN_ID, 'moderator'), 404);
    expect(await myRole(id, stranger)).toBeNull();
    expect(await memberCount(id)).toBe(5);
  });

  it('should answer 404 for role changes in an unknown community', async () => {
    const { owner, a } = await roleSetup();
    await expectProblem(await setRoleRaw(owner, UNKNOWN_ID, a.id, 'moderator'), 404);
    await expectProblem(await removeMemberRaw(owner, UNKNOWN_ID, a.id), 404);
  });

  it('should not let anyone promote themselves', async () => {
    const { id, owner, m1, a } = await roleSetup();
    await expectProblem(await setRoleRaw(a, id, a.id, 'moderator'), 403);
    await expectProblem(await setRoleRaw(a, id, a.id, 'owner'), 403);
    await expectProblem(await setRoleRaw(m1, id, m1.id, 'owner'), 403);
    const roles = await rolesOf(id, owner);
    expect(roles).toMatchObject({ [a.id]: 'member', [m1.id]: 'moderator', [owner.id]: 'owner' });
  });
});

describe('Community ownership', () => {
  it('should not let the owner leave (409)', async () => {
    const { id, owner } = await roleSetup();
    await expectProblem(await leaveRaw(owner, id), 409);
    expect(await myRole(id, owner)).toBe('owner');
    expect(await memberCount(id)).toBe(5);
  });

  it('should hand ownership over, making the former owner a moderator', async () => {
    const { id, owner, a, b } = await roleSetup();
    const handed = await expectStatus(await setRoleRaw(owner, id, a.id, 'owner'), 200);
    expect(handed).toMatchObject({ role: 'owner', user: { id: a.id } });
    expect(await myRole(id, a)).toBe('owner');
    expect(await myRole(id, owner)).toBe('moderator');
    const roles = await rolesOf(id, b);
    expect(roles[a.id]).toBe('owner');
    expect(roles[owner.id]).toBe('moderator');
    expect(Object.values(roles).filter((r) => r === 'owner')).toHaveLength(1);
    expect(ids(await members(id, b, '&role=owner'))).toEqual([a.id]);
    expect(await memberCount(id)).toBe(5);
    // The new owner now holds the owner's powers, the former one no longer does.
    await expectProblem(await leaveRaw(a, id), 409);
    await expectProblem(await setRoleRaw(owner, id, b.id, 'owner'), 403);
  });

  it('should not let a moderator hand ownership over', async () => {
    const { id, owner, m1, a } = await roleSetup();
    await expectProblem(await setRoleRaw(m1, id, a.id, 'owner'), 403);
    expect(await myRole(id, owner)).toBe('owner');
    expect(await myRole(id, a)).toBe('member');
  });

  it('should refuse handing ownership to a pending applicant (409)', async () => {
    const [owner, applicant] = await users(2);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await join(applicant, community.id);
    await expectProblem(await setRoleRaw(owner, community.id, applicant.id, 'owner'), 409);
    expect(await myRole(community.id, owner)).toBe('owner');
    expect(await myRole(community.id, applicant)).toBe('pending');
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should let the former owner leave after handing over', async () => {
    const { id, owner, a } = await roleSetup();
    await expectStatus(await setRoleRaw(owner, id, a.id, 'owner'), 200);
    expect((await leaveRaw(owner, id)).status).toBe(204);
    expect(await myRole(id, owner)).toBeNull();
    expect(await memberCount(id)).toBe(4);
    expect(await myRole(id, a)).toBe('owner');
  });
});

describe('Deleting the account of a community owner', () => {
  it('should hand the community to the longest-standing moderator', async () => {
    const [owner, early, x, y, late] = await users(5);
    const community = await createCommunity(owner);
    // `early` joined first but stays a member; `x` joined before `y` but was promoted after them.
    for (const u of [early, x, y, late]) {
      await tick();
      await join(u, community.id);
    }
    await expectStatus(await setRoleRaw(owner, community.id, y.id, 'moderator'), 200);
    await expectStatus(await setRoleRaw(owner, community.id, x.id, 'moderator'), 200);
    expect(await memberCount(community.id)).toBe(5);
    expect((await deleteAccount(owner)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(4);
    expect(await myRole(community.id, x)).toBe('owner');
    const roles = await rolesOf(community.id, early);
    expect(roles).toEqual({ [early.id]: 'member', [x.id]: 'owner', [y.id]: 'moderator', [late.id]: 'member' });
  });

  it('should hand the community to the longest-standing member when there is no moderator', async () => {
    const [owner, first, second] = await users(3);
    const community = await createCommunity(owner);
    await tick();
    await join(first, community.id);
    await tick();
    await join(second, community.id);
    expect((await deleteAccount(owner)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(2);
    expect(await myRole(community.id, first)).toBe('owner');
    expect(await rolesOf(community.id, second)).toEqual({ [first.id]: 'owner', [second.id]: 'member' });
  });

  it('should never hand the community to a pending applicant', async () => {
    const [owner, applicant, member] = await users(3);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await tick();
    await join(applicant, community.id);
    await tick();
    await addMember(owner, community.id, member);
    expect((await deleteAccount(owner)).status).toBe(204);
    expect(await myRole(community.id, member)).toBe('owner');
    expect(await myRole(community.id, applicant)).toBe('pending');
    expect(await memberCount(community.id)).toBe(1);
  });

  it('should delete a community whose owner was its only member', async () => {
    const [owner, other] = await users(2);
    const community = await createCommunity(owner);
    expect((await deleteAccount(owner)).status).toBe(204);
    await expectProblem(await getCommunityRaw(community.id, other), 404);
    await expectProblem(await getCommunityRaw(community.slug), 404);
    await expectProblem(await joinRaw(other, community.id), 404);
  });

  it('should delete a community left with only pending applicants', async () => {
    const [owner, applicant] = await users(2);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await join(applicant, community.id);
    expect((await deleteAccount(owner)).status).toBe(204);
    await expectProblem(await getCommunityRaw(community.id, applicant), 404);
  });

  it('should uncount a deleted member account without touching ownership', async () => {
    const [owner, member] = await users(2);
    const community = await createCommunity(owner);
    await join(member, community.id);
    expect((await deleteAccount(member)).status).toBe(204);
    expect(await memberCount(community.id)).toBe(1);
    expect(await rolesOf(community.id, owner)).toEqual({ [owner.id]: 'owner' });
  });
});

describe('Community member list', () => {
  it('should walk all members oldest first, two at a time, without gaps or duplicates', async () => {
    const [owner, ...joiners] = await users(6);
    const community = await createCommunity(owner);
    for (const u of joiners) {
      await tick();
      await join(u, community.id);
    }
    const { items, pages } = await walkMembers(community.id, owner, 2);
    expect(pages).toBe(3);
    expect(ids(items)).toEqual([owner.id, ...joiners.map((u) => u.id)]);
    const times = items.map((m) => Date.parse(m.joined_at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(ids(await members(community.id, owner))).toEqual(ids(items));
  });

  it('should walk a role-filtered list two at a time', async () => {
    const [owner, ...rest] = await users(6);
    const community = await createCommunity(owner);
    for (const u of rest) {
      await tick();
      await join(u, community.id);
    }
    const { items } = await walkMembers(community.id, owner, 2, '&role=member');
    expect(ids(items)).toEqual(rest.map((u) => u.id));
  });

  it('should filter by role', async () => {
    const { id, owner, m1, m2, a, b, stranger } = await roleSetup();
    expect(ids(await members(id, stranger, '&role=owner'))).toEqual([owner.id]);
    expect(new Set(ids(await members(id, stranger, '&role=moderator')))).toEqual(new Set([m1.id, m2.id]));
    expect(new Set(ids(await members(id, stranger, '&role=member')))).toEqual(new Set([a.id, b.id]));
    for (const m of await members(id, stranger, '&role=moderator')) expect(m.role).toBe('moderator');
    await expectProblem(await call(`/communities/${id}/members?role=admin`, { token: stranger.accessToken }), 400, 'role');
  });

  it('should show a public community\'s members to strangers and anonymous callers', async () => {
    const { id, owner, stranger } = await roleSetup();
    expect(await members(id, stranger)).toHaveLength(5);
    expect(ids(await members(id))).toContain(owner.id);
  });

  it('should show a private community\'s members to members only', async () => {
    const [owner, member, stranger, applicant] = await users(4);
    const community = await createCommunity(owner, { visibility: 'private', join_policy: 'approval' });
    await addMember(owner, community.id, member);
    await join(applicant, community.id);
    await expectProblem(await call(`/communities/${community.id}/members`, { token: stranger.accessToken }), 403);
    await expectProblem(await call(`/communities/${community.id}/members`), 403);
    await expectProblem(await call(`/communities/${community.id}/members`, { token: applicant.accessToken }), 403);
    expect(new Set(ids(await members(community.id, member)))).toEqual(new Set([owner.id, member.id]));
    expect(new Set(ids(await members(community.id, owner)))).toEqual(new Set([owner.id, member.id]));
  });

  it('should hide from the viewer a member who blocks them, and one they block', async () => {
    const [owner, blocker, blocked, viewer, plain] = await users(5);
    const community = await createCommunity(owner);
    for (const u of [blocker, blocked, viewer, plain]) await join(u, community.id);
    expect((await call(`/users/${viewer.id}/block`, { method: 'POST', token: blocker.accessToken })).status).toBe(200);
    expect((await call(`/users/${blocked.id}/block`, { method: 'POST', token: viewer.accessToken })).status).toBe(200);
    const seen = ids(await members(community.id, viewer));
    expect(seen).not.toContain(blocker.id);
    expect(seen).not.toContain(blocked.id);
    expect(new Set(seen)).toEqual(new Set([owner.id, viewer.id, plain.id]));
    // Others still see everyone.
    expect(new Set(ids(await members(community.id, plain)))).toEqual(new Set([owner.id, blocker.id, blocked.id, viewer.id, plain.id]));
    expect(await memberCount(community.id, viewer)).toBe(5);
  });

  it("should show a public community's private-account members to its members only, and count them for everyone", async () => {
    const [owner, closed, open, stranger, applicantViewer] = await users(5);
    const community = await createCommunity(owner);
    const gated = await createCommunity(owner, { join_policy: 'approval' });
    await expectStatus(await call('/me', { method: 'PATCH', token: closed.accessToken, body: { visibility: 'private' } }), 200);
    for (const c of [community, gated]) {
      await join(closed, c.id);
      await join(open, c.id);
    }
    await setRoleRaw(owner, gated.id, closed.id, 'member');
    await setRoleRaw(owner, gated.id, open.id, 'member');
    expect(await join(applicantViewer, gated.id)).toBe('pending');
    const everyone = new Set([owner.id, closed.id, open.id]);
    const withoutClosed = new Set([owner.id, open.id]);
    // Members (the account itself among them) see everyone.
    for (const viewer of [owner, open, closed]) expect(new Set(ids(await members(community.id, viewer)))).toEqual(everyone);
    // Outsiders, anonymous callers and applicants do not see the private account, whatever the filter.
    expect(new Set(ids(await members(community.id, stranger)))).toEqual(withoutClosed);
    expect(new Set(ids(await members(community.id)))).toEqual(withoutClosed);
    expect(ids(await members(community.id, stranger, '&role=member'))).toEqual([open.id]);
    expect(new Set(ids(await members(gated.id, applicantViewer)))).toEqual(withoutClosed);
    // The count is the community's, not the list's.
    expect(await memberCount(community.id, stranger)).toBe(3);
    expect(await memberCount(community.id)).toBe(3);
    // Nor does reporting them "in" the community tell an outsider whether they belong to it.
    const reportIn = (reporter: TestUser) => call('/reports', { token: reporter.accessToken, body: { subject_type: 'user', subject_id: closed.id, category: 'spam', community_id: community.id } });
    await expectProblem(await reportIn(stranger), 404, 'community_id');
    await expectStatus(await reportIn(open), 201);
  });

  it('should answer 404 for the members of an unknown community', async () => {
    const [user] = await users(1);
    await expectProblem(await call(`/communities/${UNKNOWN_ID}/members`, { token: user.accessToken }), 404);
  });
});

describe('Removing a member', () => {
  it('should remove, uncount, and let the removed member of an open community join again', async () => {
    const { id, owner, m1, a } = await roleSetup();
    expect(await memberCount(id)).toBe(5);
    expect((await removeMemberRaw(m1, id, a.id)).status).toBe(204);
    expect(await memberCount(id)).toBe(4);
    expect(await myRole(id, a)).toBeNull();
    expect(ids(await members(id, owner))).not.toContain(a.id);
    expect(await expectStatus(await joinRaw(a, id), 200)).toEqual({ my_role: 'member' });
    expect(await memberCount(id)).toBe(5);
    expect((await rolesOf(id, owner))[a.id]).toBe('member');
  });

  it('should treat removing yourself as leaving', async () => {
    const { id, a } = await roleSetup();
    expect((await removeMemberRaw(a, id, a.id)).status).toBe(204);
    expect(await myRole(id, a)).toBeNull();
    expect(await memberCount(id)).toBe(4);
  });
});

describe('Membership and anonymous readers', () => {
  it('should show my_role null to anonymous readers and strangers', async () => {
    const [owner, stranger] = await users(2);
    const community = await createCommunity(owner);
    expect((await getCommunity(community.id)).my_role).toBeNull();
    expect(await myRole(community.id, stranger)).toBeNull();
    expect(await myRole(community.id, owner)).toBe('owner');
    // A fresh account, created directly, sees the same.
    const fresh = await createUser();
    expect(await myRole(community.id, fresh)).toBeNull();
  });
});
