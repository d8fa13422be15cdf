import { toHex } from '../lib/encoding';
import type { Bindings } from '../lib/types';

/**
 * The impressions queue's messages (consumer: ./impressions.ts). One message per request that served
 * posts, never a D1 write per view: the consumer adds a batch of them to each author's counters in one
 * Durable Object call.
 */
export interface ImpressionsMessage {
  type: 'post.impressions';
  /** Idempotency key: an author's inbox counts a message once, however often it is delivered. */
  key: string;
  /** The viewer as 16 hex digits of a keyed hash (user id, or the address of an anonymous reader): never the id or address itself. */
  viewer: string;
  post_ids: string[];
  at: number;
}

/** At most this many posts per message (a feed page is at most 100). */
export const IMPRESSIONS_PER_MESSAGE = 100;

/** The viewer's hash: a SHA-256 salted with the deployment's secret, so hashes cannot be reversed by guessing ids or addresses. */
export async function viewerHash(secret: string, viewer: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${secret}\u0000impressions\u0000${viewer}`));
  return toHex(new Uint8Array(digest).slice(0, 8));
}

export async function queueImpressions(env: Bindings, viewer: string, postIds: string[]): Promise<void> {
  const ids = postIds.slice(0, IMPRESSIONS_PER_MESSAGE);
  if (ids.length === 0) return;
  const message: ImpressionsMessage = { type: 'post.impressions', key: crypto.randomUUID(), viewer: await viewerHash(env.JWT_SECRET ?? '', viewer), post_ids: ids, at: Date.now() };
  await env.IMPRESSIONS_QUEUE.send(message, { contentType: 'json' });
}
