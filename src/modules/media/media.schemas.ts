import { z } from '@hono/zod-openapi';
import { idParam } from '../../lib/openapi';
import { VARIANT_WIDTHS } from './media.keys';

/** The types a stored image (or a resized variant of it) is served as. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

export const MediaSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    content_type: z.enum(IMAGE_TYPES),
    width: z.number().int(),
    height: z.number().int(),
    size: z.number().int(),
  })
  .openapi('Media', {
    example: {
      id: '01JC6Z4Q8N0B2C3D4E5F6G7H8J',
      url: 'https://kith.example/api/v1/media/01JC6Z1W3R2J4D5E6F7G8H9J0K-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      content_type: 'image/jpeg',
      width: 1200,
      height: 800,
      size: 183204,
    },
  });

/** Upload bodies are described, not zod-validated: the handler streams and checks them itself. */
export const uploadBody = {
  required: true,
  description: 'JPEG, PNG, WebP or GIF, at most 5 MB; the type is decided from the bytes. One account uploads at most 200 images a day (media, its avatar, its communities\' avatars, refused uploads included): past that, 429 with `Retry-After` before the body is read.',
  content: {
    'multipart/form-data': {
      schema: { type: 'object' as const, required: ['file'], properties: { file: { type: 'string' as const, format: 'binary' } } },
      example: { file: '(binary image bytes)' },
    },
    'image/*': { schema: { type: 'string' as const, format: 'binary' }, example: '(binary image bytes)' },
    'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' }, example: '(binary image bytes)' },
  },
};

/**
 * `/media/{key}` is one path template: GET reads it as the media key (the last segment of a media
 * `url`), DELETE as the upload's `id`. OpenAPI forbids two templates that differ only in a name.
 */
export const MediaKeyParamSchema = z.object({
  // Any segment is accepted: a key that is not one Kith issues names nothing, so it is 404 like a
  // deleted one (the handler checks MEDIA_KEY_PATTERN), never 400.
  key: z
    .string()
    .openapi({
      param: { name: 'key', in: 'path', description: 'The media key: the last segment of a media `url`. Anything else is 404.' },
      example: '01JC6Z1W3R2J4D5E6F7G8H9J0K-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    }),
});

export const MediaIdParamSchema = z.object({
  key: idParam('key', 'media', '01JC6Z4Q8N0B2C3D4E5F6G7H8J').shape.key.openapi({
    param: { name: 'key', in: 'path', description: 'The upload\'s `id` (as POST /api/v1/media returned it).' },
  }),
});


export const VariantQuerySchema = z.object({
  w: z
    .enum(VARIANT_WIDTHS.map(String) as [string, ...string[]], { error: `must be one of ${VARIANT_WIDTHS.join(', ')}` })
    .optional()
    .openapi({ param: { name: 'w', in: 'query' }, example: '256' }),
});
