import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { call, createUser, expectProblem, expectStatus, randomIp, uniqueName } from '../helpers/client';
import { settleAfterResponse } from '../helpers/after-response';
import { burstUntilLimited } from '../helpers/rate-limit';
import {
  base64UrlJson,
  changePassword,
  decodeJwtPayload,
  expectNoLeaks,
  getMe,
  login,
  loginOk,
  mailCountTo,
  refresh,
  register,
  signToken,
  TEST_SECRET,
  type TokenBody,
  verifyEmailOf,
} from './helpers';

/** A GET /me that must be refused as 401 problem+json with a Bearer challenge. */
async function expectRefused(token: string, detail?: RegExp): Promise<void> {
  const res = await getMe(token);
  const problem = await expectProblem(res, 401);
  if (detail) expect(problem.detail).toMatch(detail);
  expect(problem).not.toHaveProperty('id');
}

describe('Access tokens', () => {
  it('should use the secret configured for the tests', () => {
    // The forged tokens below rely on knowing the worker's key; make sure it is the one in vitest.config.ts.
    expect(env.JWT_SECRET).toBe(TEST_SECRET);
  });

  it('should accept a token signed like the worker signs it (control for the forgeries below)', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    const me = await expectStatus(await getMe(await signToken({ sub: user.id, sid })), 200);
    expect(me.id).toBe(user.id);
  });

  it('should refuse a token signed with another secret', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    await expectRefused(await signToken({ sub: user.id, sid, secret: 'another-secret-that-is-long-enough-0123456789' }), /invalid/i);
  });

  it('should refuse an unsigned token (alg "none")', async () => {
    const user = await createUser();
    const payload = decodeJwtPayload(user.accessToken);
    const header = base64UrlJson({ alg: 'none', typ: 'JWT' });
    await expectRefused(`${header}.${base64UrlJson(payload)}.`);
    // Also with the original signature left in place.
    await expectRefused(`${header}.${base64UrlJson(payload)}.${user.accessToken.split('.')[2]}`);
  });

  it('should refuse a token whose algorithm was switched to another HMAC', async () => {
    const user = await createUser();
    const payload = decodeJwtPayload(user.accessToken);
    const header = base64UrlJson({ alg: 'HS512', typ: 'JWT' });
    await expectRefused(`${header}.${base64UrlJson(payload)}.${user.accessToken.split('.')[2]}`);
  });

  it('should refuse a token whose payload was tampered with', async () => {
    const victim = await createUser();
    const attacker = await createUser();
    const [header, , signature] = attacker.accessToken.split('.');
    const payload = { ...decodeJwtPayload(attacker.accessToken), sub: victim.id };
    await expectRefused(`${header}.${base64UrlJson(payload)}.${signature}`, /invalid/i);
    const extended = { ...decodeJwtPayload(attacker.accessToken), exp: Math.floor(Date.now() / 1000) + 365 * 86400 };
    await expectRefused(`${header}.${base64UrlJson(extended)}.${signature}`);
  });

  it('should refuse an expired token and say so', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    const now = Math.floor(Date.now() / 1000);
    const res = await getMe(await signToken({ sub: user.id, sid, iat: now - 3600, exp: now - 60 }));
    const problem = await expectProblem(res, 401);
    expect(problem.detail).toMatch(/expired/i);
    expect(res.headers.get('WWW-Authenticate')).toContain('invalid_token');
  });

  it('should refuse a token once it expires, although it was accepted (and remembered) before', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken({ sub: user.id, sid, iat: now, exp: now + 2 });
    await expectStatus(await getMe(token), 200);
    await expectStatus(await getMe(token), 200);
    await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 - Date.now() + 50));
    const problem = await expectProblem(await getMe(token), 401);
    expect(problem.detail).toMatch(/expired/i);
  });

  it('should refuse tokens with the wrong issuer, audience or type', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    await expectRefused(await signToken({ sub: user.id, sid, issuer: 'someone-else' }));
    await expectRefused(await signToken({ sub: user.id, sid, audience: 'another-api' }));
    await expectRefused(await signToken({ sub: user.id, sid, typ: 'refresh' }));
  });

  it('should refuse tokens missing the subject or session claim', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    await expectRefused(await signToken({ sid }));
    await expectRefused(await signToken({ sub: user.id }));
  });

  it('should refuse a validly signed token for a session that does not exist or belongs to someone else', async () => {
    const user = await createUser();
    const other = await createUser();
    await expectRefused(await signToken({ sub: user.id, sid: 'no-such-session' }));
    const otherSid = decodeJwtPayload(other.accessToken).sid;
    await expectRefused(await signToken({ sub: user.id, sid: otherSid }));
  });

  it('should not accept a refresh token as a bearer token', async () => {
    const user = await createUser();
    await expectRefused(user.refreshToken);
  });

  it('should refuse a missing, malformed or non-Bearer Authorization header', async () => {
    const user = await createUser();
    const missing = await call('/me');
    await expectProblem(missing, 401);
    expect(missing.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    await expectProblem(await call('/me', { headers: { Authorization: `Basic ${btoa(`${user.username}:${user.password}`)}` } }), 401);
    await expectProblem(await call('/me', { headers: { Authorization: 'Bearer' } }), 401);
    await expectProblem(await call('/me', { headers: { Authorization: `Bearer ${user.accessToken} extra` } }), 401);
    await expectRefused('not.a.jwt');
  });
});

describe('Refresh token families', () => {
  it('should revoke the whole family when a rotated token is reused', async () => {
    const user = await createUser();
    const first = await expectStatus<TokenBody>(await refresh(user.refreshToken), 200);
    const second = await expectStatus<TokenBody>(await refresh(first.refresh_token), 200);
    await expectStatus(await getMe(second.access_token), 200);

    // Replaying the very first token is a theft signal.
    const replay = await expectProblem(await refresh(user.refreshToken), 401);
    expect(replay.detail).toMatch(/already used|revoked/i);

    // The newest token of that family no longer works ...
    await expectProblem(await refresh(second.refresh_token), 401);
    // ... and neither does any access token of the family (sessions are checked on every request).
    await expectProblem(await getMe(second.access_token), 401);
    await expectProblem(await getMe(user.accessToken), 401);
  });

  it('should revoke the family when the immediately previous token is reused', async () => {
    const user = await createUser();
    const next = await expectStatus<TokenBody>(await refresh(user.refreshToken), 200);
    await expectProblem(await refresh(user.refreshToken), 401);
    await expectProblem(await refresh(next.refresh_token), 401);
    await expectProblem(await getMe(next.access_token), 401);
  });

  it('should not touch other families of the same user on reuse', async () => {
    const user = await createUser();
    const other = await loginOk(user.username, user.password);
    await expectStatus(await refresh(user.refreshToken), 200);
    await expectProblem(await refresh(user.refreshToken), 401);
    await expectStatus(await getMe(other.access_token), 200);
    await expectStatus(await refresh(other.refresh_token), 200);
  });

  it('should let at most one of two parallel refreshes with the same token succeed', async () => {
    const user = await createUser();
    const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
    const statuses = results.map((r) => r.status).sort();
    const bodies = await Promise.all(results.map((r) => r.json() as Promise<any>));
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 401), JSON.stringify(bodies)).toBe(true);
    expect(statuses).toContain(401);
    // Whatever won, the token itself is spent.
    await expectProblem(await refresh(user.refreshToken), 401);
  });

  it('should let at most one of several parallel refreshes succeed', async () => {
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(user.refreshToken)));
    const statuses = results.map((r) => r.status);
    await Promise.all(results.map((r) => r.arrayBuffer()));
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(4);
  });
});

describe('Racing registrations', () => {
  it('should create one account when two register the same username or email at once, and answer the other 409 naming the field', async () => {
    for (const field of ['username', 'email'] as const) {
      const [a, b] = [uniqueName('race'), uniqueName('race')];
      const bodies = [
        { username: a, email: `${a}@example.com`, password: 'correct horse battery' },
        field === 'username' ? { username: a, email: `${b}@example.com`, password: 'correct horse battery' } : { username: b, email: `${a}@example.com`, password: 'correct horse battery' },
      ];
      const results = await Promise.all(bodies.map((body) => call('/auth/register', { body })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      await expectProblem(loser, 409, field);
      await Promise.all(results.filter((r) => r !== loser).map((r) => r.arrayBuffer()));
      const taken = field === 'username' ? 'SELECT COUNT(*) AS n FROM users WHERE username = ?1' : 'SELECT COUNT(*) AS n FROM users WHERE email = ?1';
      expect(await env.DB.prepare(taken).bind(field === 'username' ? a : `${a}@example.com`).first('n')).toBe(1);
    }
  });
});

describe('Per-address register limit', () => {
  it('should answer the 11th registration from one address within a minute with 429 and Retry-After', async () => {
    const ip = randomIp();
    const names: string[] = [];
    const { statuses, limited: res } = await burstUntilLimited({
      limit: 10,
      periodSeconds: 60,
      max: 25,
      send: () => {
        const username = uniqueName('rl');
        names.push(username);
        return register({ email: `${username}@example.com`, username, password: 'correct horse battery' }, ip);
      },
    });
    expect(statuses.slice(0, -1).every((s) => s === 201)).toBe(true);
    const username = names[names.length - 1]!;
    await expectProblem(res, 429);
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE username = ?1').bind(username).first<{ n: number }>();
    expect(row?.n).toBe(0);

    // Another address is not affected.
    const fresh = uniqueName('rl');
    await expectStatus(await register({ email: `${fresh}@example.com`, username: fresh, password: 'correct horse battery' }, randomIp()), 201);
  });
});

describe('Leaks', () => {
  it('should never return password hashes or stack traces from auth responses', async () => {
    const user = await createUser();
    const responses = [
      await register({ email: `${uniqueName('lk')}@example.com`, username: uniqueName('lk'), password: 'correct horse battery' }),
      await login(user.email, user.password),
      await login(user.email, 'wrong password'),
      await refresh(user.refreshToken),
      await refresh('garbage'),
      await getMe(user.accessToken),
      await getMe('garbage.token.here'),
      await call('/auth/register', { body: '{"broken', headers: { 'Content-Type': 'application/json' } }),
      await call('/auth/register', { body: { email: user.email, username: user.username, password: 'correct horse battery' } }),
      await call('/auth/password/reset', { body: { token: 'x', password: 'y' } }),
    ];
    for (const res of responses) {
      expect(res.headers.get('X-Request-Id')).toBeTruthy();
      const text = await res.text();
      expectNoLeaks(text);
      if (res.status >= 400) expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    }
  });

  it('should store the password only as a PBKDF2 hash', async () => {
    const user = await createUser();
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1').bind(user.id).first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2_sha256\$\d+\$/);
    expect(row?.password_hash).not.toContain(user.password);
  });

  it('should store refresh and reset tokens only as hashes', async () => {
    const user = await createUser();
    const found = await env.DB.prepare('SELECT COUNT(*) AS n FROM refresh_tokens WHERE token_hash = ?1').bind(user.refreshToken).first<{ n: number }>();
    expect(found?.n).toBe(0);
    const session = await env.DB.prepare('SELECT COUNT(*) AS n FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = ?1')
      .bind(user.id)
      .first<{ n: number }>();
    expect(session?.n).toBe(1);
  });
});

describe('Password confirmations count as failed logins', () => {
  it('should count a wrong password at password change, e-mail change, account deletion and TOTP off towards the 10 a quarter hour, then refuse even the right one (429)', async () => {
    const victim = await createUser();
    const stolen = await loginOk(victim.username, victim.password);
    const token = stolen.access_token;
    const wrongs = [
      () => changePassword(token, 'guess one', 'a new long passphrase'),
      () => call('/me', { method: 'PATCH', token, body: { email: `${uniqueName('x')}@example.com`, current_password: 'guess two' } }),
      () => call('/me', { method: 'DELETE', token, body: { password: 'guess three' } }),
      () => call('/me/mfa/totp', { method: 'DELETE', token, body: { password: 'guess four', code: '123456' } }),
    ];
    for (let i = 0; i < 10; i++) await expectProblem(await wrongs[i % wrongs.length]!(), 403);
    const limited = await expectProblem(await changePassword(token, victim.password, 'a new long passphrase'), 429);
    expect(limited.detail).toMatch(/failed/);
    await expectProblem(await call('/me', { method: 'DELETE', token, body: { password: victim.password } }), 429);
    // The same counter as logins: the password cannot be guessed here instead of there.
    await expectProblem(await login(victim.username, victim.password), 429);
    const failures = await env.DB.prepare("SELECT data FROM audit_log WHERE action = 'auth.login_failed' AND subject_id = ?1").bind(victim.id).all<{ data: string }>();
    expect(failures.results.map((r) => JSON.parse(r.data).reason)).toEqual(Array(10).fill('wrong_password'));
  });
});

describe('Login timing', () => {
  /** How many PBKDF2 derivations answering a login took: the work that dominates its time. */
  async function derivationsFor(identifier: string): Promise<number> {
    const spy = vi.spyOn(crypto.subtle, 'deriveBits');
    try {
      await expectProblem(await login(identifier, 'not the password'), 401);
      return spy.mock.calls.filter(([algorithm]) => (algorithm as { name?: string }).name === 'PBKDF2').length;
    } finally {
      spy.mockRestore();
    }
  }

  it('should spend the same password work on an account without a password (made by an OAuth sign-in) as on a wrong password and an unknown account', async () => {
    const [withPassword, withoutPassword] = [await createUser(), await createUser()];
    await env.DB.prepare("UPDATE users SET password_hash = '' WHERE id = ?1").bind(withoutPassword.id).run();
    await derivationsFor(uniqueName('nobody')); // the first one also makes the isolate's stand-in hash
    const unknown = await derivationsFor(uniqueName('nobody'));
    expect(unknown).toBe(1);
    expect(await derivationsFor(withPassword.username)).toBe(unknown);
    expect(await derivationsFor(withoutPassword.username)).toBe(unknown);
  });
});

describe('Mail requests do not tell whether an address has an account', () => {
  /**
   * Asks for a mail to `email` without a token: the answer (status, body, and every header but the
   * per-request id and the D1 bookmark's value) and the work it left for after the answer, done.
   */
  async function ask(path: string, email: string) {
    const { result: res, work } = await settleAfterResponse(() => call(path, { body: { email } }));
    const headers = [...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'x-d1-bookmark');
    return { status: res.status, body: await res.text(), headers, bookmark: res.headers.has('X-D1-Bookmark'), work };
  }

  it('should answer a reset request alike, doing the lookup and the mail after the answer, whether the address has an account or not', async () => {
    const user = await createUser();
    const known = await ask('/auth/password/forgot', user.email);
    expect(known.status).toBe(202);
    expect(known.work).toEqual(['password_reset']);
    expect(await ask('/auth/password/forgot', `${uniqueName('nobody')}@example.com`)).toEqual(known);
    expect(await mailCountTo(user.email, 'password_reset')).toBe(1);
  });

  it('should answer a verification resend alike, doing the lookup and the mail after the answer, for an unverified, a verified and an unknown address', async () => {
    const [unverified, verified] = [await createUser(), await createUser()];
    await verifyEmailOf(verified);
    const known = await ask('/auth/email/resend', unverified.email);
    expect(known.status).toBe(202);
    expect(known.work).toEqual(['email_verification']);
    expect(await ask('/auth/email/resend', verified.email)).toEqual(known);
    expect(await ask('/auth/email/resend', `${uniqueName('nobody')}@example.com`)).toEqual(known);
    expect(await mailCountTo(unverified.email, 'email_verification')).toBe(2);
    expect(await mailCountTo(verified.email, 'email_verification')).toBe(1);
  });
});
