import { validatingFetch } from '../contract/validating-fetch';
import { describe, expect, it } from 'vitest';
import { API_LIMIT_BLOCK } from '../../src/middleware/rate-limit';
import { call, createUser, expectProblem, expectStatus, randomIp } from '../helpers/client';
import { burstUntilLimited } from '../helpers/rate-limit';

const ALLOWED_ORIGIN = 'http://localhost:3000';
const OTHER_ALLOWED_ORIGIN = 'http://localhost:5173';
const DISALLOWED_ORIGIN = 'https://evil.example';

describe('Unknown routes and methods', () => {
  it('should answer 404 problem+json for an unknown route', async () => {
    for (const path of ['/api/v1/definitely/not/here', '/nope', '/api/v2/me']) {
      const body = await expectProblem(await call(path), 404);
      expect(body.detail).toMatch(/No route/);
    }
  });

  it('should answer 405 with an Allow header for a wrong method on an existing path', async () => {
    const res = await call('/api/v1/auth/register', { method: 'DELETE' });
    const allow = res.headers.get('Allow');
    await expectProblem(res, 405);
    expect(allow?.split(',').map((m) => m.trim())).toContain('POST');
    expect(allow).not.toContain('DELETE');
  });

  it('should list every method of a path with parameters in Allow', async () => {
    const res = await call('/api/v1/users/someone', { method: 'PUT', body: {} });
    const allow = res.headers.get('Allow') ?? '';
    await expectProblem(res, 405);
    expect(allow.split(',').map((m) => m.trim())).toEqual(expect.arrayContaining(['GET', 'HEAD']));
  });
});

describe('Request id', () => {
  it('should put X-Request-Id on every kind of response', async () => {
    const responses = await Promise.all([
      call('/health'),
      call('/openapi.json'),
      call('/api/v1/nowhere'),
      call('/api/v1/me'),
      call('/api/v1/auth/register', { body: '{bad json', headers: { 'Content-Type': 'application/json' } }),
      call('/api/v1/auth/register', { method: 'DELETE' }),
      call('/api/v1/users/nonexistent_user'),
      call('/api/v1/auth/login', { method: 'OPTIONS', headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST' } }),
    ]);
    for (const res of responses) {
      expect(res.headers.get('X-Request-Id'), `${res.url} ${res.status}`).toMatch(/^[\w\-=]{8,128}$/);
    }
    const ids = responses.map((r) => r.headers.get('X-Request-Id'));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should echo a sane client request id in the header and in problem bodies', async () => {
    const ok = await call('/health', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('X-Request-Id')).toBe('abc-123');
    const problem = await call('/api/v1/nowhere', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(problem.headers.get('X-Request-Id')).toBe('abc-123');
    expect((await expectProblem(problem, 404)).request_id).toBe('abc-123');
  });

  it('should replace an insane client request id', async () => {
    for (const insane of ['x'.repeat(300), 'has spaces in it', 'semi;colon', '<script>']) {
      const res = await call('/api/v1/nowhere', { headers: { 'X-Request-Id': insane } });
      const id = res.headers.get('X-Request-Id');
      expect(id).toBeTruthy();
      expect(id).not.toBe(insane);
      expect(id!.length).toBeLessThanOrEqual(128);
      expect((await expectProblem(res, 404)).request_id).toBe(id);
    }
  });
});

describe('Security headers', () => {
  it('should send nosniff and friends on JSON, problem and docs responses', async () => {
    for (const path of ['/health', '/api/v1/nowhere', '/api/v1/me', '/openapi.json']) {
      const res = await call(path);
      expect(res.headers.get('X-Content-Type-Options'), path).toBe('nosniff');
      expect(res.headers.get('X-Frame-Options'), path).toBeTruthy();
      expect(res.headers.get('Referrer-Policy'), path).toBeTruthy();
      await res.body?.cancel();
    }
  });
});

describe('CORS', () => {
  it('should answer a preflight from an allowed origin', async () => {
    for (const origin of [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN]) {
      const res = await call('/api/v1/auth/login', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'Content-Type, Authorization' },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(origin);
      expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST');
      expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('authorization');
      expect(res.headers.get('Vary') ?? '').toMatch(/Origin/i);
    }
  });

  it('should add Access-Control-Allow-Origin to a GET from an allowed origin and expose X-Request-Id', async () => {
    const res = await call('/api/v1/users/nonexistent_user', { headers: { Origin: ALLOWED_ORIGIN } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('Access-Control-Expose-Headers') ?? '').toMatch(/X-Request-Id/i);
    await expectProblem(res, 404);
  });

  it('should not allow a disallowed origin, on preflight or GET', async () => {
    const pre = await call('/api/v1/auth/login', {
      method: 'OPTIONS',
      headers: { Origin: DISALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBeLessThan(500);
    expect(pre.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const get = await call('/api/v1/users/nonexistent_user', { headers: { Origin: DISALLOWED_ORIGIN } });
    expect(get.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await expectProblem(get, 404);
    const lookalike = await call('/api/v1/users/nonexistent_user', { headers: { Origin: 'http://localhost:3000.evil.example' } });
    expect(lookalike.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await lookalike.body?.cancel();
  });
});

describe('Body limit', () => {
  it('should answer 413 problem+json to a JSON body over 64 KB', async () => {
    const huge = JSON.stringify({ email: 'a@example.com', username: 'big_body', password: 'x'.repeat(70 * 1024) });
    expect(huge.length).toBeGreaterThan(64 * 1024);
    await expectProblem(await call('/api/v1/auth/register', { body: huge, headers: { 'Content-Type': 'application/json' } }), 413);
  });

  it('should answer 413 even when the body is streamed without a Content-Length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await validatingFetch(
      new Request('http://kith.test/api/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': randomIp() },
        body: stream,
      }),
    );
    await expectProblem(res, 413);
  });

  it('should not fail a GET or HEAD that announces a chunked body', async () => {
    for (const method of ['GET', 'HEAD']) {
      for (const path of ['/health', '/api/v1/users/nonexistent_user']) {
        const res = await call(path, { method, headers: { 'Transfer-Encoding': 'chunked' } });
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        expect(res.headers.get('X-Request-Id')).toBeTruthy();
        await res.body?.cancel();
      }
    }
    expect((await expectStatus(await call('/health', { headers: { 'Transfer-Encoding': 'chunked' } }), 200)).status).toBe('ok');
  });

  it('should accept a JSON body just under the limit (answering on its merits, not 413)', async () => {
    const body = JSON.stringify({ login: 'nobody_here', password: 'y'.repeat(60 * 1024) });
    expect(body.length).toBeLessThan(64 * 1024);
    const res = await call('/api/v1/auth/login', { body, headers: { 'Content-Type': 'application/json' } });
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
    await res.body?.cancel();
  });
});

describe('Health', () => {
  it('should answer 200 with d1 and r2 ok', async () => {
    const res = await call('/health');
    expect(res.headers.get('Content-Type')).toContain('application/json');
    expect(await expectStatus(res, 200)).toEqual({ status: 'ok', checks: { d1: 'ok', r2: 'ok' } });
  });
});

describe('Rate limiting', () => {
  it('should answer 429 with Retry-After once one address passes the general API limit (600/60s)', async () => {
    const ip = randomIp();
    const { statuses, limited } = await burstUntilLimited({
      limit: 600,
      periodSeconds: 60,
      slack: API_LIMIT_BLOCK - 1,
      max: 1300,
      chunk: 60,
      send: () => call('/api/v1/users/nonexistent_user', { ip }),
    });
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThan(0);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    await expectProblem(limited, 429);
    // Another address is unaffected.
    await expectProblem(await call('/api/v1/users/nonexistent_user'), 404);
  });

  it('should count concurrent requests of one user against the per-user limit (300/60s) without refusing early', async () => {
    // Requests arriving while the binding is asked wait for its answer; each counting a block of their
    // own would use the user's 30 blocks up after about 30 requests.
    const user = await createUser();
    const other = await createUser();
    const { statuses, accepted, limited } = await burstUntilLimited({
      limit: 300,
      periodSeconds: 60,
      slack: API_LIMIT_BLOCK - 1,
      max: 700,
      chunk: 50,
      send: (i) => call('/api/v1/me', { token: user.accessToken, ip: `10.77.${i % 200}.1` }),
    });
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(accepted).toBeGreaterThanOrEqual(300);
    await expectProblem(limited, 429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    // The limit is the user's: another user from the same addresses is unaffected.
    await expectStatus(await call('/api/v1/me', { token: other.accessToken, ip: '10.77.0.1' }), 200);
  });
});
