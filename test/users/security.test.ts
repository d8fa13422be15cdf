import { env } from 'cloudflare:workers';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';

const PRIVATE_KEYS = ['email', 'birthdate', 'gender', 'password_hash', 'passwordHash', 'visibility', 'wall_policy', 'message_policy', 'password'];
const patchMe = (user: TestUser, body: unknown) => call('/me', { method: 'PATCH', token: user.accessToken, body });

async function withPrivateFields(): Promise<TestUser> {
  const user = await createUser();
  await expectStatus(await patchMe(user, { birthdate: '1993-07-14', gender: 'nonbinary', location: { country: 'ca', city: 'Montreal' } }), 200);
  return user;
}

function sign(claims: Record<string, unknown>, options: { secret?: string; sub: string; exp?: number; iss?: string; aud?: string }) {
  const secret = options.secret ?? env.JWT_SECRET!;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.iss ?? 'kith')
    .setAudience(options.aud ?? 'kith-api')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(secret));
}

describe('Profile privacy', () => {
  it('should never expose email, birthdate or gender on a profile read (anonymous, by id and by username)', async () => {
    const user = await withPrivateFields();
    for (const ref of [user.id, user.username, user.username.toUpperCase()]) {
      const res = await call(`/users/${ref}`);
      const text = await res.text();
      expect(res.status).toBe(200);
      const profile = JSON.parse(text);
      for (const key of PRIVATE_KEYS) expect(profile).not.toHaveProperty(key);
      expect(text).not.toContain(user.email);
      expect(text).not.toContain('1993-07-14');
      expect(text).not.toContain('nonbinary');
      // Public profile fields are still there.
      expect(profile.location).toEqual({ country: 'CA', region: null, city: 'Montreal' });
    }
  });

  it('should never expose private fields to an authenticated viewer, nor to the user themself', async () => {
    const user = await withPrivateFields();
    const viewer = await createUser();
    for (const token of [viewer.accessToken, user.accessToken]) {
      const res = await call(`/users/${user.id}`, { token });
      const text = await res.text();
      expect(res.status).toBe(200);
      const profile = JSON.parse(text);
      expect(profile).toHaveProperty('relationship');
      for (const key of PRIVATE_KEYS) expect(profile).not.toHaveProperty(key);
      expect(text).not.toContain(user.email);
      expect(text).not.toContain('1993-07-14');
    }
  });

  it('should keep the private fields readable in GET /me only', async () => {
    const user = await withPrivateFields();
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me).toMatchObject({ email: user.email, birthdate: '1993-07-14', gender: 'nonbinary' });
    expect(me).not.toHaveProperty('password_hash');
  });

  it('should not let one user read another user\'s /me', async () => {
    const alice = await withPrivateFields();
    const bob = await createUser();
    const me = await expectStatus(await call('/me', { token: bob.accessToken }), 200);
    expect(me.id).toBe(bob.id);
    expect(me.email).toBe(bob.email);
    expect(JSON.stringify(me)).not.toContain(alice.email);
  });

  it('should not find users through SQL-looking references', async () => {
    await createUser();
    for (const ref of ["' OR '1'='1", '%', '_', '*']) {
      await expectProblem(await call(`/users/${encodeURIComponent(ref)}`), 404);
    }
  });
});

describe('Profile tampering', () => {
  it('should not let a user verify themself or change counts, email or id', async () => {
    const user = await createUser();
    for (const body of [{ is_verified: true }, { email_verified: true }, { counts: { posts: 9, followers: 9, following: 9, friends: 9 } }, { id: 'X' }]) {
      await expectProblem(await patchMe(user, body), 400, Object.keys(body)[0]);
    }
    // An address changes only with the password and a verified link (test/auth/email.test.ts).
    await expectProblem(await patchMe(user, { email: 'new@example.com' }), 400, 'current_password');
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me).toMatchObject({ id: user.id, email: user.email, is_verified: false, counts: { posts: 0, followers: 0, following: 0, friends: 0 } });
  });

  it('should not let a user take over another account\'s username', async () => {
    const victim = await createUser();
    const attacker = await createUser();
    await expectProblem(await patchMe(attacker, { username: victim.username }), 409, 'username');
    const profile = await expectStatus(await call(`/users/${victim.username}`), 200);
    expect(profile.id).toBe(victim.id);
  });

  it('should only ever change the caller\'s own profile', async () => {
    const alice = await createUser({ display_name: 'Alice' });
    const bob = await createUser({ display_name: 'Bob' });
    await expectStatus(await patchMe(bob, { display_name: 'Bob Changed' }), 200);
    expect((await expectStatus(await call(`/users/${alice.id}`), 200)).display_name).toBe('Alice');
    expect((await expectStatus(await call(`/users/${bob.id}`), 200)).display_name).toBe('Bob Changed');
  });
});

describe('Me authentication', () => {
  it('should require a token for GET, PATCH and DELETE /me (401)', async () => {
    for (const [method, body] of [['GET', undefined], ['PATCH', { bio: 'x' }], ['DELETE', { password: 'whatever1' }]] as const) {
      const res = await call('/me', { method, body });
      await expectProblem(res, 401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    }
  });

  it('should refuse a token signed with another secret', async () => {
    const user = await createUser();
    const { sid } = decodeJwt(user.accessToken);
    const forged = await sign({ sid, typ: 'access' }, { sub: user.id, secret: 'an-attacker-secret-that-is-long-enough-000' });
    await expectProblem(await call('/me', { token: forged }), 401);
  });

  it('should refuse an unsigned (alg none) token', async () => {
    const user = await createUser();
    const { sid } = decodeJwt(user.accessToken);
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: user.id, sid, typ: 'access', iss: 'kith', aud: 'kith-api', iat: now, exp: now + 600 })}.`;
    await expectProblem(await call('/me', { token }), 401);
  });

  it('should refuse an expired token', async () => {
    const user = await createUser();
    const { sid } = decodeJwt(user.accessToken);
    const expired = await sign({ sid, typ: 'access' }, { sub: user.id, exp: Math.floor(Date.now() / 1000) - 60 });
    await expectProblem(await call('/me', { token: expired }), 401);
  });

  it("should refuse a validly signed token that pairs another user's id with the caller's session", async () => {
    const victim = await createUser();
    const attacker = await createUser();
    const { sid } = decodeJwt(attacker.accessToken);
    const token = await sign({ sid, typ: 'access' }, { sub: victim.id });
    await expectProblem(await call('/me', { token }), 401);
    await expectProblem(await call('/me', { method: 'DELETE', token, body: { password: victim.password } }), 401);
    await expectStatus(await call(`/users/${victim.id}`), 200);
  });

  it('should refuse the access token of a logged-out session', async () => {
    const user = await createUser();
    expect((await call('/auth/logout', { body: { refresh_token: user.refreshToken } })).status).toBe(204);
    await expectProblem(await call('/me', { token: user.accessToken }), 401);
    await expectProblem(await patchMe(user, { bio: 'after logout' }), 401);
  });
});

describe('Account deletion security', () => {
  it('should not delete the account on a wrong password, however often tried', async () => {
    const user = await createUser();
    for (let i = 0; i < 3; i++) {
      await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: `wrong-${i}-password` } }), 403);
    }
    await expectStatus(await call('/me', { token: user.accessToken }), 200);
  });

  it('should refuse every token of a deleted account, including other sessions', async () => {
    const user = await createUser();
    const second = await expectStatus(await call('/auth/login', { body: { login: user.email, password: user.password } }), 200);
    expect((await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } })).status).toBe(204);
    await expectProblem(await call('/me', { token: second.access_token }), 401);
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { bio: 'ghost' } }), 401);
    await expectProblem(await call('/auth/refresh', { body: { refresh_token: second.refresh_token } }), 401);
    // Deleting again is not possible either.
    await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } }), 401);
  });

  it('should not let a token forged for a deleted user bring it back', async () => {
    const user = await createUser();
    const { sid } = decodeJwt(user.accessToken);
    expect((await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } })).status).toBe(204);
    const token = await sign({ sid, typ: 'access' }, { sub: user.id });
    await expectProblem(await call('/me', { token }), 401);
    await expectProblem(await call(`/users/${user.id}`), 404);
  });
});
