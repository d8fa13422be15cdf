import { addToSketch, emptySketch, estimateSketch } from './hyperloglog';

/** How long a batch key is remembered: longer than a queue message can live (retention is at most 14 days). */
export const IMPRESSION_KEY_TTL_MS = 15 * 24 * 60 * 60 * 1000;

/** Views of one author's posts from one queue message: who (a salted hash) saw which posts. */
export interface ImpressionBatch {
  /** The queue message's idempotency key: a batch already counted is skipped. */
  key: string;
  views: { viewer: string; post_ids: string[] }[];
}

/** How often an inbox drops batch keys older than {@link IMPRESSION_KEY_TTL_MS}. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Impression counters beside a UserInbox (the inbox of each post's author): per post, how often it was
 * served and a HyperLogLog of who saw it. Fed by the kith-impressions queue consumer in batches, so a
 * view is never a D1 write; read by GET /posts/{id}/insights.
 */
export class PostImpressions {
  private prunedAt = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Its tables, created by the inbox's migration (UserInbox.migrate). */
  static createTables(sql: SqlStorage): void {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS post_impressions (post_id TEXT PRIMARY KEY, impressions INTEGER NOT NULL, viewers BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS impression_keys (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS impression_keys_at ON impression_keys (at);
    `);
  }

  /**
   * Counts each batch once per key, however often it is delivered; every post's views of the call are
   * summed first, so a post is read and written once per call however many views it had (its sketch
   * only when a register grew). Synchronous: no interleaving.
   */
  record(batches: ImpressionBatch[], now = Date.now()): number {
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.sql.exec('DELETE FROM impression_keys WHERE at < ?', now - IMPRESSION_KEY_TTL_MS);
      this.prunedAt = now;
    }
    const perPost = new Map<string, string[]>();
    for (const batch of batches) {
      if (this.sql.exec('SELECT 1 FROM impression_keys WHERE key = ?', batch.key).toArray().length > 0) continue;
      this.sql.exec('INSERT INTO impression_keys (key, at) VALUES (?, ?)', batch.key, now);
      for (const view of batch.views) {
        for (const postId of new Set(view.post_ids)) {
          const viewers = perPost.get(postId);
          if (viewers) viewers.push(view.viewer);
          else perPost.set(postId, [view.viewer]);
        }
      }
    }
    let counted = 0;
    for (const [postId, viewers] of perPost) {
      const row = this.sql.exec<{ viewers: ArrayBuffer }>('SELECT viewers FROM post_impressions WHERE post_id = ?', postId).toArray()[0];
      const sketch = row ? new Uint8Array(row.viewers) : emptySketch();
      let grew = false;
      for (const viewer of viewers) grew = addToSketch(sketch, viewer) || grew;
      if (!row) this.sql.exec('INSERT INTO post_impressions (post_id, impressions, viewers) VALUES (?, ?, ?)', postId, viewers.length, sketch);
      else if (grew) this.sql.exec('UPDATE post_impressions SET impressions = impressions + ?, viewers = ? WHERE post_id = ?', viewers.length, sketch, postId);
      else this.sql.exec('UPDATE post_impressions SET impressions = impressions + ? WHERE post_id = ?', viewers.length, postId);
      counted += viewers.length;
    }
    return counted;
  }

  read(postId: string): { impressions: number; unique_viewers: number } {
    const row = this.sql.exec<{ impressions: number; viewers: ArrayBuffer }>('SELECT impressions, viewers FROM post_impressions WHERE post_id = ?', postId).toArray()[0];
    if (!row) return { impressions: 0, unique_viewers: 0 };
    return { impressions: row.impressions, unique_viewers: Math.min(row.impressions, estimateSketch(new Uint8Array(row.viewers))) };
  }

  forget(postId: string): void {
    this.sql.exec('DELETE FROM post_impressions WHERE post_id = ?', postId);
  }
}
