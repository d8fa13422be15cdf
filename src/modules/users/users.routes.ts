import { createRoute } from '@hono/zod-openapi';
import { edgeCache } from '../../lib/edge-cache';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, edgeCachedJson, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { DeleteMeSchema, MeSchema, ProfileSchema, UpdateMeSchema, UserRefParamSchema } from './users.schemas';

const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const getMe = createRoute({
  method: 'get',
  path: '/me',
  tags: ['Me'],
  summary: 'Your own account, with private fields',
  ...authed,
  responses: { 200: jsonContent(MeSchema, 'Me'), ...commonErrors, ...errors[401] },
});

export const updateMe = createRoute({
  method: 'patch',
  path: '/me',
  tags: ['Me'],
  summary: 'Edit your profile',
  description:
    'Send any subset of the fields; `null` clears a nullable one. Unknown fields are refused (400) rather than ignored. A taken username is 409. `display_name` and `bio` pass the keyword rules (422 `/content-rejected` naming the field; a flagged text is saved and reported). `email` needs `current_password` (400 without it, 403 when wrong, counted as a failed login of the account: 429 past 10 in 15 minutes; 409 when another account has the address): the new address is mailed a link (kind `email_change`, valid 24 h) and replaces `email` only once verified, so the answer still shows the old one. At most 3 such mails an hour per account, and 3 change links an hour to one address whichever accounts ask (429).',
  ...authed,
  request: { body: jsonBody(UpdateMeSchema) },
  responses: { 200: jsonContent(MeSchema, 'The updated me'), ...commonErrors, ...errors[401], ...errors[403], ...errors[409], ...errors[422] },
});

export const deleteMe = createRoute({
  method: 'delete',
  path: '/me',
  tags: ['Me'],
  summary: 'Delete your account',
  description:
    'Needs the password (403 if wrong; wrong ones count as failed logins of the account, 429 past 10 in 15 minutes). The account and its content are removed: its sessions, posts, comments, likes, follows, friendships and memberships, its uploads and their stored objects. Owned communities and administered groups pass to their longest-standing members. Within seconds (through a queue, idempotently) every message it sent becomes a tombstone (`deleted: true`, `sender: null`, a `message.deleted` frame on open sockets) while the other members\' messages stay, it leaves every conversation (a direct one stays for the other person; one nobody is left in is erased), the notifications naming it (its profile, its words) leave the inboxes of everyone it could have notified (`notification.removed` on open sockets), and its own inbox is emptied.',
  ...authed,
  request: { body: jsonBody(DeleteMeSchema) },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors[401], ...errors[403], ...errors[503] },
});

export const getUser = createRoute({
  method: 'get',
  path: '/users/{id_or_username}',
  tags: ['Users'],
  summary: 'A public profile, by id or username',
  description: 'Anonymous callers get the profile (from the edge cache when a copy is there: at most 60 s old, purged when the profile changes; `X-Cache`); authenticated callers also get `relationship`, never from a shared cache. email, birthdate and gender never appear here.',
  security: [{}, ...bearerSecurity],
  middleware: [edgeCache('users'), optionalAuth],
  request: { params: UserRefParamSchema },
  responses: { 200: edgeCachedJson(ProfileSchema, 'The profile'), ...commonErrors, ...errors[401], ...errors[404] },
});
