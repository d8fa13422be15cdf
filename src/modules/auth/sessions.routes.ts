import { createRoute, z } from '@hono/zod-openapi';
import { requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, errors, EXAMPLE_ID, idParam, jsonContent } from '../../lib/openapi';

const tags = ['Me'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

const sessionExample = {
  id: EXAMPLE_ID,
  created_at: '2026-11-21T10:00:00.000Z',
  last_used_at: '2026-11-21T10:14:00.000Z',
  ip: '203.0.113.7',
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
  current: true,
};

export const SessionSchema = z
  .object({
    id: z.string(),
    created_at: z.string().openapi({ description: 'When the device signed in' }),
    last_used_at: z.string().openapi({ description: 'Its sign-in or latest token refresh (so accurate to the 15-minute access-token lifetime)' }),
    ip: z.string().nullable().openapi({ description: 'The client address (CF-Connecting-IP) of that sign-in or refresh' }),
    user_agent: z.string().nullable(),
    current: z.boolean().openapi({ description: 'The session of the token making this request' }),
  })
  .openapi('Session', { example: sessionExample });

export const listSessions = createRoute({
  method: 'get',
  path: '/me/sessions',
  tags,
  summary: 'Your signed-in devices',
  description: 'One entry per live session (a refresh-token family: one sign-in on one device), most recently used first; at most 200.',
  ...authed,
  responses: {
    200: jsonContent(z.array(SessionSchema).openapi({ example: [sessionExample, { ...sessionExample, id: '01JC6Z1W3R2J4D5E6F7G8H9J0K', ip: '198.51.100.23', user_agent: 'KithPhone/1.0', current: false }] }), 'The sessions'),
    ...commonErrors,
    ...errors[401],
  },
});

const signOutEffect =
  'Its refresh token fails from now on, and its access tokens stop working at once (every request checks the session; writes and socket upgrades always ask D1, reads served from another isolate\'s 10-second cache end within 10 s), and its open conversation and notification sockets are closed (code 4401). Recorded as `session.revoked`.';

export const revokeSession = createRoute({
  method: 'delete',
  path: '/me/sessions/{id}',
  tags,
  summary: 'Sign one device out',
  description: `${signOutEffect} Your own current session may be ended too (like logging out). 404 when it is not a live session of yours.`,
  ...authed,
  request: { params: idParam('id', 'session') },
  responses: { 204: { description: 'Signed out' }, ...commonErrors, ...errors[401], ...errors[404] },
});

export const revokeOtherSessions = createRoute({
  method: 'delete',
  path: '/me/sessions',
  tags,
  summary: 'Sign every other device out',
  description: `Ends every session but the caller's. ${signOutEffect}`,
  ...authed,
  responses: { 204: { description: 'Signed out' }, ...commonErrors, ...errors[401] },
});
