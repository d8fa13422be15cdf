import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent, problem } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { CreatePushSubscriptionSchema, PushSubscriptionSchema, ServerKeySchema, UpdatePushSubscriptionSchema } from './push.schemas';

const tags = ['Push'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };
const notConfigured = { 503: problem('service_unavailable', 'Web push is not configured on this server (no VAPID keys), or authentication is not (no JWT_SECRET)') };

const PUSH =
  'Web Push as Mastodon has it: one subscription per session (the signed-in device the access token belongs to; signing that device out ends it). A notification for someone with no notifications socket open is pushed to each of their subscriptions whose `alerts` and `policy` let it through, as an RFC 8291 (`aes128gcm`) encrypted payload `{ notification_id, type, title, body, url }`, signed with VAPID (RFC 8292), with a TTL and Urgency per notification type (calls: 60 s, high). Whether to push is decided when it is sent: nothing from an account that is suspended, that you block or that blocks you, or that you mute; a message request shows `Sent you a message request` (a group request: `Added you to a conversation`), never the stranger’s text. A push service answering 404 or 410 deletes the subscription; timeouts and 5xx are retried with backoff; a redirect is never followed; after 5 failed deliveries in a row (refused, or failing at the last retry) the subscription is deleted.';

export const createSubscription = createRoute({
  method: 'post', path: '/push/subscription', tags, summary: 'Subscribe this session to Web Push',
  description: `${PUSH} Posting again replaces this session's subscription, and this endpoint's subscription under another session of your account (the device signed in again). 400 names \`subscription.endpoint\` when it is not https on port 443, names an IP address instead of a host, carries credentials, or its host is (or resolves to) a private, link-local or loopback address; \`subscription.keys.p256dh\` when it is not a P-256 point; \`subscription.keys.auth\` when it is not 16 bytes.`,
  ...authed, request: { body: jsonBody(CreatePushSubscriptionSchema) },
  responses: { 200: jsonContent(PushSubscriptionSchema, 'The subscription'), ...commonErrors, ...errors[401], ...notConfigured },
});

export const getSubscription = createRoute({
  method: 'get', path: '/push/subscription', tags, summary: "This session's push subscription",
  ...authed,
  responses: { 200: jsonContent(PushSubscriptionSchema, 'The subscription'), ...commonErrors, ...errors[401], ...errors[404], ...notConfigured },
});

export const updateSubscription = createRoute({
  method: 'put', path: '/push/subscription', tags, summary: "Change this session's alerts and policy",
  description: 'The alerts given are changed (the others stay as they are); so is the policy, when given.',
  ...authed, request: { body: jsonBody(UpdatePushSubscriptionSchema) },
  responses: { 200: jsonContent(PushSubscriptionSchema, 'The subscription'), ...commonErrors, ...errors[401], ...errors[404], ...notConfigured },
});

export const deleteSubscription = createRoute({
  method: 'delete', path: '/push/subscription', tags, summary: "Remove this session's push subscription",
  description: 'Idempotent: 204 whether or not there was one.',
  ...authed,
  responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors[401] },
});

export const serverKey = createRoute({
  method: 'get', path: '/push/server_key', tags, summary: "The server's VAPID public key",
  description: "Pass it as `applicationServerKey` to the browser's `pushManager.subscribe()`.",
  responses: { 200: jsonContent(ServerKeySchema, 'The key'), ...commonErrors, 503: problem('service_unavailable', 'Web push is not configured on this server (no VAPID keys)') },
});
