import type { Context } from 'hono';
import type { AppEnv } from '../../lib/types';
import { roomFor } from '../messaging/messaging.service';
import { presentPublicUser } from '../users/users.presenter';
import { findUserById } from '../users/users.service';

/**
 * A community's chat is a `community` conversation whose membership follows the community's. D1's
 * conversation_members rows change in the same batch as the community membership; these calls then
 * bring the conversation's room up to date, one member at a time (a join never resends the whole list).
 */

/** Adds a member to the room (they can open its socket and send at once). */
export async function joinChat(c: Context<AppEnv>, conversationId: string, userId: string): Promise<void> {
  const user = await findUserById(c.get('db'), userId);
  if (!user) return;
  await roomFor(c, conversationId).addMember(conversationId, 'community', { userId, user: presentPublicUser(user, c.get('baseUrl')) });
}

/** Removes a member from the room and disconnects their sockets (close code 4003). */
export async function leaveChat(c: Context<AppEnv>, conversationId: string, userId: string): Promise<void> {
  await roomFor(c, conversationId).removeMember(userId);
}

/** The community is gone: every socket is closed (4004) and the messages are erased. */
export async function dissolveChat(c: Context<AppEnv>, conversationId: string): Promise<void> {
  await roomFor(c, conversationId).dissolve();
}
