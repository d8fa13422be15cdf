import { createRoute, z } from '@hono/zod-openapi';
import { errors, EXAMPLE_ORIGIN } from '../../lib/openapi';
import { errorPage, errorPages, PROBLEM_SLUGS } from './error-pages';

const tags = ['Operations'];

const ErrorPageSchema = z
  .object({
    type: z.string().openapi({ format: 'uri', description: 'The problem `type` this page explains (this URL)' }),
    slug: z.string(),
    title: z.string().openapi({ description: 'The `title` of every problem of this type' }),
    status: z.number().int().openapi({ description: 'The HTTP status problems of this type answer with' }),
    meaning: z.string(),
    fix: z.string(),
  })
  .openapi('ErrorPage', { example: errorPage('validation-failed', EXAMPLE_ORIGIN) });

const html = (example: string) => ({ 'text/html': { schema: z.string(), example } });

export const listErrorPages = createRoute({
  method: 'get',
  path: '/errors',
  tags,
  summary: 'Every problem type, with what it means and how to fix it',
  description: 'HTML by default; JSON with `Accept: application/json`.',
  responses: {
    200: {
      description: 'The problem types',
      content: {
        ...html('<!doctype html>…<h1>Problem types</h1>…'),
        'application/json': { schema: z.object({ data: z.array(ErrorPageSchema) }), example: { data: errorPages(EXAMPLE_ORIGIN).slice(0, 2) } },
      },
    },
  },
});

export const getErrorPage = createRoute({
  method: 'get',
  path: '/errors/{slug}',
  tags,
  summary: 'What one problem type means and how to fix it',
  description: 'Every problem\'s `type` is this URL. HTML by default; JSON with `Accept: application/json`. A slug no problem has is a 404 problem.',
  request: {
    params: z.object({
      slug: z.string().max(64).openapi({ param: { name: 'slug', in: 'path' }, example: 'validation-failed', description: `One of: ${PROBLEM_SLUGS.join(', ')}` }),
    }),
  },
  responses: {
    200: {
      description: 'The page',
      content: { ...html('<!doctype html>…<h1>Validation failed <small>(HTTP 400)</small></h1>…'), 'application/json': { schema: ErrorPageSchema } },
    },
    ...errors[404],
  },
});
