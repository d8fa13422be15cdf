import { OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, zodFieldErrors } from './errors';
import type { AppEnv, AppOpenAPI } from './types';

/**
 * Every router comes from here, so env types and the validation hook are the same everywhere:
 * a zod failure anywhere becomes one 400 problem naming each field.
 */
export function createRouter(): AppOpenAPI {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) {
        const errors = zodFieldErrors(result.error);
        const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
        throw new ApiError('validation_failed', detail || 'The request is invalid.', { errors });
      }
    },
  });
}

