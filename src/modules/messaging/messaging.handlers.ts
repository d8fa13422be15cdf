import { ApiError } from '../../lib/errors';
import { idempotentCreate, madeBefore } from '../../lib/idempotency';
import { decodeCursor, encodeCursor } from '../../lib/pagination';
import type { AppRouteHandler } from '../../lib/types';
import { authenticateSocket, currentUser } from '../../middleware/auth';
import * as service from './messaging.service';
import { MAX_REPLAY } from './room.types';
import type * as routes from './messaging.routes';

export const createConversation: AppRouteHandler<typeof routes.createConversation> = async (c) => {
  const { userId } = currentUser(c);
  const body = c.req.valid('json');
  const retry = await idempotentCreate(c.req.valid('header')['idempotency-key'], 'conversation', body);
  const { id, created } = await service.createConversation(c, userId, body.participant_ids, body.title, undefined, retry);
  const conversation = retry && !created ? await madeBefore(service.getConversation(c, userId, id), 'conversation') : await service.getConversation(c, userId, id);
  return created ? c.json(conversation, 201) : c.json(conversation, 200);
};

export const listConversations: AppRouteHandler<typeof routes.listConversations> = async (c) => {
  const { limit, cursor, folder } = c.req.valid('query');
  return c.json(await service.listConversations(c, currentUser(c).userId, limit, cursor, folder), 200);
};

export const getConversation: AppRouteHandler<typeof routes.getConversation> = async (c) =>
  c.json(await service.getConversation(c, currentUser(c).userId, c.req.valid('param').id), 200);

export const listMessages: AppRouteHandler<typeof routes.listMessages> = async (c) => {
  const { userId } = currentUser(c);
  const { id } = c.req.valid('param');
  const query = c.req.valid('query');
  const ascending = query.after_seq !== undefined;
  // The cursor is the last seq of the previous page, opaque like every cursor of the API.
  const fromCursor = query.cursor !== undefined ? (decodeCursor(query.cursor, ['number'])[0] as number) : undefined;
  const { messages, more } = await service.withRoom(c, userId, id, (room) =>
    room.history(userId, ascending ? { afterSeq: fromCursor ?? query.after_seq, limit: query.limit } : { beforeSeq: fromCursor ?? query.before_seq, limit: query.limit }),
  );
  const last = messages[messages.length - 1];
  return c.json({ data: messages, next_cursor: more && last ? encodeCursor([last.seq]) : null }, 200);
};

export const sendMessage: AppRouteHandler<typeof routes.sendMessage> = async (c) => {
  const { message, created } = await service.sendMessage(c, currentUser(c).userId, c.req.valid('param').id, c.req.valid('json'));
  return created ? c.json(message, 201) : c.json(message, 200);
};

export const directMessage: AppRouteHandler<typeof routes.directMessage> = async (c) => {
  const { userId } = currentUser(c);
  const { receiver_id, ...input } = c.req.valid('json');
  const { id } = await service.createConversation(c, userId, [receiver_id], undefined, 'receiver_id');
  const { message, created } = await service.sendMessage(c, userId, id, input);
  return created ? c.json(message, 201) : c.json(message, 200);
};

export const editMessage: AppRouteHandler<typeof routes.editMessage> = async (c) => {
  const { userId } = currentUser(c);
  const { id, seq } = c.req.valid('param');
  return c.json(await service.withRoom(c, userId, id, (room) => room.edit(userId, seq, c.req.valid('json').content)), 200);
};

export const deleteMessage: AppRouteHandler<typeof routes.deleteMessage> = async (c) => {
  const { userId } = currentUser(c);
  const { id, seq } = c.req.valid('param');
  await service.deleteMessage(c, userId, id, seq);
  return c.body(null, 204);
};

export const markRead: AppRouteHandler<typeof routes.markRead> = async (c) => {
  const { userId } = currentUser(c);
  const { id } = c.req.valid('param');
  return c.json(await service.withRoom(c, userId, id, (room) => room.markRead(userId, c.req.valid('json').seq)), 200);
};

export const addMembers: AppRouteHandler<typeof routes.addMembers> = async (c) => {
  const { userId } = currentUser(c);
  const { id } = c.req.valid('param');
  await service.addMembers(c, userId, id, c.req.valid('json').user_ids);
  return c.json(await service.getConversation(c, userId, id), 200);
};

export const removeMember: AppRouteHandler<typeof routes.removeMember> = async (c) => {
  const { id, user_id } = c.req.valid('param');
  await service.removeMember(c, currentUser(c).userId, id, user_id);
  return c.body(null, 204);
};

export const acceptRequest: AppRouteHandler<typeof routes.acceptRequest> = async (c) => {
  const { userId } = currentUser(c);
  const { id } = c.req.valid('param');
  await service.acceptRequest(c, userId, id);
  return c.json(await service.getConversation(c, userId, id), 200);
};

export const declineRequest: AppRouteHandler<typeof routes.declineRequest> = async (c) => {
  await service.declineRequest(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

/**
 * Authenticates (header or `?token=`) and checks membership before anything is upgraded, then hands the
 * request to the room, which accepts the socket. The token is never logged.
 */
export const stream: AppRouteHandler<typeof routes.stream> = async (c) => {
  const { id } = c.req.valid('param');
  const { userId, sessionId, url } = await authenticateSocket(c, c.req.valid('query').token);
  const { conversation } = await service.conversationFor(c, userId, id);
  const upgrade = () => service.roomFor(c, id).fetch(new Request(url.toString(), { headers: { Upgrade: 'websocket', 'X-Kith-User': userId, 'X-Kith-Session': sessionId } }));
  let response = await upgrade();
  if (response.status === 404) {
    // D1 says member, the room does not know them: re-sync it from D1 and try once more.
    await service.syncRoom(c, conversation);
    response = await upgrade();
  }
  if (response.status === 409) {
    const message = `is more than ${MAX_REPLAY.toLocaleString('en')} messages behind: page GET /conversations/{id}/messages?after_seq= first, then connect with the last seq you have`;
    throw new ApiError('conflict', `after_seq: ${message}.`, { errors: [{ field: 'after_seq', message }] });
  }
  return response as unknown as Response;
};
