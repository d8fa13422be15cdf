import { z } from '@hono/zod-openapi';
import { ERROR_STATUS, type ErrorCode, problemType } from './errors';
import { ID_PATTERN } from './ids';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const PROBLEM_EXAMPLES: Partial<Record<ErrorCode, { detail: string; errors?: { field: string; message: string }[] }>> = {
  validation_failed: { detail: 'email: Invalid email address', errors: [{ field: 'email', message: 'Invalid email address' }] },
  unauthorized: { detail: 'A bearer access token is required.' },
  forbidden: { detail: 'You may not do this.' },
  not_found: { detail: 'No such user.' },
  conflict: { detail: 'username is already taken', errors: [{ field: 'username', message: 'is already taken' }] },
  payload_too_large: { detail: 'The file is larger than 5 MB.' },
  unsupported_media_type: { detail: 'Only JPEG, PNG, WebP and GIF images are accepted.' },
  account_suspended: { detail: 'This account is suspended.' },
  content_rejected: { detail: 'content: contains a word or phrase that is not allowed here', errors: [{ field: 'content', message: 'contains a word or phrase that is not allowed here' }] },
  rate_limited: { detail: 'Too many requests; retry after the number of seconds in Retry-After.' },
  internal: { detail: 'An unexpected error occurred. Quote the request_id when reporting it.' },
  service_unavailable: { detail: 'Authentication is not configured: set the JWT_SECRET secret.' },
};

function problem(code: ErrorCode, description: string) {
  const example = PROBLEM_EXAMPLES[code] ?? { detail: description };
  return {
    description,
    content: {
      'application/problem+json': {
        schema: ProblemSchema,
        example: {
          type: problemType(code),
          title: description,
          status: ERROR_STATUS[code],
          request_id: '01JC6Z1W3R2J4D5E6F7G8H9J0K',
          ...example,
        },
      },
    },
  };
}

/** Error responses every route can answer; spread into `responses`. */
export const commonErrors = {
  400: problem('validation_failed', 'Malformed JSON or invalid fields'),
  429: problem('rate_limited', 'Rate limited (see Retry-After)'),
  500: problem('internal', 'Unexpected fault'),
};

/** Extra error responses, picked per route. */
export const errors = {
  401: { 401: problem('unauthorized', 'Missing, invalid or expired access token') },
  403: { 403: problem('forbidden', 'Authenticated but not allowed') },
  404: { 404: problem('not_found', 'Not found, or not visible to you') },
  409: { 409: problem('conflict', 'Conflict with existing data') },
  413: { 413: problem('payload_too_large', 'Body too large') },
  415: { 415: problem('unsupported_media_type', 'Wrong media type') },
  /** A keyword rule refused the text; `errors` names the field (problem type ending `/content-rejected`). */
  422: { 422: problem('content_rejected', 'Refused by a content rule (type …/content-rejected, the field named in errors)') },
  426: { 426: problem('upgrade_required', 'A WebSocket upgrade is required') },
  503: { 503: problem('service_unavailable', 'A dependency or secret is missing') },
} as const;

/** 403 for an account under suspension (problem type ending `/account-suspended`), e.g. at login. */
export const accountSuspended = { 403: problem('account_suspended', 'The account is suspended (type …/account-suspended)') };

/** A JSON response whose example comes from the schema's `.openapi({ example })`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { 'application/json': { schema } } };
}

export const bearerSecurity = [{ Bearer: [] }];

/** A path parameter holding an id (a ULID), named `name`; a malformed one is a 400 naming it. */
export function idParam<N extends string>(name: N, what: string, example = '01JC6Z7TQ2W3E4R5T6Y7U8I9O0') {
  const shape = {
    [name]: z
      .string()
      .regex(ID_PATTERN, `is not a valid ${what} id`)
      .openapi({ param: { name, in: 'path' }, example }),
  } as Record<N, z.ZodString>;
  return z.object(shape);
}
