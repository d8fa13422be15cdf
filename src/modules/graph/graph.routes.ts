import { createRoute } from '@hono/zod-openapi';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { PublicUserPageSchema as UserPage, UserRefParamSchema } from '../users/users.schemas';
import {
  BlockStateSchema,
  FollowerSideSchema,
  FollowStateSchema,
  FriendRequestQuerySchema,
  FriendRequestPageSchema as FriendRequestPage,
  FriendRequestSchema,
  MuteStateSchema,
  OtherUserParamSchema,
  RequestIdParamSchema,
  SendFriendRequestSchema,
  UserEdgePageSchema as EdgePage,
  UserIdParamSchema,
} from './graph.schemas';

const authed = { security: bearerSecurity, middleware: [requireAuth] };
const ownErrors = { ...commonErrors, ...errors[401] };
const withTarget = { ...ownErrors, ...errors[404] };
/** Said by every route naming another user: a suspended account is indistinguishable from a deleted one. */
const SUSPENDED_IS_MISSING = 'A suspended account answers 404 exactly as one that does not exist (your relation with it is kept, and shows again once the suspension is lifted).';

export const follow = createRoute({
  method: 'post', path: '/users/{id}/follow', tags: ['Follows'], summary: 'Follow a user',
  description: `Idempotent. Following a private account files a request (\`requested: true\`) that its owner accepts or rejects. 404 for unknown or blocked users. ${SUSPENDED_IS_MISSING} At most 400 follows and follow requests a day (429 with \`Retry-After\`, nothing written; repeating a follow you have is never refused). Once a private account rejects your request, asking it again within 30 days is 409 naming \`id\` (the message says from when you may), and notifies nobody; following it once it is public is not held back. A silenced account (moderation) may follow anyone, but only people who follow it or are its friends are told.`,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 200: jsonContent(FollowStateSchema, 'Follow state'), ...withTarget, ...errors[409] },
});

export const unfollow = createRoute({
  method: 'delete', path: '/users/{id}/follow', tags: ['Follows'], summary: 'Unfollow, or withdraw a follow request',
  description: `Idempotent. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 200: jsonContent(FollowStateSchema, 'Follow state'), ...withTarget },
});

export const listFollowRequests = createRoute({
  method: 'get', path: '/follow_requests', tags: ['Follows'], summary: 'Pending requests to follow you',
  description: 'Newest first.',
  ...authed, request: { query: PageQuerySchema },
  responses: { 200: jsonContent(EdgePage, 'A page of { user, created_at }'), ...ownErrors },
});

export const acceptFollowRequest = createRoute({
  method: 'post', path: '/follow_requests/{user_id}/accept', tags: ['Follows'], summary: 'Accept a follow request',
  description: `404 when that user asked nothing. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: OtherUserParamSchema },
  responses: { 200: jsonContent(FollowerSideSchema, "Whether that user now follows you"), ...withTarget },
});

export const rejectFollowRequest = createRoute({
  method: 'post', path: '/follow_requests/{user_id}/reject', tags: ['Follows'], summary: 'Reject a follow request',
  description: `404 when that user asked nothing. They cannot ask again for 30 days (POST /users/{id}/follow answers them 409). ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: OtherUserParamSchema },
  responses: { 200: jsonContent(FollowerSideSchema, 'Whether that user now follows you'), ...withTarget },
});

const listRoute = (kind: 'followers' | 'following' | 'friends', summary: string) =>
  createRoute({
    method: 'get', path: `/users/{id_or_username}/${kind}`, tags: ['Follows'], summary,
    description: "Newest first. A private account's lists are visible to itself, its approved followers and friends (403 otherwise).",
    security: [{}, ...bearerSecurity], middleware: [optionalAuth],
    request: { params: UserRefParamSchema, query: PageQuerySchema },
    responses: { 200: jsonContent(UserPage, 'A page of public users'), ...withTarget, ...errors[403] },
  });

export const listFollowers = listRoute('followers', "A user's followers");
export const listFollowing = listRoute('following', 'Who a user follows');
export const listFriends = listRoute('friends', "A user's friends");

export const sendFriendRequest = createRoute({
  method: 'post', path: '/friends/requests', tags: ['Friends'], summary: 'Send a friend request',
  description: `If that user already sent you a pending request, it is accepted instead (200, status "accepted"). A duplicate pending request, or asking an existing friend, is 409; so is asking again within 30 days someone who declined your last request (409 naming \`user_id\`, the message says from when you may; nobody is notified). ${SUSPENDED_IS_MISSING} At most 100 friend requests a day (429 with \`Retry-After\`, nothing written; accepting a crossing request does not count). A silenced account (moderation) may ask only people who follow it: 403 otherwise, nothing written.`,
  ...authed, request: { body: jsonBody(SendFriendRequestSchema) },
  responses: {
    201: jsonContent(FriendRequestSchema, 'The new pending request'),
    200: jsonContent(FriendRequestSchema, 'Their crossing request, now accepted'),
    ...withTarget, ...errors[403], ...errors[409],
  },
});

export const listFriendRequests = createRoute({
  method: 'get', path: '/friends/requests', tags: ['Friends'], summary: 'Your pending friend requests',
  description: '`direction=incoming` (default) or `outgoing`; newest first.',
  ...authed, request: { query: PageQuerySchema.merge(FriendRequestQuerySchema) },
  responses: { 200: jsonContent(FriendRequestPage, 'A page of requests'), ...ownErrors },
});

export const acceptFriendRequest = createRoute({
  method: 'post', path: '/friends/requests/{id}/accept', tags: ['Friends'], summary: 'Accept a friend request sent to you',
  description: '404 for an unknown id, a request that is no longer pending, or one from an account suspended since (as if it had been deleted with it).',
  ...authed, request: { params: RequestIdParamSchema },
  responses: { 200: jsonContent(FriendRequestSchema, 'The request, accepted'), ...withTarget },
});

export const declineFriendRequest = createRoute({
  method: 'post', path: '/friends/requests/{id}/decline', tags: ['Friends'], summary: 'Decline a friend request sent to you',
  description: '404 for an unknown id, a request that is no longer pending, or one from an account suspended since (as if it had been deleted with it). The sender cannot ask you again for 30 days (POST /friends/requests answers them 409); you may still ask them.',
  ...authed, request: { params: RequestIdParamSchema },
  responses: { 200: jsonContent(FriendRequestSchema, 'The request, declined'), ...withTarget },
});

export const cancelFriendRequest = createRoute({
  method: 'delete', path: '/friends/requests/{id}', tags: ['Friends'], summary: 'Cancel a friend request you sent',
  description: '404 for an unknown id, a request that is no longer pending, or one to an account suspended since (as if it had been deleted with it).',
  ...authed, request: { params: RequestIdParamSchema },
  responses: { 204: { description: 'Cancelled' }, ...withTarget },
});

export const unfriend = createRoute({
  method: 'delete', path: '/friends/{user_id}', tags: ['Friends'], summary: 'End a friendship',
  description: `Idempotent. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: OtherUserParamSchema },
  responses: { 204: { description: 'No longer friends' }, ...withTarget },
});

export const block = createRoute({
  method: 'post', path: '/users/{id}/block', tags: ['Blocks'], summary: 'Block a user',
  description: 'Removes follows, follow requests, friendship and pending friend requests in both directions. Afterwards neither side sees the other (profiles 404), nor can follow, befriend, comment on or like the other\'s posts; the notifications of each that name the other (their profile, their words) are removed (`notification.removed` on open sockets), and the other leaves grouped ones. In the conversations you share, each shows as a hidden user to the other (see Conversation.participants) and no typing or read passes between you; a direct one takes no more messages. Blocking back someone who blocked you first answers with them as a hidden user. Idempotent. ' + SUSPENDED_IS_MISSING,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 200: jsonContent(BlockStateSchema, 'Blocked'), ...withTarget },
});

export const unblock = createRoute({
  method: 'delete', path: '/users/{id}/block', tags: ['Blocks'], summary: 'Unblock a user',
  description: `Idempotent. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 204: { description: 'Unblocked' }, ...withTarget },
});

export const listBlocks = createRoute({
  method: 'get', path: '/me/blocks', tags: ['Blocks'], summary: 'Users you block',
  description: 'Newest first. Suspended accounts are left out (as deleted ones are) until their suspension is lifted. Someone who blocks you is listed as a hidden user (empty username and display name, no avatar): the entry is yours to undo, their profile is not yours to see.',
  ...authed, request: { query: PageQuerySchema },
  responses: { 200: jsonContent(EdgePage, 'A page of { user, created_at }'), ...ownErrors },
});

export const mute = createRoute({
  method: 'post', path: '/users/{id}/mute', tags: ['Blocks'], summary: 'Mute a user',
  description: `Their posts leave your feeds, and nothing they do notifies you any more (no new notifications, no pushes; those already in your list stay); they are not told, and everything else (following, messages, their profile) is unchanged. Idempotent. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 200: jsonContent(MuteStateSchema, 'Muted'), ...withTarget },
});

export const unmute = createRoute({
  method: 'delete', path: '/users/{id}/mute', tags: ['Blocks'], summary: 'Unmute a user',
  description: `Idempotent. ${SUSPENDED_IS_MISSING}`,
  ...authed, request: { params: UserIdParamSchema },
  responses: { 204: { description: 'Unmuted' }, ...withTarget },
});

export const listMutes = createRoute({
  method: 'get', path: '/me/mutes', tags: ['Blocks'], summary: 'Users you mute',
  description: 'Newest first. Suspended accounts are left out (as deleted ones are) until their suspension is lifted. Someone who blocks you is listed as a hidden user (empty username and display name, no avatar): the entry is yours to undo, their profile is not yours to see.',
  ...authed, request: { query: PageQuerySchema },
  responses: { 200: jsonContent(EdgePage, 'A page of { user, created_at }'), ...ownErrors },
});
