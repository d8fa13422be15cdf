import { beforeAll, describe, expect, it } from 'vitest';
import { deref, listRoutes, loadOpenApi, mediaExample, type OpenApiDocument, type OpenApiResponse, type RouteInfo } from '../helpers/routes';

/**
 * The document-wide rules (src/lib/openapi-document.ts), checked on every operation, including the
 * ones no test calls: what the validating fetch relies on when it meets them.
 */

function responsesOf(doc: OpenApiDocument, route: RouteInfo): [string, OpenApiResponse & { headers?: Record<string, { $ref?: string; required?: boolean }> }][] {
  return Object.entries(route.operation.responses ?? {}).map(([status, raw]) => [status, deref(doc, raw)]);
}

describe('OpenAPI document rules', () => {
  let doc: OpenApiDocument;
  let routes: RouteInfo[];

  beforeAll(async () => {
    doc = await loadOpenApi();
    routes = await listRoutes();
  });

  it('should declare X-Request-Id on every response, and Retry-After on every 429', () => {
    const problems: string[] = [];
    for (const route of routes) {
      for (const [status, response] of responsesOf(doc, route)) {
        if (!response.headers?.['X-Request-Id']) problems.push(`${route.label} ${status}: no X-Request-Id`);
        if (status === '429' && !response.headers?.['Retry-After']) problems.push(`${route.label} 429: no Retry-After`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should declare the statuses a route shape implies: 401 and 503 with a token, 413 with a body, 415 with JSON, 429 under /api/', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const codes = Object.keys(route.operation.responses ?? {});
      const want = ['500'];
      if (route.requiresAuth || route.optionalAuth) want.push('401', '503');
      if (!['GET', 'HEAD'].includes(route.method)) want.push('413');
      if (route.bodyTypes.includes('application/json')) want.push('415');
      if (route.path.startsWith('/api/')) want.push('429');
      for (const code of want) if (!codes.includes(code)) problems.push(`${route.label}: no ${code}`);
    }
    expect(problems).toEqual([]);
  });

  it('should state security on every operation (an empty list for public ones)', () => {
    expect(routes.filter((r) => !Array.isArray(r.operation.security)).map((r) => r.label)).toEqual([]);
  });

  it('should have one path template per path (no two that differ only in parameter names)', () => {
    const shapes = new Map<string, string[]>();
    for (const path of Object.keys(doc.paths)) {
      const shape = path.replace(/\{[^}]+\}/g, '{}');
      shapes.set(shape, [...(shapes.get(shape) ?? []), path]);
    }
    expect([...shapes.values()].filter((paths) => paths.length > 1)).toEqual([]);
  });

  it('should write nullable references as anyOf with null, and keep components themselves non-nullable', () => {
    const problems: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((child, i) => walk(child, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      const allOf = (node as { allOf?: { type?: unknown }[] }).allOf;
      if (allOf?.some((member) => Array.isArray(member.type) && member.type.includes('null'))) problems.push(`${at}: allOf with a null type`);
      for (const [key, child] of Object.entries(node)) if (key !== 'example' && key !== 'examples') walk(child, `${at}/${key}`);
    };
    walk(doc, '#');
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const type = (schema as { type?: unknown }).type;
      if (Array.isArray(type) && type.includes('null')) problems.push(`components.schemas.${name} is nullable`);
    }
    expect(problems).toEqual([]);
  });

  it('should never let a parameter be null (a query string has no null)', () => {
    const problems: string[] = [];
    for (const route of routes) {
      for (const param of [...route.queryParams, ...(route.operation.parameters ?? [])]) {
        const type = param.schema ? deref(doc, param.schema).type : undefined;
        if (Array.isArray(type) && type.includes('null')) problems.push(`${route.label}: ${param.in} parameter ${param.name} may be null`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should type boolean query parameters as booleans', () => {
    const problems: string[] = [];
    for (const route of routes) {
      for (const param of route.queryParams) {
        const schema = param.schema ? deref(doc, param.schema) : undefined;
        const values = schema?.enum?.map(String).sort().join();
        if (values === 'false,true') problems.push(`${route.label}: ?${param.name} is the strings "true" | "false"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should give every operation a unique operationId, a summary and a tag', () => {
    const ids = routes.map((r) => (r.operation as { operationId?: string }).operationId);
    expect(routes.filter((r, i) => !ids[i]).map((r) => r.label)).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(routes.filter((r) => !r.operation.summary || !r.operation.tags?.length).map((r) => r.label)).toEqual([]);
    expect(Object.keys(doc.components?.securitySchemes ?? {})).toContain('Bearer');
  });

  it('should show an example of every request body and every response body', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const body = route.operation.requestBody ? deref(doc, route.operation.requestBody) : undefined;
      for (const [type, media] of Object.entries(body?.content ?? {})) if (mediaExample(doc, media) === undefined) problems.push(`${route.label} request ${type}`);
      for (const [status, response] of responsesOf(doc, route)) {
        for (const [type, media] of Object.entries(response.content ?? {})) if (mediaExample(doc, media) === undefined) problems.push(`${route.label} ${status} ${type}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should describe every 4xx response with the problem schema, whose type links to the error pages', () => {
    const problems: string[] = [];
    for (const route of routes) {
      for (const [status, response] of responsesOf(doc, route)) {
        if (Number(status) < 400 || Number(status) >= 500) continue; // (GET /health answers its 503 as a Health body)
        const media = response.content?.['application/problem+json'];
        if (!media?.schema) problems.push(`${route.label} ${status}: no application/problem+json`);
      }
    }
    expect(problems).toEqual([]);
    const type = deref(doc, { $ref: '#/components/schemas/Problem' } as never) as { properties: { type: { format?: string; pattern?: string; externalDocs?: { url: string } } } };
    expect(type.properties.type).toMatchObject({ format: 'uri', externalDocs: { url: '/errors' } });
    const pattern = new RegExp(type.properties.type.pattern!);
    expect(pattern.test('https://kith.example/errors/not-found')).toBe(true);
    expect(pattern.test('https://kith.example/errors/no-such-problem')).toBe(false);
  });
});
