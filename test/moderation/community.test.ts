import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { waitForNotification } from '../notifications/helpers';
import { comment, getPost, post } from '../posts/helpers';
import { auditEntries, createStaff, report, type TestUser } from './helpers';

const join = (user: TestUser, id: string) => call(`/communities/${id}/join`, { method: 'POST', token: user.accessToken });

describe('Community moderation', () => {
  let owner: TestUser;
  let mod: TestUser;
  let member: TestUser;
  let troll: TestUser;
  let outsider: TestUser;
  let community: any;
  beforeAll(async () => {
    [owner, mod, member, troll, outsider] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Gardeners ${Date.now()}` } }), 201);
    for (const u of [mod, member, troll]) await expectStatus(await join(u, community.id), 200);
    await expectStatus(await call(`/communities/${community.id}/members/${mod.id}`, { token: owner.accessToken, body: { role: 'moderator' } }), 200);
  });

  const queue = (user: TestUser, query = '') => call(`/communities/${community.id}/reports${query}`, { token: user.accessToken });
  const resolveRaw = (user: TestUser, reportId: string, body: unknown) => call(`/communities/${community.id}/reports/${reportId}/resolve`, { token: user.accessToken, body });

  it("should show the owner and moderators reports about the community's posts, comments and members, without the reporter", async () => {
    const bad = await post(troll, { content: 'weeds are better', community_id: community.id });
    const onPost = await report(member, { subject_type: 'post', subject_id: bad.id, category: 'spam' });
    const onComment = await report(member, { subject_type: 'comment', subject_id: (await comment(troll, bad.id, 'and more weeds')).id });
    const onMember = await report(member, { subject_type: 'user', subject_id: troll.id, community_id: community.id });
    const elsewhere = await report(member, { subject_type: 'post', subject_id: (await post(troll, 'not in the community')).id });
    for (const staff of [owner, mod]) {
      const page = await expectStatus(await queue(staff, '?limit=100'), 200);
      const ids = page.data.map((r: any) => r.id);
      expect(ids).toEqual(expect.arrayContaining([onPost.id, onComment.id, onMember.id]));
      expect(ids).not.toContain(elsewhere.id);
      expect(page.data.every((r: any) => r.reporter === null && r.community_id === community.id)).toBe(true);
    }
    await expectProblem(await queue(member), 403);
    await expectProblem(await queue(outsider), 403);
  });

  it('should let a moderator remove reported content and the owner remove a reported member', async () => {
    const bad = await post(troll, { content: 'buy my seeds', community_id: community.id });
    const onPost = await report(member, { subject_type: 'post', subject_id: bad.id, category: 'spam' });
    const resolved = await expectStatus(await resolveRaw(mod, onPost.id, { action: 'remove_content', note: 'ads' }), 200);
    expect(resolved).toMatchObject({ status: 'actioned', resolution: { action: 'remove_content', note: 'ads' } });
    await expectProblem(await getPost(bad.id, owner), 404);
    await waitForNotification(member, 'report_resolved', (n) => n.data.report_id === onPost.id);

    // Anyone who can see a public community's members may report one of them there.
    const onMember = await report(outsider, { subject_type: 'user', subject_id: troll.id, community_id: community.id });
    await expectStatus(await resolveRaw(owner, onMember.id, { action: 'remove_member' }), 200);
    const members = await expectStatus(await call(`/communities/${community.id}/members?limit=100`, { token: owner.accessToken }), 200);
    expect(members.data.map((m: any) => m.user.id)).not.toContain(troll.id);
    await expectProblem(await resolveRaw(owner, onMember.id, { action: 'none' }), 409);
  });

  it("should ban the member a report's remove_member removes, so they cannot walk straight back in, even if they left first", async () => {
    const [spammer, dodger] = [await createUser(), await createUser()];
    for (const u of [spammer, dodger]) await expectStatus(await join(u, community.id), 200);
    const onSpammer = await report(member, { subject_type: 'user', subject_id: spammer.id, community_id: community.id, category: 'spam' });
    await expectStatus(await resolveRaw(mod, onSpammer.id, { action: 'remove_member' }), 200);
    expect((await expectProblem(await join(spammer, community.id), 403)).detail).toMatch(/banned/);
    const bans = await expectStatus(await call(`/communities/${community.id}/bans?limit=100`, { token: owner.accessToken }), 200);
    expect(bans.data.map((b: any) => b.user.id)).toContain(spammer.id);
    const entries = (await auditEntries('community.member_banned', community.id)).filter((e) => e.data.user_id === spammer.id);
    expect(entries.map((e) => [e.actor_id, e.data])).toEqual([[mod.id, { user_id: spammer.id, role: 'member', report_id: onSpammer.id }]]);
    // Leaving before the report is resolved does not dodge it.
    const onDodger = await report(member, { subject_type: 'user', subject_id: dodger.id, community_id: community.id });
    await expectStatus(await call(`/communities/${community.id}/leave`, { method: 'POST', token: dodger.accessToken }), 204);
    await expectStatus(await resolveRaw(owner, onDodger.id, { action: 'remove_member' }), 200);
    await expectProblem(await join(dodger, community.id), 403);
  });

  it('should refuse what community moderators may not do', async () => {
    const bad = await post(member, { content: 'fine post', community_id: community.id });
    const onPost = await report(outsider, { subject_type: 'post', subject_id: bad.id });
    await expectProblem(await resolveRaw(member, onPost.id, { action: 'none' }), 403);
    await expectProblem(await resolveRaw(mod, onPost.id, { action: 'suspend' }), 400, 'action');
    // Only the owner removes a moderator; nobody removes the owner.
    const onMod = await report(member, { subject_type: 'user', subject_id: mod.id, community_id: community.id });
    await expectProblem(await resolveRaw(mod, onMod.id, { action: 'remove_member' }), 403);
    const onOwner = await report(member, { subject_type: 'user', subject_id: owner.id, community_id: community.id });
    await expectProblem(await resolveRaw(mod, onOwner.id, { action: 'remove_member' }), 403);
    // A report from outside the community is not theirs to see.
    const other = await post(member, 'outside');
    const outside = await report(outsider, { subject_type: 'post', subject_id: other.id });
    await expectProblem(await resolveRaw(owner, outside.id, { action: 'none' }), 404);
    // Site staff see community reports in the main queue too.
    const staff = await createStaff('moderator');
    const all = await expectStatus(await call('/admin/reports?limit=100', { token: staff.accessToken }), 200);
    expect(all.data.map((r: any) => r.id)).toContain(onPost.id);
  });

  it('should answer 404 naming community_id when the reported user is not a member there', async () => {
    await expectProblem(
      await call('/reports', { token: member.accessToken, body: { subject_type: 'user', subject_id: outsider.id, category: 'spam', community_id: community.id } }),
      404,
      'community_id',
    );
  });
});
