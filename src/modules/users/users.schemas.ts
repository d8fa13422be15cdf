import { z } from '@hono/zod-openapi';
import { SITE_ROLES } from '../../db/schema';
import { pageSchema } from '../../lib/pagination';
import { MESSAGE_POLICIES } from '../../policy/messaging';
import { multiLineText, singleLineText } from '../../policy/text-hygiene';

export const GENDERS = ['female', 'male', 'nonbinary'] as const;
/** Who may write on a user's wall. */
export const WALL_POLICIES = ['everyone', 'friends', 'nobody'] as const;

export const USERNAME_RULE = /^[a-z0-9_]{3,30}$/;

/** Usernames: 3..30 of [a-z0-9_]; input is matched case-insensitively and stored lower-cased. */
export const UsernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_RULE, 'must be 3 to 30 characters of a-z, 0-9 and _')
  .openapi({ example: 'ada_l', pattern: '^\\s*[A-Za-z0-9_]{3,30}\\s*$', description: 'Any case; stored lower-cased' });

/** What the API accepts as a country code: trimmed and upper-cased before it is checked. */
export const COUNTRY_INPUT_PATTERN = '^\\s*[A-Za-z]{2}\\s*$';

export const EmailSchema = z.email('must be a valid email address').trim().toLowerCase().max(254).openapi({ example: 'ada@example.com' });

export const PasswordSchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters')
  .openapi({ example: 'correct horse battery staple' });

export const DisplayNameSchema = singleLineText().min(1, 'must not be blank').max(50).openapi({ example: 'Ada Lovelace' });

export const LocationSchema = z
  .strictObject({
    country: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
      .openapi({ example: 'GB', pattern: COUNTRY_INPUT_PATTERN, description: 'ISO 3166-1 alpha-2, any case; stored upper-cased' }),
    region: singleLineText().min(1).max(100).nullable().optional().openapi({ example: 'GB-LND' }),
    city: singleLineText().min(1).max(100).nullable().optional().openapi({ example: 'London' }),
  })
  .openapi('Location');

const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(300);

export const LinkSchema = z.strictObject({ label: singleLineText().min(1).max(50), url: HttpUrl }).openapi('ProfileLink');

const isRealDate = (value: string) => {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
};

export const BirthdateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(isRealDate, 'is not a real calendar date')
  .refine((v) => v >= '1900-01-01' && v <= new Date().toISOString().slice(0, 10), 'must be between 1900-01-01 and today')
  .openapi({ example: '1990-12-10' });

export const RelationshipSchema = z
  .object({
    following: z.boolean(),
    followed_by: z.boolean(),
    /** The caller asked to follow this private account and waits for approval. */
    follow_requested: z.boolean(),
    friend: z.boolean(),
    friend_request: z.enum(['incoming', 'outgoing']).nullable(),
    blocking: z.boolean(),
    muting: z.boolean(),
  })
  .openapi('Relationship');

/** Example of the public-user shape, reused wherever a user appears in an example. */
export const publicUserExample = {
  id: '01JC6Z1W3R2J4D5E6F7G8H9J0K',
  username: 'ada_l',
  display_name: 'Ada Lovelace',
  avatar_url: 'https://kith.example/api/v1/media/01JC6Z1W3R2J4D5E6F7G8H9J0K-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  bio: 'Poet of numbers.',
  is_verified: false,
};

export const PublicUserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    bio: z.string(),
    is_verified: z.boolean(),
  })
  .openapi('PublicUser', { example: publicUserExample });

const counts = { posts: 0, followers: 0, following: 0, friends: 0 };
const LocationOut = z
  .object({ country: z.string().nullable(), region: z.string().nullable(), city: z.string().nullable() })
  .nullable();

export const ProfileSchema = PublicUserSchema.extend({
  headline: z.string().nullable().openapi({
    description: "The professional headline (GET /users/{id}/professional), when that profile's visibility lets you see it; else null",
  }),
  location: LocationOut,
  website: z.string().nullable(),
  links: z.array(LinkSchema),
  created_at: z.string(),
  counts: z
    .object({ posts: z.number().int(), followers: z.number().int(), following: z.number().int(), friends: z.number().int() })
    .openapi({ description: 'Followers, following and friends leave out suspended accounts (as the lists do).' }),
  relationship: RelationshipSchema.optional(),
}).openapi('Profile', {
  example: {
    ...publicUserExample,
    headline: 'Analyst of engines, poet of numbers',
    location: { country: 'GB', region: 'GB-LND', city: 'London' },
    website: 'https://ada.example',
    links: [{ label: 'Notes', url: 'https://notes.example/ada' }],
    created_at: '2026-11-21T10:00:00.000Z',
    counts,
    relationship: { following: true, followed_by: false, follow_requested: false, friend: false, friend_request: null, blocking: false, muting: false },
  },
});

/** Example of the `/me` shape, reused by the token responses' examples. */
export const meExample = {
  ...publicUserExample,
  email: 'ada@example.com',
  email_verified: true,
  birthdate: '1990-12-10',
  gender: 'female' as const,
  location: { country: 'GB', region: 'GB-LND', city: 'London' },
  website: 'https://ada.example',
  links: [{ label: 'Notes', url: 'https://notes.example/ada' }],
  visibility: 'public' as const,
  wall_policy: 'friends' as const,
  discoverable: true,
  message_policy: 'everyone' as const,
  role: 'user' as const,
  created_at: '2026-11-21T10:00:00.000Z',
  counts,
};

export const PublicUserPageSchema = pageSchema('PublicUserPage', PublicUserSchema, publicUserExample);

export const MessagePolicySchema = z.enum(MESSAGE_POLICIES, { error: `must be one of ${MESSAGE_POLICIES.join(', ')}` }).openapi({
  description:
    'Who may start a conversation with you, send you a direct message or add you to a group: `everyone` (default), `following` (people you follow, and friends), `friends`, or `nobody`. Others get 403 `/messages-not-accepted`.',
  example: 'following',
});

export const MeSchema = ProfileSchema.omit({ relationship: true, headline: true })
  .extend({
    email: z.string(),
    email_verified: z.boolean().openapi({
      description: 'Whether `email` was proven: by its link (POST /auth/email/verify), a password reset, or a provider that verified it. A changed address replaces `email` only once verified.',
    }),
    birthdate: z.string().nullable(),
    gender: z.enum(GENDERS).nullable(),
    visibility: z.enum(['public', 'private']),
    wall_policy: z.enum(WALL_POLICIES),
    discoverable: z.boolean().openapi({
      description: 'Whether people who neither follow you nor are your friends find you in search (GET /search), and whether you are suggested to others (GET /suggestions). Default true.',
    }),
    message_policy: MessagePolicySchema,
    role: z.enum(SITE_ROLES).openapi({ description: 'Site role: moderators and admins use /api/v1/admin/*.' }),
  })
  .openapi('Me', { example: meExample });

export const UpdateMeSchema = z
  .strictObject({
    display_name: DisplayNameSchema.optional(),
    bio: multiLineText().max(500, 'must be at most 500 characters').optional(),
    location: LocationSchema.nullable().optional(),
    website: HttpUrl.nullable().optional(),
    links: z.array(LinkSchema).max(5, 'at most 5 links').optional(),
    birthdate: BirthdateSchema.nullable().optional(),
    gender: z.enum(GENDERS).nullable().optional(),
    username: UsernameSchema.optional(),
    visibility: z.enum(['public', 'private']).optional(),
    wall_policy: z.enum(WALL_POLICIES).optional(),
    discoverable: z.boolean({ error: 'must be true or false' }).optional(),
    message_policy: MessagePolicySchema.optional(),
    email: EmailSchema.optional().openapi({ description: 'A new address: mailed a link, and used once verified. Needs `current_password`.' }),
    current_password: z.string().min(1, 'is required').max(256).optional().openapi({ description: 'Required with `email`.' }),
  })
  .superRefine((body, ctx) => {
    if (body.email !== undefined && body.current_password === undefined) {
      ctx.addIssue({ code: 'custom', path: ['current_password'], message: 'is required to change email' });
    }
  })
  .openapi('UpdateMe', {
    example: { display_name: 'Ada L.', bio: 'Poet of numbers.', location: { country: 'GB', city: 'London' }, gender: 'female', birthdate: '1990-12-10' },
  });

export const DeleteMeSchema = z
  .object({ password: z.string().min(1).max(256) })
  .openapi('DeleteMe', { example: { password: 'correct horse battery staple' } });

export const UserRefParamSchema = z.object({
  id_or_username: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id_or_username', in: 'path' }, example: 'ada_l' }),
});

export type PublicUser = z.infer<typeof PublicUserSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type Me = z.infer<typeof MeSchema>;
export type Relationship = z.infer<typeof RelationshipSchema>;
