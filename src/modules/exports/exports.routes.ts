import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { ExportIdParamSchema, ExportListSchema, ExportSchema } from './exports.schemas';

const tags = ['Me'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

const CONTENTS =
  'The archive is a ZIP of JSON files: `account.json` (your profile with its private fields, sessions, sign-in providers, two-factor state, push subscriptions by host), `security_events.json`, `posts.json` (yours, wall posts you wrote included, with their tags and the paths of their images), `comments.json`, `likes.json`, `following.json`, `followers.json`, `friends.json`, `friend_requests.json`, `follow_requests_rejected.json` (the follow requests you turned down), `blocks.json`, `mutes.json`, `communities.json`, `professional.json`, `notifications.json`, `conversations/<id>.json` (each conversation you are in, with the messages you can read there, newest first: the newest 10,000, `complete` says whether that is all; in a community’s chat only your own), `media.json` and `media/` (every image you uploaded, as stored: without metadata), and `README.txt`. Other people appear as their public user shape (an account suspended now, or one that blocks you, with empty names); nothing of theirs is included that you could not read through the API.';

export const requestExport = createRoute({
  method: 'post', path: '/me/exports', tags, summary: 'Ask for an archive of your data',
  description: `Your data, portable (GDPR article 20): the archive is built in the background (the kith-exports queue) and kept 7 days. Answers 202 with the export, \`pending\`; GET /me/exports/{id} shows when it is \`ready\`, and the account's address is told (mail kind \`export_ready\`), so an export you did not ask for does not go unnoticed. While one is pending, asking again answers that one (202). One archive a day: within 24 hours of the last one that was built, 429 with \`Retry-After\`; a failed export does not count. Recorded in your security events (\`account.export_requested\`). ${CONTENTS}`,
  ...authed,
  responses: { 202: jsonContent(ExportSchema, 'The export, pending (a new one, or the one already pending)'), ...commonErrors, ...errors[401] },
});

export const listExports = createRoute({
  method: 'get', path: '/me/exports', tags, summary: 'Your exports',
  description: 'Newest first: the pending one, and those of the last 7 days (older ones are deleted): with one archive a day, a handful, so not paginated (at most the newest 50).',
  ...authed,
  responses: { 200: jsonContent(ExportListSchema, 'Your exports'), ...commonErrors, ...errors[401] },
});

export const getExport = createRoute({
  method: 'get', path: '/me/exports/{id}', tags, summary: 'One of your exports',
  ...authed, request: { params: ExportIdParamSchema },
  responses: { 200: jsonContent(ExportSchema, 'The export'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const downloadExport = createRoute({
  method: 'get', path: '/me/exports/{id}/archive', tags, summary: 'Download an archive',
  description:
    'The ZIP (`Content-Disposition: attachment`, `Cache-Control: no-store`). Everything you have is in it, so the session must have signed in within the last 15 minutes (403 `/recent-sign-in-required` otherwise; refreshing does not count): a stolen token alone cannot take it. 404 for an export that is not yours, not ready, or expired. Each download is recorded in your security events (`account.export_downloaded`).',
  ...authed, request: { params: ExportIdParamSchema },
  responses: {
    200: {
      description: 'The archive',
      headers: {
        'Content-Disposition': { description: '`attachment; filename="kith-<username>-<date>.zip"`', schema: { type: 'string' as const } },
        'Content-Length': { description: 'The archive’s size in bytes', schema: { type: 'integer' as const } },
      },
      content: { 'application/zip': { schema: { type: 'string' as const, format: 'binary' }, example: '(ZIP archive bytes)' } },
    },
    ...commonErrors, ...errors[401], ...errors[403], ...errors[404],
  },
});
