import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus, lastMailTo, uniqueName } from '../helpers/client';
import {
  changePassword,
  decodeJwtPayload,
  expectTokenBody,
  forgot,
  getMe,
  login,
  loginOk,
  logout,
  mailCountTo,
  mixedCaseName,
  refresh,
  register,
  reset,
  resetTokenFrom,
  type TokenBody,
} from './helpers';

describe('Register', () => {
  it('should answer 201 with the me shape and a Bearer token pair', async () => {
    const username = uniqueName('reg');
    const email = `${username}@example.com`;
    const res = await register({ email, username, password: 'correct horse battery', display_name: 'Ada Lovelace' });
    const body = await expectStatus<TokenBody>(res, 201);
    expectTokenBody(body);
    expect(body.user).toMatchObject({
      username,
      email,
      display_name: 'Ada Lovelace',
      avatar_url: null,
      bio: '',
      is_verified: false,
      visibility: 'public',
      birthdate: null,
      gender: null,
      location: null,
      links: [],
      counts: { posts: 0, followers: 0, following: 0, friends: 0 },
    });
    expect(body.user.id).toMatch(/^[0-9A-Za-z_-]{10,}$/);
    expect(new Date(body.user.created_at).toISOString()).toBe(body.user.created_at);
  });

  it('should issue an access token that works on GET /me', async () => {
    const user = await createUser();
    const me = await expectStatus(await getMe(user.accessToken), 200);
    expect(me).toMatchObject({ id: user.id, username: user.username, email: user.email });
  });

  it('should issue an access token with the contract claims and a 15 minute lifetime', async () => {
    const user = await createUser();
    const claims = decodeJwtPayload(user.accessToken);
    expect(claims).toMatchObject({ sub: user.id, iss: 'kith', aud: 'kith-api', typ: 'access', sid: expect.any(String) });
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('should default display_name to the username', async () => {
    const user = await createUser();
    expect(user.me.display_name).toBe(user.username);
  });

  it('should store username and email lower-cased', async () => {
    const username = mixedCaseName('Mixed');
    const email = `${username}@Example.COM`;
    const body = await expectStatus<TokenBody>(await register({ email, username, password: 'correct horse battery' }), 201);
    expect(body.user.username).toBe(username.toLowerCase());
    expect(body.user.email).toBe(email.toLowerCase());
    const row = await env.DB.prepare('SELECT username, email FROM users WHERE id = ?1').bind(body.user.id).first<{ username: string; email: string }>();
    expect(row).toEqual({ username: username.toLowerCase(), email: email.toLowerCase() });
  });

  it('should accept usernames of exactly 3 and 30 characters', async () => {
    const short = Math.random().toString(36).slice(2, 5).replace(/[^a-z0-9]/g, 'x').padEnd(3, 'x');
    const long = uniqueName('l').padEnd(30, '_');
    for (const username of [short, long]) {
      const res = await register({ email: `${uniqueName('len')}@example.com`, username, password: 'correct horse battery' });
      const body = await expectStatus<TokenBody>(res, 201);
      expect(body.user.username).toBe(username);
    }
  });
});

describe('Login', () => {
  it('should log in by email', async () => {
    const user = await createUser();
    const body = await loginOk(user.email, user.password);
    expectTokenBody(body);
    expect(body.user.id).toBe(user.id);
    expect(body.refresh_token).not.toBe(user.refreshToken);
  });

  it('should log in by username', async () => {
    const user = await createUser();
    const body = await loginOk(user.username, user.password);
    expect(body.user).toMatchObject({ id: user.id, email: user.email });
  });

  it('should match email and username case-insensitively', async () => {
    const user = await createUser();
    expect((await loginOk(user.email.toUpperCase(), user.password)).user.id).toBe(user.id);
    expect((await loginOk(user.username.toUpperCase(), user.password)).user.id).toBe(user.id);
    expect((await loginOk(`  ${user.username}  `, user.password)).user.id).toBe(user.id);
  });

  it('should open an independent session per login', async () => {
    const user = await createUser();
    const a = await loginOk(user.username, user.password);
    const b = await loginOk(user.username, user.password);
    expect(decodeJwtPayload(a.access_token).sid).not.toBe(decodeJwtPayload(b.access_token).sid);
    await expectStatus(await getMe(a.access_token), 200);
    await expectStatus(await getMe(b.access_token), 200);
  });

  it('should clear earlier failures after a successful login', async () => {
    const user = await createUser();
    for (let i = 0; i < 9; i++) await expectStatus(await login(user.username, 'wrong password!'), 401);
    await loginOk(user.username, user.password);
    // The window starts again: ten more failures are answered 401, not 429.
    for (let i = 0; i < 10; i++) await expectStatus(await login(user.username, 'wrong password!'), 401);
    await expectStatus(await login(user.username, user.password), 429);
  });
});

describe('Refresh', () => {
  it('should return a new pair with a different refresh token and a working access token', async () => {
    const user = await createUser();
    const body = await expectStatus<TokenBody>(await refresh(user.refreshToken), 200);
    expectTokenBody(body);
    expect(body.refresh_token).not.toBe(user.refreshToken);
    expect(body.user.id).toBe(user.id);
    expect(decodeJwtPayload(body.access_token).sid).toBe(decodeJwtPayload(user.accessToken).sid);
    const me = await expectStatus(await getMe(body.access_token), 200);
    expect(me.id).toBe(user.id);
  });

  it('should keep rotating along a chain of refreshes', async () => {
    const user = await createUser();
    let token = user.refreshToken;
    const seen = new Set([token]);
    for (let i = 0; i < 3; i++) {
      const body = await expectStatus<TokenBody>(await refresh(token), 200);
      expect(seen.has(body.refresh_token)).toBe(false);
      seen.add(body.refresh_token);
      token = body.refresh_token;
    }
    await expectStatus(await getMe(user.accessToken), 200);
  });
});

describe('Logout', () => {
  it('should answer 204 and end the session', async () => {
    const user = await createUser();
    const res = await logout(user.refreshToken);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    await expectStatus(await refresh(user.refreshToken), 401);
    await expectStatus(await getMe(user.accessToken), 401);
  });

  it('should leave other sessions of the same user alone', async () => {
    const user = await createUser();
    const other = await loginOk(user.email, user.password);
    expect((await logout(user.refreshToken)).status).toBe(204);
    await expectStatus(await getMe(other.access_token), 200);
    const rotated = await expectStatus<TokenBody>(await refresh(other.refresh_token), 200);
    await expectStatus(await getMe(rotated.access_token), 200);
  });

  it('should be idempotent', async () => {
    const user = await createUser();
    expect((await logout(user.refreshToken)).status).toBe(204);
    expect((await logout(user.refreshToken)).status).toBe(204);
  });
});

describe('Forgot password', () => {
  it('should answer 202 and mail a reset token to an existing account', async () => {
    const user = await createUser();
    const res = await forgot(user.email);
    const body = await expectStatus(res, 202);
    expect(body).toEqual({ status: 'accepted', detail: expect.any(String) });
    const mail = await lastMailTo(user.email);
    expect(mail?.kind).toBe('password_reset');
    expect(mail?.body_text).toContain('/reset-password?token=');
    const token = resetTokenFrom(mail);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(mail!.body_text).toContain(encodeURIComponent(token));
  });

  it('should find the account whatever the case of the address', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email.toUpperCase()), 202);
    expect(await mailCountTo(user.email)).toBe(1);
  });

  it('should answer the same body for an unknown address and send no mail', async () => {
    const user = await createUser();
    const known = await expectStatus(await forgot(user.email), 202);
    const unknownEmail = `${uniqueName('nobody')}@example.com`;
    const unknown = await expectStatus(await forgot(unknownEmail), 202);
    expect(unknown).toEqual(known);
    expect(await lastMailTo(unknownEmail)).toBeNull();
  });
});

describe('Reset password', () => {
  it('should answer 204 with the mailed token and switch the password', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const token = resetTokenFrom(await lastMailTo(user.email));
    const res = await reset(token, 'a brand new passphrase');
    expect(res.status).toBe(204);
    await loginOk(user.email, 'a brand new passphrase');
    await expectStatus(await login(user.email, user.password), 401);
  });

  it('should revoke every refresh token and access token of the account', async () => {
    const user = await createUser();
    const second = await loginOk(user.username, user.password);
    const rotated = await expectStatus<TokenBody>(await refresh(second.refresh_token), 200);
    await expectStatus(await forgot(user.email), 202);
    expect((await reset(resetTokenFrom(await lastMailTo(user.email)), 'a brand new passphrase')).status).toBe(204);

    await expectStatus(await refresh(user.refreshToken), 401);
    await expectStatus(await refresh(rotated.refresh_token), 401);
    await expectStatus(await getMe(user.accessToken), 401);
    await expectStatus(await getMe(rotated.access_token), 401);
  });
});

describe('Change password', () => {
  it('should answer 204, switch the password and keep the current session', async () => {
    const user = await createUser();
    const res = await changePassword(user.accessToken, user.password, 'another long passphrase');
    expect(res.status).toBe(204);
    await loginOk(user.username, 'another long passphrase');
    await expectStatus(await login(user.username, user.password), 401);
    await expectStatus(await getMe(user.accessToken), 200);
    await expectStatus(await refresh(user.refreshToken), 200);
  });

  it('should revoke every other session', async () => {
    const user = await createUser();
    const other = await loginOk(user.email, user.password);
    expect((await changePassword(user.accessToken, user.password, 'another long passphrase')).status).toBe(204);
    await expectStatus(await refresh(other.refresh_token), 401);
    await expectStatus(await getMe(other.access_token), 401);
    await expectStatus(await getMe(user.accessToken), 200);
  });

  it('should burn outstanding reset tokens', async () => {
    const user = await createUser();
    await expectStatus(await forgot(user.email), 202);
    const token = resetTokenFrom(await lastMailTo(user.email));
    expect((await changePassword(user.accessToken, user.password, 'another long passphrase')).status).toBe(204);
    await expectStatus(await reset(token, 'yet another passphrase'), 400);
    await loginOk(user.username, 'another long passphrase');
  });
});

describe('Me after auth', () => {
  it('should never include the password hash in token bodies or /me', async () => {
    const user = await createUser();
    const texts = [
      await (await call('/me', { token: user.accessToken })).text(),
      await (await login(user.username, user.password)).text(),
      await (await refresh(user.refreshToken)).text(),
    ];
    for (const text of texts) {
      expect(text).toContain(user.id);
      expect(text).not.toMatch(/password/i);
    }
  });
});
