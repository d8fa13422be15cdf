import { and, eq } from 'drizzle-orm';
import { media, messageMedia, postMedia } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { presentMe } from '../users/users.presenter';
import { requireUserRow } from '../users/users.service';
import { MEDIA_CSP, MEDIA_KEY_PATTERN, objectName, type VariantWidth } from './media.keys';
import * as service from './media.service';
import type * as routes from './media.routes';

export const uploadMedia: AppRouteHandler<typeof routes.uploadMedia> = async (c) => {
  const { userId } = currentUser(c);
  const image = await service.storeImage(c.env, userId, await service.readUpload(c));
  const row = await service.recordMedia(c, userId, 'attachment', image);
  return c.json(service.presentMedia(row, c.get('baseUrl')), 201);
};

export const deleteMedia: AppRouteHandler<typeof routes.deleteMedia> = async (c) => {
  const { userId } = currentUser(c);
  const db = c.get('db');
  const row = await db.select().from(media).where(and(eq(media.id, c.req.valid('param').key), eq(media.kind, 'attachment'))).get();
  // Someone else's upload is "not found" to you, like one that never existed.
  if (!row || row.ownerId !== userId) throw new ApiError('not_found', 'No such media.');
  const attached = await db.select({ postId: postMedia.postId }).from(postMedia).where(eq(postMedia.mediaId, row.id)).get();
  if (attached) {
    throw new ApiError('conflict', 'This image is attached to a post; edit or delete the post first.', {
      errors: [{ field: 'id', message: `is attached to post ${attached.postId}` }],
    });
  }
  // A live message's image is evidence its recipients may still report: it goes when the message does.
  const sent = await db.select({ conversationId: messageMedia.conversationId }).from(messageMedia).where(eq(messageMedia.mediaId, row.id)).get();
  if (sent) {
    throw new ApiError('conflict', 'This image is in a message; delete the message first.', {
      errors: [{ field: 'id', message: `is in a message in conversation ${sent.conversationId}` }],
    });
  }
  await db.delete(media).where(eq(media.id, row.id));
  // The object stays (for staff only) while a kept copy of an unsent or edited message holds it.
  await service.releaseObjectIfUnused(c, row.key);
  return c.body(null, 204);
};

export const getMedia: AppRouteHandler<typeof routes.getMedia> = async (c) => {
  const { key } = c.req.valid('param');
  if (!MEDIA_KEY_PATTERN.test(key)) throw new ApiError('not_found', 'No such media.');
  // Before the 304 too: a withdrawn image's tag must not confirm it still exists.
  await service.assertMediaServable(c, key);
  const width = c.req.valid('query').w ? (Number(c.req.valid('query').w) as VariantWidth) : undefined;
  const cacheHeaders = (object: R2Object) => ({ ETag: object.httpEtag, 'Cache-Control': service.CACHE_FOREVER });

  // The ETag is R2's own, of the stored bytes: originals stored before metadata stripping keep their key
  // but not their bytes (npm run media:scrub), so a tag derived from the key could vouch for old bytes.
  const ifNoneMatch = c.req.header('If-None-Match');
  if (ifNoneMatch) {
    const stored = await c.env.MEDIA.head(objectName(key, width));
    if (stored && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === stored.httpEtag || tag.trim() === '*')) {
      return c.body(null, 304, cacheHeaders(stored));
    }
  }
  const object = width ? await service.getVariant(c.env, key, width) : await c.env.MEDIA.get(objectName(key));
  if (!object) throw new ApiError('not_found', 'No such media.');
  return c.body(object.body, 200, {
    ...cacheHeaders(object),
    'Content-Type': object.httpMetadata?.contentType ?? 'application/octet-stream',
    'Content-Length': String(object.size),
    'Content-Disposition': 'inline',
    'Content-Security-Policy': MEDIA_CSP,
  });
};
