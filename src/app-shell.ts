import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { createRouter } from './lib/create-app';
import { privateWhenAuthenticated } from './lib/edge-cache';
import { requestMetrics } from './lib/metrics';
import { ApiError, problemResponse } from './lib/errors';
import type { AppOpenAPI } from './lib/types';
import { afterResponseWork } from './middleware/after-response';
import { impressions } from './middleware/impressions';
import { services } from './middleware/services';

/** JSON bodies are small; uploads set their own, larger limit. */
export const JSON_BODY_LIMIT = 64 * 1024;
/**
 * Paths with another body limit: a whole professional profile may be larger (positions with
 * descriptions); the LinkedIn import streams its archive through its own 20 MB limit (null here).
 */
const BODY_LIMITS: Record<string, number | null> = { '/api/v1/me/professional': 1024 * 1024, '/api/v1/me/professional/import/linkedin': null };

/** Compiles Hono route patterns so an unmatched request can be told apart as 404 or 405. */
function methodIndex(app: AppOpenAPI) {
  const byPattern = new Map<string, { regex: RegExp; methods: Set<string> }>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    let entry = byPattern.get(route.path);
    if (!entry) {
      const source = route.path
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { regex: new RegExp(`^${source}/?$`), methods: new Set() };
      byPattern.set(route.path, entry);
    }
    entry.methods.add(route.method);
  }
  return (path: string): string[] => {
    const allowed = new Set<string>();
    for (const { regex, methods } of byPattern.values()) if (regex.test(path)) methods.forEach((m) => allowed.add(m));
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}

function allowedOrigins(list: string | undefined): (origin: string) => string | null {
  const origins = (list ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.includes('*')) return (origin) => origin || '*';
  return (origin) => (origins.includes(origin) ? origin : null);
}

/** The app shell: request id, security headers, CORS, body limit, services, and the one error handler. */
export function createApp(): AppOpenAPI {
  const app = createRouter();

  // One Analytics Engine data point per request (outermost: it times everything below).
  app.use(requestMetrics);
  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 128 }));
  app.use(secureHeaders({ crossOriginResourcePolicy: 'cross-origin', crossOriginOpenerPolicy: false }));
  // Built once per allow-list (the variable only changes with a new deployment), not per request.
  let corsFor: { origins: string | undefined; handler: MiddlewareHandler } | undefined;
  app.use('/api/*', (c, next) => {
    if (!corsFor || corsFor.origins !== c.env.CORS_ORIGINS) {
      corsFor = {
        origins: c.env.CORS_ORIGINS,
        handler: cors({
          origin: allowedOrigins(c.env.CORS_ORIGINS),
          allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'If-None-Match', 'X-D1-Bookmark'],
          allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
          exposeHeaders: ['X-Request-Id', 'Retry-After', 'ETag', 'X-D1-Bookmark'],
          maxAge: 600,
        }),
      };
    }
    return corsFor.handler(c, next);
  });
  // Work a request leaves for after its answer starts once the answer (bookmark included) is made.
  app.use('*', afterResponseWork);
  app.use('*', services);
  // Answers to a signed-in caller never stay in a shared cache (src/lib/edge-cache.ts).
  app.use('*', privateWhenAuthenticated);
  // Posts a GET served become one impressions message after the answer (src/middleware/impressions.ts).
  app.use('*', impressions);
  app.use('*', async (c, next) => {
    // GET/HEAD carry no body to a handler; re-wrapping one (e.g. sent with Transfer-Encoding) would throw.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    // Uploads stream through their own limit (media module); everything else is JSON.
    const ct = c.req.header('Content-Type') ?? '';
    if (ct.startsWith('multipart/form-data') || ct.startsWith('image/') || BODY_LIMITS[c.req.path] === null) return next();
    const maxSize = BODY_LIMITS[c.req.path] ?? JSON_BODY_LIMIT;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', `The request body is larger than ${maxSize / 1024} KB.`);
      },
    })(c, next);
  });

  let allowedMethods: ((path: string) => string[]) | undefined;
  app.notFound((c) => {
    allowedMethods ??= methodIndex(app);
    const allowed = allowedMethods(c.req.path);
    // A path the router did not match although its method is allowed there (`/health//`) is no route.
    const err =
      allowed.length > 0 && !allowed.includes(c.req.method)
        ? new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}.`, {
            headers: { Allow: allowed.join(', ') },
          })
        : new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
    return withRequestId(problemResponse(err, c), c.get('requestId'));
  });
  app.onError((err, c) => withRequestId(problemResponse(err, c), c.get('requestId')));
  return app;
}

function withRequestId(res: Response, id: string | undefined): Response {
  if (id) res.headers.set('X-Request-Id', id);
  return res;
}
