import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { recordEvents } from '../helpers/events';
import { auditEntries } from '../moderation/helpers';
import { ofType, quiet, waitForCount, waitForNotification } from '../notifications/helpers';
import { addMember, createCommunity, join, joinRaw, leaveRaw, members, removeMemberRaw, setRoleRaw, type TestUser, users } from './helpers';

const banRaw = (actor: TestUser, id: string, userId: string) => call(`/communities/${id}/members/${userId}?ban=true`, { method: 'DELETE', token: actor.accessToken });
const bansRaw = (id: string, actor?: TestUser, query = '') => call(`/communities/${id}/bans${query}`, { token: actor?.accessToken });
const liftRaw = (actor: TestUser, id: string, userId: string) => call(`/communities/${id}/bans/${userId}`, { method: 'DELETE', token: actor.accessToken });

/** A removed member used to rejoin an open community at once, and a rejected applicant to apply again (notifying every moderator). */
describe('Community bans', () => {
  it('should keep a member removed with ?ban=true out (403) until the ban is lifted', async () => {
    const [owner, troll, other] = await users(3);
    const community = await createCommunity(owner);
    await join(troll, community.id);
    await join(other, community.id);
    await expectStatus(await banRaw(owner, community.id, troll.id), 204);
    expect((await members(community.id, owner)).map((m) => m.user.id)).not.toContain(troll.id);
    const refused = await expectProblem(await joinRaw(troll, community.id), 403);
    expect(refused.detail).toMatch(/banned/);
    const page = await expectStatus(await bansRaw(community.id, owner), 200);
    expect(page).toEqual({ data: [{ user: expect.objectContaining({ id: troll.id }), banned_at: expect.any(String) }], next_cursor: null });
    // A removal without the ban lets them back.
    await expectStatus(await removeMemberRaw(owner, community.id, other.id), 204);
    expect(await join(other, community.id)).toBe('member');
    await expectStatus(await liftRaw(owner, community.id, troll.id), 204);
    await expectStatus(await liftRaw(owner, community.id, troll.id), 204);
    expect(await join(troll, community.id)).toBe('member');
    expect((await expectStatus(await bansRaw(community.id, owner), 200)).data).toEqual([]);
  });

  it('should stop a banned applicant applying again, so moderators are not asked again', async () => {
    const [owner, applicant] = await users(2);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    expect(await join(applicant, community.id)).toBe('pending');
    await expectStatus(await banRaw(owner, community.id, applicant.id), 204);
    const recorder = recordEvents();
    try {
      await expectProblem(await joinRaw(applicant, community.id), 403);
      expect(recorder.ofType('community_join_request').filter((e) => e.actorId === applicant.id)).toEqual([]);
    } finally {
      recorder.stop();
    }
    expect(await members(community.id, owner, '&role=pending')).toEqual([]);
  });

  it('should let moderators ban outsiders and members, never the owner, and a moderator only by the owner', async () => {
    const [owner, mod, mod2, member, outsider] = await users(5);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, mod, 'moderator');
    await addMember(owner, community.id, mod2, 'moderator');
    await addMember(owner, community.id, member);
    // Someone never in it is banned before they arrive.
    await expectStatus(await banRaw(mod, community.id, outsider.id), 204);
    await expectProblem(await joinRaw(outsider, community.id), 403);
    await expectProblem(await banRaw(mod, community.id, owner.id), 403);
    await expectProblem(await banRaw(mod, community.id, mod2.id), 403);
    await expectProblem(await banRaw(member, community.id, outsider.id), 403);
    await expectProblem(await bansRaw(community.id, member), 403);
    await expectProblem(await bansRaw(community.id), 401);
    await expectProblem(await liftRaw(member, community.id, outsider.id), 403);
    await expectStatus(await banRaw(owner, community.id, mod2.id), 204);
    expect((await expectStatus(await bansRaw(community.id, mod), 200)).data.map((b: any) => b.user.id).sort()).toEqual([mod2.id, outsider.id].sort());
  });

  it('should record every ban and every lift in the audit log (who, which community, whom), and a repeat not at all', async () => {
    const [owner, mod, troll, outsider] = await users(4);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, mod, 'moderator');
    await join(troll, community.id);
    await expectStatus(await call(`/communities/${community.id}/members/${troll.id}?ban=true`, { method: 'DELETE', token: mod.accessToken, ip: '203.0.113.41' }), 204);
    await expectStatus(await banRaw(owner, community.id, outsider.id), 204);
    // Banning someone already banned, and lifting a ban that is not there, change nothing and record nothing.
    await expectStatus(await banRaw(owner, community.id, outsider.id), 204);
    await expectStatus(await call(`/communities/${community.id}/bans/${troll.id}`, { method: 'DELETE', token: owner.accessToken, ip: '203.0.113.42' }), 204);
    await expectStatus(await liftRaw(owner, community.id, troll.id), 204);
    // A removal without the ban is not a ban.
    await join(troll, community.id);
    await expectStatus(await removeMemberRaw(owner, community.id, troll.id), 204);

    const banned = await auditEntries('community.member_banned', community.id);
    expect(banned.map((e) => [e.actor_id, e.subject_type, e.data])).toEqual([
      [mod.id, 'community', { user_id: troll.id, role: 'member' }],
      [owner.id, 'community', { user_id: outsider.id, role: null }],
    ]);
    expect(banned[0].ip).toBe('203.0.113.41');
    const lifted = await auditEntries('community.member_unbanned', community.id);
    expect(lifted.map((e) => [e.actor_id, e.subject_type, e.ip, e.data])).toEqual([[owner.id, 'community', '203.0.113.42', { user_id: troll.id, banned_at: expect.any(String) }]]);
  });

  it('should answer bad input with 400 naming the field', async () => {
    const [owner, other] = await users(2);
    const community = await createCommunity(owner);
    await expectProblem(await call(`/communities/${community.id}/members/${other.id}?ban=yes`, { method: 'DELETE', token: owner.accessToken }), 400, 'ban');
    await expectProblem(await liftRaw(owner, community.id, 'nope'), 400, 'user_id');
    await expectProblem(await bansRaw(community.id, owner, '?limit=0'), 400, 'limit');
    await expectProblem(await bansRaw(community.id, owner, '?cursor=%%%'), 400, 'cursor');
  });
});

describe('Join requests against floods', () => {
  it('should retract a withdrawn application from the moderators, and not ask them again within 24 hours', async () => {
    const [owner, mod, applicant, other] = await users(4);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await addMember(owner, community.id, mod, 'moderator');
    const about = (n: any) => n.data.user.id === applicant.id;
    expect(await join(applicant, community.id)).toBe('pending');
    await waitForNotification(owner, 'community_join_request', about);
    await waitForNotification(mod, 'community_join_request', about);
    // Apply and withdraw, over and over: the moderators are left with nothing.
    for (let round = 0; round < 5; round++) {
      await expectStatus(await leaveRaw(applicant, community.id), 204);
      expect(await join(applicant, community.id)).toBe('pending');
    }
    // Still applying (the application stands) but nobody was asked again.
    await quiet();
    expect(await members(community.id, owner, '&role=pending')).toEqual([expect.objectContaining({ user: expect.objectContaining({ id: applicant.id }) })]);
    expect((await ofType(owner, 'community_join_request')).filter(about)).toEqual([]);
    expect((await ofType(mod, 'community_join_request')).filter(about)).toEqual([]);
    // Another applicant still notifies.
    expect(await join(other, community.id)).toBe('pending');
    await waitForCount(owner, 'community_join_request', 1, (n) => n.data.user.id === other.id);
  });
});

describe('Banned members and the community posts', () => {
  it("should stop someone banned from a public community commenting on or liking its posts (its posts stay readable)", async () => {
    const [owner, troll] = await users(2);
    const community = await createCommunity(owner);
    await join(troll, community.id);
    const post = await expectStatus(await call('/posts', { token: owner.accessToken, body: { content: 'welcome all', community_id: community.id } }), 201);
    const liked = await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: troll.accessToken }), 200);
    expect(liked.like_count).toBe(1);
    const earlier = await expectStatus(await call(`/posts/${post.id}/comments`, { token: troll.accessToken, body: { content: 'first!' } }), 201);
    await expectStatus(await banRaw(owner, community.id, troll.id), 204);
    await expectStatus(await call(`/posts/${post.id}`, { token: troll.accessToken }), 200);
    await expectProblem(await call(`/posts/${post.id}/comments`, { token: troll.accessToken, body: { content: 'I am back' } }), 403);
    await expectProblem(await call(`/posts/${post.id}/comments`, { token: troll.accessToken, body: { content: 'reply', parent_id: earlier.id } }), 403);
    // Taking a like back is always allowed; giving one again is not.
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'DELETE', token: troll.accessToken }), 200);
    await expectProblem(await call(`/posts/${post.id}/like`, { method: 'POST', token: troll.accessToken }), 403);
    // Nor can they post in it.
    await expectProblem(await call('/posts', { token: troll.accessToken, body: { content: 'sneaky', community_id: community.id } }), 403);
  });
});

describe('Ownership against races', () => {
  it('should leave exactly one owner when the owner hands ownership to two members at once', async () => {
    const [owner, a, b] = await users(3);
    const community = await createCommunity(owner);
    await addMember(owner, community.id, a);
    await addMember(owner, community.id, b);
    const answers = await Promise.all([setRoleRaw(owner, community.id, a.id, 'owner'), setRoleRaw(owner, community.id, b.id, 'owner')]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const owners = (await members(community.id, owner, '&role=owner')).map((m) => m.user.id);
    expect(owners).toHaveLength(1);
    const won = answers[0]!.status === 200 ? a : b;
    expect(owners).toEqual([won.id]);
    expect((await members(community.id, owner, '&role=moderator')).map((m) => m.user.id)).toEqual([owner.id]);
    const entries = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'community.owner_changed' AND subject_id = ?1").bind(community.id).first('n');
    expect(entries).toBe(1);
  });
});
