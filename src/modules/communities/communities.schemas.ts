import { z } from '@hono/zod-openapi';
import { COMMUNITY_GENDERS, COMMUNITY_ROLES, COMMUNITY_VISIBILITIES, JOIN_POLICIES } from '../../db/schema';
import { booleanQuery, trimmedText, wholeNumberParam } from '../../lib/openapi';
import { pageSchema } from '../../lib/pagination';
import { multiLineText, singleLineText, withTextHygiene } from '../../policy/text-hygiene';
import { COUNTRY_INPUT_PATTERN, GENDERS, LocationSchema, publicUserExample, PublicUserSchema } from '../users/users.schemas';

export const MIN_NAME_LENGTH = 3;
export const MAX_NAME_LENGTH = 80;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_AGE_BOUND = 120;
export const COMMUNITY_SORTS = ['members', 'new', 'name'] as const;

const Name = withTextHygiene(trimmedText(MIN_NAME_LENGTH, MAX_NAME_LENGTH, `must be ${MIN_NAME_LENGTH} to ${MAX_NAME_LENGTH} characters`), 'single_line').openapi({ example: 'Lisbon Runners' });
const Description = multiLineText().trim().max(MAX_DESCRIPTION_LENGTH, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
const AgeBound = z.number().int('must be a whole number of years').min(0).max(MAX_AGE_BOUND);
const Gender = z.enum(COMMUNITY_GENDERS, { error: `must be one of ${COMMUNITY_GENDERS.join(', ')}` });
const Visibility = z.enum(COMMUNITY_VISIBILITIES, { error: 'must be public or private' });
const JoinPolicy = z.enum(JOIN_POLICIES, { error: 'must be open or approval' });

export const CommunityRefParamSchema = z.object({
  id_or_slug: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a community id or slug')
    .openapi({ param: { name: 'id_or_slug', in: 'path' }, example: 'lisbon-runners' }),
});

/** `/communities/{id}/…` routes take an id or a slug too. */
export const CommunityIdParamSchema = z.object({
  id: CommunityRefParamSchema.shape.id_or_slug.openapi({ param: { name: 'id', in: 'path' }, example: '01JC70B9C8D7E6F5G4H3J2K1M0' }),
});

export const MemberParamSchema = CommunityIdParamSchema.extend({
  user_id: z
    .string()
    .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'is not a valid user id')
    .openapi({ param: { name: 'user_id', in: 'path' }, example: publicUserExample.id }),
});

export const communityExample = {
  id: '01JC70B9C8D7E6F5G4H3J2K1M0',
  slug: 'lisbon-runners',
  name: 'Lisbon Runners',
  description: 'Sunday long runs along the river. All paces welcome.',
  avatar_url: null,
  location: { country: 'PT', region: 'PT-11', city: 'Lisbon' },
  min_age: 18,
  max_age: null,
  gender: 'any' as const,
  visibility: 'public' as const,
  join_policy: 'open' as const,
  member_count: 128,
  my_role: 'member' as const,
  conversation_id: '01JC70B9C8D7E6F5G4H3J2K1M1',
  created_by: publicUserExample,
  created_at: '2026-11-21T10:00:00.000Z',
};

export const CommunityLocationSchema = z
  .object({ country: z.string(), region: z.string().nullable(), city: z.string().nullable() })
  .openapi('CommunityLocation');

export const CommunitySchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    avatar_url: z.string().nullable(),
    location: CommunityLocationSchema.nullable().openapi({ description: 'null for a global community' }),
    min_age: z.number().int().nullable(),
    max_age: z.number().int().nullable(),
    gender: z.enum(COMMUNITY_GENDERS),
    visibility: z.enum(COMMUNITY_VISIBILITIES),
    join_policy: z.enum(JOIN_POLICIES),
    member_count: z.number().int().openapi({ description: 'Members, moderators and the owner; never pending applicants.' }),
    my_role: z.enum(COMMUNITY_ROLES).nullable(),
    conversation_id: z.string().openapi({ description: "The community's chat; members only." }),
    created_by: PublicUserSchema.nullable().openapi({ description: 'null once that account is gone, while it is suspended, or when a block hides it from you.' }),
    created_at: z.string(),
  })
  .openapi('Community', { example: communityExample });

export const CommunityPageSchema = pageSchema('CommunityPage', CommunitySchema, communityExample);

/** min_age ≤ max_age, reported on max_age. */
function checkAgeRange(value: { min_age?: number | null; max_age?: number | null }, ctx: z.RefinementCtx) {
  if (value.min_age != null && value.max_age != null && value.min_age > value.max_age) {
    ctx.addIssue({ code: 'custom', path: ['max_age'], message: 'must not be less than min_age' });
  }
}

const communityFields = {
  name: Name,
  description: Description.optional(),
  location: LocationSchema.nullable().optional(),
  min_age: AgeBound.nullable().optional(),
  max_age: AgeBound.nullable().optional(),
  gender: Gender.optional(),
  visibility: Visibility.optional(),
  join_policy: JoinPolicy.optional(),
};

export const CreateCommunitySchema = z
  .strictObject(communityFields)
  .superRefine(checkAgeRange)
  .openapi('CreateCommunity', {
    example: {
      name: 'Lisbon Runners',
      description: 'Sunday long runs along the river. All paces welcome.',
      location: { country: 'PT', region: 'PT-11', city: 'Lisbon' },
      min_age: 18,
      gender: 'any',
      visibility: 'public',
      join_policy: 'open',
    },
  });

export const UpdateCommunitySchema = z
  .strictObject({ ...communityFields, name: Name.optional() })
  .superRefine(checkAgeRange)
  .openapi('UpdateCommunity', { example: { description: 'Sunday long runs, and Wednesday intervals.', join_policy: 'approval' } });

export const CommunityListQuerySchema = z.object({
  q: z.string().trim().min(1).max(100).optional().openapi({ param: { name: 'q', in: 'query' }, example: 'runners' }),
  country: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .optional()
    .openapi({ param: { name: 'country', in: 'query' }, example: 'PT', pattern: COUNTRY_INPUT_PATTERN, description: 'ISO 3166-1 alpha-2, any case' }),
  region: z.string().trim().min(1).max(100).optional().openapi({ param: { name: 'region', in: 'query' }, example: 'PT-11' }),
  city: z.string().trim().min(1).max(100).optional().openapi({ param: { name: 'city', in: 'query' }, example: 'Lisbon' }),
  age: wholeNumberParam(0, 150).optional().openapi({ param: { name: 'age', in: 'query' }, example: 30 }),
  gender: z.enum(GENDERS, { error: `must be one of ${GENDERS.join(', ')}` }).optional().openapi({ param: { name: 'gender', in: 'query' }, example: 'female' }),
  sort: z.enum(COMMUNITY_SORTS, { error: 'must be members, new or name' }).default('members').openapi({ param: { name: 'sort', in: 'query' }, example: 'members' }),
});

export const JoinResultSchema = z
  .object({ my_role: z.enum(['member', 'pending', 'moderator', 'owner']) })
  .openapi('JoinResult', { example: { my_role: 'member' } });

const memberExample = { user: publicUserExample, role: 'member' as const, joined_at: '2026-11-21T10:00:00.000Z' };

export const CommunityMemberSchema = z
  .object({
    user: PublicUserSchema,
    role: z.enum(COMMUNITY_ROLES),
    joined_at: z.string().openapi({ description: 'When they joined; for an applicant, when they applied.' }),
  })
  .openapi('CommunityMember', { example: memberExample });

export const CommunityMemberPageSchema = pageSchema('CommunityMemberPage', CommunityMemberSchema, memberExample);

export const MemberListQuerySchema = z.object({
  role: z
    .enum(COMMUNITY_ROLES, { error: `must be one of ${COMMUNITY_ROLES.join(', ')}` })
    .optional()
    .openapi({ param: { name: 'role', in: 'query' }, example: 'moderator' }),
});

export const SetRoleSchema = z
  .strictObject({ role: z.enum(['member', 'moderator', 'owner'], { error: 'must be member, moderator or owner' }) })
  .openapi('SetCommunityRole', { example: { role: 'moderator' } });

export const RemoveMemberQuerySchema = z.object({
  ban: booleanQuery('ban', true).openapi({
    description: 'true also bans them: they cannot join or apply again until the ban is lifted (DELETE /communities/{id}/bans/{user_id}). Someone who is not a member can be banned too.',
  }),
});

const banExample = { user: publicUserExample, banned_at: '2026-11-21T10:00:00.000Z' };

export const CommunityBanSchema = z
  .object({ user: PublicUserSchema, banned_at: z.string().openapi({ description: 'When the ban was set.' }) })
  .openapi('CommunityBan', { example: banExample });

export const CommunityBanPageSchema = pageSchema('CommunityBanPage', CommunityBanSchema, banExample);

export type Community = z.infer<typeof CommunitySchema>;
export type CommunityMember = z.infer<typeof CommunityMemberSchema>;
