import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { defaultBody, listRoutes, type RouteInfo } from '../helpers/routes';

const JWT_SECRET = 'test-secret-for-vitest-only-0123456789abcdef';

function decodePayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1]!;
  const b64 = part.replaceAll('-', '+').replaceAll('_', '/');
  return JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
}

/** Swaps one base64url character at `index` of a JWT segment for a different one. */
function flipChar(token: string, segment: 1 | 2, index: number): string {
  const parts = token.split('.');
  const chars = [...parts[segment]!];
  const i = Math.min(index, chars.length - 2); // never the last char: its low bits may be padding
  chars[i] = chars[i] === 'A' ? 'B' : 'A';
  parts[segment] = chars.join('');
  return parts.join('.');
}

async function sign(
  claims: Record<string, unknown>,
  options: { sub?: string; exp?: number; iat?: number; secret?: string; issuer?: string; audience?: string; alg?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'kith')
    .setAudience(options.audience ?? 'kith-api')
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 600);
  if (options.sub) jwt = jwt.setSubject(options.sub);
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

function send(route: RouteInfo, headers: Record<string, string>): Promise<Response> {
  return call(route.url, { method: route.method, body: defaultBody(route), headers });
}

/** 401, problem+json, request_id in the body and the same id in X-Request-Id; never 2xx/5xx. */
async function expectUnauthorized(res: Response, label: string): Promise<void> {
  expect(res.status, `${label} answered ${res.status}`).not.toBeGreaterThanOrEqual(500);
  expect(res.status >= 200 && res.status < 300, `${label} answered ${res.status}`).toBe(false);
  const body = await expectProblem(res, 401);
  expect(body.request_id, label).not.toBe('');
  expect(res.headers.get('X-Request-Id'), label).toBe(body.request_id);
}

describe('Authentication on protected routes', () => {
  let routes: RouteInfo[];
  let optional: RouteInfo[];
  let user: TestUser;
  let badTokens: Record<string, string>;

  beforeAll(async () => {
    const all = await listRoutes();
    routes = all.filter((r) => r.requiresAuth);
    optional = all.filter((r) => r.optionalAuth);
    user = await createUser();
    const claims = decodePayload(user.accessToken);
    const now = Math.floor(Date.now() / 1000);
    badTokens = {
      'payload tampered': flipChar(user.accessToken, 1, 10),
      'signature tampered': flipChar(user.accessToken, 2, 20),
      'expired': await sign({ sid: claims.sid, typ: 'access' }, { sub: user.id, iat: now - 3600, exp: now - 60 }),
      'wrong secret': await sign({ sid: claims.sid, typ: 'access' }, { sub: user.id, secret: 'another-secret-that-is-long-enough-0123456789' }),
      'wrong audience': await sign({ sid: claims.sid, typ: 'access' }, { sub: user.id, audience: 'someone-else' }),
      'wrong issuer': await sign({ sid: claims.sid, typ: 'access' }, { sub: user.id, issuer: 'evil' }),
      'not an access token': await sign({ sid: claims.sid, typ: 'refresh' }, { sub: user.id }),
      'unknown session': await sign({ sid: '01JC6Z1W3R2J4D5E6F7G8H9J0K', typ: 'access' }, { sub: user.id }),
      'alg none': `${btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '')}.${user.accessToken.split('.')[1]}.`,
    };
  });

  it('should find protected routes in the OpenAPI document', () => {
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.map((r) => r.label)).toContain('GET /api/v1/me');
  });

  it('should accept the real access token on GET /me (so the rejections below are about the token)', async () => {
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.id).toBe(user.id);
    for (const [name, token] of Object.entries(badTokens)) {
      expect(token, name).not.toBe(user.accessToken);
    }
  });

  it('should answer 401 problem+json when the token is missing', async () => {
    for (const route of routes) {
      const res = await send(route, {});
      await expectUnauthorized(res, `${route.label} without a token`);
      expect(res.headers.get('WWW-Authenticate') ?? '', route.label).toMatch(/^Bearer/);
    }
  });

  it('should answer 401 problem+json to a malformed Authorization header', async () => {
    const headers = ['Bearer', 'Bearer ', 'Basic abc', 'Bearer not.a.jwt', 'Token abc.def.ghi', 'Bearer a b', 'bearer'];
    for (const route of routes) {
      await Promise.all(
        headers.map(async (value) => expectUnauthorized(await send(route, { Authorization: value }), `${route.label} with "${value}"`)),
      );
    }
  });

  it('should answer 401 problem+json to a tampered, expired, foreign or unknown-session token', async () => {
    for (const route of routes) {
      await Promise.all(
        Object.entries(badTokens).map(async ([name, token]) =>
          expectUnauthorized(await send(route, { Authorization: `Bearer ${token}` }), `${route.label} with a ${name} token`),
        ),
      );
    }
  });

  it('should say an expired token has expired, while the same token unexpired is accepted', async () => {
    const body = await expectProblem(await call('/me', { token: badTokens.expired }), 401);
    expect(body.detail).toMatch(/expired/i);
    const claims = decodePayload(user.accessToken);
    const fresh = await sign({ sid: claims.sid, typ: 'access' }, { sub: user.id });
    expect((await expectStatus(await call('/me', { token: fresh }), 200)).id).toBe(user.id);
  });

  it('should answer 401 once the session was revoked by logout', async () => {
    const victim = await createUser();
    await expectStatus(await call('/me', { token: victim.accessToken }), 200);
    const out = await call('/auth/logout', { body: { refresh_token: victim.refreshToken } });
    expect(out.status).toBe(204);
    for (const route of routes) {
      await expectUnauthorized(await send(route, { Authorization: `Bearer ${victim.accessToken}` }), `${route.label} after logout`);
    }
  });

  it('should reject a bad token with 401 on optional-auth routes too, while letting anonymous callers through', async () => {
    for (const route of optional) {
      await expectUnauthorized(await send(route, { Authorization: `Bearer ${badTokens['signature tampered']}` }), `${route.label} tampered`);
      await expectUnauthorized(await send(route, { Authorization: 'Basic abc' }), `${route.label} Basic`);
      const anonymous = await send(route, {});
      expect(anonymous.status, `${route.label} anonymous`).not.toBe(401);
      expect(anonymous.status, `${route.label} anonymous`).toBeLessThan(500);
    }
  });
});
