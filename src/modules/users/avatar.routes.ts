import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { STRIPPED } from '../media/media.routes';
import { uploadBody } from '../media/media.schemas';
import { MeSchema } from './users.schemas';

const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const putAvatar = createRoute({
  method: 'put',
  path: '/me/avatar',
  tags: ['Me'],
  summary: 'Upload or replace the avatar',
  description: `The previous avatar object is removed. 415 for anything that is not a JPEG, PNG, WebP or GIF by content; 413 over 5 MB. ${STRIPPED}`,
  ...authed,
  request: { body: uploadBody },
  responses: { 200: jsonContent(MeSchema, 'The updated me, with avatar_url'), ...commonErrors, ...errors[401], ...errors[413], ...errors[415] },
});

export const deleteAvatar = createRoute({
  method: 'delete',
  path: '/me/avatar',
  tags: ['Me'],
  summary: 'Remove the avatar',
  description: 'Clears avatar_url and deletes the stored object and its variants. Idempotent.',
  ...authed,
  responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors[401] },
});
