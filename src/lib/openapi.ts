import { z } from '@hono/zod-openapi';
import { ERROR_STATUS, type ErrorCode, problemSlug, problemTitle, problemType } from './errors';
import { ID_PATTERN } from './ids';

/**
 * What the request-id middleware accepts from a client (hono's rule, 128 characters here); anything
 * else is replaced by a fresh UUID. Every response carries it in `X-Request-Id` and problems in `request_id`.
 */
export const REQUEST_ID_PATTERN = '^[A-Za-z0-9_=-]{1,128}$';
const REQUEST_ID_EXAMPLE = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

/** The origin examples show; the worker answers with its own (the request's) origin. */
export const EXAMPLE_ORIGIN = 'https://kith.example';

/** What every problem `type` looks like: the deployment's origin, then `/errors/` and one of the known slugs. */
const PROBLEM_TYPE_PATTERN = `^https?://[^/?#]+/errors/(${Object.keys(ERROR_STATUS).map((code) => problemSlug(code as ErrorCode)).join('|')})$`;

export const ProblemSchema = z
  .object({
    type: z
      .string()
      .regex(new RegExp(PROBLEM_TYPE_PATTERN))
      .openapi({
        format: 'uri',
        description:
          'An absolute URL on this deployment, `/errors/{slug}`: a short page on what the problem means and how to fix it (JSON with `Accept: application/json`). Tell problems apart by the path\'s last segment.',
        externalDocs: { description: 'Every problem type, on this deployment', url: '/errors' },
        example: `${EXAMPLE_ORIGIN}/errors/validation-failed`,
      }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    request_id: z.string().regex(new RegExp(REQUEST_ID_PATTERN)),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const PROBLEM_EXAMPLES: Partial<Record<ErrorCode, { detail: string; errors?: { field: string; message: string }[] }>> = {
  validation_failed: { detail: 'email: Invalid email address', errors: [{ field: 'email', message: 'Invalid email address' }] },
  unauthorized: { detail: 'A bearer access token is required.' },
  forbidden: { detail: 'You may not do this.' },
  messages_not_accepted: {
    detail: 'This user does not accept messages from you (their message_policy, or they declined this conversation).',
    errors: [{ field: 'participant_ids', message: '01JC6Z2X4S3K5E6F7G8H9J0K1L does not accept messages from you' }],
  },
  not_found: { detail: 'No such user.' },
  method_not_allowed: { detail: 'PUT is not allowed on /api/v1/users/ada_l.' },
  conflict: { detail: 'username is already taken', errors: [{ field: 'username', message: 'is already taken' }] },
  payload_too_large: { detail: 'The request body is larger than 64 KB.' },
  unsupported_media_type: { detail: 'Send the body as application/json.' },
  upgrade_required: { detail: 'Connect with a WebSocket upgrade (Upgrade: websocket).' },
  account_suspended: { detail: 'This account is suspended.' },
  recent_sign_in_required: { detail: 'Sign in again to link a sign-in provider: this session signed in more than 15 minutes ago.' },
  content_rejected: { detail: 'content: contains a word or phrase that is not allowed here', errors: [{ field: 'content', message: 'contains a word or phrase that is not allowed here' }] },
  rate_limited: { detail: 'Too many requests; slow down and retry later.' },
  internal: { detail: 'An unexpected error occurred. Quote the request_id when reporting it.' },
  service_unavailable: { detail: 'Authentication is not configured: set the JWT_SECRET secret (at least 32 characters).' },
};

/** A problem+json response for one error code, with an example the worker could really send. */
export function problem(code: ErrorCode, description: string) {
  return problemResponse(code, description, ProblemSchema);
}

/** The same response in plain JSON, for the document assembly (which works on the generated JSON). */
export function problemJson(code: ErrorCode, description: string) {
  return problemResponse(code, description, { $ref: '#/components/schemas/Problem' });
}

function problemResponse<S>(code: ErrorCode, description: string, schema: S) {
  const example = PROBLEM_EXAMPLES[code] ?? { detail: description };
  return {
    description,
    content: {
      'application/problem+json': {
        schema,
        example: { type: problemType(code, EXAMPLE_ORIGIN), title: problemTitle(code), status: ERROR_STATUS[code], request_id: REQUEST_ID_EXAMPLE, ...example },
      },
    },
  };
}

/**
 * The problem responses the document shares as `components.responses` (by `name`): the ones routes
 * pick below, and the ones the document adds to every route whose shape implies them.
 */
export const STANDARD_PROBLEMS = {
  400: { name: 'BadRequest', code: 'validation_failed', description: 'Malformed JSON or invalid fields' },
  401: { name: 'Unauthorized', code: 'unauthorized', description: 'Missing, invalid or expired access token' },
  403: { name: 'Forbidden', code: 'forbidden', description: 'Authenticated but not allowed' },
  404: { name: 'NotFound', code: 'not_found', description: 'Not found, or not visible to you' },
  409: { name: 'Conflict', code: 'conflict', description: 'Conflict with existing data' },
  413: { name: 'PayloadTooLarge', code: 'payload_too_large', description: 'Body too large' },
  415: { name: 'UnsupportedMediaType', code: 'unsupported_media_type', description: 'The body is not of an accepted media type' },
  422: { name: 'ContentRejected', code: 'content_rejected', description: 'Refused by a keyword rule (type …/content-rejected, the field named in errors)' },
  426: { name: 'UpgradeRequired', code: 'upgrade_required', description: 'A WebSocket upgrade is required' },
  429: { name: 'RateLimited', code: 'rate_limited', description: 'Rate limited (see Retry-After)' },
  500: { name: 'InternalError', code: 'internal', description: 'Unexpected fault' },
  503: { name: 'ServiceUnavailable', code: 'service_unavailable', description: 'Authentication is not configured (no JWT_SECRET)' },
} as const satisfies Record<number, { name: string; code: ErrorCode; description: string }>;

const standard = (status: keyof typeof STANDARD_PROBLEMS) => problem(STANDARD_PROBLEMS[status].code, STANDARD_PROBLEMS[status].description);

/**
 * Error responses every route can answer; spread into `responses`. The document adds the rest that a
 * route's shape implies (401/503 with a bearer token, 413/415 with a body, headers): see openapi-document.ts.
 */
export const commonErrors = { 400: standard(400), 429: standard(429), 500: standard(500) };

/** Extra error responses, picked per route. */
export const errors = {
  401: { 401: standard(401) },
  403: { 403: standard(403) },
  /** A 403 that is either `forbidden` or, when a recipient's message_policy excludes the caller, `messages-not-accepted`. */
  '403_messages': {
    403: problem('messages_not_accepted', 'Not allowed: `type` ends in `/messages-not-accepted` when a recipient\'s message_policy (or their decline of this conversation) keeps you out, `/forbidden` otherwise'),
  },
  404: { 404: standard(404) },
  409: { 409: standard(409) },
  413: { 413: standard(413) },
  415: { 415: standard(415) },
  /** A keyword rule refused the text; `errors` names the field (problem type ending `/content-rejected`). */
  422: { 422: standard(422) },
  426: { 426: standard(426) },
  503: { 503: standard(503) },
} as const;

/** 403 for an account under suspension (problem type ending `/account-suspended`), e.g. at login. */
export const accountSuspended = { 403: problem('account_suspended', 'The account is suspended (type …/account-suspended)') };

/** A JSON response whose example comes from the schema's `.openapi({ example })`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * The headers of an answer that may come from the edge cache (src/lib/edge-cache.ts): `X-Cache` says
 * whether it did, `Vary: Authorization` keeps signed-in and anonymous copies apart in any cache.
 */
export const edgeCacheHeaders = {
  'X-Cache': {
    description:
      '`HIT`: served from the edge cache of this data centre (an anonymous read, at most the route\'s TTL old, purged when its subject changes); `MISS`: made now and stored for the next anonymous caller; `BYPASS`: a signed-in (or conditional) request, never served from or stored in the shared cache.',
    required: true,
    schema: { type: 'string' as const, enum: ['HIT', 'MISS', 'BYPASS'] },
    example: 'HIT',
  },
  Vary: { description: 'Names `Authorization` (and `Origin` under CORS): a signed-in answer is never a copy of an anonymous one, nor the reverse.', required: true, schema: { type: 'string' as const }, example: 'Authorization' },
};

/** A JSON answer that anonymous callers may get from the edge cache (see {@link edgeCacheHeaders}). */
export function edgeCachedJson<T extends z.ZodType>(schema: T, description: string) {
  return { ...jsonContent(schema, description), headers: edgeCacheHeaders };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { 'application/json': { schema } } };
}

export const bearerSecurity = [{ Bearer: [] }];

/** A valid ULID for examples (Crockford base 32: no I, L, O or U). */
export const EXAMPLE_ID = '01JC6Z7TQ2W3E4R5T6Y7V8H9K0';

/** A path parameter holding an id (a ULID), named `name`; a malformed one is a 400 naming it. */
export function idParam<N extends string>(name: N, what: string, example = EXAMPLE_ID) {
  const shape = {
    [name]: z
      .string()
      .regex(ID_PATTERN, `is not a valid ${what} id`)
      .openapi({ param: { name, in: 'path' }, example }),
  } as Record<N, z.ZodString>;
  return z.object(shape);
}

/**
 * An optional boolean query parameter: `true` or `false` on the wire, a boolean in the document (so
 * generated clients send booleans) and in the handler.
 */
export function booleanQuery(name: string, example: boolean) {
  return z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional()
    .openapi({ type: 'boolean', param: { name, in: 'query' }, example });
}

/**
 * A string trimmed before its length is checked (`min`..`max` characters once trimmed). JSON Schema
 * lengths would count the surrounding whitespace the API accepts, so the document states the bounds
 * as a pattern on the trimmed text instead.
 */
export function trimmedText(min: number, max: number, message: string) {
  const pattern = `^\\s*(?=\\S)[\\s\\S]{${min},${max}}(?<=\\S)\\s*$`;
  return z
    .string()
    .trim()
    .min(min, message)
    .max(max, message)
    .openapi({ type: 'string', pattern, description: `${min} to ${max} characters, surrounding whitespace trimmed` });
}

/**
 * A whole number in a query or path parameter, from `min`: digits only. (`z.coerce.number()` reads an
 * empty value as 0, which a parameter with `min(0)` then accepts.)
 */
export function wholeNumberParam(min: number, max?: number) {
  const value = z.number().int().min(min);
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(max === undefined ? value : value.max(max))
    .openapi({ type: 'integer', minimum: min, ...(max === undefined ? {} : { maximum: max }) });
}
