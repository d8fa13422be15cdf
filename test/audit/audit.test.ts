import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { audit } from '../../src/modules/audit/audit';
import { canonicalJson, entryHash } from '../../src/modules/audit/audit-hash';
import { call, createUser, expectProblem, expectStatus, lastMailTo, type TestUser } from '../helpers/client';
import { changePassword, forgot, login, refresh, reset } from '../auth/helpers';
import { auditEntries, createStaff } from '../moderation/helpers';

let admin: TestUser;
beforeAll(async () => {
  admin = await createStaff('admin');
});

const verify = async () => expectStatus(await call('/admin/audit/verify', { token: admin.accessToken }), 200);
const resetToken = (mail: { body_text: string } | null) => /token=([A-Za-z0-9_-]+)/.exec(mail?.body_text ?? '')?.[1] ?? '';

describe('Audit log: what is recorded', () => {
  it('should record the account lifecycle with the client address, and never a password, token or code', async () => {
    const ip = '203.0.113.77';
    const name = `audit_${Date.now().toString(36)}`;
    const registered = await expectStatus(await call('/auth/register', { ip, body: { username: name, email: `${name}@example.com`, password: 'first password 1' } }), 201);
    const id = registered.user.id;
    await expectProblem(await login(name, 'wrong password', ip), 401);
    await expectProblem(await login('nobody_at_all', 'wrong password', ip), 401);
    const session = await expectStatus(await login(name, 'first password 1', ip), 200);
    const rotated = await expectStatus(await refresh(session.refresh_token, ip), 200);
    await expectProblem(await refresh(session.refresh_token, ip), 401);
    // The reuse ended that login's whole family; the registration's session is another one.
    await expectStatus(await changePassword(registered.access_token, 'first password 1', 'second password 2'), 204);
    await expectStatus(await forgot(`${name}@example.com`), 202);
    const token = resetToken(await lastMailTo(`${name}@example.com`));
    expect(token.length).toBeGreaterThan(10);
    await expectStatus(await reset(token, 'third password 3'), 204);
    const last = await expectStatus(await login(name, 'third password 3', ip), 200);
    await expectStatus(await call('/me', { method: 'DELETE', token: last.access_token, body: { password: 'third password 3' } }), 204);

    const { results } = await env.DB.prepare('SELECT * FROM audit_log WHERE subject_id = ?1 ORDER BY seq').bind(id).all<any>();
    expect(results.map((e) => e.action)).toEqual([
      'auth.register',
      'auth.login_failed',
      'auth.login',
      'auth.refresh_reuse',
      'auth.password_changed',
      'auth.password_reset',
      'auth.login',
      'account.deleted',
    ]);
    expect(results.filter((e) => e.action.startsWith('auth.') && !e.action.startsWith('auth.password')).map((e) => e.ip)).toEqual(Array(5).fill(ip));
    expect(JSON.parse(results[1].data)).toEqual({ reason: 'wrong_password' });
    const unknown = await env.DB.prepare("SELECT data FROM audit_log WHERE action = 'auth.login_failed' AND subject_id IS NULL AND ip = ?1").bind(ip).first<{ data: string }>();
    expect(JSON.parse(unknown!.data)).toEqual({ reason: 'unknown_account' });
    const everything = JSON.stringify((await env.DB.prepare('SELECT * FROM audit_log').all()).results);
    for (const secret of ['first password 1', 'second password 2', 'third password 3', 'wrong password', session.refresh_token, rotated.refresh_token, session.access_token, token, 'nobody_at_all']) {
      expect(everything).not.toContain(secret);
    }
  });

  it("should record an owner handing a community over, and the handover when the owner's account is deleted", async () => {
    const [owner, mod] = [await createUser(), await createUser()];
    const community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Audited ${Date.now()}` } }), 201);
    await expectStatus(await call(`/communities/${community.id}/join`, { method: 'POST', token: mod.accessToken }), 200);
    await expectStatus(await call(`/communities/${community.id}/members/${mod.id}`, { token: owner.accessToken, body: { role: 'owner' } }), 200);
    await expectStatus(await call('/me', { method: 'DELETE', token: mod.accessToken, body: { password: mod.password } }), 204);
    expect((await auditEntries('community.owner_changed', community.id)).map((e) => e.data)).toEqual([
      { from: owner.id, to: mod.id, reason: 'handed_over' },
      { from: mod.id, to: owner.id, reason: 'account_deleted' },
    ]);
  });
});

describe('Audit log: append-only and chained', () => {
  it('should refuse UPDATE and DELETE on the table, and leave entries when their accounts go', async () => {
    const user = await createUser();
    const [entry] = await auditEntries('auth.register', user.id);
    expect(entry).toBeDefined();
    await expect(env.DB.prepare("UPDATE audit_log SET action = 'tampered' WHERE id = ?1").bind(entry.id).run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare('DELETE FROM audit_log WHERE id = ?1').bind(entry.id).run()).rejects.toThrow(/append-only/);
    await expectStatus(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } }), 204);
    expect(await auditEntries('auth.register', user.id)).toHaveLength(1);
  });

  it('should keep one unbroken chain under concurrent writers', async () => {
    const before = (await verify()).entries;
    // Twelve writers at once, over two accounts (one account takes no more than its 10 failed logins).
    const users = [await createUser(), await createUser()];
    const attempts = await Promise.all(Array.from({ length: 12 }, (_, i) => login(users[i % 2]!.username, `wrong ${i}`, `198.51.100.${i + 1}`)));
    expect(attempts.every((r) => r.status === 401)).toBe(true);
    const after = await verify();
    expect(after).toMatchObject({ ok: true, first_bad_id: null });
    expect(after.entries - before).toBeGreaterThanOrEqual(14);
    const { results } = await env.DB.prepare('SELECT prev_hash, hash FROM audit_log ORDER BY seq').all<{ prev_hash: string; hash: string }>();
    for (let i = 1; i < results.length; i++) expect(results[i]!.prev_hash).toBe(results[i - 1]!.hash);
  });

  it('should list entries newest first for admins, filtered by action, actor and subject', async () => {
    const user = await createUser();
    await expectProblem(await login(user.username, 'nope nope', '192.0.2.5'), 401);
    const page = await expectStatus(await call(`/admin/audit?subject_id=${user.id}&limit=10`, { token: admin.accessToken }), 200);
    expect(page.data.map((e: any) => e.action)).toEqual(['auth.login_failed', 'auth.register']);
    expect(page.data[0]).toMatchObject({ actor: null, actor_id: null, subject_type: 'user', ip: '192.0.2.5', data: { reason: 'wrong_password' } });
    expect(page.data[1].actor).toMatchObject({ id: user.id, username: user.username });
    for (const entry of page.data) expect(entry).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), prev_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const byActor = await expectStatus(await call(`/admin/audit?actor_id=${user.id}&action=auth.register`, { token: admin.accessToken }), 200);
    expect(byActor.data).toHaveLength(1);
    await expectProblem(await call('/admin/audit?action=made.up', { token: admin.accessToken }), 400, 'action');
    await expectProblem(await call('/admin/audit?actor_id=x', { token: admin.accessToken }), 400, 'actor_id');
  });

  it("should show a user their own security events, and nobody else's", async () => {
    const [user, other] = [await createUser(), await createUser()];
    await expectProblem(await login(user.username, 'not it at all', '192.0.2.9'), 401);
    await expectStatus(await login(user.username, user.password, '192.0.2.9'), 200);
    await expectProblem(await login(other.username, 'not it either', '192.0.2.10'), 401);
    const events = await expectStatus(await call('/me/security_events', { token: user.accessToken }), 200);
    expect(events.data.map((e: any) => [e.action, e.ip])).toEqual([
      ['auth.login', '192.0.2.9'],
      ['auth.login_failed', '192.0.2.9'],
    ]);
    expect(Object.keys(events.data[0]).sort()).toEqual(['action', 'created_at', 'data', 'id', 'ip']);
  });

  it('should retry on the new head when another writer commits between its read and its batch', async () => {
    const commitElsewhere = async () => {
      const head = (await env.DB.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1').first<{ hash: string }>())!.hash;
      const entry = { id: newId(), action: 'auth.login_failed', actor_id: null, subject_type: null, subject_id: null, ip: '198.51.100.200', data: { reason: 'unknown_account' }, created_at: Date.now(), prev_hash: head };
      await env.DB.prepare('INSERT INTO audit_log (id, action, ip, data, created_at, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)')
        .bind(entry.id, entry.action, entry.ip, canonicalJson(entry.data), entry.created_at, head, await entryHash(entry))
        .run();
    };
    // Another isolate's writer, made real: just before this batch runs, a second audited write commits.
    let interleaved = 0;
    const racing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'batch') {
          return async (statements: D1PreparedStatement[]) => {
            if (interleaved++ === 0) await commitElsewhere();
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const user = await createUser();
    const [update] = await audit(racing, { action: 'role.changed', actorId: null, subjectType: 'user', subjectId: user.id, ip: null, data: { from: 'user', to: 'user' } }, [
      env.DB.prepare('UPDATE users SET updated_at = ?2 WHERE id = ?1').bind(user.id, 1),
    ]);
    expect(update?.meta.changes).toBe(1);
    expect(interleaved).toBe(2);
    expect(await auditEntries('role.changed', user.id)).toHaveLength(1);
    expect(await verify()).toMatchObject({ ok: true });
  });

  // Last in the file: it leaves a forged entry at the head of this file's chain.
  it('should find a forged entry: verify names the first entry whose hash is wrong', async () => {
    expect((await verify()).ok).toBe(true);
    const head = await env.DB.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1').first<{ hash: string }>();
    const id = newId();
    await env.DB.prepare(
      `INSERT INTO audit_log (id, action, actor_id, subject_type, subject_id, ip, data, created_at, prev_hash, hash)
       VALUES (?1, 'role.changed', NULL, 'user', ?2, NULL, '{"to":"admin"}', ?3, ?4, ?5)`,
    )
      .bind(id, admin.id, Date.now(), head!.hash, 'f'.repeat(64))
      .run();
    expect(await verify()).toMatchObject({ ok: false, first_bad_id: id });
  });
});
