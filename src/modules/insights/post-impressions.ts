import { addToSketch, emptySketch, estimateSketch, mergeSketch } from './hyperloglog';

/** How long a batch key is remembered: longer than a queue message can live (retention is at most 14 days). */
export const IMPRESSION_KEY_TTL_MS = 15 * 24 * 60 * 60 * 1000;

/**
 * Views of the posts one counter object keeps (a shard's, or an author's inbox before the shards) from
 * one queue message, per post: `[post id, times served, distinct viewers]` (viewers as salted hashes).
 * The version before took `views` (one entry per view: who saw which posts); a call in that shape from a
 * consumer still running it is counted the same.
 */
export type ImpressionBatch = PerPostBatch | { key: string; views: { viewer: string; post_ids: string[] }[] };
/** `[post id, times served, viewers]`. */
export type PostViews = [string, number, string[]];
/** `key`: the queue message's idempotency key (a batch already counted is skipped). */
export type PerPostBatch = { key: string; posts: PostViews[] };

/** Views being summed per post: times served and the distinct viewers, by post id. */
export type ViewsByPost = Map<string, { served: number; viewers: Set<string> }>;

/** Summed views as the `[post id, times served, viewers]` entries messages and counters take. */
export const postViewsOf = (posts: ViewsByPost): PostViews[] => [...posts].map(([id, { served, viewers }]) => [id, served, [...viewers]]);

/** Views per post with each post once: its times served summed, its viewers each once. */
export function mergePostViews(posts: Iterable<PostViews>): PostViews[] {
  const merged: ViewsByPost = new Map();
  for (const [id, served, viewers] of posts) {
    const post = merged.get(id);
    if (!post) merged.set(id, { served, viewers: new Set(viewers) });
    else {
      post.served += served;
      for (const viewer of viewers) post.viewers.add(viewer);
    }
  }
  return postViewsOf(merged);
}

/** Views one entry per view (who saw which posts; a post twice in one view was served once) as views per post. */
export function viewsPerPost(views: { viewer: string; post_ids: string[] }[]): PostViews[] {
  return mergePostViews(views.flatMap((view) => [...new Set(view.post_ids)].map((id): PostViews => [id, 1, [view.viewer]])));
}

/** One post's stored counters: times served and its HyperLogLog of viewers. */
export type StoredImpressions = { impressions: number; viewers: ArrayBuffer };

/**
 * Insights' numbers from a post's stored counters, wherever they were kept (its counter shard, and the
 * author's inbox for views counted before the shards): times served summed, viewers estimated from the
 * sketches merged, so a viewer counted in both is one.
 */
export function combineImpressions(stored: (StoredImpressions | null)[]): { impressions: number; unique_viewers: number } {
  const rows = stored.filter((row): row is StoredImpressions => row !== null);
  if (rows.length === 0) return { impressions: 0, unique_viewers: 0 };
  const impressions = rows.reduce((n, row) => n + row.impressions, 0);
  const sketch = rows.reduce((merged, row) => mergeSketch(merged, new Uint8Array(row.viewers)), emptySketch());
  return { impressions, unique_viewers: Math.min(impressions, estimateSketch(sketch)) };
}

/** A batch's views per post, whichever shape it came in. */
const postsOf = (batch: ImpressionBatch): PostViews[] => ('posts' in batch ? batch.posts : viewsPerPost(batch.views));

/** How often an object drops batch keys older than {@link IMPRESSION_KEY_TTL_MS}. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Impression counters in an object's SQLite storage: per post, how often it was served and a HyperLogLog
 * of who saw it. Kept by the ImpressionCounter shards (./impression-counter.ts), fed by the
 * kith-impressions queue consumer in batches, so a view is never a D1 write; read by GET
 * /posts/{id}/insights. A UserInbox keeps the counters its author's posts got before the shards (the
 * insights read adds them).
 */
export class PostImpressions {
  private prunedAt = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Its tables, created by each object that keeps counters (ImpressionCounter, UserInbox.migrate). */
  static createTables(sql: SqlStorage): void {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS post_impressions (post_id TEXT PRIMARY KEY, impressions INTEGER NOT NULL, viewers BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS impression_keys (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS impression_keys_at ON impression_keys (at);
    `);
  }

  /**
   * Counts each batch once per key, however often it is delivered (the call's keys are looked up and
   * stored in one statement each); every post's views of the call are summed first, so a post is read
   * and written once per call however many views it had (its sketch only when a register grew).
   * Synchronous: no interleaving.
   */
  record(batches: ImpressionBatch[], now = Date.now()): number {
    const seen = this.countedKeys(batches.map((b) => b.key), now);
    const fresh = batches.filter((batch) => !seen.has(batch.key) && (seen.add(batch.key), true));
    this.remember(fresh.map((b) => b.key), now);
    return this.add(mergePostViews(fresh.flatMap(postsOf)));
  }

  /**
   * The views of several messages already summed per post, under the messages' keys (the consumer's usual
   * call: one per shard and batch, however many messages it holds). Counted when none of the keys was
   * counted before, and nothing when all were; when only some were (a message retried beside new ones)
   * nothing is counted and null is returned: the caller then sends them per message ({@link record}).
   */
  recordSummed(keys: string[], posts: PostViews[], now = Date.now()): number | null {
    const unique = [...new Set(keys)];
    const seen = this.countedKeys(unique, now);
    if (seen.size === unique.length) return 0;
    if (seen.size > 0) return null;
    this.remember(unique, now);
    return this.add(posts);
  }

  /** Which of `keys` were counted before (dropping keys past their time now and then). */
  private countedKeys(keys: string[], now: number): Set<string> {
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.sql.exec('DELETE FROM impression_keys WHERE at < ?', now - IMPRESSION_KEY_TTL_MS);
      this.prunedAt = now;
    }
    return new Set(
      this.sql
        .exec<{ key: string }>('SELECT key FROM impression_keys WHERE key IN (SELECT value FROM json_each(?))', JSON.stringify(keys))
        .toArray()
        .map((r) => r.key),
    );
  }

  private remember(keys: string[], now: number): void {
    if (keys.length > 0) this.sql.exec('INSERT INTO impression_keys (key, at) SELECT value, ? FROM json_each(?)', now, JSON.stringify(keys));
  }

  /**
   * Adds views per post (`[post id, times served, viewers]`; callers merge them first, so each post's
   * row is read and written once); the views counted.
   */
  private add(posts: PostViews[]): number {
    let counted = 0;
    for (const [postId, served, viewers] of posts) {
      const row = this.sql.exec<{ viewers: ArrayBuffer }>('SELECT viewers FROM post_impressions WHERE post_id = ?', postId).toArray()[0];
      const sketch = row ? new Uint8Array(row.viewers) : emptySketch();
      let grew = false;
      for (const viewer of viewers) grew = addToSketch(sketch, viewer) || grew;
      if (!row) this.sql.exec('INSERT INTO post_impressions (post_id, impressions, viewers) VALUES (?, ?, ?)', postId, served, sketch);
      else if (grew) this.sql.exec('UPDATE post_impressions SET impressions = impressions + ?, viewers = ? WHERE post_id = ?', served, sketch, postId);
      else this.sql.exec('UPDATE post_impressions SET impressions = impressions + ? WHERE post_id = ?', served, postId);
      counted += served;
    }
    return counted;
  }

  /** A post's counters as stored (see {@link combineImpressions}), or null before its first view. */
  stored(postId: string): StoredImpressions | null {
    return this.sql.exec<StoredImpressions>('SELECT impressions, viewers FROM post_impressions WHERE post_id = ?', postId).toArray()[0] ?? null;
  }

  forget(postId: string): void {
    this.sql.exec('DELETE FROM post_impressions WHERE post_id = ?', postId);
  }
}
