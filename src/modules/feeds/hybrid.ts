import type { D1Client } from '../../db/client';
import { NOW_MS } from './feeds.queries';

/**
 * Hybrid home timelines: push for most authors, pull for the few with huge audiences.
 *
 * A new post is pushed into the live timelines of its audience by the fan-out queue consumer
 * (src/queues/fanout.ts), never inside the post's own transaction: POST /posts writes one row into its
 * author's own timeline (read-your-own-post) and queues the rest. An author whose audience (accepted
 * followers plus friends) exceeds {@link FAN_OUT_PUSH_LIMIT}, or a community with more members than
 * that, is marked *pulled* (timeline_pulled_sources) the first time one of its posts is fanned out
 * above it: its posts are no longer pushed anywhere, and every live timeline drawing from it lists it
 * in `home_timelines.pulls`, so each home read merges its newest posts in (one index range per pulled
 * source the reader follows). The mark and the readers' lists change in one transaction, and builds
 * read the marks, so every post is either pushed or pulled for every reader; a reader may get both
 * (a post pushed just before its author crossed), and the read keeps it once.
 */

/**
 * The largest audience a post is pushed to. Pushing costs one row write per live follower timeline,
 * on the D1 primary, for every post; pulling costs each reader of a pulled author one extra index range
 * per home read. The bench's "timeline" suite measures both (npm run bench -- --suites timeline): see
 * README, Hybrid timelines, for the numbers this limit comes from.
 */
export const FAN_OUT_PUSH_LIMIT = 1000;

const LIVE = `h.expires_at > ${NOW_MS}`;

/**
 * The sources a reader's feed draws from that are pulled, as the `pulls` JSON of their timeline:
 * `{"a":[[author id, level], …],"c":[community id, …]}`. An expression over the `authors(id, level)`
 * CTE of READER_AUTHORS_CTE (muted authors already left out), with ?1 the reader.
 */
export const READER_PULLS_SQL = `json_object(
  'a', (SELECT json_group_array(json_array(a.id, a.level)) FROM authors a
        JOIN timeline_pulled_sources s ON s.source_id = a.id WHERE a.id != ?1),
  'c', (SELECT json_group_array(k.community_id) FROM community_members k
        JOIN timeline_pulled_sources s ON s.source_id = k.community_id WHERE k.user_id = ?1 AND k.role != 'pending'))`;

/**
 * The post into its author's own live timeline, for the post's own batch (the rest of its audience
 * gets it through the queue): the author reads their own post at once. ?1 author, ?2 created_at, ?3 id.
 */
export const OWN_TIMELINE_ENTRY_SQL = `INSERT OR IGNORE INTO home_timeline_entries (user_id, created_at, post_id)
  SELECT h.user_id, ?2, ?3 FROM home_timelines h
  WHERE h.user_id = ?1 AND ${LIVE} AND (?2, ?3) >= (h.floor_at, h.floor_id)`;

/**
 * Pushes a post into the live timelines of its audience, except the parts that are pulled: accepted
 * followers (public posts) and friends (public and friends posts) unless its author is pulled, and
 * approved members of its community unless the community is pulled. Idempotent (INSERT OR IGNORE on
 * the entries' primary key). Held and professional posts go nowhere. ?1 post id.
 */
export const PUSH_POST_SQL = `INSERT OR IGNORE INTO home_timeline_entries (user_id, created_at, post_id)
SELECT h.user_id, p.created_at, p.id FROM posts p
JOIN (
  SELECT f.follower_id AS id FROM posts x JOIN follows f ON f.followee_id = x.author_id AND f.status = 'accepted'
  WHERE x.id = ?1 AND x.visibility = 'public' AND NOT EXISTS (SELECT 1 FROM timeline_pulled_sources s WHERE s.source_id = x.author_id)
  UNION SELECT k.friend_id FROM posts x JOIN friendships k ON k.user_id = x.author_id
  WHERE x.id = ?1 AND x.visibility IN ('public', 'friends') AND NOT EXISTS (SELECT 1 FROM timeline_pulled_sources s WHERE s.source_id = x.author_id)
  UNION SELECT m.user_id FROM posts x JOIN community_members m ON m.community_id = x.community_id AND m.role != 'pending'
  WHERE x.id = ?1 AND NOT EXISTS (SELECT 1 FROM timeline_pulled_sources s WHERE s.source_id = x.community_id)
) a
JOIN home_timelines h ON h.user_id = a.id
WHERE p.id = ?1 AND p.space = 'personal' AND p.held = 0 AND ${LIVE} AND (p.created_at, p.id) >= (h.floor_at, h.floor_id)`;

/** What deciding a post's fan-out needs: its author's and community's audiences and whether each is pulled. ?1 post id. */
const AUDIENCE_SQL = `SELECT p.author_id, p.community_id, p.space, p.held,
  u.followers_count + u.friends_count AS author_audience,
  (SELECT member_count FROM communities WHERE id = p.community_id) AS community_audience,
  EXISTS (SELECT 1 FROM timeline_pulled_sources s WHERE s.source_id = p.author_id) AS author_pulled,
  EXISTS (SELECT 1 FROM timeline_pulled_sources s WHERE s.source_id = p.community_id) AS community_pulled
FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = ?1`;

/** Marks an author pulled and lists them in the live timelines of their followers and friends. ?1 author, ?2 now, ?3 audience. */
function markAuthorPulled(db: D1Client, authorId: string, audience: number, now: number): D1PreparedStatement[] {
  return [
    db.prepare(`INSERT OR IGNORE INTO timeline_pulled_sources (source_id, kind, since, audience) VALUES (?1, 'author', ?2, ?3)`).bind(authorId, now, audience),
    db
      .prepare(
        `UPDATE home_timelines SET pulls = json_insert(pulls, '$.a[#]',
           json_array(?1, EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = home_timelines.user_id AND f.friend_id = ?1)))
         WHERE user_id IN (SELECT follower_id FROM follows WHERE followee_id = ?1 AND status = 'accepted' UNION SELECT friend_id FROM friendships WHERE user_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM json_each(home_timelines.pulls, '$.a') j WHERE j.value ->> 0 = ?1)`,
      )
      .bind(authorId),
  ];
}

/** Marks a community pulled and lists it in the live timelines of its approved members. */
function markCommunityPulled(db: D1Client, communityId: string, audience: number, now: number): D1PreparedStatement[] {
  return [
    db.prepare(`INSERT OR IGNORE INTO timeline_pulled_sources (source_id, kind, since, audience) VALUES (?1, 'community', ?2, ?3)`).bind(communityId, now, audience),
    db
      .prepare(
        `UPDATE home_timelines SET pulls = json_insert(pulls, '$.c[#]', ?1)
         WHERE user_id IN (SELECT user_id FROM community_members WHERE community_id = ?1 AND role != 'pending')
           AND NOT EXISTS (SELECT 1 FROM json_each(home_timelines.pulls, '$.c') j WHERE j.value = ?1)`,
      )
      .bind(communityId),
  ];
}

export interface PushOutcome {
  /** Timeline rows written. */
  pushed: number;
  /** Sources this post's fan-out found above the limit and marked pulled. */
  markedPulled: string[];
}

/**
 * The timeline half of a post's fan-out (the queue consumer calls it; safe to repeat): marks the
 * author or community pulled when its audience crossed {@link FAN_OUT_PUSH_LIMIT}, then pushes the
 * post to the audience that is still pushed, in one transaction.
 */
export async function pushPostToTimelines(db: D1Client, postId: string, now = Date.now()): Promise<PushOutcome> {
  const post = await db.prepare(AUDIENCE_SQL).bind(postId).first<{
    author_id: string;
    community_id: string | null;
    space: string;
    held: number;
    author_audience: number;
    community_audience: number | null;
    author_pulled: number;
    community_pulled: number;
  }>();
  if (!post || post.space !== 'personal' || post.held) return { pushed: 0, markedPulled: [] };
  const statements: D1PreparedStatement[] = [];
  const markedPulled: string[] = [];
  if (!post.author_pulled && post.author_audience > FAN_OUT_PUSH_LIMIT) {
    statements.push(...markAuthorPulled(db, post.author_id, post.author_audience, now));
    markedPulled.push(post.author_id);
  }
  if (post.community_id && !post.community_pulled && (post.community_audience ?? 0) > FAN_OUT_PUSH_LIMIT) {
    statements.push(...markCommunityPulled(db, post.community_id, post.community_audience ?? 0, now));
    markedPulled.push(post.community_id);
  }
  statements.push(db.prepare(PUSH_POST_SQL).bind(postId));
  const results = await db.batch(statements);
  return { pushed: results.at(-1)?.meta.changes ?? 0, markedPulled };
}
