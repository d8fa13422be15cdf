import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { call, createUser, expectProblem, expectStatus, uniqueName } from '../helpers/client';
import { emailTokenFrom, forgot, resend, lastMailOfKind, loginOk, mailCountTo, reset, resetTokenFrom, verifyEmailOf } from './helpers';
import { lastMailTo } from '../helpers/client';
import { settleAfterResponse } from '../helpers/after-response';
import { eventually } from '../notifications/helpers';

const me = async (token: string) => expectStatus(await call('/me', { token }), 200);
const verify = (token: string) => call('/auth/email/verify', { body: { token } });
const auditOf = (userId: string, action: string) =>
  env.DB.prepare('SELECT data FROM audit_log WHERE subject_id = ?1 AND action = ?2 ORDER BY seq').bind(userId, action).all<{ data: string }>();

describe('E-mail verification', () => {
  it('should mail a link with a text and an HTML part at registration, and verify the address with its token', async () => {
    const user = await createUser();
    expect(user.me.email_verified).toBe(false);
    const mail = await lastMailOfKind(user.email, 'email_verification');
    const token = emailTokenFrom(mail);
    expect(mail!.body_text).toContain(`/verify-email?token=${token}`);
    expect(mail!.body_html).toContain('<a href="http://localhost:3000/verify-email?token=');
    expect(mail!.body_html).toContain(token);

    await expectStatus(await verify(token), 204);
    expect((await me(user.accessToken)).email_verified).toBe(true);
    const entries = await auditOf(user.id, 'auth.email_verified');
    expect(entries.results).toHaveLength(1);
    expect(entries.results[0]!.data).not.toContain(token);
  });

  it('should refuse a token used twice, an unknown one and an expired one with 400 naming token', async () => {
    const user = await createUser();
    const token = emailTokenFrom(await lastMailOfKind(user.email, 'email_verification'));
    await expectStatus(await verify(token), 204);
    await expectProblem(await verify(token), 400, 'token');
    await expectProblem(await verify('not-a-real-token'), 400, 'token');

    const other = await createUser();
    const stale = emailTokenFrom(await lastMailOfKind(other.email, 'email_verification'));
    await env.DB.prepare('UPDATE email_tokens SET expires_at = ?2 WHERE user_id = ?1').bind(other.id, Date.now() - 1).run();
    await expectProblem(await verify(stale), 400, 'token');
    expect((await me(other.accessToken)).email_verified).toBe(false);
    await expectProblem(await call('/auth/email/verify', { body: {} }), 400, 'token');
  });

  it('should resend the link to a signed-in unverified account, and to an address given without a token, at most 3 an hour', async () => {
    const user = await createUser();
    await expectStatus(await call('/auth/email/resend', { token: user.accessToken, body: {} }), 202);
    expect(await mailCountTo(user.email, 'email_verification')).toBe(2);
    await expectStatus(await resend({ email: user.email.toUpperCase() }), 202);
    expect(await mailCountTo(user.email, 'email_verification')).toBe(3);
    // The cap: still 202, no fourth mail.
    await expectStatus(await resend({ email: user.email }), 202);
    expect(await mailCountTo(user.email, 'email_verification')).toBe(3);
    // Any of the links works.
    await expectStatus(await verify(emailTokenFrom(await lastMailOfKind(user.email, 'email_verification'))), 204);
  });

  it('should answer 202 alike for unknown and verified addresses, and mail nothing', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const unknown = `${uniqueName('nobody')}@example.com`;
    for (const email of [unknown, user.email]) {
      const body = await expectStatus(await resend({ email }), 202);
      expect(body.status).toBe('accepted');
    }
    expect(await mailCountTo(unknown, 'email_verification')).toBe(0);
    expect(await mailCountTo(user.email, 'email_verification')).toBe(1);
    await expectProblem(await call('/auth/email/resend', { body: {} }), 400, 'email');
  });

  it('should count a password reset as proof of the address', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    await expectStatus(await reset(resetTokenFrom(await lastMailTo(user.email)), 'a brand new password'), 204);
    const body = await loginOk(user.email, 'a brand new password');
    expect(body.user.email_verified).toBe(true);
  });
});

describe('E-mail change', () => {
  const patch = (token: string, body: unknown) => call('/me', { method: 'PATCH', token, body });

  it('should need current_password, keep the old address until the new one is verified, then switch and tell the old one', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const next = `${uniqueName('new')}@example.com`;
    await expectProblem(await patch(user.accessToken, { email: next }), 400, 'current_password');
    await expectProblem(await patch(user.accessToken, { email: next, current_password: 'wrong password' }), 403, 'current_password');
    expect(await mailCountTo(next, 'email_change')).toBe(0);
    expect((await auditOf(user.id, 'auth.email_change_requested')).results).toHaveLength(0);

    const body = await expectStatus(await patch(user.accessToken, { email: next.toUpperCase(), current_password: user.password }), 200);
    // The request is a security event of the account (without the new address).
    const requested = (await auditOf(user.id, 'auth.email_change_requested')).results;
    expect(requested).toHaveLength(1);
    expect(requested[0]!.data ?? '').not.toMatch(new RegExp(next.split('@')[0]!, 'i'));
    expect(body).toMatchObject({ email: user.email, email_verified: true });
    const mail = await lastMailOfKind(next, 'email_change');
    expect(mail!.body_html).toContain('<a href=');
    // Still the old address for login until verified.
    await loginOk(user.email, user.password);

    await expectStatus(await verify(emailTokenFrom(mail)), 204);
    expect(await me(user.accessToken)).toMatchObject({ email: next, email_verified: true });
    await loginOk(next, user.password);
    expect(await mailCountTo(user.email, 'email_changed')).toBe(1);
    const entries = await auditOf(user.id, 'auth.email_verified');
    expect(entries.results.map((e) => JSON.parse(e.data).change)).toEqual([false, true]);
  });

  it('should refuse an address another account has (409), before and at verification', async () => {
    const [a, b] = [await createUser(), await createUser()];
    await expectProblem(await patch(a.accessToken, { email: b.email, current_password: a.password }), 409, 'email');
    const free = `${uniqueName('race')}@example.com`;
    await expectStatus(await patch(a.accessToken, { email: free, current_password: a.password }), 200);
    const tokenA = emailTokenFrom(await lastMailOfKind(free, 'email_change'));
    await expectStatus(await patch(b.accessToken, { email: free, current_password: b.password }), 200);
    await expectStatus(await verify(emailTokenFrom(await lastMailOfKind(free, 'email_change'))), 204);
    await expectProblem(await verify(tokenA), 409, 'email');
    expect((await me(a.accessToken)).email).toBe(a.email);
  });

  it('should resend a pending change link to the new address, and burn the old address links once changed', async () => {
    const user = await createUser();
    const next = `${uniqueName('pend')}@example.com`;
    const oldLink = emailTokenFrom(await lastMailOfKind(user.email, 'email_verification'));
    await expectStatus(await patch(user.accessToken, { email: next, current_password: user.password }), 200);
    await expectStatus(await call('/auth/email/resend', { token: user.accessToken, body: {} }), 202);
    expect(await mailCountTo(next, 'email_change')).toBe(2);
    await expectStatus(await verify(emailTokenFrom(await lastMailOfKind(next, 'email_change'))), 204);
    // The link mailed to the old address no longer verifies anything.
    await expectProblem(await verify(oldLink), 400, 'token');
  });
});

describe('Mail to one address, whichever accounts ask', () => {
  const askToMove = (user: { accessToken: string; password: string }, email: string) =>
    call('/me', { method: 'PATCH', token: user.accessToken, body: { email, current_password: user.password } });

  it('should mail one address at most 3 change links an hour, however many accounts ask (429 for the next)', async () => {
    const target = `${uniqueName('stranger')}@example.com`;
    const askers = [await createUser(), await createUser(), await createUser(), await createUser()];
    for (const asker of askers.slice(0, 3)) await expectStatus(await askToMove(asker, target), 200);
    const refused = await expectProblem(await askToMove(askers[3]!, target), 429);
    expect(refused.detail).toMatch(/address/);
    expect(await mailCountTo(target, 'email_change')).toBe(3);
  });

  it("should not let strangers' change requests use up the owner's own verification mail", async () => {
    const target = `${uniqueName('owner')}@example.com`;
    for (const asker of [await createUser(), await createUser(), await createUser()]) await expectStatus(await askToMove(asker, target), 200);
    const owner = await createUser({ email: target });
    await expectStatus(await verify(emailTokenFrom(await lastMailOfKind(target, 'email_verification'))), 204);
    expect((await me(owner.accessToken)).email_verified).toBe(true);
  });

  it('should keep counting when accounts holding the address are deleted and made again (verification and reset mails)', async () => {
    const target = `${uniqueName('loop')}@example.com`;
    for (let round = 0; round < 4; round++) {
      const squatter = await createUser({ email: target });
      await expectStatus(await forgot(target), 202);
      await expectStatus(await call('/me', { method: 'DELETE', token: squatter.accessToken, body: { password: squatter.password } }), 204);
    }
    expect(await mailCountTo(target, 'email_verification')).toBe(3);
    expect(await mailCountTo(target, 'password_reset')).toBe(3);
  });
});

describe('Mail caps under requests sent all at once', () => {
  it('should send one address no more than 3 reset mails however many requests arrive together, from many addresses', async () => {
    const user = await createUser();
    const { result: answers } = await settleAfterResponse(() => Promise.all(Array.from({ length: 8 }, () => call('/auth/password/forgot', { body: { email: user.email } }))));
    for (const res of answers) await expectStatus(res, 202);
    expect(await mailCountTo(user.email, 'password_reset')).toBe(3);
  });

  it('should let one account send no more than 3 change links an hour, even all at once to different addresses', async () => {
    const user = await createUser();
    await verifyEmailOf(user); // the registration link is one of the account's three
    const targets = Array.from({ length: 6 }, () => `${uniqueName('spray')}@example.com`);
    const answers = await Promise.all(
      targets.map((email) => call('/me', { method: 'PATCH', token: user.accessToken, body: { email, current_password: user.password } })),
    );
    const statuses = answers.map((res) => res.status);
    await Promise.all(answers.map((res) => res.body?.cancel()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    let sent = 0;
    for (const email of targets) sent += await mailCountTo(email, 'email_change');
    expect(sent).toBe(2);
  });
});

describe('A mail asked for by address is never lost', () => {
  it('should make a reset link and a resent verification again through the mail queue when making them after the answer failed', async () => {
    const user = await createUser({ username: uniqueName('lost') });
    const address = user.email.toLowerCase();
    const before = { reset: await mailCountTo(address), verify: await mailCountTo(address, 'email_verification') };
    // A real failure inside D1 for this address's mail alone, while the trigger stands.
    const trigger = `test_refuse_mail_${user.id.toLowerCase()}`;
    await env.DB.prepare(`CREATE TRIGGER ${trigger} BEFORE INSERT ON mail_outbox WHEN NEW.to_address = '${address}' BEGIN SELECT RAISE(ABORT, 'refused'); END`).run();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // The same answers as ever; the work after them fails.
      await expectStatus(await forgot(user.email), 202);
      await expectStatus(await resend({ email: user.email }), 202);
      expect(errors.mock.calls.filter(([line]) => String(line).includes('retried through the mail queue'))).toHaveLength(2);
      expect(await mailCountTo(address)).toBe(before.reset);
    } finally {
      await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
      errors.mockRestore();
    }
    // The mail queue makes both again once D1 takes them.
    await eventually(async () => {
      expect(await mailCountTo(address)).toBe(before.reset + 1);
      expect(await mailCountTo(address, 'email_verification')).toBe(before.verify + 1);
    }, 20_000, 200);
    const token = resetTokenFrom(await lastMailOfKind(address, 'password_reset'));
    await expectStatus(await reset(token, 'a brand new passphrase'), 204);
  }, 40_000);
});
