import { toHex } from '../lib/encoding';
import type { Bindings } from '../lib/types';
import { type PostViews, postViewsOf, type ViewsByPost } from '../modules/insights/post-impressions';

/** Who (a salted hash of the viewer) was served which posts in one request. */
export interface ImpressionsView {
  viewer: string;
  post_ids: string[];
}

/**
 * The impressions queue's messages (consumer: ./impressions.ts): the views an isolate served over about
 * a second, summed per post, never a D1 write per view. The consumer adds a batch of them to each counter
 * shard it touches in one Durable Object call.
 */
export interface ImpressionsMessage {
  type: 'post.impressions';
  /** Idempotency key: a counter shard counts a message once, however often it is delivered. */
  key: string;
  /**
   * Per post: `[post id, times served, distinct viewers]`. A viewer is 16 hex digits of a keyed hash
   * (user id, or the address of an anonymous reader): never the id or address itself.
   */
  posts: PostViews[];
  at: number;
}

/** At most this many posts per request's view (a feed page is at most 100). */
export const IMPRESSIONS_PER_VIEW = 100;
/** A message holds at most this many entries in all: its posts and each post's viewers. */
export const IMPRESSIONS_PER_MESSAGE = 4000;
/** And at most about this many bytes of JSON (Queues takes messages up to 128 KB). */
export const IMPRESSIONS_MESSAGE_BYTES = 96 * 1024;
/** A post's share of a message's JSON besides its viewers: its quoted id, its count (up to 10 digits) and the punctuation. */
const postBytes = (id: string) => id.length + 20;
/** A viewer's share: 16 hex digits quoted, and a comma. */
const VIEWER_BYTES = 19;
/** How long an isolate gathers views before it sends them as one message. */
export const IMPRESSIONS_FLUSH_MS = 1000;

/** The viewer's hash: a SHA-256 salted with the deployment's secret, so hashes cannot be reversed by guessing ids or addresses. */
export async function viewerHash(secret: string, viewer: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${secret}\u0000impressions\u0000${viewer}`));
  return toHex(new Uint8Array(digest).slice(0, 8));
}

/** Hashes this isolate computed (a reader's feed pages come one after another): bounded, cleared when full. */
const hashes = new Map<string, string>();
const HASH_CACHE = 4096;

async function cachedViewerHash(secret: string, viewer: string): Promise<string> {
  const key = `${secret}\u0000${viewer}`;
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = await viewerHash(secret, viewer);
    if (hashes.size >= HASH_CACHE) hashes.clear();
    hashes.set(key, hash);
  }
  return hash;
}

async function send(env: Bindings, posts: PostViews[]): Promise<void> {
  const message: ImpressionsMessage = { type: 'post.impressions', key: crypto.randomUUID(), posts, at: Date.now() };
  await env.IMPRESSIONS_QUEUE.send(message, { contentType: 'json' });
}

/**
 * Views gathered in an isolate, not yet sent, summed per post (a reader who reloads a page adds to its
 * count, not to the message): `add` answers the posts that must go now (a full message, when this view
 * would take it past {@link IMPRESSIONS_PER_MESSAGE} entries or {@link IMPRESSIONS_MESSAGE_BYTES}),
 * `take` empties the buffer.
 */
export class ImpressionsBuffer {
  private posts: ViewsByPost = new Map();
  private entries = 0;
  private bytes = 0;

  add(view: ImpressionsView): PostViews[] | null {
    const ids = [...new Set(view.post_ids)];
    const growth = () => {
      let entries = 0;
      let bytes = 0;
      for (const id of ids) {
        const post = this.posts.get(id);
        if (!post) {
          entries += 2;
          bytes += postBytes(id) + VIEWER_BYTES;
        } else if (!post.viewers.has(view.viewer)) {
          entries += 1;
          bytes += VIEWER_BYTES;
        }
      }
      return { entries, bytes };
    };
    let added = growth();
    let full: PostViews[] | null = null;
    if (this.entries + added.entries > IMPRESSIONS_PER_MESSAGE || this.bytes + added.bytes > IMPRESSIONS_MESSAGE_BYTES) {
      full = this.take();
      added = growth();
    }
    for (const id of ids) {
      const post = this.posts.get(id);
      if (post) {
        post.served++;
        post.viewers.add(view.viewer);
      } else this.posts.set(id, { served: 1, viewers: new Set([view.viewer]) });
    }
    this.entries += added.entries;
    this.bytes += added.bytes;
    return full && full.length > 0 ? full : null;
  }

  take(): PostViews[] {
    const posts = postViewsOf(this.posts);
    this.posts = new Map();
    this.entries = 0;
    this.bytes = 0;
    return posts;
  }
}

const pending = new ImpressionsBuffer();
let flushScheduled = false;

/**
 * Notes that `viewer` was served `postIds`. With `waitUntil` (a request's execution context) the view
 * joins this isolate's pending ones, and they go to the queue as one message after
 * {@link IMPRESSIONS_FLUSH_MS} (sooner when a message is full), the send kept alive by the request that
 * scheduled it: one queue message per isolate and second instead of one per request, and far fewer,
 * larger counter-shard calls downstream. Without it the view is sent alone, now. A failed send loses
 * those impressions and is logged; it never fails a read.
 */
export async function queueImpressions(env: Bindings, viewer: string, postIds: string[], waitUntil?: (promise: Promise<unknown>) => void): Promise<void> {
  const ids = postIds.slice(0, IMPRESSIONS_PER_VIEW);
  if (ids.length === 0) return;
  const view: ImpressionsView = { viewer: await cachedViewerHash(env.JWT_SECRET ?? '', viewer), post_ids: ids };
  if (!waitUntil) {
    const alone = new ImpressionsBuffer();
    alone.add(view);
    return send(env, alone.take());
  }
  const logged = (posts: PostViews[]) =>
    send(env, posts).catch((err) => {
      console.error(JSON.stringify({ level: 'warn', message: 'impressions not queued', count: posts.reduce((n, p) => n + p[1], 0), error: String(err) }));
    });
  const full = pending.add(view);
  if (full) waitUntil(logged(full));
  if (flushScheduled) return;
  flushScheduled = true;
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, IMPRESSIONS_FLUSH_MS)).then(() => {
      flushScheduled = false;
      const posts = pending.take();
      return posts.length > 0 ? logged(posts) : undefined;
    }),
  );
}
