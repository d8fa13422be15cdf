import type { D1Client } from '../../db/client';
/**
 * The statements that keep a post's rows in post_tags equal to its `tags` (each tag's row in `tags`
 * follows by trigger). They join the post's own batch, so the tags change in the same transaction as
 * the content they come from.
 */
export function postTagStatements(db: D1Client, postId: string, createdAt: number, tags: string[], previous: string[] = []): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const gone = previous.filter((t) => !tags.includes(t));
  const added = tags.filter((t) => !previous.includes(t));
  if (gone.length) {
    statements.push(db.prepare('DELETE FROM post_tags WHERE post_id = ?1 AND tag IN (SELECT value FROM json_each(?2))').bind(postId, JSON.stringify(gone)));
  }
  if (added.length) {
    statements.push(
      db.prepare('INSERT OR IGNORE INTO post_tags (post_id, tag, created_at) SELECT ?1, value, ?2 FROM json_each(?3)').bind(postId, createdAt, JSON.stringify(added)),
    );
  }
  return statements;
}
