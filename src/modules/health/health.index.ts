import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../lib/create-app';
import type { Bindings } from '../../lib/types';

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({ d1: z.enum(['ok', 'fail']), r2: z.enum(['ok', 'fail']) }),
  })
  .openapi('Health', { example: { status: 'ok', checks: { d1: 'ok', r2: 'ok' } } });

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Operations'],
  summary: 'Liveness of the worker and its D1 and R2 bindings',
  responses: {
    200: { description: 'Every dependency answered', content: { 'application/json': { schema: HealthSchema } } },
    503: {
      description: 'A dependency failed',
      content: { 'application/json': { schema: HealthSchema, example: { status: 'degraded', checks: { d1: 'ok', r2: 'fail' } } } },
    },
  },
});

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'fail'> {
  try {
    await check();
    return 'ok';
  } catch {
    return 'fail';
  }
}

/** Both probes run together; each is a real round trip to its binding. */
export async function checkDependencies(env: Bindings) {
  const [d1, r2] = await Promise.all([probe(() => env.DB.prepare('SELECT 1').first()), probe(() => env.MEDIA.head('health/probe'))]);
  return { d1, r2 };
}

export const healthRouter = createRouter().openapi(health, async (c) => {
  const checks = await checkDependencies(c.env);
  const ok = checks.d1 === 'ok' && checks.r2 === 'ok';
  c.header('Cache-Control', 'no-store');
  return ok ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'degraded' as const, checks }, 503);
});
