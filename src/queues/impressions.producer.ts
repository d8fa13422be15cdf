import { toHex } from '../lib/encoding';
import type { Bindings } from '../lib/types';

/** Who (a salted hash of the viewer) was served which posts in one request. */
export interface ImpressionsView {
  viewer: string;
  post_ids: string[];
}

/**
 * The impressions queue's messages (consumer: ./impressions.ts): the views an isolate served over about
 * a second, never a D1 write per view. The consumer adds a batch of them to each author's counters in
 * one Durable Object call.
 */
export interface ImpressionsMessage {
  type: 'post.impressions';
  /** Idempotency key: an author's inbox counts a message once, however often it is delivered. */
  key: string;
  /** Each view's viewer is 16 hex digits of a keyed hash (user id, or the address of an anonymous reader): never the id or address itself. */
  views: ImpressionsView[];
  at: number;
}

/** At most this many posts per request's view (a feed page is at most 100). */
export const IMPRESSIONS_PER_VIEW = 100;
/** A message holds at most this many post ids in all. */
export const IMPRESSIONS_PER_MESSAGE = 4000;
/** And at most about this many bytes of JSON (Queues takes messages up to 128 KB). */
export const IMPRESSIONS_MESSAGE_BYTES = 96 * 1024;
/** A view's share of a message's JSON: its ids quoted with commas, the viewer and the punctuation. */
const viewBytes = (view: ImpressionsView) => 40 + view.viewer.length + view.post_ids.reduce((n, id) => n + id.length + 3, 0);
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

async function send(env: Bindings, views: ImpressionsView[]): Promise<void> {
  const message: ImpressionsMessage = { type: 'post.impressions', key: crypto.randomUUID(), views, at: Date.now() };
  await env.IMPRESSIONS_QUEUE.send(message, { contentType: 'json' });
}

/**
 * Views gathered in an isolate, not yet sent: `add` answers the views that must go now (a full message,
 * when this view would take it past {@link IMPRESSIONS_PER_MESSAGE} ids or
 * {@link IMPRESSIONS_MESSAGE_BYTES}), `take` empties the buffer.
 */
export class ImpressionsBuffer {
  private views: ImpressionsView[] = [];
  private ids = 0;
  private bytes = 0;

  add(view: ImpressionsView): ImpressionsView[] | null {
    const size = viewBytes(view);
    const full = this.ids + view.post_ids.length > IMPRESSIONS_PER_MESSAGE || this.bytes + size > IMPRESSIONS_MESSAGE_BYTES ? this.take() : null;
    this.views.push(view);
    this.ids += view.post_ids.length;
    this.bytes += size;
    return full && full.length > 0 ? full : null;
  }

  take(): ImpressionsView[] {
    const views = this.views;
    this.views = [];
    this.ids = 0;
    this.bytes = 0;
    return views;
  }
}

const pending = new ImpressionsBuffer();
let flushScheduled = false;

/**
 * Notes that `viewer` was served `postIds`. With `waitUntil` (a request's execution context) the view
 * joins this isolate's pending ones, and they go to the queue as one message after
 * {@link IMPRESSIONS_FLUSH_MS} (sooner when a message is full), the send kept alive by the request that
 * scheduled it: one queue message per isolate and second instead of one per request, and far fewer,
 * larger author-inbox calls downstream. Without it the view is sent alone, now. A failed send loses
 * those impressions and is logged; it never fails a read.
 */
export async function queueImpressions(env: Bindings, viewer: string, postIds: string[], waitUntil?: (promise: Promise<unknown>) => void): Promise<void> {
  const ids = postIds.slice(0, IMPRESSIONS_PER_VIEW);
  if (ids.length === 0) return;
  const view: ImpressionsView = { viewer: await cachedViewerHash(env.JWT_SECRET ?? '', viewer), post_ids: ids };
  if (!waitUntil) return send(env, [view]);
  const logged = (views: ImpressionsView[]) =>
    send(env, views).catch((err) => {
      console.error(JSON.stringify({ level: 'warn', message: 'impressions not queued', count: views.reduce((n, v) => n + v.post_ids.length, 0), error: String(err) }));
    });
  const full = pending.add(view);
  if (full) waitUntil(logged(full));
  if (flushScheduled) return;
  flushScheduled = true;
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, IMPRESSIONS_FLUSH_MS)).then(() => {
      flushScheduled = false;
      const views = pending.take();
      return views.length > 0 ? logged(views) : undefined;
    }),
  );
}
