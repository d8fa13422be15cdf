import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { APP_REDIRECT, appPkce, authorize, authorizePath, dance, exchange, linkWith, newIdentity, RFC7636_PAIR } from '../helpers/oauth';
import { verifyEmailOf } from '../auth/helpers';

const countStates = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM oauth_states').first<{ n: number }>())!.n;

/** The one-time code a finished sign-in lands on the app with. */
async function codeFor(options: { challenge?: string } = {}): Promise<string> {
  const landing = await dance('oidc', newIdentity(), options);
  const code = landing.searchParams.get('code');
  expect(code, `landed on ${landing}`).toBeTruthy();
  return code!;
}

describe("The app's own PKCE on Kith's one-time code (login CSRF)", () => {
  it('should redeem a code from a flow with a challenge only with its verifier (RFC 7636 appendix B pair)', async () => {
    const providerUrl = await authorize('oidc', { challenge: RFC7636_PAIR.challenge });
    // The provider gets Kith's own PKCE, never the app's challenge.
    expect(providerUrl.searchParams.get('code_challenge')).not.toBe(RFC7636_PAIR.challenge);
    const body = await expectStatus(await exchange(await codeFor({ challenge: RFC7636_PAIR.challenge }), RFC7636_PAIR.verifier), 200);
    expect(body).toMatchObject({ token_type: 'Bearer', created: true });
    await expectStatus(await call('/me', { token: body.access_token }), 200);
  });

  it('should refuse the code without the verifier, or with a wrong one, and burn it either way', async () => {
    const pkce = await appPkce();
    const missing = await codeFor({ challenge: pkce.challenge });
    expect((await expectProblem(await exchange(missing), 400, 'code_verifier')).detail).toMatch(/code_challenge/);
    await expectProblem(await exchange(missing, pkce.verifier), 400, 'code');

    const wrong = await codeFor({ challenge: pkce.challenge });
    const other = await appPkce();
    expect((await expectProblem(await exchange(wrong, other.verifier), 400, 'code_verifier')).detail).toMatch(/does not match/);
    // Dead now, even with the right verifier: a verifier cannot be guessed at.
    await expectProblem(await exchange(wrong, pkce.verifier), 400, 'code');
    for (const code of [missing, wrong]) {
      const row = await env.DB.prepare('SELECT used_at FROM oauth_codes WHERE code_hash = ?1').bind(await sha256Hex(code)).first<{ used_at: number | null }>();
      expect(row!.used_at).toBeTypeOf('number');
    }
  });

  it("should keep a flow without a challenge working without a verifier, and refuse a verifier for it (an attacker's challenge-less code)", async () => {
    const body = await expectStatus(await exchange(await codeFor()), 200);
    expect(body.created).toBe(true);
    // The attack: the attacker signs in with their own provider account, without a challenge, and lands the
    // victim's browser on the app with that code. The app sends the verifier of the flow it started itself.
    const attackers = await codeFor();
    const victimApp = await appPkce();
    expect((await expectProblem(await exchange(attackers, victimApp.verifier), 400, 'code_verifier')).detail).toMatch(/without a code_challenge/);
    await expectProblem(await exchange(attackers), 400, 'code');
  });

  it('should refuse a bad code_challenge_method or a malformed challenge, naming the field', async () => {
    const { challenge } = await appPkce();
    const statesBefore = await countStates();
    const at = (query: string) => call(`/auth/oauth/oidc/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}&${query}`);
    for (const method of ['plain', 's256', 'S512', '']) {
      await expectProblem(await at(`code_challenge=${challenge}&code_challenge_method=${method}`), 400, 'code_challenge_method');
    }
    // RFC 7636 reads a missing method as plain, which is not accepted.
    await expectProblem(await at(`code_challenge=${challenge}`), 400, 'code_challenge_method');
    for (const bad of [challenge.slice(1), `${challenge}A`, `${challenge.slice(1)}=`, `${challenge.slice(1)}%2B`, `${challenge.slice(2)}%20%20`]) {
      await expectProblem(await at(`code_challenge=${bad}&code_challenge_method=S256`), 400, 'code_challenge');
    }
    await expectProblem(await at('code_challenge_method=S256'), 400, 'code_challenge');
    expect(await countStates()).toBe(statesBefore);
    // The verifier's own form is checked before the code is touched.
    for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)} `, `${'a'.repeat(42)}/`]) {
      await expectProblem(await exchange('some-code', verifier), 400, 'code_verifier');
    }
    // format=json takes the challenge too, and keeps it with the state.
    const json = await expectStatus(await call(`${authorizePath('oidc', { challenge })}&format=json`), 200);
    expect(json.authorization_url).toMatch(/code_challenge_method=S256/);
    const kept = await env.DB.prepare('SELECT COUNT(*) AS n FROM oauth_states WHERE app_code_challenge = ?1').bind(challenge).first<{ n: number }>();
    expect(kept!.n).toBe(1);
  });

  it('should keep linking with a bearer token working with a challenge', async () => {
    const user = await createUser();
    await verifyEmailOf(user);
    await expectStatus(await linkWith('oidc', newIdentity(), user.accessToken), 201);
    const list = await expectStatus(await call('/me/identities', { token: user.accessToken }), 200);
    expect(list.map((i: { provider: string }) => i.provider)).toEqual(['oidc']);
  });
});
