import { createRoute } from '@hono/zod-openapi';
import { edgeCache } from '../../lib/edge-cache';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, edgeCacheHeaders, errors, jsonContent } from '../../lib/openapi';
import { CACHE_FOREVER, MEDIA_CSP } from './media.keys';
import { IMAGE_TYPES, MediaIdParamSchema, MediaKeyParamSchema, MediaSchema, uploadBody, VariantQuerySchema } from './media.schemas';

const tags = ['Media'];
/** What Kith does to every stored image (the avatar routes in the users module say it too). */
export const STRIPPED =
  'Kith stores the image re-encoded by the Images binding: its EXIF orientation applied to the pixels, and no EXIF, XMP or IPTC data (no GPS position, camera or capture details), comments, text chunks or embedded colour profiles; a GIF is stored as an animated WebP. An image over 50 megapixels or with a side over 10,000 pixels is refused with 413 naming `file`, decided from its header before anything decodes it; an animation (GIF, animated WebP, APNG) counts all its frames: at most 50 megapixels across them, and no frame over the side limit.';

/** Stored media never change under their key (npm run media:scrub aside, which changes the ETag), so both answers carry these. */
const cacheHeaders = {
  ETag: { description: "R2's entity tag of the stored bytes (of the variant, for `?w=`); send it back in If-None-Match.", required: true, schema: { type: 'string' as const }, example: '"5d41402abc4b2a76b9719d911017c592"' },
  'Cache-Control': { required: true, schema: { type: 'string' as const }, example: 'public, max-age=31536000, immutable' },
};
const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const uploadMedia = createRoute({
  method: 'post',
  path: '/media',
  tags,
  summary: 'Upload an image to attach to posts or messages',
  description: `Uploading the same bytes again returns the same media object. Attach it to a post or send it in a message within a day: an upload nothing uses a day after its upload is deleted. ${STRIPPED} \`width\`, \`height\` and \`size\` describe the stored image.`,
  ...authed,
  request: { body: uploadBody },
  responses: { 201: jsonContent(MediaSchema, 'The stored image'), ...commonErrors, ...errors[401], ...errors[413], ...errors[415] },
});

export const deleteMedia = createRoute({
  method: 'delete',
  path: '/media/{key}',
  tags,
  summary: 'Delete one of your uploads',
  description: 'Only uploads that no post and no live message uses: an attached image answers 409 (`errors` naming `id`) until the post is edited or deleted, or the message deleted. Its URL then answers 404 to everyone, you included. An image of a message you deleted (or of an earlier version of a message you edited) stays stored for 30 days from then, for staff only, so that the people it was sent to can still report it (see DELETE /conversations/{id}/messages/{seq}); then it is erased, or at once with your account.',
  ...authed,
  request: { params: MediaIdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors[401], ...errors[404], ...errors[409] },
});

export const getMedia = createRoute({
  method: 'get',
  path: '/media/{key}',
  tags,
  summary: 'Fetch stored image bytes',
  description:
    'Public and cacheable: `ETag`, `Cache-Control: immutable`, and 304 for a matching `If-None-Match`. Served from the edge cache of the data centre when a copy is there (`X-Cache`; a day at most, purged when the image is deleted or withdrawn, or its owner suspended). `?w=64|128|256|512|1024` serves a resized variant (never upscaled). Originals and variants carry no EXIF, XMP or IPTC metadata. Keys are `<owner id>-<64 hex>`, a keyed hash of the owner and the stored bytes, so only whoever was given the URL of an image can fetch it; originals uploaded before metadata stripping keep their key (so links to them keep working) while `npm run media:scrub` replaces their bytes. A key that names no stored image, whatever its form, is 404. **Withdrawn images**: an upload that was on a post or in a message and is on none any more (the post deleted by its author, its wall owner or a moderator, removed by moderation, or the image edited out; the message deleted by its sender, removed by moderation or erased with its sender\'s account; the conversation erased with its community or its last member) is 404 to everyone but its owner and staff (send your bearer token), originals and variants alike, unless it is still your avatar. Attaching it to a post or sending it in a message again makes it public again. An upload its owner deleted (DELETE /media/{key}) is 404 to everyone, its owner included; if it was in a message its sender deleted or edited within the last 30 days, staff can still open it until then (a report may need it). While in use, an image is served to whoever has its URL, message images included (no token needed, so an `<img src>` works; the URL is given only to those who see the post or message). An upload no post or message uses within a day of its upload (uploading the same bytes again starts the day again) is deleted, row, object and variants: its URL is 404 to everyone, its owner included, and its id can no longer be attached or deleted. Until then it is fetchable by whoever has its URL, as is one sent in a message before messages recorded their attachments. **A suspended account\'s images** (every image it owns: post images, avatar, uploads, attachments it sent) are 404 to everyone but staff while the suspension lasts, as for a deleted account, and served again once it is lifted; a community\'s images (its key names the community) are not affected. A bearer token is optional; a bad one is 401.',
  security: [{}, ...bearerSecurity],
  middleware: [edgeCache('media', { clientCacheControl: CACHE_FOREVER }), optionalAuth],
  request: { params: MediaKeyParamSchema, query: VariantQuerySchema },
  responses: {
    200: {
      description: 'The image bytes, as the type they were stored (or resized) as',
      headers: {
        ...cacheHeaders,
        ...edgeCacheHeaders,
        'Content-Security-Policy': {
          description: 'Nothing in the bytes may run or load anything, should a browser ever render them as a document.',
          required: true,
          schema: { type: 'string' as const },
          example: MEDIA_CSP,
        },
        'Content-Disposition': { description: '`inline`: shown, never offered as a download under a name of the uploader\'s choosing.', required: true, schema: { type: 'string' as const }, example: 'inline' },
      },
      content: Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: { type: 'string' as const, format: 'binary' }, example: '(binary image bytes)' }])),
    },
    304: { description: 'Not modified: the `If-None-Match` tag matches', headers: cacheHeaders },
    ...commonErrors,
    ...errors[401],
    ...errors[404],
  },
});
