import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/client';
import {
  defaultBody,
  deref,
  listRoutes,
  loadOpenApi,
  mediaExample,
  parameterExample,
  pathParamNames,
  resolvedParameters,
  type OpenApiDocument,
  type OpenApiMediaType,
  type RouteInfo,
} from '../helpers/routes';

function hasMediaExample(doc: OpenApiDocument, media: OpenApiMediaType): boolean {
  return mediaExample(doc, media) !== undefined;
}

describe('OpenAPI document', () => {
  let doc: OpenApiDocument;
  let routes: RouteInfo[];

  beforeAll(async () => {
    doc = await loadOpenApi();
    routes = await listRoutes();
  });

  it('should be served as JSON and be OpenAPI 3.1 with info', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('application/json');
    const body = await res.json<OpenApiDocument>();
    expect(body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(body.info.title).toBeTruthy();
    expect(body.info.version).toBeTruthy();
    expect(Object.keys(body.paths).length).toBeGreaterThan(0);
  });

  it('should declare a Bearer security scheme (http bearer JWT)', () => {
    expect(doc.components?.securitySchemes?.Bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('should only reference security schemes it declares', () => {
    const declared = Object.keys(doc.components?.securitySchemes ?? {});
    for (const route of routes) {
      for (const req of route.operation.security ?? []) {
        for (const name of Object.keys(req)) expect(declared, route.label).toContain(name);
      }
    }
  });

  it('should document the contract operations', () => {
    const labels = routes.map((r) => r.label);
    for (const label of [
      'GET /health',
      'POST /api/v1/auth/register',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/password/forgot',
      'POST /api/v1/auth/password/reset',
      'POST /api/v1/auth/password/change',
      'GET /api/v1/me',
      'PATCH /api/v1/me',
      'DELETE /api/v1/me',
      'PUT /api/v1/me/avatar',
      'DELETE /api/v1/me/avatar',
    ]) {
      expect(labels).toContain(label);
    }
    expect(labels.some((l) => /^GET \/api\/v1\/users\/\{[^}]+\}$/.test(l))).toBe(true);
    expect(labels.some((l) => /^GET \/api\/v1\/media\/\{[^}]+\}$/.test(l))).toBe(true);
  });

  it('should give every operation a summary, tags and a 2xx/3xx response (101 for WebSocket upgrades)', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const op = route.operation;
      if (!op.summary?.trim()) problems.push(`${route.label}: no summary`);
      if (!Array.isArray(op.tags) || op.tags.length === 0) problems.push(`${route.label}: no tags`);
      const codes = Object.keys(op.responses ?? {});
      // A WebSocket upgrade succeeds with 101 Switching Protocols.
      if (!codes.some((code) => /^[23]/.test(code) || code === '101')) problems.push(`${route.label}: no 2xx/3xx response (${codes.join(',')})`);
    }
    expect(problems).toEqual([]);
  });

  it('should declare every path parameter of every template', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const params = resolvedParameters(doc, route.operation, doc.paths[route.path] as Record<string, unknown>);
      for (const name of pathParamNames(route.path)) {
        const p = params.find((x) => x.in === 'path' && x.name === name);
        if (!p) problems.push(`${route.label}: path param ${name} not declared`);
        else if (p.required !== true) problems.push(`${route.label}: path param ${name} not required`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should give every operation a request example (body media types and parameters)', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const op = route.operation;
      if (op.requestBody) {
        const body = deref(doc, op.requestBody);
        const content = Object.entries(body.content ?? {});
        if (content.length === 0) problems.push(`${route.label}: requestBody without content`);
        for (const [type, media] of content) {
          if (!hasMediaExample(doc, media)) problems.push(`${route.label}: no example for request body ${type}`);
        }
      }
      for (const param of resolvedParameters(doc, op, doc.paths[route.path] as Record<string, unknown>)) {
        if (parameterExample(doc, param) === undefined) problems.push(`${route.label}: no example for ${param.in} parameter ${param.name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should give every 2xx response with content an example', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const successes = Object.entries(route.operation.responses ?? {}).filter(([code]) => /^2/.test(code));
      for (const [code, raw] of successes) {
        const response = deref(doc, raw);
        const content = Object.entries(response.content ?? {});
        // Only a 204 may come without content (it has nothing to exemplify).
        if (content.length === 0) {
          if (code !== '204') problems.push(`${route.label}: ${code} without content or example`);
          continue;
        }
        if (code === '204') problems.push(`${route.label}: 204 must not have content`);
        for (const [type, media] of content) {
          if (!hasMediaExample(doc, media)) problems.push(`${route.label}: no example for ${code} ${type}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('should describe API errors as problem+json', () => {
    const problems: string[] = [];
    // /health's 503 is a health report ({ status: "degraded", checks }), by contract not a problem.
    for (const route of routes.filter((r) => r.path.startsWith('/api/'))) {
      for (const [code, raw] of Object.entries(route.operation.responses ?? {})) {
        if (!/^[45]/.test(code)) continue;
        const types = Object.keys(deref(doc, raw).content ?? {});
        if (!types.includes('application/problem+json')) problems.push(`${route.label}: ${code} is ${types.join(',') || 'empty'}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should mark protected operations with 401 responses', () => {
    const missing = routes.filter((r) => r.requiresAuth && !r.operation.responses?.['401']).map((r) => r.label);
    expect(missing).toEqual([]);
  });

  it('should only have paths the worker actually routes (never 404 "No route" or 405)', async () => {
    const problems: string[] = [];
    await Promise.all(
      routes.map(async (route) => {
        const res = await call(route.url, { method: route.method, body: defaultBody(route) });
        const text = await res.text();
        if (res.status === 405) problems.push(`${route.label}: 405 ${text}`);
        if (res.status === 404 && /No route/.test(text)) problems.push(`${route.label}: ${text}`);
        if (res.status >= 500) problems.push(`${route.label}: ${res.status} ${text}`);
      }),
    );
    expect(problems).toEqual([]);
  });
});

describe('API reference', () => {
  it('should serve /docs as HTML pointing at the document', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('/openapi.json');
  });
});
