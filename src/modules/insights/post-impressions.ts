import { addToSketch, emptySketch, estimateSketch } from './hyperloglog';

/** How long a batch key is remembered: longer than a queue message can live (retention is at most 14 days). */
export const IMPRESSION_KEY_TTL_MS = 15 * 24 * 60 * 60 * 1000;

/** Views of one author's posts from one queued request: who (a salted hash) saw which posts. */
export interface ImpressionView {
  /** The queue message's idempotency key: a view already counted is skipped. */
  key: string;
  viewer: string;
  post_ids: string[];
}

/**
 * Impression counters beside a UserInbox (the inbox of each post's author): per post, how often it was
 * served and a HyperLogLog of who saw it. Fed by the kith-impressions queue consumer in batches, so a
 * view is never a D1 write; read by GET /posts/{id}/insights.
 */
export class PostImpressions {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS post_impressions (post_id TEXT PRIMARY KEY, impressions INTEGER NOT NULL, viewers BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS impression_keys (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS impression_keys_at ON impression_keys (at);
    `);
  }

  /** Counts each view once per key, however often its batch is delivered. Synchronous: no interleaving. */
  record(views: ImpressionView[], now = Date.now()): number {
    this.sql.exec('DELETE FROM impression_keys WHERE at < ?', now - IMPRESSION_KEY_TTL_MS);
    let counted = 0;
    for (const view of views) {
      if (this.sql.exec('SELECT 1 FROM impression_keys WHERE key = ?', view.key).toArray().length > 0) continue;
      this.sql.exec('INSERT INTO impression_keys (key, at) VALUES (?, ?)', view.key, now);
      for (const postId of new Set(view.post_ids)) {
        const row = this.sql.exec<{ impressions: number; viewers: ArrayBuffer }>('SELECT impressions, viewers FROM post_impressions WHERE post_id = ?', postId).toArray()[0];
        const sketch = row ? new Uint8Array(row.viewers) : emptySketch();
        addToSketch(sketch, view.viewer);
        this.sql.exec(
          'INSERT INTO post_impressions (post_id, impressions, viewers) VALUES (?, 1, ?) ON CONFLICT(post_id) DO UPDATE SET impressions = impressions + 1, viewers = excluded.viewers',
          postId,
          sketch,
        );
        counted++;
      }
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
