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

export const asyncApi = createRoute({
  method: 'get',
  path: '/asyncapi.json',
  tags,
  summary: 'The AsyncAPI 3 document of both sockets',
  description: 'The frames of the conversation socket (messages, typing, reads, call signalling) and of the notification socket; `servers` names the origin it was fetched from.',
  responses: {
    200: {
      description: 'The document',
      content: { 'application/json': { schema: z.object({ asyncapi: z.string() }).catchall(z.unknown()), example: { asyncapi: '3.0.0' } } },
    },
  },
});
