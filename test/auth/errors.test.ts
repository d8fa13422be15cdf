import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import type { Bindings } from '../../src/lib/types';
import { signAccessToken, signingKey, verifyAccessToken } from '../../src/lib/access-tokens';
import { call, createUser, expectProblem, expectStatus, lastMailTo, randomIp, uniqueName } from '../helpers/client';
import {
  changePassword,
  forgot,
  getMe,
  login,
  loginOk,
  mailCountTo,
  mixedCaseName,
  refresh,
  register,
  reset,
  resetTokenFrom,
  type TokenBody,
} from './helpers';

const PASSWORD = 'correct horse battery';

function validRegistration(overrides: Record<string, unknown> = {}) {
  const username = uniqueName('v');
  return { email: `${username}@example.com`, username, password: PASSWORD, ...overrides };
}

describe('Register validation', () => {
  it('should answer 409 naming username when it differs from a taken one only in case', async () => {
    const username = mixedCaseName('Foo');
    await expectStatus(await register({ email: `${uniqueName('a')}@example.com`, username, password: PASSWORD }), 201);
    const res = await register({ email: `${uniqueName('b')}@example.com`, username: username.toLowerCase(), password: PASSWORD });
    const problem = await expectProblem(res, 409, 'username');
    expect(problem.errors.map((e: { field: string }) => e.field)).not.toContain('email');
  });

  it('should answer 409 naming email when it differs from a taken one only in case', async () => {
    const local = uniqueName('mail');
    await expectStatus(await register({ email: `${local}@example.com`, username: uniqueName('c'), password: PASSWORD }), 201);
    const res = await register({ email: `${local.toUpperCase()}@EXAMPLE.com`, username: uniqueName('d'), password: PASSWORD });
    const problem = await expectProblem(res, 409, 'email');
    expect(problem.errors.map((e: { field: string }) => e.field)).not.toContain('username');
  });

  it('should name both fields when both are taken', async () => {
    const user = await createUser();
    await expectProblem(await register({ email: user.email, username: user.username, password: PASSWORD }), 409, 'email').then((p) =>
      expect(p.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email', 'username'])),
    );
  });

  it('should not create an account when the registration conflicts', async () => {
    const user = await createUser();
    const email = `${uniqueName('e')}@example.com`;
    await expectProblem(await register({ email, username: user.username, password: PASSWORD }), 409, 'username');
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE email = ?1').bind(email).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it.each([
    ['email', { email: 'not-an-email' }],
    ['email', { email: '' }],
    ['username', { username: 'ab' }],
    ['username', { username: 'a'.repeat(31) }],
    ['username', { username: 'bad-name' }],
    ['username', { username: 'has space' }],
    ['username', { username: 'émile_x' }],
    ['password', { password: 'short77' }],
    ['display_name', { display_name: '   ' }],
  ])('should answer 400 naming %s for %j', async (field, overrides) => {
    const body = validRegistration(overrides);
    const problem = await expectProblem(await register(body), 400, field);
    expect(problem.type).toMatch(/validation/);
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE email = ?1').bind(String(body.email).toLowerCase()).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it('should name every bad field at once', async () => {
    const problem = await expectProblem(await register({ email: 'nope', username: 'x', password: '1' }), 400);
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email', 'username', 'password']));
  });

  it('should answer 400 naming each missing field when the body is empty JSON', async () => {
    const problem = await expectProblem(await register({}), 400);
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email', 'username', 'password']));
  });

  it('should answer 400 when there is no body at all', async () => {
    await expectProblem(await call('/auth/register', { method: 'POST' }), 400);
    await expectProblem(await call('/auth/register', { method: 'POST', headers: { 'Content-Type': 'application/json' } }), 400);
  });

  it('should answer a 400 problem for malformed JSON', async () => {
    const res = await call('/auth/register', { body: '{"email": "a@b.c", "username": ', headers: { 'Content-Type': 'application/json' } });
    const problem = await expectProblem(res, 400);
    expect(problem.detail).toMatch(/json/i);
  });

  it('should answer 415 for a body that is not JSON', async () => {
    const json = JSON.stringify(validRegistration());
    await expectProblem(await call('/auth/register', { body: json, headers: { 'Content-Type': 'text/plain' } }), 415);
    await expectProblem(await call('/auth/register', { body: 'email=a%40b.c', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
  });

  it('should answer 405 for GET on the register route', async () => {
    const res = await call('/auth/register', { method: 'GET' });
    await expectProblem(res, 405);
    expect(res.headers.get('Allow')).toContain('POST');
  });
});

describe('Login errors', () => {
  it('should answer the same 401 for a wrong password and an unknown account', async () => {
    const user = await createUser();
    const wrong = await expectProblem(await login(user.username, 'not the password'), 401);
    const unknown = await expectProblem(await login(uniqueName('ghost'), 'not the password'), 401);
    const unknownEmail = await expectProblem(await login(`${uniqueName('ghost')}@example.com`, 'not the password'), 401);
    expect(unknown.detail).toBe(wrong.detail);
    expect(unknownEmail.detail).toBe(wrong.detail);
    expect(unknown.title).toBe(wrong.title);
    expect(unknown.type).toBe(wrong.type);
  });

  it('should answer 400 naming login and password when they are missing', async () => {
    const problem = await expectProblem(await call('/auth/login', { body: {} }), 400);
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['login', 'password']));
    await expectProblem(await call('/auth/login', { body: { login: '   ', password: 'x' } }), 400, 'login');
  });

  it('should answer a 400 problem for malformed JSON', async () => {
    await expectProblem(await call('/auth/login', { body: '{login', headers: { 'Content-Type': 'application/json' } }), 400);
  });

  it('should refuse the 11th attempt after 10 failures with 429 and Retry-After, even with the right password and from new addresses', async () => {
    const user = await createUser();
    for (let i = 0; i < 10; i++) {
      await expectProblem(await login(user.email, `wrong password ${i}`, randomIp()), 401);
    }
    const res = await login(user.email, user.password, randomIp());
    await expectProblem(res, 429);
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The limit is per account, whichever identifier is used.
    await expectProblem(await login(user.username.toUpperCase(), user.password, randomIp()), 429);
  });

  it('should not lock out another account', async () => {
    const victim = await createUser();
    const bystander = await createUser();
    for (let i = 0; i < 10; i++) await expectProblem(await login(victim.username, 'wrong password'), 401);
    await expectProblem(await login(victim.username, victim.password), 429);
    await loginOk(bystander.username, bystander.password);
  });

  it('should allow logins again once the 15 minute window has passed', async () => {
    const user = await createUser();
    for (let i = 0; i < 10; i++) await expectProblem(await login(user.username, 'wrong password'), 401);
    await expectProblem(await login(user.username, user.password), 429);
    // Age the window as the clock would.
    await env.DB.prepare('UPDATE auth_throttles SET window_start = window_start - ?2 WHERE key = ?1')
      .bind(`login:${user.id}`, 15 * 60 * 1000 + 1000)
      .run();
    await loginOk(user.username, user.password);
  });

  it('should let no more than 10 guesses through when they arrive all at once, from many addresses', async () => {
    const user = await createUser();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(user.username, `wrong password ${i}`, randomIp())));
    const statuses = answers.map((res) => res.status);
    await Promise.all(answers.map((res) => res.body?.cancel()));
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  });

  it('should not store what was typed as the login of an unknown account (it may be a password in the wrong field)', async () => {
    const typed = `${uniqueName('Hunter2')} my password`;
    await expectProblem(await login(typed, 'wrong password'), 401);
    const keys = await env.DB.prepare('SELECT key FROM auth_throttles').all<{ key: string }>();
    expect(keys.results.length).toBeGreaterThan(0);
    expect(keys.results.filter((r) => r.key.toLowerCase().includes(typed.toLowerCase()))).toEqual([]);
  });

  it('should throttle unknown accounts the same way, so a 429 does not reveal existence', async () => {
    const ghost = uniqueName('ghost');
    for (let i = 0; i < 10; i++) await expectProblem(await login(ghost, 'wrong password'), 401);
    await expectProblem(await login(ghost, 'wrong password'), 429);
  });
});

describe('Refresh errors', () => {
  it('should answer 401 for a garbage token', async () => {
    await expectProblem(await refresh('garbage-token-that-was-never-issued'), 401);
  });

  it('should answer 400 naming refresh_token when it is missing or empty', async () => {
    await expectProblem(await call('/auth/refresh', { body: {} }), 400, 'refresh_token');
    await expectProblem(await call('/auth/refresh', { body: { refresh_token: '' } }), 400, 'refresh_token');
  });

  it('should answer 401 for an access token presented as a refresh token', async () => {
    const user = await createUser();
    await expectProblem(await refresh(user.accessToken), 401);
  });

  it('should answer 401 for an expired refresh token', async () => {
    const user = await createUser();
    const hash = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(user.refreshToken)))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    const changed = await env.DB.prepare('UPDATE refresh_tokens SET expires_at = ?2 WHERE token_hash = ?1').bind(hash, Date.now() - 1000).run();
    expect(changed.meta.changes).toBe(1);
    await expectProblem(await refresh(user.refreshToken), 401);
  });
});

describe('Logout errors', () => {
  it('should answer 204 for an unknown token', async () => {
    const res = await call('/auth/logout', { body: { refresh_token: 'never-issued-token' } });
    expect(res.status).toBe(204);
  });

  it('should answer 400 naming refresh_token when it is missing', async () => {
    await expectProblem(await call('/auth/logout', { body: {} }), 400, 'refresh_token');
  });
});

describe('Forgot password errors', () => {
  it('should send at most 3 reset mails per account per hour', async () => {
    const user = await createUser();
    for (let i = 0; i < 5; i++) await expectStatus(await forgot(user.email), 202);
    expect(await mailCountTo(user.email)).toBe(3);
  });

  it('should answer 400 naming email for an invalid address', async () => {
    await expectProblem(await forgot('not-an-email'), 400, 'email');
  });
});

describe('Reset password errors', () => {
  it('should answer 400 naming token when the token is reused', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const token = resetTokenFrom(await lastMailTo(user.email));
    expect((await reset(token, 'first new passphrase')).status).toBe(204);
    await expectProblem(await reset(token, 'second new passphrase'), 400, 'token');
    await loginOk(user.email, 'first new passphrase');
    await expectProblem(await login(user.email, 'second new passphrase'), 401);
  });

  it('should answer 400 naming token for a garbage token', async () => {
    await expectProblem(await reset('this-token-was-never-issued', 'a long new passphrase'), 400, 'token');
  });

  it('should answer 400 naming password when the new password is too short, and keep the token usable', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const token = resetTokenFrom(await lastMailTo(user.email));
    await expectProblem(await reset(token, 'short'), 400, 'password');
    expect((await reset(token, 'long enough now')).status).toBe(204);
  });

  it('should burn the other outstanding reset tokens of the account', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const first = resetTokenFrom(await lastMailTo(user.email));
    await expectStatus(await forgot(user.email), 202);
    const second = resetTokenFrom(await lastMailTo(user.email));
    expect(second).not.toBe(first);
    expect((await reset(second, 'a long new passphrase')).status).toBe(204);
    await expectProblem(await reset(first, 'another new passphrase'), 400, 'token');
  });

  it('should answer 400 naming token for an expired token', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const token = resetTokenFrom(await lastMailTo(user.email));
    await env.DB.prepare('UPDATE password_resets SET expires_at = ?2 WHERE user_id = ?1').bind(user.id, Date.now() - 1000).run();
    await expectProblem(await reset(token, 'a long new passphrase'), 400, 'token');
    await loginOk(user.email, user.password);
  });
});

describe('Change password errors', () => {
  it('should answer 403 for a wrong current_password and keep the old password', async () => {
    const user = await createUser();
    const problem = await expectProblem(await changePassword(user.accessToken, 'not my password', 'another long passphrase'), 403);
    expect(problem.errors?.map((e: { field: string }) => e.field)).toContain('current_password');
    await loginOk(user.username, user.password);
    await expectProblem(await login(user.username, 'another long passphrase'), 401);
  });

  it('should answer 401 without a bearer token', async () => {
    const res = await call('/auth/password/change', { body: { current_password: PASSWORD, new_password: 'another long passphrase' } });
    await expectProblem(res, 401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });

  it('should answer 400 naming new_password when it is too short', async () => {
    const user = await createUser();
    await expectProblem(await changePassword(user.accessToken, user.password, 'short'), 400, 'new_password');
    await loginOk(user.username, user.password);
  });

  it('should answer 401 for a session that has logged out', async () => {
    const user = await createUser();
    expect((await call('/auth/logout', { body: { refresh_token: user.refreshToken } })).status).toBe(204);
    await expectProblem(await changePassword(user.accessToken, user.password, 'another long passphrase'), 401);
    await loginOk(user.username, user.password);
  });
});

describe('Missing JWT secret', () => {
  // A copy of the real bindings with the secret removed: nothing is mocked, the secret is simply not configured.
  const bindings = (overrides: Record<string, unknown> = {}) => ({ ...env, ...overrides }) as unknown as Bindings;
  const withoutSecret = () => bindings({ JWT_SECRET: undefined });

  function expect503(fn: () => unknown) {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(503);
      expect((err as ApiError).code).toBe('service_unavailable');
      return;
    }
    throw new Error('expected a 503 ApiError');
  }

  it('should refuse to produce a signing key (503)', () => {
    expect503(() => signingKey(withoutSecret()));
  });

  it('should refuse a secret shorter than 32 characters (503)', () => {
    expect503(() => signingKey(bindings({ JWT_SECRET: 'too-short' })));
  });

  it('should refuse to sign and to verify tokens (503), never falling back to a default key', async () => {
    const user = await createUser();
    const sign = signAccessToken(withoutSecret(), { userId: user.id, sessionId: 'x' });
    await expect(sign).rejects.toBeInstanceOf(ApiError);
    await expect(sign).rejects.toMatchObject({ status: 503 });
    const verify = verifyAccessToken(withoutSecret(), user.accessToken);
    await expect(verify).rejects.toBeInstanceOf(ApiError);
    await expect(verify).rejects.toMatchObject({ status: 503 });
  });

  it('should verify the same token with the configured secret', async () => {
    const user = await createUser();
    await expect(verifyAccessToken(bindings(), user.accessToken)).resolves.toEqual({ userId: user.id, sessionId: expect.any(String) });
  });
});

describe('Token body', () => {
  it('should not be issued for a registration refused by validation', async () => {
    const body = await expectProblem(await register(validRegistration({ password: '1234567' })), 400, 'password');
    expect(body).not.toHaveProperty('access_token');
  });

  it('should be issued on register with a token that refreshes', async () => {
    const body = await expectStatus<TokenBody>(await register(validRegistration()), 201);
    await expectStatus(await refresh(body.refresh_token), 200);
  });
});
