import { z } from '@hono/zod-openapi';
import { idParam } from '../../lib/openapi';
import { ID_PATTERN } from '../../lib/ids';
import { pageSchema } from '../../lib/pagination';
import { publicUserExample as exampleUser, PublicUserSchema } from '../users/users.schemas';

const otherUser = { ...exampleUser, id: '01JC6Z2X4S3K5E6F7G8H9J0K1M', username: 'charles', display_name: 'Charles Babbage', bio: '' };

export const UserIdParamSchema = idParam('id', 'user', exampleUser.id);
export const OtherUserParamSchema = idParam('user_id', 'user', exampleUser.id);
export const RequestIdParamSchema = idParam('id', 'request', '01JC6Z9P8Q7H6V5Y4T3R2E1W0Q');

export const FollowStateSchema = z
  .object({ following: z.boolean(), requested: z.boolean() })
  .openapi('FollowState', { example: { following: false, requested: true } });

export const FollowerSideSchema = z.object({ following: z.boolean() }).openapi('FollowDecision', { example: { following: true } });

const edgeExample = { user: exampleUser, created_at: '2026-11-21T10:00:00.000Z' };
export const UserEdgeSchema = z.object({ user: PublicUserSchema, created_at: z.string() }).openapi('UserEdge', { example: edgeExample });
export const UserEdgePageSchema = pageSchema('UserEdgePage', UserEdgeSchema, edgeExample);

const friendRequestExample = {
  id: '01JC6Z9P8Q7H6V5Y4T3R2E1W0Q',
  from_user: exampleUser,
  to_user: otherUser,
  status: 'pending' as const,
  created_at: '2026-11-21T10:00:00.000Z',
  responded_at: null,
};

export const FriendRequestSchema = z
  .object({
    id: z.string(),
    from_user: PublicUserSchema,
    to_user: PublicUserSchema,
    status: z.enum(['pending', 'accepted', 'declined', 'cancelled']),
    created_at: z.string(),
    responded_at: z.string().nullable(),
  })
  .openapi('FriendRequest', { example: friendRequestExample });

export const FriendRequestPageSchema = pageSchema('FriendRequestPage', FriendRequestSchema, friendRequestExample);

export const SendFriendRequestSchema = z
  .object({ user_id: z.string().regex(ID_PATTERN, 'is not a valid user id') })
  .openapi('SendFriendRequest', { example: { user_id: otherUser.id } });

export const FriendRequestQuerySchema = z.object({
  direction: z
    .enum(['incoming', 'outgoing'])
    .default('incoming')
    .openapi({ param: { name: 'direction', in: 'query' }, example: 'incoming' }),
});

export const BlockStateSchema = z
  .object({ blocking: z.boolean(), user: PublicUserSchema })
  .openapi('BlockState', { example: { blocking: true, user: otherUser } });

export const MuteStateSchema = z
  .object({ muting: z.boolean(), user: PublicUserSchema })
  .openapi('MuteState', { example: { muting: true, user: otherUser } });
