import { getRefId, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import { problemJson, REQUEST_ID_PATTERN, STANDARD_PROBLEMS } from './openapi';
import type { AppOpenAPI } from './types';

type OpenAPIObject = ReturnType<AppOpenAPI['getOpenAPI31Document']>;

/**
 * Assembles the served OpenAPI document: what the routes declare, plus what every route answers
 * because of the middleware in front of it, so routes added anywhere get those statuses and headers
 * without doing anything special:
 *
 * - every response carries `X-Request-Id` and `X-D1-Bookmark`, and every operation reads the
 *   `X-D1-Bookmark` request header (src/db/session.ts); every 429 `Retry-After`; 401s may carry `WWW-Authenticate`;
 * - 400 (parameters or body), 429 (under /api/), 500 everywhere; 413 on methods with a body (the
 *   64 KB limit reads any body); 415 on JSON bodies; 401 and 503 (no JWT_SECRET) with a bearer token;
 * - `security: []` on operations that declare none (public); parameters are never null;
 * - an `operationId` on operations that declare none, from the method and path (see {@link operationId});
 * - a JSON body whose schema requires no property is optional (a missing body reads as `{}`);
 * - a nullable registered schema (`Schema.nullable()`) as `anyOf: [{ $ref }, { type: "null" }]`.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Response headers every operation declares (as `components.headers`). */
export const STANDARD_HEADERS = {
  'X-Request-Id': {
    description:
      'The request id: the client\'s own `X-Request-Id` when it sent a sane one (1..128 of `A-Z a-z 0-9 _ - =`), else a fresh UUID. Problems repeat it as `request_id`.',
    required: true,
    schema: { type: 'string', pattern: REQUEST_ID_PATTERN },
    example: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
    example: 60,
  },
  'X-D1-Bookmark': {
    description:
      'The newest database state this answer saw: a D1 Sessions API bookmark (hex groups 8-8-8-32), signed by Kith (`.` and 22 base64url characters). Send it back unchanged in the `X-D1-Bookmark` request header and the next request reads at least that state (your own writes included), from whichever replica is nearest.',
    required: true,
    schema: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}(\\.[A-Za-z0-9_-]{22})?$' },
    example: '0000000c-00000003-00004f5c-1e7a4f4b3a5f0f3b0d1bf8c0d7ed9b28.q3Jk1mW8xYtA0ZpLr5sN2g',
  },
  'Cache-Control': {
    description:
      'Answers to a signed-in caller (a bearer token) are `private` (`private, no-store` unless the route says more, as media does), so no shared cache keeps them. Anonymous reads that the edge cache serves are `public, max-age=0, must-revalidate` (media: `public, max-age=31536000, immutable`).',
    required: false,
    schema: { type: 'string' },
    example: 'private, no-store',
  },
  'WWW-Authenticate': {
    description: 'The bearer challenge, when the token is missing or malformed or fails verification.',
    required: false,
    schema: { type: 'string' },
    example: 'Bearer error="invalid_token"',
  },
} as const;

const headerRef = (name: keyof typeof STANDARD_HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** Request parameters every operation declares (as `components.parameters`). */
const STANDARD_PARAMETERS = {
  D1Bookmark: {
    name: 'X-D1-Bookmark',
    in: 'header',
    required: false,
    description:
      'The `X-D1-Bookmark` of a previous answer, unchanged: this request then reads at least the database state that answer saw (read-your-writes across requests and replicas). A malformed bookmark, or one this deployment did not issue, is ignored.',
    schema: { type: 'string' },
    example: '0000000c-00000003-00004f5c-1e7a4f4b3a5f0f3b0d1bf8c0d7ed9b28.q3Jk1mW8xYtA0ZpLr5sN2g',
  },
} as const;

/** The responses a request that matches no operation gets (`components.responses`). */
const FALLBACK_RESPONSES = {
  CorsPreflight: {
    description:
      'Any OPTIONS request under /api/ is a CORS preflight: 204 with the `Access-Control-Allow-*` headers when `Origin` is on the allow-list (CORS_ORIGINS).',
    headers: {
      'X-Request-Id': headerRef('X-Request-Id'),
      'Access-Control-Allow-Origin': { description: 'The allowed origin, when it is allowed.', required: false, schema: { type: 'string' }, example: 'https://app.example' },
      'Access-Control-Allow-Methods': { required: false, schema: { type: 'string' }, example: 'GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS' },
    },
  },
  NoRoute: { ...problemJson('not_found', 'No operation has this path'), headers: { 'X-Request-Id': headerRef('X-Request-Id'), 'X-D1-Bookmark': headerRef('X-D1-Bookmark'), 'Cache-Control': headerRef('Cache-Control') } },
  MethodNotAllowed: {
    ...problemJson('method_not_allowed', 'The path exists but not with this method'),
    headers: {
      'X-Request-Id': headerRef('X-Request-Id'),
      'X-D1-Bookmark': headerRef('X-D1-Bookmark'),
      'Cache-Control': headerRef('Cache-Control'),
      Allow: { description: 'The methods the path accepts.', required: true, schema: { type: 'string' }, example: 'GET, HEAD' },
    },
  },
};

const registered = new WeakSet<OpenAPIRegistry>();

/**
 * zod-to-openapi builds a component from the first use it meets: when that is `Schema.nullable()`,
 * the component itself becomes nullable (and every use of it with it). Registering each such schema
 * once in its plain form makes the plain form the component, whatever the route order.
 */
export function registerNullableComponents(registry: OpenAPIRegistry): void {
  if (registered.has(registry)) return;
  registered.add(registry);
  const seen = new Set<unknown>();
  const bases = new Map<string, unknown>();
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const def = (value as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def) {
      // Children first: a component nullable inside another (Message.call) must be registered before the
      // outer one, whose generation would otherwise build the inner component from its nullable use.
      Object.values(def).forEach(visit);
      if (def.type === 'nullable') {
        const base = unwrapZod(value);
        const refId = getRefId(base as never);
        if (refId && !bases.has(refId)) bases.set(refId, base);
      }
      return;
    }
    (Array.isArray(value) ? value : Object.values(value)).forEach(visit);
  };
  for (const definition of registry.definitions) if (definition.type === 'route') visit(definition.route);
  for (const [refId, base] of bases) registry.register(refId, base as never);
}

function unwrapZod(schema: unknown): unknown {
  let current = schema as { _zod: { def: { type: string; innerType?: unknown } } };
  while (['nullable', 'optional', 'default', 'prefault', 'readonly', 'nonoptional'].includes(current._zod.def.type) && current._zod.def.innerType) {
    current = current._zod.def.innerType as typeof current;
  }
  return current;
}

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `allOf: [{ $ref }, { type: [..., "null"], ...rest }]` (how the generator marks a nullable reference) → `anyOf` with null. */
function rewriteNullableRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(rewriteNullableRefs);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = rewriteNullableRefs(value);
  const allOf = out.allOf;
  if (Array.isArray(allOf) && allOf.length === 2 && isObject(allOf[0]) && typeof allOf[0].$ref === 'string' && isObject(allOf[1])) {
    const { type, ...rest } = allOf[1];
    if (Array.isArray(type) && type.includes('null')) {
      const { allOf: _, ...siblings } = out;
      return { anyOf: [allOf[0], { type: 'null' }], ...siblings, ...rest };
    }
  }
  return out;
}

function bearerIn(security: Json | undefined): boolean {
  return Array.isArray(security) && security.some((req) => isObject(req) && 'Bearer' in req);
}

function addStandardHeaders(responses: JsonObject): void {
  for (const [status, response] of Object.entries(responses)) {
    if (!isObject(response) || '$ref' in response) continue;
    const headers = (response.headers ??= {}) as JsonObject;
    headers['X-Request-Id'] ??= headerRef('X-Request-Id');
    headers['X-D1-Bookmark'] ??= headerRef('X-D1-Bookmark');
    headers['Cache-Control'] ??= headerRef('Cache-Control');
    if (status === '429') headers['Retry-After'] ??= headerRef('Retry-After');
    if (status === '401') headers['WWW-Authenticate'] ??= headerRef('WWW-Authenticate');
  }
}

type StandardStatus = keyof typeof STANDARD_PROBLEMS;
const standardRef = (status: StandardStatus) => ({ $ref: `#/components/responses/${STANDARD_PROBLEMS[status].name}` });

/** The shared problem responses, each with its headers (`components.responses`). */
function standardResponses(): JsonObject {
  const out: JsonObject = {};
  for (const [status, { name, code, description }] of Object.entries(STANDARD_PROBLEMS)) {
    const response = problemJson(code, description) as unknown as JsonObject;
    addStandardHeaders({ [status]: response });
    out[name] = response;
  }
  return out;
}

function addStandardResponses(path: string, method: string, op: JsonObject): void {
  const responses = (op.responses ??= {}) as JsonObject;
  // A route's own copy of a shared problem response becomes a reference to it.
  for (const [status, response] of Object.entries(responses)) {
    const shared = STANDARD_PROBLEMS[Number(status) as StandardStatus];
    if (shared && isObject(response) && response.description === shared.description) responses[status] = standardRef(Number(status) as StandardStatus);
  }
  const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content : undefined;
  const hasParams = Array.isArray(op.parameters) && op.parameters.length > 0;
  const add = (status: StandardStatus) => {
    responses[status] ??= standardRef(status);
  };
  if (hasParams || body) add(400);
  if (bearerIn(op.security)) {
    add(401);
    add(503);
  }
  if (!['get', 'head'].includes(method)) add(413);
  if (body && 'application/json' in body) add(415);
  if (path.startsWith('/api/')) add(429);
  add(500);
}

/**
 * A parameter is text on the wire and never null; the generator marks a coerced number nullable
 * (`z.coerce.number()` accepts null), which generated clients would then allow.
 */
function withoutNull(param: Json): void {
  const schema = isObject(param) ? param.schema : undefined;
  if (!isObject(schema) || !Array.isArray(schema.type)) return;
  const types = schema.type.filter((t) => t !== 'null');
  schema.type = types.length === 1 ? types[0]! : types;
}

/**
 * The worker reads a JSON body that is not sent at all as `{}`; so a body whose schema requires no
 * property may be left out, and the document says so (`required: false`).
 */
function markOptionalJsonBody(doc: JsonObject, op: JsonObject): void {
  const body = op.requestBody;
  if (!isObject(body) || !isObject(body.content) || Object.keys(body.content).join() !== 'application/json') return;
  const media = body.content['application/json'];
  let schema = isObject(media) ? media.schema : undefined;
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  if (isObject(schema) && typeof schema.$ref === 'string') schema = components[schema.$ref.split('/').pop()!];
  if (isObject(schema) && schema.type === 'object' && !(Array.isArray(schema.required) && schema.required.length > 0)) body.required = false;
}

const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * The operationId of an operation that declares none: the method, then the path after `/api/v1` in
 * camel case, each `{param}` as `By<Param>`: `GET /api/v1/users/{id}/followers` → `getUsersByIdFollowers`.
 * Unique because method and path are; stable because both are part of the contract.
 */
export function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1(?=\/)/, '')
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      const parts = (param ? param[1]! : segment).split(/[^A-Za-z0-9]+/).filter(Boolean);
      return param ? ['By', ...parts.map(pascal)] : parts.map(pascal);
    });
  return method.toLowerCase() + words.join('');
}

/** Applies the document-wide rules (see the file comment) to a generated document. */
export function finalizeDocument(generated: OpenAPIObject): OpenAPIObject {
  const doc = rewriteNullableRefs(JSON.parse(JSON.stringify(generated)) as Json) as JsonObject;
  const components = (doc.components ??= {}) as JsonObject;
  components.headers = { ...(components.headers as JsonObject | undefined), ...(JSON.parse(JSON.stringify(STANDARD_HEADERS)) as JsonObject) };
  components.parameters = { ...(components.parameters as JsonObject | undefined), ...(JSON.parse(JSON.stringify(STANDARD_PARAMETERS)) as JsonObject) };
  components.responses = {
    ...(components.responses as JsonObject | undefined),
    ...standardResponses(),
    ...(JSON.parse(JSON.stringify(FALLBACK_RESPONSES)) as JsonObject),
  };
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      op.security ??= [];
      op.operationId ??= operationId(method, path);
      if (operationIds.has(op.operationId as string)) throw new Error(`operationId ${String(op.operationId)} is used twice (${method.toUpperCase()} ${path})`);
      operationIds.add(op.operationId as string);
      if (Array.isArray(op.parameters)) op.parameters.forEach(withoutNull);
      markOptionalJsonBody(doc, op);
      addStandardResponses(path, method, op);
      addStandardHeaders(op.responses as JsonObject);
      // After the standard responses: the bookmark is never a reason for a 400 (a bad one is ignored).
      op.parameters = [...(Array.isArray(op.parameters) ? op.parameters : []), { $ref: '#/components/parameters/D1Bookmark' }];
    }
  }
  return doc as unknown as OpenAPIObject;
}

/** The document, described like any other operation (served by app.ts). */
export const documentRoutes = [
  createRoute({
    method: 'get',
    path: '/openapi.json',
    tags: ['Operations'],
    summary: 'This OpenAPI 3.1 document',
    responses: {
      200: {
        description: 'The document; `servers` names the origin it was fetched from',
        content: { 'application/json': { schema: z.object({ openapi: z.string() }).catchall(z.unknown()), example: { openapi: '3.1.0' } } },
      },
    },
  }),
];
