import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { frameDataPoint, frameKind, requestDataPoint, requestMetrics, type MetricsBinding } from '../../src/lib/metrics';
import type { AppEnv } from '../../src/lib/types';
import { call } from '../helpers/client';

/**
 * Analytics Engine keeps nothing locally (the simulator's writeDataPoint drops every point), so what
 * the middleware writes is read here through a recorder handed to a small app as its METRICS binding;
 * the real binding (wrangler.toml) takes every request of the suite.
 */
function recordingApp() {
  const points: AnalyticsEngineDataPoint[] = [];
  const recorder: MetricsBinding = { writeDataPoint: (p) => void points.push(p!) };
  const app = new Hono<AppEnv>();
  app.use(requestMetrics);
  app.get('/api/v1/users/:id_or_username', (c) => c.json({ ok: true }));
  app.post('/api/v1/posts', (c) => c.json({ error: true }, 400));
  const request = (path: string, init?: RequestInit) => app.request(path, init, { ...env, METRICS: recorder });
  return { points, request };
}

describe('Metrics (Analytics Engine)', () => {
  it('should write one point per request with the route pattern (never the raw path), method, status, duration and colo', async () => {
    const { points, request } = recordingApp();
    await request('/api/v1/users/alice');
    await request('/api/v1/posts', { method: 'POST' });
    await request('/nowhere');
    expect(points).toHaveLength(3);
    expect(points[0]).toMatchObject({ indexes: ['/api/v1/users/:id_or_username'], blobs: ['request', '/api/v1/users/:id_or_username', 'GET', '200', ''] });
    expect(points[1]!.blobs!.slice(0, 4)).toEqual(['request', '/api/v1/posts', 'POST', '400']);
    expect(points[2]!.blobs![1]).toBe('unmatched');
    for (const p of points) {
      expect(p.doubles![0]).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(p)).not.toContain('alice');
    }
  });

  it('should keep points within Analytics Engine limits and name socket frames by kind', () => {
    const point = requestDataPoint({ route: '/api/v1/posts/:id/insights', method: 'GET', status: 200, durationMs: 12, colo: 'LIS' });
    expect(point.indexes).toHaveLength(1);
    expect(point.blobs!.length).toBeLessThanOrEqual(20);
    expect(frameDataPoint({ socket: 'conversation', direction: 'in', kind: 'message.send', sockets: 1 })).toEqual({
      indexes: ['message.send'],
      blobs: ['frame', 'conversation', 'in', 'message.send', ''],
      doubles: [1, 0],
    });
    expect(frameKind({ type: 'call.invite' })).toBe('call.invite');
    expect(frameKind({ type: 'x'.repeat(200) })).toBe('invalid');
    expect(frameKind([1, 2])).toBe('invalid');
  });

  it('should serve every route with the real (local) binding bound', async () => {
    expect(env.METRICS).toBeDefined();
    expect((await call('/health')).status).toBe(200);
  });
});
