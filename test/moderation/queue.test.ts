import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { impressionCounterOf } from '../../src/modules/insights/impression-counter';
import { listRoutes } from '../helpers/routes';
import { history, send, startDirect } from '../messaging/helpers';
import { waitForNotification } from '../notifications/helpers';
import { comment, getPost, listComments, makeFriends, post } from '../posts/helpers';
import { actionRaw, auditEntries, createStaff, report, resolve, resolveRaw, staffReport, type TestUser } from './helpers';

let moderator: TestUser;
let admin: TestUser;
beforeAll(async () => {
  moderator = await createStaff('moderator');
  admin = await createStaff('admin');
});

describe('Staff routes: who may use them', () => {
  it('should answer 403 to a signed-in user on every /api/v1/admin route, and 401 without a token', async () => {
    const user = await createUser();
    const routes = (await listRoutes()).filter((r) => r.path.startsWith('/api/v1/admin/'));
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of routes) {
      const res = await call(route.url, { method: route.method, token: user.accessToken, body: route.bodyTypes.length ? route.exampleBody ?? {} : undefined });
      await expectProblem(res, 403);
      await expectProblem(await call(route.url, { method: route.method }), 401);
    }
  });

  it('should keep moderators out of admin-only routes (roles and the audit log)', async () => {
    const someone = await createUser();
    await expectProblem(await call(`/admin/users/${someone.id}/role`, { method: 'PUT', token: moderator.accessToken, body: { role: 'moderator' } }), 403);
    await expectProblem(await call('/admin/audit', { token: moderator.accessToken }), 403);
    await expectProblem(await call('/admin/audit/verify', { token: moderator.accessToken }), 403);
    await expectStatus(await call('/admin/audit', { token: admin.accessToken }), 200);
  });

  it('should stop a demoted moderator at once', async () => {
    const mod = await createStaff('moderator');
    await expectStatus(await call('/admin/reports', { token: mod.accessToken }), 200);
    const res = await call(`/admin/users/${mod.id}/role`, { method: 'PUT', token: admin.accessToken, body: { role: 'user' } });
    expect((await expectStatus(res, 200)).role).toBe('user');
    await expectProblem(await call('/admin/reports', { token: mod.accessToken }), 403);
    expect((await expectStatus(await call('/me', { token: mod.accessToken }), 200)).role).toBe('user');
  });
});

describe('The staff queue', () => {
  it('should list open reports oldest first with filters, assign and resolve them', async () => {
    const [author, r1, r2] = [await createUser(), await createUser(), await createUser()];
    const target = await post(author, 'queue me');
    const first = await report(r1, { subject_type: 'post', subject_id: target.id, category: 'spam' });
    const second = await report(r2, { subject_type: 'user', subject_id: author.id, category: 'impersonation' });
    const page = await expectStatus(await call('/admin/reports?limit=100', { token: moderator.accessToken }), 200);
    const ids = page.data.map((r: any) => r.id);
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
    const spam = await expectStatus(await call('/admin/reports?category=spam&subject_type=post&limit=100', { token: moderator.accessToken }), 200);
    expect(spam.data.every((r: any) => r.category === 'spam' && r.subject_type === 'post')).toBe(true);
    expect(spam.data.map((r: any) => r.id)).toContain(first.id);

    const assigned = await expectStatus(await call(`/admin/reports/${first.id}/assign`, { method: 'POST', token: moderator.accessToken }), 200);
    expect(assigned.assigned_to.id).toBe(moderator.id);
    const resolved = await resolve(moderator, first.id, { action: 'none', note: 'fine' });
    expect(resolved).toMatchObject({ status: 'dismissed', resolution: { action: 'none', note: 'fine', moderator: { id: moderator.id } } });
    expect(resolved.resolved_at).not.toBeNull();
    const dismissed = await expectStatus(await call('/admin/reports?status=dismissed&limit=100', { token: moderator.accessToken }), 200);
    expect(dismissed.data.map((r: any) => r.id)).toContain(first.id);
  });

  it('should answer 409 to resolving or assigning a resolved report, 404 to an unknown one', async () => {
    const target = await post(await createUser(), 'twice');
    const filed = await report(await createUser(), { subject_type: 'post', subject_id: target.id });
    await resolve(moderator, filed.id, { action: 'none' });
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'warn' }), 409);
    await expectProblem(await call(`/admin/reports/${filed.id}/assign`, { method: 'POST', token: moderator.accessToken }), 409);
    await expectProblem(await resolveRaw(moderator, '01JC6Z1W3R2J4D5E6F7G8H9J0K', { action: 'none' }), 404);
  });

  it('should resolve concurrent resolutions once: one 200, the others 409, one audit entry', async () => {
    const author = await createUser();
    const target = await post(author, 'race me');
    const filed = await report(await createUser(), { subject_type: 'post', subject_id: target.id });
    const other = await createStaff('moderator');
    const answers = await Promise.all([resolveRaw(moderator, filed.id, { action: 'none' }), resolveRaw(other, filed.id, { action: 'remove_content' })]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = answers.find((r) => r.status === 200)!;
    const outcome = await winner.json<any>();
    expect(await auditEntries('report.resolved', filed.id)).toHaveLength(1);
    // The loser's action left no trace: the post exists exactly when the winner dismissed.
    expect((await getPost(target.id, author)).status).toBe(outcome.resolution.action === 'none' ? 200 : 404);
  });

  it('should answer 400 to bad resolutions and bad account actions', async () => {
    const target = await post(await createUser(), 'bad input');
    const filed = await report(await createUser(), { subject_type: 'post', subject_id: target.id });
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'ban' }), 400, 'action');
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'suspend', duration_hours: 0 }), 400, 'duration_hours');
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'suspend', duration_hours: 8761 }), 400, 'duration_hours');
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'warn', duration_hours: 5 }), 400, 'duration_hours');
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'none', note: 'n'.repeat(1001) }), 400, 'note');
    const user = await createUser();
    await expectProblem(await actionRaw(moderator, user.id, { action: 'silence', reason: 'x', duration_hours: 1.5 }), 400, 'duration_hours');
    await expectProblem(await actionRaw(moderator, user.id, { action: 'silence', reason: '' }), 400, 'reason');
    await expectProblem(await actionRaw(moderator, user.id, { action: 'banish', reason: 'x' }), 400, 'action');
    // remove_content does not apply to a user.
    const onUser = await report(await createUser(), { subject_type: 'user', subject_id: user.id });
    await expectProblem(await resolveRaw(moderator, onUser.id, { action: 'remove_content' }), 400, 'action');
    expect((await staffReport(moderator, onUser.id)).status).toBe('open');
  });

  it('should forbid a moderator to act on an admin (and anyone on themselves), changing nothing', async () => {
    const filed = await report(await createUser(), { subject_type: 'user', subject_id: admin.id });
    await expectProblem(await resolveRaw(moderator, filed.id, { action: 'suspend' }), 403);
    await expectProblem(await actionRaw(moderator, admin.id, { action: 'warn', reason: 'x' }), 403);
    await expectProblem(await actionRaw(moderator, moderator.id, { action: 'silence', reason: 'x' }), 403);
    expect((await staffReport(moderator, filed.id)).status).toBe('open');
    expect(await auditEntries('account.action', admin.id)).toHaveLength(0);
    // An admin may act on a moderator.
    await expectStatus(await actionRaw(admin, moderator.id, { action: 'warn', reason: 'slow down' }), 200);
  });
});

describe('remove_content', () => {
  it('should delete a reported post and a reported comment for everyone', async () => {
    const [author, reader] = [await createUser(), await createUser()];
    const target = await post(author, 'remove me');
    const reply = await comment(author, target.id, 'and me');
    const other = await post(author, 'keep me');
    const onComment = await report(reader, { subject_type: 'comment', subject_id: (await comment(author, other.id, 'bad comment')).id });
    const onPost = await report(reader, { subject_type: 'post', subject_id: target.id });
    expect((await resolve(moderator, onPost.id, { action: 'remove_content' })).status).toBe('actioned');
    await expectProblem(await getPost(target.id, author), 404);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM comments WHERE id = ?1').bind(reply.id).first('n')).toBe(0);
    await resolve(moderator, onComment.id, { action: 'remove_content' });
    const left = await expectStatus(await listComments(other.id, reader), 200);
    expect(left.data).toHaveLength(0);
    // The snapshot still shows what was removed.
    expect((await staffReport(moderator, onPost.id)).subject.content).toBe('remove me');
  });

  it('should tombstone a reported message for every member and forget the notification that quoted it', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const message = await send(a, conversation.id, 'a threat');
    await waitForNotification(b, 'new_message', (n) => n.data.id === message.id);
    const filed = await report(b, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id, category: 'violence' });
    await resolve(moderator, filed.id, { action: 'remove_content' });
    for (const member of [a, b]) {
      const page = await history(member, conversation.id);
      expect(page.data.find((m: any) => m.id === message.id)).toMatchObject({ deleted: true, content: '' });
    }
    const listed = await expectStatus(await call('/notifications?limit=100', { token: b.accessToken }), 200);
    expect(listed.data.filter((n: any) => n.type === 'new_message' && n.data.id === message.id)).toHaveLength(0);
    expect((await staffReport(moderator, filed.id)).subject.content).toBe('a threat');
  });

  it('should forget the notifications that quoted or pointed at a removed post (new_post and wall_post) and its impression counters', async () => {
    const [author, follower, owner] = [await createUser(), await createUser(), await createUser()];
    await expectStatus(await call(`/users/${author.id}/follow`, { method: 'POST', token: follower.accessToken }), 200);
    await makeFriends(author, owner);
    const target = await post(author, 'a post that will go');
    const onWall = await post(author, { content: 'on your wall, soon gone', target_user_id: owner.id });
    await waitForNotification(follower, 'new_post', (n) => n.data.id === target.id);
    await waitForNotification(owner, 'wall_post', (n) => n.data.post_id === onWall.id);
    const counter = impressionCounterOf(env, target.id);
    await counter.record([{ key: crypto.randomUUID(), posts: [[target.id, 1, ['00000000000000aa']]] }]);
    expect(await counter.stored(target.id)).not.toBeNull();
    for (const p of [target, onWall]) await resolve(moderator, (await report(follower, { subject_type: 'post', subject_id: p.id })).id, { action: 'remove_content' });
    const left = async (user: TestUser) => (await expectStatus(await call('/notifications?limit=100', { token: user.accessToken }), 200)).data;
    expect((await left(follower)).filter((n: any) => n.type === 'new_post' && [target.id, onWall.id].includes(n.data.id))).toEqual([]);
    expect((await left(owner)).filter((n: any) => n.type === 'wall_post' && n.data.post_id === onWall.id)).toEqual([]);
    expect(await counter.stored(target.id)).toBeNull();
  });
});
