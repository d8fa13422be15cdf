import { createRoute } from '@hono/zod-openapi';
import { edgeCache } from '../../lib/edge-cache';
import { bearerSecurity, commonErrors, edgeCachedJson, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { uploadBody } from '../media/media.schemas';
import { PostPageSchema } from '../posts/posts.schemas';
import {
  CommunityBanPageSchema,
  CommunityIdParamSchema,
  CommunityListQuerySchema,
  CommunityMemberPageSchema,
  CommunityMemberSchema,
  CommunityPageSchema,
  CommunityRefParamSchema,
  CommunitySchema,
  CreateCommunitySchema,
  JoinResultSchema,
  MemberListQuerySchema,
  MemberParamSchema,
  RemoveMemberQuerySchema,
  SetRoleSchema,
  UpdateCommunitySchema,
} from './communities.schemas';

const tags = ['Communities'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };
const maybeAuthed = { security: [{}, ...bearerSecurity], middleware: [optionalAuth] };
const refused = { ...commonErrors, ...errors[401], ...errors[403], ...errors[404] };

export const createCommunity = createRoute({
  method: 'post',
  path: '/communities',
  tags,
  summary: 'Create a community',
  description: [
    '`name` 3..80 characters; the `slug` is derived from it (accents folded, a numeric suffix when taken) and never changes.',
    'No `location` makes a global community. `min_age`/`max_age` (0..120, null = no bound) and `gender` decide who may join;',
    '`visibility` private keeps posts and the member list to members; `join_policy` approval makes joins applications.',
    'The creator becomes its owner and first member, and the community gets its chat (`conversation_id`).',
    '404 only when another request of yours deleted the new community before this one could answer with it.',
  ].join(' '),
  ...authed,
  request: { body: jsonBody(CreateCommunitySchema) },
  responses: { 201: jsonContent(CommunitySchema, 'The new community'), ...commonErrors, ...errors[401], ...errors[404], ...errors[422] },
});

export const listCommunities = createRoute({
  method: 'get',
  path: '/communities',
  tags,
  summary: 'Find communities',
  description: [
    '`q` matches words of the name or description (each word as a prefix). `country`, `region`, `city` filter by place at any level',
    '(region and city case-insensitively). `age` and `gender` keep the communities such a person may join. `sort`: `members` (most first,',
    'the default), `new` (newest first) or `name` (A–Z). `member_count` never counts pending applicants. Anonymous reads may come from the edge cache',
    '(at most 30 s old, so member counts may lag that much; purged when a community is created, edited or deleted, or an account suspended or silenced; `X-Cache`).',
  ].join(' '),
  ...maybeAuthed,
  middleware: [edgeCache('communities'), optionalAuth],
  request: { query: PageQuerySchema.merge(CommunityListQuerySchema) },
  responses: { 200: edgeCachedJson(CommunityPageSchema, 'A page of communities'), ...commonErrors, ...errors[401] },
});

export const listEligible = createRoute({
  method: 'get',
  path: '/communities/eligible',
  tags,
  summary: 'Communities you may join, nearest first',
  description: [
    "Communities of your profile's city, then its region, then its country, then global ones (most members first within each),",
    'that your age (from `birthdate`) and `gender` qualify you for and that you have not joined or applied to.',
    'Communities that need a profile field you have not filled in are left out: set `location`, `birthdate` and `gender` with PATCH /me.',
  ].join(' '),
  ...authed,
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(CommunityPageSchema, 'A page of communities'), ...commonErrors, ...errors[401] },
});

export const listMyCommunities = createRoute({
  method: 'get',
  path: '/me/communities',
  tags,
  summary: 'Your communities and applications',
  description: 'Every community you belong to or applied to (`my_role` says which), most recently joined first.',
  ...authed,
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(CommunityPageSchema, 'A page of communities'), ...commonErrors, ...errors[401] },
});

export const getCommunity = createRoute({
  method: 'get',
  path: '/communities/{id_or_slug}',
  tags,
  summary: 'Read a community',
  description: 'By id or slug. Private communities are listed and readable by everyone; their posts and members are for members.',
  ...maybeAuthed,
  request: { params: CommunityRefParamSchema },
  responses: { 200: jsonContent(CommunitySchema, 'The community'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const updateCommunity = createRoute({
  method: 'patch',
  path: '/communities/{id_or_slug}',
  tags,
  summary: 'Edit a community',
  description: 'Owner and moderators. Any field of the create body; the slug stays. Changing the rules does not remove existing members.',
  ...authed,
  request: { params: CommunityRefParamSchema, body: jsonBody(UpdateCommunitySchema) },
  responses: { 200: jsonContent(CommunitySchema, 'The edited community'), ...refused, ...errors[422] },
});

export const deleteCommunity = createRoute({
  method: 'delete',
  path: '/communities/{id_or_slug}',
  tags,
  summary: 'Delete a community',
  description: 'Owner only. Removes its memberships, its posts (with their likes and comments), its chat and its avatar.',
  ...authed,
  request: { params: CommunityRefParamSchema },
  responses: { 204: { description: 'Deleted' }, ...refused },
});

export const joinCommunity = createRoute({
  method: 'post',
  path: '/communities/{id}/join',
  tags,
  summary: 'Join, or apply to, a community',
  description: [
    '`my_role` "member" for an open community (you are also added to its chat), "pending" under `join_policy` approval until a moderator',
    'approves (POST /communities/{id}/members/{user_id} with role member) or rejects (DELETE) you. Asking again answers your current role.',
    '403 names in `detail` the unmet rule (age, gender) or the missing profile field (`birthdate`, `gender`, also in `errors`), or says you are banned',
    'from it (see DELETE /communities/{id}/members/{user_id}?ban=true).',
  ].join(' '),
  ...authed,
  request: { params: CommunityIdParamSchema },
  responses: { 200: jsonContent(JoinResultSchema, 'Your role now'), ...refused },
});

export const leaveCommunity = createRoute({
  method: 'post',
  path: '/communities/{id}/leave',
  tags,
  summary: 'Leave a community (or withdraw an application)',
  description: 'Also removes you from its chat and closes your sockets there. Withdrawing an application retracts its `community_join_request` from the moderators (applying again within 24 hours does not notify them again). The owner must hand ownership over first (409). Idempotent.',
  ...authed,
  request: { params: CommunityIdParamSchema },
  responses: { 204: { description: 'Left' }, ...refused, ...errors[409] },
});

export const listMembers = createRoute({
  method: 'get',
  path: '/communities/{id}/members',
  tags,
  summary: 'Members of a community',
  description: [
    'Longest-standing first, `{ user, role, joined_at }`. `role` filters (owner, moderator, member); `role=pending` lists applicants, for the owner',
    'and moderators only. A private community shows its members to members only (403). In a public one, members with a private account are listed to the',
    "community's members only (left out for anyone else, applicants included); `member_count` counts them for everyone.",
  ].join(' '),
  ...maybeAuthed,
  request: { params: CommunityIdParamSchema, query: PageQuerySchema.merge(MemberListQuerySchema) },
  responses: { 200: jsonContent(CommunityMemberPageSchema, 'A page of members'), ...refused },
});

export const setMemberRole = createRoute({
  method: 'post',
  path: '/communities/{id}/members/{user_id}',
  tags,
  summary: "Approve an applicant, or change a member's role",
  description: [
    'Moderators and the owner. `member` approves an applicant (who joins the chat) or demotes a moderator (owner only, or a moderator',
    'stepping down); `moderator` promotes; `owner` hands ownership over (owner only; the former owner becomes a moderator).',
    "The owner's own role changes only by handing over.",
    'A suspended member or applicant answers 404, as one whose account does not exist (and as in the member list, which leaves them out).',
  ].join(' '),
  ...authed,
  request: { params: MemberParamSchema, body: jsonBody(SetRoleSchema) },
  responses: { 200: jsonContent(CommunityMemberSchema, 'The membership now'), ...refused, ...errors[409], ...errors[503] },
});

export const removeMember = createRoute({
  method: 'delete',
  path: '/communities/{id}/members/{user_id}',
  tags,
  summary: 'Remove a member, or reject an applicant',
  description: [
    'Moderators remove members and reject applicants; only the owner removes a moderator; the owner cannot be removed. The removed member leaves the chat',
    'and is disconnected from it. Without `?ban=true` they may join (or apply) again; with it they are also banned: joining or applying answers 403 until',
    'a moderator lifts the ban (`DELETE /communities/{id}/bans/{user_id}`), and anyone can be banned, member or not (no 404 for an outsider; 400 naming',
    '`user_id` for yourself). A suspended account answers 404, as one that does not exist (site staff remove them through a report\'s `remove_member`).',
    'A new ban is recorded in the audit log (`community.member_banned`: who banned, the community, whom); banning someone already banned changes nothing.',
    '503 (`Retry-After`) when the audit log is too busy to record a ban.',
  ].join(' '),
  ...authed,
  request: { params: MemberParamSchema, query: RemoveMemberQuerySchema },
  responses: { 204: { description: 'Removed (and banned, with `ban=true`)' }, ...refused, ...errors[409], ...errors[503] },
});

export const listBans = createRoute({
  method: 'get',
  path: '/communities/{id}/bans',
  tags,
  summary: 'Who is banned from a community',
  description: 'Owner and moderators (403 for anyone else), most recently banned first. Suspended accounts are left out, as in every list.',
  ...authed,
  request: { params: CommunityIdParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(CommunityBanPageSchema, 'A page of bans'), ...refused },
});

export const liftBan = createRoute({
  method: 'delete',
  path: '/communities/{id}/bans/{user_id}',
  tags,
  summary: 'Lift a ban',
  description:
    'Owner and moderators. They may join (or apply) again; nothing else is restored. Idempotent (204 when there was no ban). A lift is recorded in the audit log (`community.member_unbanned`: who lifted it, the community, whom, and when the ban was set); 503 (`Retry-After`) when the audit log is too busy to record it.',
  ...authed,
  request: { params: MemberParamSchema },
  responses: { 204: { description: 'Lifted' }, ...refused, ...errors[503] },
});

export const listCommunityPosts = createRoute({
  method: 'get',
  path: '/communities/{id}/posts',
  tags,
  summary: "A community's posts",
  description: 'Posts created with `community_id`, newest first. For everyone in a public community, members only in a private one (403).',
  ...maybeAuthed,
  request: { params: CommunityIdParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(PostPageSchema, 'A page of posts'), ...refused },
});

export const putCommunityAvatar = createRoute({
  method: 'put',
  path: '/communities/{id}/avatar',
  tags,
  summary: "Upload or replace a community's avatar",
  description: 'Owner and moderators. JPEG, PNG, WebP or GIF by content, at most 5 MB; the previous avatar is removed. Stored like every image: EXIF orientation applied, no EXIF, XMP or IPTC metadata kept, and over 50 megapixels or 10,000 pixels a side refused with 413 naming `file` (from the header, before decoding).',
  ...authed,
  request: { params: CommunityIdParamSchema, body: uploadBody },
  responses: { 200: jsonContent(CommunitySchema, 'The community with avatar_url'), ...refused, ...errors[413], ...errors[415] },
});

export const deleteCommunityAvatar = createRoute({
  method: 'delete',
  path: '/communities/{id}/avatar',
  tags,
  summary: "Remove a community's avatar",
  description: 'Owner and moderators. Idempotent.',
  ...authed,
  request: { params: CommunityIdParamSchema },
  responses: { 204: { description: 'Removed' }, ...refused },
});
