import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { requireLiveAuth } from '../../middleware/auth';

const IceServerSchema = z
  .object({
    urls: z.array(z.string()).min(1).openapi({ example: ['turn:turn.cloudflare.com:3478?transport=udp'] }),
    username: z.string().optional().openapi({ description: 'TURN servers only.' }),
    credential: z.string().optional().openapi({ description: 'TURN servers only.' }),
  })
  .openapi('IceServer');

export const IceServersSchema = z
  .object({
    ice_servers: z.array(IceServerSchema).openapi({ description: 'Pass as `iceServers` to `new RTCPeerConnection()`.' }),
    expires_at: z.string().openapi({ description: 'When the TURN credentials stop working (at least an hour away when fresh): fetch again before starting a call after this time.' }),
  })
  .openapi('IceServers', {
    example: {
      ice_servers: [
        { urls: ['stun:stun.cloudflare.com:3478'] },
        { urls: ['turn:turn.cloudflare.com:3478?transport=udp', 'turns:turn.cloudflare.com:443?transport=tcp'], username: 'g0a5c1e0b0f4…', credential: '1b7e0f3d5c…' },
      ],
      expires_at: '2026-11-21T16:00:00.000Z',
    },
  });

export const iceServers = createRoute({
  method: 'get',
  path: '/calls/ice_servers',
  tags: ['Calls'],
  summary: 'STUN and TURN servers for calls',
  description:
    "Short-lived Cloudflare TURN credentials of your own (generated with the server's TURN key for this session alone, valid 2 hours, and the same ones handed to it again until an hour before they expire; never shared between sessions or accounts) when the server has `TURN_KEY_ID` and `TURN_KEY_API_TOKEN`; otherwise, or while Cloudflare's TURN API fails, Cloudflare's STUN server only (with a short `expires_at` when TURN failed, so clients ask again soon). They are revoked at Cloudflare when the session ends (logout, DELETE /me/sessions, a password change or reset, turning on two-factor sign-in), or the account is suspended or deleted; the session is always checked in D1 here (a session signed out a moment ago gets 401, never credentials). Never cached by HTTP caches. Call signalling itself runs over the conversation socket: see the Messaging tag and README (Calls).",
  security: bearerSecurity,
  middleware: [requireLiveAuth],
  responses: {
    200: {
      ...jsonContent(IceServersSchema, 'The ICE servers'),
      headers: { 'Cache-Control': { required: true, schema: { type: 'string' as const }, example: 'private, no-store' } },
    },
    ...commonErrors,
    ...errors[401],
  },
});
