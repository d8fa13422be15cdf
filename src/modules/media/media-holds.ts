import type { Bindings } from '../../lib/types';
import { releaseUnusedObjects } from './media.service';
import { ownerOfKey } from './media.keys';

const BATCH = 100;
const MAX_BATCHES = 10;

/**
 * Holds the objects under `keys` until `until`: a ConversationRoom calls it before it keeps a copy that
 * points at them (an unsent message, an earlier version of an edited one), so that their owner deleting
 * the uploads leaves them to staff for as long as the copy may be reported (`media_holds` in
 * src/db/schema/media.ts). A hold is only ever lengthened. Keys whose owner is no account (a community,
 * an account already deleted, whose objects are gone) are skipped.
 */
export async function holdMedia(db: D1Database, keys: string[], until: number): Promise<void> {
  if (keys.length === 0) return;
  await db
    .prepare(
      `INSERT INTO media_holds (key, owner_id, until)
       SELECT json_extract(h.value, '$.key'), u.id, ?2 FROM json_each(?1) h JOIN users u ON u.id = json_extract(h.value, '$.owner') WHERE 1
       ON CONFLICT (key) DO UPDATE SET until = MAX(until, excluded.until)`,
    )
    .bind(JSON.stringify([...new Set(keys)].map((key) => ({ key, owner: ownerOfKey(key) }))), until)
    .run();
}

/**
 * The ten-minute cron's: ends the holds whose time is over (at most 1,000 a run, oldest first) and deletes
 * the objects, variants included, that no upload row names any more. Answers how many holds ended.
 */
export async function releaseExpiredHolds(env: Pick<Bindings, 'DB' | 'MEDIA'>, now: number): Promise<number> {
  let ended = 0;
  for (let round = 0; round < MAX_BATCHES; round++) {
    const { results } = await env.DB.prepare('DELETE FROM media_holds WHERE key IN (SELECT key FROM media_holds WHERE until <= ?1 ORDER BY until LIMIT ?2) RETURNING key')
      .bind(now, BATCH)
      .all<{ key: string }>();
    ended += results.length;
    await releaseUnusedObjects(env, results.map((r) => r.key));
    if (results.length < BATCH) break;
  }
  return ended;
}
