import { decodeCursor, encodeCursor } from '../../lib/pagination';
import type { Bindings } from '../../lib/types';
import { filterNotifications } from '../filters/filter-rules';
import { inboxOf } from './user-inbox';

/** A page of the user's notifications, their personal filters applied; the cursor follows the inbox, so filtered-out ones never shift later pages. */
export async function listNotifications(env: Bindings, userId: string, query: { unread?: boolean; limit: number; cursor?: string }) {
  const before = query.cursor ? (decodeCursor(query.cursor, ['number'])[0] as number) : undefined;
  const page = await inboxOf(env, userId).list({ unread: query.unread ?? false, limit: query.limit, before });
  const data = await filterNotifications(env.DB, userId, page.data);
  return { data, next_cursor: page.next === null ? null : encodeCursor([page.next]) };
}

export async function unreadCount(env: Bindings, userId: string): Promise<number> {
  return inboxOf(env, userId).unreadCount();
}

/** Marks the given notifications read (all without ids); returns the unread count after. */
export async function markRead(env: Bindings, userId: string, ids?: string[]): Promise<number> {
  return inboxOf(env, userId).markRead(ids);
}

/** Hands an authenticated upgrade to the user's inbox (the URL no longer carries the token). */
export function openStream(env: Bindings, userId: string, sessionId: string, url: URL): Promise<Response> {
  // The session travels with the socket, so signing that device out closes it.
  return inboxOf(env, userId).fetch(new Request(url.toString(), { headers: { Upgrade: 'websocket', 'X-Kith-Session': sessionId } }));
}
