import { servedDocument } from '../contract/validating-fetch';
import { BASE } from './client';

/**
 * The route list, derived from the OpenAPI document the worker serves (GET /openapi.json),
 * so every route added later is covered by the cross-cutting suites without editing them.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
  schema?: OpenApiSchema;
  $ref?: string;
}

export interface OpenApiSchema {
  $ref?: string;
  type?: string | string[];
  example?: unknown;
  examples?: unknown[];
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  enum?: unknown[];
  [key: string]: unknown;
}

export interface OpenApiMediaType {
  schema?: OpenApiSchema;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}

export interface OpenApiResponse {
  description?: string;
  content?: Record<string, OpenApiMediaType>;
  $ref?: string;
}

export interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, OpenApiMediaType>; $ref?: string };
  responses?: Record<string, OpenApiResponse>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: Record<string, Record<string, any>>;
  security?: Record<string, string[]>[];
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** A plausible ULID for path params that have no example. */
export const PLAUSIBLE_ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';

export interface RouteInfo {
  /** Upper-case HTTP method. */
  method: string;
  /** The OpenAPI path template, e.g. `/api/v1/users/{id_or_username}`. */
  path: string;
  /** Absolute URL with every path param filled from the doc's examples. */
  url: string;
  /** Needs a bearer token (Bearer security with no anonymous `{}` alternative). */
  requiresAuth: boolean;
  /** Accepts a bearer token but also anonymous callers (`[{}, { Bearer: [] }]`). */
  optionalAuth: boolean;
  operation: OpenApiOperation;
  /** Path parameter names in template order. */
  pathParams: string[];
  /** Query parameters (resolved). */
  queryParams: OpenApiParameter[];
  /** Request body media types (empty when the operation takes no body). */
  bodyTypes: string[];
  /** The example JSON request body, if the operation takes JSON and the doc gives one. */
  exampleBody: Json | undefined;
  /** Human-readable label: `GET /api/v1/me`. */
  label: string;
}

/** The document the worker serves at /openapi.json (fetched once per test file, shared with the validator). */
export async function loadOpenApi(): Promise<OpenApiDocument> {
  return (await servedDocument()) as unknown as OpenApiDocument;
}

/** Follows a local `$ref` (`#/components/...`) until it reaches a concrete object. */
export function deref<T>(doc: OpenApiDocument, value: T): T {
  let current: any = value;
  const seen = new Set<string>();
  while (current && typeof current === 'object' && typeof current.$ref === 'string') {
    const ref: string = current.$ref;
    if (seen.has(ref) || !ref.startsWith('#/')) throw new Error(`unresolvable $ref ${ref}`);
    seen.add(ref);
    current = ref
      .slice(2)
      .split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((node: any, key) => node?.[key], doc);
    if (current === undefined) throw new Error(`dangling $ref ${ref}`);
  }
  return current as T;
}

/** The security requirement of an operation, falling back to the document's global one. */
export function securityOf(doc: OpenApiDocument, op: OpenApiOperation): Record<string, string[]>[] {
  return op.security ?? doc.security ?? [];
}

export function authMode(doc: OpenApiDocument, op: OpenApiOperation): 'required' | 'optional' | 'none' {
  const security = securityOf(doc, op);
  const bearer = security.some((req) => Object.keys(req).includes('Bearer'));
  const anonymous = security.some((req) => Object.keys(req).length === 0);
  if (bearer && !anonymous) return 'required';
  if (bearer && anonymous) return 'optional';
  return 'none';
}

/** The first example a parameter (or its schema) documents. */
export function parameterExample(doc: OpenApiDocument, param: OpenApiParameter): unknown {
  if (param.example !== undefined) return param.example;
  const named = param.examples && Object.values(param.examples)[0]?.value;
  if (named !== undefined) return named;
  const schema = param.schema ? deref(doc, param.schema) : undefined;
  if (schema?.example !== undefined) return schema.example;
  if (Array.isArray(schema?.examples) && schema.examples.length > 0) return schema.examples[0];
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) return schema.enum[0];
  return undefined;
}

/** The example of a media type: its own `example`/`examples`, else its (possibly $ref'd) schema's. */
export function mediaExample(doc: OpenApiDocument, media: OpenApiMediaType | undefined): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const named = media.examples && Object.values(media.examples)[0]?.value;
  if (named !== undefined) return named;
  const schema = media.schema ? deref(doc, media.schema) : undefined;
  if (schema?.example !== undefined) return schema.example;
  if (Array.isArray(schema?.examples) && schema.examples.length > 0) return schema.examples[0];
  return undefined;
}

export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

/** Fills `{param}` placeholders; `values` wins over the doc's examples, a plausible ULID is the last resort. */
export function fillPath(path: string, examples: Record<string, unknown>, values: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name in values) return values[name]!;
    const example = examples[name];
    return encodeURIComponent(example === undefined || example === null ? PLAUSIBLE_ID : String(example));
  });
}

export function resolvedParameters(doc: OpenApiDocument, op: OpenApiOperation, pathItem?: Record<string, unknown>): OpenApiParameter[] {
  const shared = ((pathItem?.parameters as OpenApiParameter[] | undefined) ?? []).map((p) => deref(doc, p));
  const own = (op.parameters ?? []).map((p) => deref(doc, p));
  const byKey = new Map<string, OpenApiParameter>();
  for (const p of [...shared, ...own]) byKey.set(`${p.in}:${p.name}`, p);
  return [...byKey.values()];
}

function toRoute(doc: OpenApiDocument, path: string, method: string, op: OpenApiOperation, pathItem: Record<string, unknown>): RouteInfo {
  const params = resolvedParameters(doc, op, pathItem);
  const examples: Record<string, unknown> = {};
  for (const p of params) if (p.in === 'path') examples[p.name] = parameterExample(doc, p);
  const body = op.requestBody ? deref(doc, op.requestBody) : undefined;
  const bodyTypes = Object.keys(body?.content ?? {});
  const jsonType = bodyTypes.find((t) => /json/i.test(t));
  const mode = authMode(doc, op);
  return {
    method: method.toUpperCase(),
    path,
    url: BASE + fillPath(path, examples),
    requiresAuth: mode === 'required',
    optionalAuth: mode === 'optional',
    operation: op,
    pathParams: pathParamNames(path),
    queryParams: params.filter((p) => p.in === 'query'),
    bodyTypes,
    exampleBody: jsonType ? (mediaExample(doc, body!.content![jsonType]) as Json | undefined) : undefined,
    label: `${method.toUpperCase()} ${path}`,
  };
}

/** Every operation of the served document. */
export async function listRoutes(): Promise<RouteInfo[]> {
  const doc = await loadOpenApi();
  const routes: RouteInfo[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = (item as Record<string, OpenApiOperation>)[method];
      if (op) routes.push(toRoute(doc, path, method, op, item as Record<string, unknown>));
    }
  }
  return routes;
}

/** Operations that need a bearer token. */
export async function protectedRoutes(): Promise<RouteInfo[]> {
  return (await listRoutes()).filter((r) => r.requiresAuth);
}

/** Builds the URL of a route with some path params replaced by raw (already encoded) values. */
export function urlWith(route: RouteInfo, rawValues: Record<string, string>, query = ''): string {
  const filled = new URL(route.url);
  const template = route.path.split('/');
  const actual = filled.pathname.split('/');
  const parts = template.map((segment, i) => {
    const m = /^\{([^}]+)\}$/.exec(segment);
    return m && m[1]! in rawValues ? rawValues[m[1]!]! : actual[i]!;
  });
  return `${BASE}${parts.join('/')}${query ? `?${query}` : ''}`;
}

/** True for the methods whose requests may carry a body. */
export const mayHaveBody = (method: string) => !['GET', 'HEAD'].includes(method.toUpperCase());

/** The body to send with a route when a test only cares about something else (auth, reachability). */
export function defaultBody(route: RouteInfo): unknown {
  if (!mayHaveBody(route.method)) return undefined;
  if (route.exampleBody !== undefined) return route.exampleBody;
  if (route.bodyTypes.some((t) => /json/i.test(t))) return {};
  return undefined;
}
