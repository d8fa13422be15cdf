import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createUser, expectProblem, expectStatus } from '../helpers/client';
import { decodeJwtPayload, getMe, signToken, TEST_SECRET } from '../auth/helpers';
import { connect } from '../messaging/socket-helpers';

const TTL = Number(env.ACCESS_TOKEN_TTL_SECONDS);

/** A fresh user's subject and session, to forge tokens that differ from a real one only in their lifetime. */
async function identity() {
  const user = await createUser();
  return { sub: user.id, sid: decodeJwtPayload(user.accessToken).sid as string };
}

describe('Access-token lifetime', () => {
  it('should sign the forgeries below with the test secret and a 15-minute configured lifetime', async () => {
    expect(env.JWT_SECRET).toBe(TEST_SECRET);
    expect(TTL).toBe(900);
    const now = Math.floor(Date.now() / 1000);
    // Control: exactly the configured lifetime is accepted.
    await expectStatus(await getMe(await signToken({ ...(await identity()), iat: now, exp: now + TTL })), 200);
  });

  it('should refuse a correctly signed token without exp with 401', async () => {
    const problem = await expectProblem(await getMe(await signToken({ ...(await identity()), exp: null })), 401);
    expect(problem.detail).toMatch(/invalid/i);
  });

  it('should refuse a correctly signed token whose exp is a year away with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await getMe(await signToken({ ...(await identity()), iat: now, exp: now + 365 * 24 * 3600 })), 401);
  });

  it('should refuse a token living one second longer than the configured lifetime', async () => {
    const now = Math.floor(Date.now() / 1000);
    const problem = await expectProblem(await getMe(await signToken({ ...(await identity()), iat: now, exp: now + TTL + 1 })), 401);
    expect(problem.detail).toMatch(/longer/);
  });

  it('should refuse a token without iat, or issued in the future to stretch its life', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await getMe(await signToken({ ...(await identity()), iat: null, exp: now + 60 })), 401);
    await expectProblem(await getMe(await signToken({ ...(await identity()), iat: now + 3600, exp: now + 3600 + TTL })), 401);
  });

  it('should refuse such tokens on socket upgrades too, before any upgrade', async () => {
    const me = await identity();
    const now = Math.floor(Date.now() / 1000);
    const immortal = await signToken({ ...me, exp: null });
    const res = await connect('01JC6Z1W3R2J4D5E6F7G8H9J0K', immortal);
    await expectProblem(res, 401);
    expect(res.webSocket).toBeFalsy();
    const yearLong = await signToken({ ...me, iat: now, exp: now + 365 * 24 * 3600 });
    await expectProblem(await connect('01JC6Z1W3R2J4D5E6F7G8H9J0K', yearLong, { via: 'query' }), 401);
  });
});
