import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, uniqueName } from '../helpers/client';
import { APP_REDIRECT, appPkce, atProvider, authorize, backAtKith, dance, exchange, linkWith, newIdentity, oauthSignIn, RFC7636_PAIR } from '../helpers/oauth';
import { expectTokenBody, lastMailOfKind, mailCountTo, verifyEmailOf } from '../auth/helpers';

const auditFor = (userId: string) =>
  env.DB.prepare('SELECT action, data FROM audit_log WHERE subject_id = ?1 ORDER BY seq').bind(userId).all<{ action: string; data: string }>();

describe('OIDC sign-in: the redirect dance against a real local OpenID provider', () => {
  it('should list every configured provider', async () => {
    const list = await expectStatus(await call('/auth/oauth/providers'), 200);
    expect(list).toEqual([
      { id: 'google', name: 'Google' },
      { id: 'apple', name: 'Apple' },
      { id: 'github', name: 'GitHub' },
      { id: 'oidc', name: 'Kith Test SSO' },
    ]);
  });

  it('should send the browser to the provider with state, PKCE S256 and a nonce', async () => {
    const url = await authorize('oidc');
    expect(url.origin).toBe(new URL(env.OIDC_ISSUER!).origin);
    expect(url.pathname).toBe('/authorize');
    for (const param of ['state', 'code_challenge', 'nonce']) expect(url.searchParams.get(param)?.length).toBeGreaterThanOrEqual(20);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe('http://kith.test/api/v1/auth/oauth/oidc/callback');
    expect(url.searchParams.get('client_id')).toBe(env.OIDC_CLIENT_ID);
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    // Kept server-side, the state only as a hash.
    const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM oauth_states WHERE state_hash = ?1').bind(url.searchParams.get('state')).first<{ n: number }>();
    expect(row!.n).toBe(0);
    const json = await expectStatus(await call(`/auth/oauth/oidc/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}&format=json`), 200);
    expect(new URL(json.authorization_url).searchParams.get('code_challenge_method')).toBe('S256');
  });

  it('should create an account on first sign-in (verified address, derived username), and sign the same identity in again', async () => {
    const who = newIdentity({ name: 'Grace  Hopper\u202e', login: 'Grace.Hopper' });
    const first = await oauthSignIn('oidc', who);
    expectTokenBody({ ...first, created: undefined } as any);
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ email: who.email, email_verified: true, display_name: 'Grace Hopper' });
    expect(first.user.username).toMatch(/^grace_hopper(_\d+)?$/);
    await expectStatus(await call('/me', { token: first.access_token }), 200);

    const again = await oauthSignIn('oidc', who);
    expect(again).toMatchObject({ created: false, user: { id: first.user.id } });
    const identities = await expectStatus(await call('/me/identities', { token: again.access_token }), 200);
    expect(identities).toEqual([{ id: expect.any(String), provider: 'oidc', email: who.email, created_at: expect.any(String) }]);

    const actions = (await auditFor(first.user.id)).results;
    expect(actions.map((a) => a.action)).toEqual(['auth.register', 'oauth.linked', 'auth.login', 'auth.login']);
    expect(JSON.parse(actions[2]!.data)).toMatchObject({ method: 'oauth:oidc' });
    for (const a of actions) expect(a.data).not.toMatch(new RegExp(`${first.access_token}|${first.refresh_token}`));
  });

  it('should make a username unique when the derived one is taken', async () => {
    const taken = await createUser();
    const body = await oauthSignIn('oidc', newIdentity({ login: taken.username }));
    expect(body.user.username).not.toBe(taken.username);
    expect(body.user.username.startsWith(`${taken.username.slice(0, 24)}_`)).toBe(true);
  });

  it('should redeem a one-time code once, and not after 60 seconds', async () => {
    const landing = await dance('oidc', newIdentity());
    const code = landing.searchParams.get('code')!;
    expect(landing.toString()).not.toMatch(/access_token|refresh_token/);
    await expectStatus(await exchange(code), 200);
    await expectProblem(await exchange(code), 400, 'code');

    const late = (await dance('oidc', newIdentity())).searchParams.get('code')!;
    await env.DB.prepare('UPDATE oauth_codes SET expires_at = ?1 WHERE used_at IS NULL').bind(Date.now() - 1).run();
    await expectProblem(await exchange(late), 400, 'code');
    await expectProblem(await exchange(''), 400, 'code');
  });

  it('should answer a wrong, missing, replayed or expired state with error=invalid_state, never a 500', async () => {
    const who = newIdentity();
    const callback = await atProvider(await authorize('oidc'), who);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state');
    const wrong = await backAtKith(forged);
    expect(wrong.searchParams.get('error')).toBe('invalid_state');
    expect(wrong.origin).toBe(new URL(env.APP_URL).origin);
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    expect((await backAtKith(missing)).searchParams.get('error')).toBe('invalid_state');

    const ok = await backAtKith(callback);
    expect(ok.searchParams.get('code')).toBeTruthy();
    const replay = await backAtKith(callback);
    expect(replay.toString()).toBe(`${APP_REDIRECT}?error=invalid_state`);

    const stale = await atProvider(await authorize('oidc'), newIdentity());
    await env.DB.prepare('UPDATE oauth_states SET expires_at = ?1 WHERE used_at IS NULL').bind(Date.now() - 1).run();
    expect((await backAtKith(stale)).searchParams.get('error')).toBe('invalid_state');
    // A state is bound to its provider too.
    const elsewhere = await atProvider(await authorize('oidc'), newIdentity());
    const swapped = new URL(elsewhere.toString().replace('/oauth/oidc/', '/oauth/google/'));
    expect((await backAtKith(swapped)).searchParams.get('error')).toBe('invalid_state');
  });

  for (const [scenario, error] of [
    ['other_key', 'invalid_id_token'],
    ['expired', 'invalid_id_token'],
    ['wrong_aud', 'invalid_id_token'],
    ['wrong_nonce', 'invalid_id_token'],
    ['token_error', 'token_exchange_failed'],
    ['access_denied', 'access_denied'],
  ] as const) {
    it(`should refuse the sign-in when ${scenario} (error=${error}), creating nothing`, async () => {
      const who = newIdentity({ scenario });
      const landing = await dance('oidc', who);
      expect(landing.origin + landing.pathname).toBe(APP_REDIRECT);
      expect([...landing.searchParams.keys()]).toEqual(['error']);
      expect(landing.searchParams.get('error')).toBe(error);
      const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE email = ?1').bind(who.email).first<{ n: number }>();
      expect(row!.n).toBe(0);
    });
  }

  it('should refuse bad authorize requests: unknown provider, unconfigured provider, redirect_uri off the allow-list', async () => {
    const unknown = await expectProblem(await call(`/auth/oauth/myspace/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`), 404);
    expect(unknown.detail).toMatch(/no sign-in provider/);
    const saved = env.GITHUB_CLIENT_ID;
    (env as any).GITHUB_CLIENT_ID = '';
    try {
      const off = await expectProblem(await call(`/auth/oauth/github/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`), 404);
      expect(off.detail).toMatch(/not configured/);
      expect((await expectStatus(await call('/auth/oauth/providers'), 200)).map((p: { id: string }) => p.id)).not.toContain('github');
    } finally {
      (env as any).GITHUB_CLIENT_ID = saved;
    }
    for (const uri of ['https://evil.example/cb', 'http://localhost:3000.evil.example/', 'javascript:alert(1)', '/relative', 'http://user:pw@localhost:3000/x']) {
      await expectProblem(await call(`/auth/oauth/oidc/authorize?redirect_uri=${encodeURIComponent(uri)}`), 400, 'redirect_uri');
    }
    await expectProblem(await call('/auth/oauth/oidc/authorize'), 400, 'redirect_uri');
    // A CORS origin is allowed too.
    await authorize('oidc', { redirectUri: 'http://localhost:5173/done?keep=1' });
  });
});

describe('OAuth account linking rules', () => {
  it('should sign into the account whose verified address the provider verified, and link it', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const body = await oauthSignIn('oidc', newIdentity({ email: user.email.toUpperCase() }));
    expect(body).toMatchObject({ created: false, user: { id: user.id } });
    const linked = (await auditFor(user.id)).results.find((a) => a.action === 'oauth.linked')!;
    expect(JSON.parse(linked.data)).toMatchObject({ provider: 'oidc', via: 'verified_email' });
  });

  it('should refuse (409) an identity whose address an unverified account has, and link nothing (pre-account-hijacking)', async () => {
    const squatter = await createUser();
    const landing = await dance('oidc', newIdentity({ email: squatter.email }));
    const problem = await expectProblem(await exchange(landing.searchParams.get('code')!), 409, 'email');
    expect(problem.detail).toMatch(/not verified/);
    expect(await expectStatus(await call('/me/identities', { token: squatter.accessToken }), 200)).toEqual([]);
  });

  it('should match or create nothing when the provider did not verify the address', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const landing = await dance('oidc', newIdentity({ email: user.email, email_verified: false }));
    expect(landing.searchParams.get('error')).toBe('email_unverified');
    expect(await expectStatus(await call('/me/identities', { token: user.accessToken }), 200)).toEqual([]);
    // A "verified" address Kith would not take at registration is no address at all.
    const odd = `${uniqueName('odd')}@example.com\r\nBcc: all@evil.example`;
    expect((await dance('oidc', newIdentity({ email: odd }))).searchParams.get('error')).toBe('email_unverified');
    // A subject longer than OpenID Connect allows (255) is refused with the token.
    expect((await dance('oidc', newIdentity({ sub: 's'.repeat(256) }))).searchParams.get('error')).toBe('invalid_id_token');
  });

  it('should refuse a suspended account at the exchange (403)', async () => {
    const who = newIdentity();
    const body = await oauthSignIn('oidc', who);
    await env.DB.prepare('UPDATE users SET suspended_at = ?2 WHERE id = ?1').bind(body.user.id, Date.now()).run();
    const landing = await dance('oidc', who);
    const problem = await expectProblem(await exchange(landing.searchParams.get('code')!), 403);
    expect(problem.type).toMatch(/account-suspended$/);
  });
});

describe('Linking from a signed-in account, listing and unlinking', () => {
  it('should link with a bearer token, list it, refuse an identity another account has, and need a verified address', async () => {
    const user = await createUser();
    await expectProblem(await call(`/auth/oauth/oidc/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`, { token: user.accessToken }), 403);
    await verifyEmailOf(user);
    const who = newIdentity({ email: 'someone-else@example.com' });
    const landing = await dance('oidc', who, { token: user.accessToken });
    // The link flow ends in a link code, and nothing is linked until the account itself redeems it.
    expect(landing.origin + landing.pathname).toBe(APP_REDIRECT);
    expect(await expectStatus(await call('/me/identities', { token: user.accessToken }), 200)).toEqual([]);
    const linked = await expectStatus(await call('/me/identities', { token: user.accessToken, body: { code: landing.searchParams.get('code') } }), 201);
    expect(linked).toMatchObject({ provider: 'oidc', email: 'someone-else@example.com' });
    const list = await expectStatus(await call('/me/identities', { token: user.accessToken }), 200);
    expect(list).toEqual([linked]);
    // Signing in with it now lands on this account.
    expect((await oauthSignIn('oidc', who)).user.id).toBe(user.id);

    const other = await createUser();
    await verifyEmailOf(other);
    await expectProblem(await linkWith('oidc', who, other.accessToken), 409, 'code');
    expect(await expectStatus(await linkWith('oidc', who, user.accessToken), 200)).toEqual(linked);
  });

  it("should not link the identity of someone sent through another account's link flow (link CSRF)", async () => {
    // The attacker starts a link from their own account and gets a victim to open the provider URL.
    const attacker = await createUser();
    await verifyEmailOf(attacker);
    const victim = newIdentity({ email: `${uniqueName('victim')}@example.com` });
    const landing = await backAtKith(await atProvider(await authorize('oidc', { token: attacker.accessToken }), victim));
    // The victim's browser holds a link code; nothing is linked to the attacker by that alone.
    expect(await expectStatus(await call('/me/identities', { token: attacker.accessToken }), 200)).toEqual([]);
    // The app in the victim's browser cannot use it either: it is no sign-in code, and no other account's link code.
    const code = landing.searchParams.get('code')!;
    const bystander = await createUser();
    await verifyEmailOf(bystander);
    await expectProblem(await call('/me/identities', { token: bystander.accessToken, body: { code } }), 400, 'code');
    await expectProblem(await exchange(code), 400, 'code');
    const signedIn = await oauthSignIn('oidc', victim);
    expect(signedIn.user.id).not.toBe(attacker.id);
    expect(signedIn.created).toBe(true);
  });

  it('should take a link code once, for 60 seconds, with the verifier of its challenge, and never as a sign-in', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const link = (code: string, code_verifier?: string) => call('/me/identities', { token: user.accessToken, body: { code, code_verifier } });
    const { verifier, challenge } = await appPkce();
    const codeOf = async (options: { challenge?: string } = {}) => (await dance('oidc', newIdentity(), { token: user.accessToken, ...options })).searchParams.get('code')!;

    // A wrong verifier burns the code.
    const burnt = await codeOf({ challenge });
    await expectProblem(await link(burnt, RFC7636_PAIR.verifier), 400, 'code_verifier');
    await expectProblem(await link(burnt, verifier), 400, 'code');
    // A stale one is refused.
    const stale = await codeOf({ challenge });
    await env.DB.prepare('UPDATE oauth_codes SET expires_at = ?2 WHERE user_id = ?1 AND used_at IS NULL').bind(user.id, Date.now() - 1).run();
    await expectProblem(await link(stale, verifier), 400, 'code');
    // A sign-in code is no link code.
    const signIn = (await dance('oidc', newIdentity())).searchParams.get('code')!;
    await expectProblem(await link(signIn), 400, 'code');
    // The right one links once.
    const good = await codeOf({ challenge });
    await expectStatus(await link(good, verifier), 201);
    await expectProblem(await link(good, verifier), 400, 'code');
    expect((await auditFor(user.id)).results.filter((a) => a.action === 'oauth.linked').map((a) => JSON.parse(a.data).via)).toEqual(['signed_in']);
  });

  it('should tell the account by mail whenever a provider is linked to it, by the account or by its verified address', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    const mine = newIdentity({ email: `${uniqueName('mine')}@example.com` });
    await expectStatus(await linkWith('oidc', mine, user.accessToken), 201);
    const mail = await lastMailOfKind(user.email, 'oauth_linked');
    expect(mail!.subject).toContain('Kith Test SSO');
    expect(mail!.body_text).toContain(mine.email!);
    expect(mail!.body_text).toMatch(/reset your password/);
    // Linking it again adds nothing, and says nothing.
    await expectStatus(await linkWith('oidc', mine, user.accessToken), 200);
    expect(await mailCountTo(user.email, 'oauth_linked')).toBe(1);
    // A provider that verified the account's address links itself at sign-in: told too.
    await oauthSignIn('github', newIdentity({ emails: [{ email: user.email, primary: true, verified: true }] }, true));
    expect(await mailCountTo(user.email, 'oauth_linked')).toBe(2);
    expect((await lastMailOfKind(user.email, 'oauth_linked'))!.subject).toContain('GitHub');
  });

  it('should refuse to unlink the last way to sign in (409), and unlink once there is another', async () => {
    const first = await oauthSignIn('oidc', newIdentity());
    const token = first.access_token;
    const [identity] = await expectStatus(await call('/me/identities', { token }), 200);
    await expectProblem(await call(`/me/identities/${identity.id}`, { method: 'DELETE', token }), 409);

    await expectStatus(await linkWith('github', newIdentity({ emails: [{ email: 'gh@example.com', primary: true, verified: true }] }, true), token), 201);
    await expectStatus(await call(`/me/identities/${identity.id}`, { method: 'DELETE', token }), 204);
    const left = await expectStatus(await call('/me/identities', { token }), 200);
    expect(left.map((i: { provider: string }) => i.provider)).toEqual(['github']);
    await expectProblem(await call(`/me/identities/${identity.id}`, { method: 'DELETE', token }), 404);
    const unlinked = (await auditFor(first.user.id)).results.filter((a) => a.action === 'oauth.unlinked');
    expect(unlinked.map((a) => JSON.parse(a.data))).toEqual([{ provider: 'oidc', identity_id: identity.id }]);
  });

  it('should let an account with a password unlink its only identity', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    await expectStatus(await linkWith('oidc', newIdentity(), user.accessToken), 201);
    const [identity] = await expectStatus(await call('/me/identities', { token: user.accessToken }), 200);
    await expectStatus(await call(`/me/identities/${identity.id}`, { method: 'DELETE', token: user.accessToken }), 204);
    const other = await createUser();
    await expectProblem(await call(`/me/identities/${identity.id}`, { method: 'DELETE', token: other.accessToken }), 404);
  });
});
