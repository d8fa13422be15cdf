import { DurableObject } from 'cloudflare:workers';
import { type ImpressionBatch, PostImpressions, type PostViews, type StoredImpressions } from './post-impressions';

/**
 * How many ImpressionCounter objects share the posts' impression counters (by post id). A queue batch
 * calls each shard it touches once, so at most this many objects a batch whatever the number of authors
 * (each author's inbox, where the counters were kept before, meant one object a batch per author seen:
 * about 640 idle inboxes woken a minute under the bench's home-feed load). Storage: 1 KB per post ever
 * seen, so a shard's 10 GB hold about 10 million posts and 64 shards 640 million; the shards' request
 * rate is the consumer's batches, not the views (README "Insights", docs/CAPACITY.md).
 */
export const IMPRESSION_SHARDS = 64;

/** The shard of a post: FNV-1a of its id, modulo {@link IMPRESSION_SHARDS}. */
export function impressionShardOf(postId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < postId.length; i++) hash = Math.imul(hash ^ postId.charCodeAt(i), 0x01000193) >>> 0;
  return hash % IMPRESSION_SHARDS;
}

/** One shard of the impression counters: the posts whose id hashes to it (see {@link impressionShardOf}). */
export class ImpressionCounter extends DurableObject<Env> {
  private readonly impressions: PostImpressions;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    PostImpressions.createTables(ctx.storage.sql);
    this.impressions = new PostImpressions(ctx.storage.sql);
  }

  /** Counts the views of several messages, one batch per message key (a key counted before is skipped). */
  async record(batches: ImpressionBatch[]): Promise<number> {
    return this.impressions.record(batches);
  }

  /** Counts views already summed per post under their messages' keys (null: send them per message; see PostImpressions.recordSummed). */
  async recordSummed(keys: string[], posts: PostViews[]): Promise<number | null> {
    return this.impressions.recordSummed(keys, posts);
  }

  async stored(postId: string): Promise<StoredImpressions | null> {
    return this.impressions.stored(postId);
  }

  async forget(postId: string): Promise<void> {
    this.impressions.forget(postId);
  }
}

/** The shard's RPC surface as callers use it. */
export interface ImpressionCounterApi {
  record(batches: ImpressionBatch[]): Promise<number>;
  recordSummed(keys: string[], posts: PostViews[]): Promise<number | null>;
  stored(postId: string): Promise<StoredImpressions | null>;
  forget(postId: string): Promise<void>;
}

/** Shard `shard` (0 to IMPRESSION_SHARDS - 1) of the impression counters. */
export function impressionShard(env: Env, shard: number): ImpressionCounterApi {
  return env.IMPRESSIONS.get(env.IMPRESSIONS.idFromName(`shard:${shard}`)) as unknown as ImpressionCounterApi;
}

/** The shard that keeps a post's impression counters. */
export function impressionCounterOf(env: Env, postId: string): ImpressionCounterApi {
  return impressionShard(env, impressionShardOf(postId));
}
