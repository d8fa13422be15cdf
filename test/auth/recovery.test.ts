import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, lastMailTo, type TestUser, uniqueName } from '../helpers/client';
import { openSocket } from '../messaging/socket-helpers';
import { startDirect } from '../messaging/helpers';
import { openNotifications } from '../notifications/stream-helpers';
import { changePassword, decodeJwtPayload, emailTokenFrom, enableTotp, forgot, lastMailOfKind, login, loginOk, refresh, reset, resetTokenFrom, totpCode, type TokenBody, verifyEmailOf } from './helpers';
import { APP_REDIRECT, linkWith, newIdentity } from '../helpers/oauth';

/**
 * An attacker who got into an account (a phished password, a stolen device) and what the owner's
 * recovery (password reset, password change, refresh-token reuse) must take away from them.
 */

/** The attacker's own session of the victim's account, with a conversation socket and a notifications socket open. */
async function intruderWithSockets(victim: TestUser) {
  const friend = await createUser();
  const conversation = await startDirect(victim, friend);
  const stolen = await loginOk(victim.username, victim.password);
  const sockets = [await openSocket(conversation.id, stolen.access_token), await openNotifications({ ...victim, accessToken: stolen.access_token })];
  return { stolen, sockets };
}

describe('Recovering an account ends the intruder’s live sockets', () => {
  it('should close every socket of the account when its password is reset', async () => {
    const victim = await createUser();
    const { sockets } = await intruderWithSockets(victim);
    await expectStatus(await forgot(victim.email), 202);
    await expectStatus(await reset(resetTokenFrom(await lastMailTo(victim.email)), 'the owner is back in'), 204);
    for (const socket of sockets) expect((await socket.closed()).code).toBe(4401);
  });

  it("should close the other sessions' sockets on a password change, and keep the caller's", async () => {
    const victim = await createUser();
    const { sockets } = await intruderWithSockets(victim);
    const own = await openNotifications(victim);
    await expectStatus(await changePassword(victim.accessToken, victim.password, 'the owner is back in'), 204);
    for (const socket of sockets) expect((await socket.closed()).code).toBe(4401);
    expect(own.closeEvent).toBeNull();
    own.close();
  });

  it("should end the other sessions when two-factor sign-in is turned on (tokens, refresh tokens, sockets), and keep the caller's", async () => {
    const victim = await createUser();
    const { stolen, sockets } = await intruderWithSockets(victim);
    const own = await openNotifications(victim);
    await enableTotp(victim);
    for (const socket of sockets) expect((await socket.closed()).code).toBe(4401);
    await expectProblem(await call('/me', { token: stolen.access_token }), 401);
    await expectProblem(await refresh(stolen.refresh_token), 401);
    // The session that turned it on goes on, its socket too.
    await expectStatus(await call('/me', { token: victim.accessToken }), 200);
    await expectStatus(await refresh(victim.refreshToken), 200);
    expect(own.closeEvent).toBeNull();
    own.close();
    const entry = await env.DB.prepare("SELECT data FROM audit_log WHERE action = 'auth.mfa_enabled' AND subject_id = ?1").bind(victim.id).first<{ data: string }>();
    expect(JSON.parse(entry!.data)).toEqual({ method: 'totp', session_id: decodeJwtPayload(victim.accessToken).sid });
  });

  it('should close the sockets of a session revoked because its refresh token was reused', async () => {
    const victim = await createUser();
    const friend = await createUser();
    const conversation = await startDirect(victim, friend);
    // The intruder copied the refresh token and rotated it first; the owner's next refresh is the reuse.
    const intruder = await expectStatus<TokenBody>(await refresh(victim.refreshToken), 200);
    const socket = await openSocket(conversation.id, intruder.access_token);
    await expectProblem(await refresh(victim.refreshToken), 401);
    expect((await socket.closed()).code).toBe(4401);
  });
});

describe('Telling the owner, and signing out', () => {
  it('should tell the account’s address when its password is changed or reset', async () => {
    const owner = await createUser();
    await expectStatus(await changePassword(owner.accessToken, owner.password, 'a new password here'), 204);
    expect((await lastMailOfKind(owner.email, 'password_changed'))?.body_text).toContain('changed from a signed-in device');
    await expectStatus(await forgot(owner.email), 202);
    await expectStatus(await reset(resetTokenFrom(await lastMailTo(owner.email)), 'another new password'), 204);
    expect((await lastMailOfKind(owner.email, 'password_changed'))?.body_text).toContain('reset with a link');
    const sent = await env.DB.prepare("SELECT COUNT(*) AS n FROM mail_outbox WHERE to_address = ?1 AND kind = 'password_changed'").bind(owner.email.toLowerCase()).first<{ n: number }>();
    expect(sent?.n).toBe(2);
  });

  it('should close the sockets of the session a logout ends, and only those', async () => {
    const user = await createUser();
    const other = await loginOk(user.username, user.password);
    const [mine, theirs] = [await openNotifications(user), await openNotifications({ ...user, accessToken: other.access_token })];
    await expectStatus(await call('/auth/logout', { body: { refresh_token: other.refresh_token } }), 204);
    expect((await theirs.closed()).code).toBe(4401);
    expect(mine.closeEvent).toBeNull();
    mine.close();
  });
});

describe('Recovering an account takes back a pending e-mail change', () => {
  const patch = (token: string, body: unknown) => call('/me', { method: 'PATCH', token, body });

  for (const [how, recover] of [
    ['reset', async (victim: TestUser) => {
      await expectStatus(await forgot(victim.email), 202);
      await expectStatus(await reset(resetTokenFrom(await lastMailTo(victim.email)), 'the owner is back in'), 204);
    }],
    ['changed', async (victim: TestUser) => {
      await expectStatus(await changePassword(victim.accessToken, victim.password, 'the owner is back in'), 204);
    }],
  ] as const) {
    it(`should burn the change link to the intruder's address once the password is ${how}`, async () => {
      const victim = await createUser();
      const stolen = await loginOk(victim.username, victim.password);
      const intruderAddress = `${uniqueName('intruder')}@example.com`;
      await expectStatus(await patch(stolen.access_token, { email: intruderAddress, current_password: victim.password }), 200);
      const link = emailTokenFrom(await lastMailOfKind(intruderAddress, 'email_change'));

      await recover(victim);
      await expectProblem(await call('/auth/email/verify', { body: { token: link } }), 400, 'token');
      const row = await env.DB.prepare('SELECT email FROM users WHERE id = ?1').bind(victim.id).first<{ email: string }>();
      expect(row!.email).toBe(victim.email);
    });
  }
});

describe('Recovering an account ends a second sign-in step under way', () => {
  it('should refuse an mfa_token the old password earned once the password is reset', async () => {
    const victim = await createUser();
    const { secret } = await enableTotp(victim);
    const step = await expectProblem(await login(victim.username, victim.password), 401);
    expect(step.type).toMatch(/\/mfa-required$/);
    await expectStatus(await forgot(victim.email), 202);
    await expectStatus(await reset(resetTokenFrom(await lastMailTo(victim.email)), 'the owner is back in'), 204);
    await expectProblem(await call('/auth/login/mfa', { body: { mfa_token: step.mfa_token, code: totpCode(secret) } }), 400, 'mfa_token');
  });
});

describe('A stolen token cannot add a way into the account', () => {
  /** The victim signed in 16 minutes ago; the intruder holds that session's token (or a refresh of it). */
  async function oldSession(): Promise<TestUser> {
    const victim = await createUser();
    await verifyEmailOf(victim);
    await env.DB.prepare('UPDATE sessions SET created_at = created_at - 16 * 60 * 1000 WHERE user_id = ?1').bind(victim.id).run();
    return victim;
  }

  it('should refuse to link a provider, or start TOTP, from a session signed in more than 15 minutes ago (403 /recent-sign-in-required)', async () => {
    const victim = await oldSession();
    const rotated = await expectStatus<TokenBody>(await refresh(victim.refreshToken), 200);
    for (const token of [victim.accessToken, rotated.access_token]) {
      const link = await expectProblem(await call(`/auth/oauth/oidc/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`, { token }), 403);
      expect(link.type).toMatch(/\/recent-sign-in-required$/);
      const totp = await expectProblem(await call('/me/mfa/totp', { method: 'POST', token }), 403);
      expect(totp.type).toMatch(/\/recent-sign-in-required$/);
    }
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM oauth_states WHERE link_user_id = ?1').bind(victim.id).first('n')).toBe(0);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM mfa_totp WHERE user_id = ?1').bind(victim.id).first('n')).toBe(0);
  });

  it('should let the owner do both after signing in again', async () => {
    const victim = await oldSession();
    const again = await loginOk(victim.username, victim.password);
    await expectStatus(await call('/me/mfa/totp', { method: 'POST', token: again.access_token }), 200);
    await expectStatus(await linkWith('oidc', newIdentity(), again.access_token), 201);
  });
});
