import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';

/** The closed set of error codes; each maps to one HTTP status and one problem type. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  /** The password (or provider) was right; a second factor is needed (POST /auth/login/mfa). */
  mfa_required: 401,
  /** A one-time code (TOTP or recovery code) that is wrong, or was already used. */
  invalid_code: 401,
  forbidden: 403,
  /** A recipient's message_policy (or their decline) keeps the caller out. */
  messages_not_accepted: 403,
  account_suspended: 403,
  /** Adding a way into the account (a provider, a second factor) needs a session signed in minutes ago. */
  recent_sign_in_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  upgrade_required: 426,
  payload_too_large: 413,
  unsupported_media_type: 415,
  content_rejected: 422,
  rate_limited: 429,
  internal: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  validation_failed: 'Validation failed',
  unauthorized: 'Unauthorized',
  mfa_required: 'Second factor required',
  invalid_code: 'Invalid code',
  forbidden: 'Forbidden',
  messages_not_accepted: 'Messages not accepted',
  account_suspended: 'Account suspended',
  recent_sign_in_required: 'Recent sign-in required',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  upgrade_required: 'Upgrade required',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  content_rejected: 'Content rejected',
  rate_limited: 'Too many requests',
  internal: 'Internal server error',
  service_unavailable: 'Service unavailable',
};

export interface FieldError {
  field: string;
  message: string;
}

export interface ApiErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
  /** Extension members of the problem document (RFC 9457 §3.2), e.g. `mfa_token`. */
  extensions?: Record<string, string>;
}

/** The one error type of the API: every failure becomes an RFC 9457 problem with a code. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly errors?: FieldError[];
  readonly extraHeaders?: Record<string, string>;
  readonly extensions?: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(ERROR_STATUS[code], { message: detail, cause: options.cause });
    this.code = code;
    this.errors = options.errors;
    this.extraHeaders = options.headers;
    this.extensions = options.extensions;
  }

  /** A 400 naming one field. */
  static field(field: string, message: string): ApiError {
    return new ApiError('validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });
  }
}

/** The path segment of a problem type: the code with dashes (`validation_failed` → `validation-failed`). */
export const problemSlug = (code: ErrorCode) => code.replaceAll('_', '-');

/**
 * A problem's `type`: an absolute URL on the deployment's own origin, `/errors/{slug}`, which answers a
 * page on what the problem means and how to fix it (src/modules/errors/).
 */
export const problemType = (code: ErrorCode, origin: string) => `${origin}/errors/${problemSlug(code)}`;

/** The `title` every problem with this code carries. */
export const problemTitle = (code: ErrorCode) => TITLES[code];

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = Object.fromEntries(
  Object.entries(ERROR_STATUS)
    // Only the generic code of each status (the others are specific and only ever thrown by name).
    .filter(([code]) => !['validation_failed', 'messages_not_accepted', 'account_suspended', 'recent_sign_in_required', 'content_rejected', 'mfa_required', 'invalid_code'].includes(code))
    .map(([code, status]) => [status, code as ErrorCode]),
);

/** Turns zod issues into `{ field, message }` pairs (body, query and path fields by name); unknown keys are named one by one. */
export function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: path ? `${path}.${key}` : key,
        message: 'is not a recognised field',
      }));
    }
    return [{ field: path || 'body', message: issue.message }];
  });
}

/** Renders any thrown value as problem+json; unknown errors become an opaque 500 (logged, never echoed). */
export function problemResponse(err: unknown, c: Context): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? '';
  let code: ErrorCode;
  let detail: string;
  let errors: FieldError[] | undefined;
  let headers: Record<string, string> = {};
  let extensions: Record<string, string> = {};

  if (err instanceof ApiError) {
    code = err.code;
    detail = err.message;
    errors = err.errors;
    headers = err.extraHeaders ?? {};
    extensions = err.extensions ?? {};
  } else if (err instanceof HTTPException) {
    code = CODE_BY_STATUS[err.status] ?? (err.status >= 500 ? 'internal' : 'bad_request');
    detail = err.message || TITLES[code];
    if (code === 'bad_request' && /json/i.test(detail)) detail = 'The request body is not valid JSON.';
  } else {
    code = 'internal';
    detail = 'An unexpected error occurred. Quote the request_id when reporting it.';
    console.error(JSON.stringify({ level: 'error', request_id: requestId, message: String((err as Error)?.message ?? err) }));
  }

  const status = ERROR_STATUS[code];
  const body: Record<string, unknown> = { ...extensions, type: problemType(code, new URL(c.req.url).origin), title: TITLES[code], status, detail, request_id: requestId };
  if (errors) body.errors = errors;
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  });
}
