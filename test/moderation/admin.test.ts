import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { canonicalJson, entryHash, GENESIS_HASH } from '../../src/modules/audit/audit-hash';
import { STATS_SQL } from '../../src/modules/moderation/admin.service';
import { grantRoleSql } from '../../src/modules/moderation/grant-role';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { send, startDirect } from '../messaging/helpers';
import { post } from '../posts/helpers';
import { auditEntries, createStaff, report, type TestUser } from './helpers';

let admin: TestUser;
beforeAll(async () => {
  admin = await createStaff('admin');
});

describe('Site roles', () => {
  it('should show the role in /me and let an admin change it (recorded), never their own', async () => {
    const user = await createUser();
    expect((await expectStatus(await call('/me', { token: user.accessToken }), 200)).role).toBe('user');
    const state = await expectStatus(await call(`/admin/users/${user.id}/role`, { method: 'PUT', token: admin.accessToken, body: { role: 'moderator' } }), 200);
    expect(state).toMatchObject({ user: { id: user.id }, role: 'moderator', status: 'active', until: null });
    expect((await expectStatus(await call('/me', { token: user.accessToken }), 200)).role).toBe('moderator');
    await expectStatus(await call('/admin/reports', { token: user.accessToken }), 200);
    expect((await auditEntries('role.changed', user.id)).map((e) => [e.actor_id, e.data])).toEqual([[admin.id, { from: 'user', to: 'moderator' }]]);
    await expectProblem(await call(`/admin/users/${admin.id}/role`, { method: 'PUT', token: admin.accessToken, body: { role: 'user' } }), 400, 'id');
    await expectProblem(await call(`/admin/users/${user.id}/role`, { method: 'PUT', token: admin.accessToken, body: { role: 'king' } }), 400, 'role');
    await expectProblem(await call('/admin/users/01JC6Z1W3R2J4D5E6F7G8H9J0K/role', { method: 'PUT', token: admin.accessToken, body: { role: 'user' } }), 404);
  });

  it("should run `npm run admin -- grant`'s SQL as one batch that keeps the audit chain whole", async () => {
    const user = await createUser();
    const head = (await env.DB.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1').first<{ hash: string }>())?.hash ?? GENESIS_HASH;
    const now = Date.now();
    const sql = await grantRoleSql({ user: { id: user.id, role: 'user' }, role: 'admin', head, entryId: newId(now), now, hash: entryHash }, canonicalJson);
    await env.DB.batch(sql.split('\n').map((statement) => env.DB.prepare(statement)));
    expect((await expectStatus(await call('/me', { token: user.accessToken }), 200)).role).toBe('admin');
    expect(await expectStatus(await call('/admin/audit/verify', { token: admin.accessToken }), 200)).toMatchObject({ ok: true, first_bad_id: null });
    // The same script on a stale head is refused whole: neither the role nor the entry lands.
    const stale = await grantRoleSql({ user: { id: user.id, role: 'admin' }, role: 'user', head, entryId: newId(now), now, hash: entryHash }, canonicalJson);
    await expect(env.DB.batch(stale.split('\n').map((statement) => env.DB.prepare(statement)))).rejects.toThrow(/audit chain conflict/);
    expect((await expectStatus(await call('/me', { token: user.accessToken }), 200)).role).toBe('admin');
  });
});

describe('Admin stats', () => {
  it('should count users, posts, messages, communities and open reports', async () => {
    const read = async () => expectStatus(await call('/admin/stats', { token: admin.accessToken }), 200);
    const before = await read();
    expect(Object.keys(before).sort()).toEqual(['communities', 'messages_1d', 'posts', 'reports', 'users']);
    const [a, b] = [await createUser(), await createUser()];
    const p = await post(a, 'counted');
    await expectStatus(await call('/communities', { token: a.accessToken, body: { name: `Stats ${Date.now()}` } }), 201);
    const conversation = await startDirect(a, b);
    await send(a, conversation.id, 'one');
    await send(b, conversation.id, 'two');
    await report(b, { subject_type: 'post', subject_id: p.id });
    const after = await read();
    // Each community also posts nothing and its chat sends nothing: exact deltas.
    expect(after.users.total - before.users.total).toBe(2);
    expect(after.users.new_1d - before.users.new_1d).toBe(2);
    expect(after.users.active_1d - before.users.active_1d).toBe(2);
    expect(after.users.active_7d - before.users.active_7d).toBe(2);
    expect(after.posts.total - before.posts.total).toBe(1);
    expect(after.posts.new_1d - before.posts.new_1d).toBe(1);
    expect(after.messages_1d - before.messages_1d).toBe(2);
    expect(after.communities.total - before.communities.total).toBe(1);
    expect(after.communities.new_1d - before.communities.new_1d).toBe(1);
    expect(after.reports.open - before.reports.open).toBe(1);
    // Deletions count down (kept by triggers).
    await expectStatus(await call(`/posts/${p.id}`, { method: 'DELETE', token: a.accessToken }), 204);
    expect((await read()).posts.total).toBe(after.posts.total - 1);
  });

  it('should read only counters and index ranges (EXPLAIN QUERY PLAN: no full scans)', async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${STATS_SQL}`).bind(0, 0, 0).all<{ detail: string }>();
    const lines = results.map((r) => r.detail);
    expect(lines.length).toBeGreaterThan(5);
    const scans = lines.filter((line) => /^SCAN (users|posts|sessions|communities|reports|site_counters|stats_hourly)\b/.test(line.trim()));
    expect(scans, lines.join('\n')).toEqual([]);
    for (const index of ['users_created_idx', 'sessions_last_used_idx', 'posts_visibility_created_idx', 'communities_created_idx', 'reports_status_created_idx']) {
      expect(lines.join('\n')).toContain(index);
    }
  });
});

describe('The OpenAPI document', () => {
  it('should name the data of the moderation notifications and the new problem types', async () => {
    const doc = await expectStatus(await call('/openapi.json'), 200);
    expect(doc.components.schemas.ReportResolvedData.properties.status.enum).toEqual(['actioned', 'dismissed']);
    expect(Object.keys(doc.components.schemas.ModerationWarningData.properties).sort()).toEqual(['action', 'reason', 'until']);
    expect(doc.paths['/api/v1/posts'].post.responses['422']).toBeDefined();
    expect(doc.paths['/api/v1/auth/login'].post.responses['403']).toBeDefined();
  });
});
