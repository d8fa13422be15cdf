import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { enableTotp, login, totpCode, verifyEmailOf } from './helpers';

const loginMfa = (mfa_token: string, code: string, ip?: string) => call('/auth/login/mfa', { body: { mfa_token, code }, ip });

/** Logs in with the password and expects the second-step problem; returns its mfa_token. */
async function firstFactor(user: TestUser): Promise<string> {
  const problem = await expectProblem(await login(user.username, user.password), 401);
  expect(problem.type).toMatch(/\/mfa-required$/);
  expect(problem.mfa_token).toEqual(expect.any(String));
  return problem.mfa_token;
}

const auditData = (userId: string, action: string) =>
  env.DB.prepare('SELECT data FROM audit_log WHERE subject_id = ?1 AND action = ?2 ORDER BY seq').bind(userId, action).all<{ data: string }>();

describe('TOTP enrolment', () => {
  it('should answer a secret and an otpauth URL, then turn on with a code and answer 10 recovery codes', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const enrol = await expectStatus(await call('/me/mfa/totp', { method: 'POST', token: user.accessToken }), 200);
    expect(enrol.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(enrol.otpauth_url);
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe(enrol.secret);
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
    expect(decodeURIComponent(url.pathname)).toContain(user.username);
    // Nothing changes at login until it is confirmed.
    await expectStatus(await login(user.username, user.password), 200);
    expect(await expectStatus(await call('/me/mfa', { token: user.accessToken }), 200)).toEqual({ totp_enabled: false, recovery_codes_left: 0 });

    await expectProblem(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: '12345' } }), 400, 'code');
    await expectProblem(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: 'abcdef' } }), 400, 'code');
    const wrong = await expectProblem(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: totpCode(enrol.secret, 5) } }), 401, 'code');
    expect(wrong.type).toMatch(/\/invalid-code$/);

    const body = await expectStatus(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: totpCode(enrol.secret) } }), 200);
    expect(body.recovery_codes).toHaveLength(10);
    expect(new Set(body.recovery_codes).size).toBe(10);
    for (const code of body.recovery_codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect(await expectStatus(await call('/me/mfa', { token: user.accessToken }), 200)).toEqual({ totp_enabled: true, recovery_codes_left: 10 });
    // Stored encrypted and hashed: neither the secret nor a code is in D1 as such.
    const stored = await env.DB.prepare('SELECT secret_encrypted FROM mfa_totp WHERE user_id = ?1').bind(user.id).first<{ secret_encrypted: string }>();
    expect(stored!.secret_encrypted).not.toContain(enrol.secret);
    const hashes = await env.DB.prepare('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?1').bind(user.id).all<{ code_hash: string }>();
    expect(hashes.results.map((r) => r.code_hash)).not.toContain(body.recovery_codes[0]);
    const entries = await auditData(user.id, 'auth.mfa_enabled');
    expect(entries.results).toHaveLength(1);
    for (const code of [...body.recovery_codes, enrol.secret]) expect(entries.results[0]!.data).not.toContain(code);

    await expectProblem(await call('/me/mfa/totp', { method: 'POST', token: user.accessToken }), 409);
  });

  it('should need a verified address, and confirmation should need enrolment first', async () => {
    const user = await createUser();
    await expectProblem(await call('/me/mfa/totp', { method: 'POST', token: user.accessToken }), 403);
    await expectProblem(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: '123456' } }), 409);
  });

  it('should refuse a second confirmation (409), and a code that is neither a TOTP nor a recovery code at login (400)', async () => {
    const user = await createUser();
    const { secret } = await enableTotp(user);
    const again = await expectProblem(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: totpCode(secret) } }), 409);
    expect(again.detail).toBe('Two-factor sign-in is already on.');
    const token = await firstFactor(user);
    await expectProblem(await loginMfa(token, 'not-a-code!'), 400, 'code');
  });

  it('should answer 503 while MFA_ENCRYPTION_KEY is missing or short, and enrol nothing', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const configured = (env as unknown as { MFA_ENCRYPTION_KEY: string }).MFA_ENCRYPTION_KEY;
    Object.assign(env, { MFA_ENCRYPTION_KEY: 'too-short' });
    try {
      const problem = await expectProblem(await call('/me/mfa/totp', { method: 'POST', token: user.accessToken }), 503);
      expect(problem.detail).toContain('MFA_ENCRYPTION_KEY');
    } finally {
      Object.assign(env, { MFA_ENCRYPTION_KEY: configured });
    }
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM mfa_totp WHERE user_id = ?1').bind(user.id).first('n')).toBe(0);
  });
});

describe('TOTP at login', () => {
  it('should ask for the second factor, and sign in with a code once: the same code is refused again', async () => {
    const user = await createUser();
    const { secret } = await enableTotp(user);
    const code = totpCode(secret);
    const token = await firstFactor(user);
    await expectProblem(await loginMfa(token, 'nonsense!'), 400, 'code');
    const body = await expectStatus(await loginMfa(token, code), 200);
    expect(body.user.id).toBe(user.id);
    await expectStatus(await call('/me', { token: body.access_token }), 200);
    // The mfa_token is used up, and the code too (its 30 s window is not over).
    await expectProblem(await loginMfa(token, totpCode(secret, 1)), 400, 'mfa_token');
    const again = await firstFactor(user);
    await expectProblem(await loginMfa(again, code), 401, 'code');
    // A newer step's code still works with the same mfa_token.
    await expectStatus(await loginMfa(again, totpCode(secret, 1)), 200);
    const logins = await auditData(user.id, 'auth.login');
    expect(JSON.parse(logins.results.at(-1)!.data)).toMatchObject({ method: 'password', mfa: 'totp' });
    for (const entry of logins.results) expect(entry.data).not.toContain(code);
  });

  it('should take each recovery code once', async () => {
    const user = await createUser();
    const { recoveryCodes } = await enableTotp(user);
    await expectStatus(await loginMfa(await firstFactor(user), recoveryCodes[3]!.toUpperCase().replace('-', ' ')), 200);
    await expectProblem(await loginMfa(await firstFactor(user), recoveryCodes[3]!), 401, 'code');
    expect(await expectStatus(await call('/me/mfa', { token: user.accessToken }), 200)).toMatchObject({ recovery_codes_left: 9 });
  });

  it('should store recovery codes so that a copy of the database cannot test guesses, and still take a code stored the old way', async () => {
    const user = await createUser();
    const { recoveryCodes } = await enableTotp(user);
    const sha256 = async (text: string) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const stored = (await env.DB.prepare('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?1').bind(user.id).all<{ code_hash: string }>()).results.map((r) => r.code_hash);
    expect(stored).toHaveLength(10);
    // Neither a plain hash of a code nor one another account's identical code would share.
    for (const code of recoveryCodes) expect(stored).not.toContain(await sha256(code.replace('-', '')));
    // A code issued before (plain SHA-256) works once.
    const legacy = 'abcde-fghij';
    await env.DB.prepare('INSERT INTO mfa_recovery_codes (code_hash, user_id) VALUES (?1, ?2)').bind(await sha256('abcdefghij'), user.id).run();
    await expectStatus(await loginMfa(await firstFactor(user), legacy), 200);
    await expectProblem(await loginMfa(await firstFactor(user), legacy), 401, 'code');
  });

  it('should refuse an expired mfa_token, and an unknown one', async () => {
    const user = await createUser();
    const { secret } = await enableTotp(user);
    const token = await firstFactor(user);
    await env.DB.prepare('UPDATE mfa_challenges SET expires_at = ?2 WHERE user_id = ?1').bind(user.id, Date.now() - 1).run();
    await expectProblem(await loginMfa(token, totpCode(secret)), 400, 'mfa_token');
    await expectProblem(await loginMfa('made-up-token', totpCode(secret)), 400, 'mfa_token');
  });

  it('should count wrong codes towards the login limit, which a right password does not reset', async () => {
    const user = await createUser();
    const { secret } = await enableTotp(user);
    let token = await firstFactor(user);
    for (let i = 0; i < 10; i++) {
      if (i === 5) token = await firstFactor(user); // the password again does not clear the count
      await expectProblem(await loginMfa(token, totpCode(secret, 10 + i)), 401, 'code');
    }
    const limited = await expectProblem(await loginMfa(token, totpCode(secret)), 429);
    expect(limited.detail).toMatch(/failed logins/);
    await expectProblem(await login(user.username, user.password), 429);
    const failures = await auditData(user.id, 'auth.login_failed');
    expect(failures.results.filter((r) => JSON.parse(r.data).reason === 'wrong_code')).toHaveLength(10);
  });
});

describe('Turning TOTP off', () => {
  it('should need the password and a code; then login needs no second factor', async () => {
    const user = await createUser();
    const { secret, recoveryCodes } = await enableTotp(user);
    const off = (body: unknown) => call('/me/mfa/totp', { method: 'DELETE', token: user.accessToken, body });
    await expectProblem(await off({ password: 'wrong password', code: totpCode(secret) }), 403, 'password');
    await expectProblem(await off({ password: user.password, code: totpCode(secret, 7) }), 401, 'code');
    await expectProblem(await off({ password: user.password }), 400, 'code');
    await expectStatus(await off({ password: user.password, code: recoveryCodes[0] }), 204);
    await expectStatus(await login(user.username, user.password), 200);
    expect(await expectStatus(await call('/me/mfa', { token: user.accessToken }), 200)).toEqual({ totp_enabled: false, recovery_codes_left: 0 });
    const entries = await auditData(user.id, 'auth.mfa_disabled');
    expect(JSON.parse(entries.results[0]!.data)).toEqual({ code: 'recovery_code' });
  });
});
