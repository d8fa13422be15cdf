import { createRoute, z } from '@hono/zod-openapi';

const tags = ['Operations'];

export const docsPage = createRoute({
  method: 'get',
  path: '/docs',
  tags,
  summary: 'The interactive API reference (HTML)',
  description:
    'Scalar\'s reference on /openapi.json, served whole from this deployment (works offline; `Content-Security-Policy` allows only this origin).',
  responses: {
    200: {
      description: 'The reference page',
      headers: { 'Content-Security-Policy': { description: 'Only this origin', schema: { type: 'string' } } },
      content: { 'text/html': { schema: z.string(), example: '<!doctype html>…' } },
    },
  },
});
