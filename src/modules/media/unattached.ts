import type { Bindings } from '../../lib/types';
import { releaseUnusedObjects } from './media.service';

/** How long an attachment upload may wait for a post or message to use it. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000;
const BATCH = 100;
const MAX_BATCHES = 10;

/**
 * Deletes attachment uploads that no post or message has used a day after their upload (the cron's,
 * every 10 minutes; at most 1,000 a run, oldest first): their rows, then their objects and variants when
 * no other row (an avatar of the same bytes) keeps them. Each candidate is checked again in the DELETE
 * itself, so an upload attached meanwhile (or listed by a race) is kept, and only leaves the list.
 * Answers how many uploads it deleted.
 */
export async function deleteUnattachedUploads(env: Pick<Bindings, 'DB' | 'MEDIA'>, now: number): Promise<number> {
  let deleted = 0;
  for (let round = 0; round < MAX_BATCHES; round++) {
    const { results: due } = await env.DB.prepare('SELECT media_id FROM unattached_media WHERE created_at <= ?1 ORDER BY created_at LIMIT ?2')
      .bind(now - UNATTACHED_TTL_MS, BATCH)
      .all<{ media_id: string }>();
    if (due.length === 0) break;
    const ids = JSON.stringify(due.map((r) => r.media_id));
    const [gone] = await env.DB.batch<{ key: string }>([
      env.DB.prepare(
        `DELETE FROM media WHERE id IN (SELECT value FROM json_each(?1))
           AND kind = 'attachment' AND detached_at IS NULL AND sent_in_message = 0
           AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = media.id)
           AND NOT EXISTS (SELECT 1 FROM message_media mm WHERE mm.media_id = media.id)
         RETURNING key`,
      ).bind(ids),
      env.DB.prepare('DELETE FROM unattached_media WHERE media_id IN (SELECT value FROM json_each(?1))').bind(ids),
    ]);
    const keys = (gone?.results ?? []).map((r) => r.key);
    deleted += keys.length;
    await releaseUnusedObjects(env, keys);
    if (due.length < BATCH) break;
  }
  return deleted;
}
