import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { media as mediaTable, posts as postsTable, users as usersTable, type MediaRow, type PostRow, type UserRow } from '../../db/schema';
import type { AppEnv } from '../../lib/types';
import { relationsFromRows, relationsSql, type ViewerRelations } from '../graph/relations';
import { mediaUrl } from '../media/media.keys';
import { presentPublicUser } from '../users/users.presenter';
import type { Post } from './posts.schemas';

/**
 * Every read path for posts (single post, user lists, wall, feeds, and the checks behind comments
 * and likes) goes through this pipeline: skeleton rows in → hydration (batch loads) → rules
 * (blocks, mutes, visibility) → presentation. Visibility is decided here and nowhere else.
 */

export interface Hydrated {
  users: Map<string, UserRow>;
  media: Map<string, MediaRow[]>;
  likedByMe: Set<string>;
  relations: ViewerRelations;
}

/**
 * Where hydration finds its posts: a `skel` CTE with (id, author_id, target_user_id) columns, either a
 * skeleton query itself or explicit rows passed as one JSON parameter.
 */
export interface SkeletonSource {
  /** A WITH clause defining `skel`. */
  cte: string;
  params: unknown[];
}

/** Skeleton from rows already loaded (a single post, discover's ranked page). */
export function skeletonOfRows(rows: PostRow[]): SkeletonSource {
  return {
    cte: `WITH skel AS (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.a') AS author_id, json_extract(value, '$.t') AS target_user_id FROM json_each(?1))`,
    params: [JSON.stringify(rows.map((r) => ({ id: r.id, a: r.authorId, t: r.targetUserId })))],
  };
}

/** Skeleton from a query returning post rows; hydration re-reads it inside the same batch. */
export function skeletonOfQuery(sql: string, params: unknown[]): SkeletonSource {
  return { cte: `WITH skel AS (${sql})`, params };
}

/**
 * The hydration statements for a skeleton (authors and wall owners, media, the viewer's likes and
 * relations), to be sent in the same `DB.batch` as whatever produced the skeleton.
 */
function hydrationStatements(db: D1Database, viewerId: string | null, source: SkeletonSource): D1PreparedStatement[] {
  const viewer = `?${source.params.length + 1}`;
  const head = `${source.cte}, people AS (SELECT author_id AS id FROM skel UNION SELECT target_user_id FROM skel WHERE target_user_id IS NOT NULL)`;
  // D1 refuses unused bindings, so only statements that read the viewer get it.
  const statement = (sql: string) => db.prepare(`${head} ${sql}`).bind(...source.params, ...(sql.includes(viewer) ? [viewerId] : []));
  const statements = [
    statement('SELECT * FROM users WHERE id IN (SELECT id FROM people)'),
    statement('SELECT pm.post_id, m.* FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id IN (SELECT id FROM skel) ORDER BY pm.post_id, pm.position'),
  ];
  if (viewerId) {
    statements.push(
      statement(`SELECT post_id FROM likes WHERE user_id = ${viewer} AND post_id IN (SELECT id FROM skel)`),
      statement(relationsSql(viewer, `SELECT id FROM people WHERE id != ${viewer}`)),
    );
  }
  return statements;
}

function hydratedFrom(viewerId: string | null, results: D1Result<Record<string, unknown>>[]): Hydrated {
  const [userRows = [], mediaRows = [], likedRows = [], relationRows = []] = results.map((r) => r.results);
  const users = new Map(userRows.map((raw) => [raw.id as string, mapRow(usersTable, raw)]));
  const media = new Map<string, MediaRow[]>();
  for (const raw of mediaRows) {
    const list = media.get(raw.post_id as string) ?? [];
    list.push(mapRow(mediaTable, raw));
    media.set(raw.post_id as string, list);
  }
  return {
    users,
    media,
    likedByMe: new Set(likedRows.map((l) => l.post_id as string)),
    relations: relationsFromRows(viewerId, relationRows as { kind: string; id: string }[]),
  };
}

/** Hydrates rows already loaded, in one round trip. */
export async function hydratePosts(c: Context<AppEnv>, viewerId: string | null, rows: PostRow[]): Promise<Hydrated> {
  return hydratedFrom(viewerId, await c.env.DB.batch<Record<string, unknown>>(hydrationStatements(c.env.DB, viewerId, skeletonOfRows(rows))));
}

/**
 * Runs a skeleton query and its hydration as ONE `DB.batch` (one round trip for a whole page): the
 * hydration statements read the skeleton as a CTE inside the same transaction, so they see the same rows.
 */
export async function loadSkeleton(c: Context<AppEnv>, viewerId: string | null, sql: string, params: unknown[]): Promise<{ rows: PostRow[]; hydrated: Hydrated }> {
  const db = c.env.DB;
  const [skeleton, ...rest] = await db.batch<Record<string, unknown>>([
    db.prepare(sql).bind(...params),
    ...hydrationStatements(db, viewerId, skeletonOfQuery(sql, params)),
  ]);
  return { rows: (skeleton?.results ?? []).map((raw) => mapRow(postsTable, raw)), hydrated: hydratedFrom(viewerId, rest) };
}

/**
 * The visibility rule. A block in either direction (with the author, or with the wall owner) hides the
 * post. Otherwise: the author and the wall owner always see it; `private` is for them alone; `friends`
 * adds the author's friends; `public` is for everyone, except that a private account's posts reach only
 * its approved followers and friends. Posts on a private account's wall reach only that account's
 * approved followers and friends as well.
 */
export function canViewPost(post: PostRow, author: UserRow, target: UserRow | null, rel: ViewerRelations): boolean {
  const viewer = rel.viewerId;
  const reaches = (user: UserRow) => user.visibility === 'public' || rel.friends.has(user.id) || rel.following.has(user.id);
  if (viewer === null) return post.visibility === 'public' && author.visibility === 'public' && (!target || target.visibility === 'public');
  if (rel.blockedEither.has(author.id) || (target && rel.blockedEither.has(target.id))) return false;
  if (viewer === author.id || viewer === target?.id) return true;
  // A private account's wall is for its approved followers and friends, whoever wrote on it.
  if (target && !reaches(target)) return false;
  switch (post.visibility) {
    case 'private':
      return false;
    case 'friends':
      return rel.friends.has(author.id);
    case 'public':
      return reaches(author);
  }
}

export function presentPost(row: PostRow, h: Hydrated, baseUrl: string): Post {
  const author = h.users.get(row.authorId)!;
  const target = row.targetUserId ? h.users.get(row.targetUserId) : undefined;
  return {
    id: row.id,
    author: presentPublicUser(author, baseUrl),
    content: row.content,
    topic: row.topic,
    visibility: row.visibility,
    target_user: target ? presentPublicUser(target, baseUrl) : null,
    community_id: row.communityId,
    media: (h.media.get(row.id) ?? []).map((m) => ({ id: m.id, url: mediaUrl(baseUrl, m.key), content_type: m.contentType, width: m.width, height: m.height })),
    like_count: row.likeCount,
    comment_count: row.commentCount,
    liked_by_me: h.likedByMe.has(row.id),
    created_at: row.createdAt.toISOString(),
    edited_at: row.editedAt ? row.editedAt.toISOString() : null,
  };
}

export interface RenderOptions {
  /** Feeds also drop muted authors; direct reads (a profile, a single post) do not. */
  hideMuted?: boolean;
}

/** Runs the whole pipeline on skeleton rows, keeping their order and dropping what the viewer may not see. */
/** Rules, then presentation: keeps the rows' order and drops what the viewer may not see. */
export function presentVisible(c: Context<AppEnv>, rows: PostRow[], h: Hydrated, options: RenderOptions = {}): Post[] {
  const baseUrl = c.get('baseUrl');
  return rows
    .filter((row) => {
      const author = h.users.get(row.authorId);
      if (!author) return false;
      const target = row.targetUserId ? (h.users.get(row.targetUserId) ?? null) : null;
      if (options.hideMuted && h.relations.muted.has(author.id)) return false;
      return canViewPost(row, author, target, h.relations);
    })
    .map((row) => presentPost(row, h, baseUrl));
}

/** Runs the whole pipeline on rows already loaded. */
export async function renderPosts(c: Context<AppEnv>, viewerId: string | null, rows: PostRow[], options: RenderOptions = {}): Promise<Post[]> {
  if (rows.length === 0) return [];
  return presentVisible(c, rows, await hydratePosts(c, viewerId, rows), options);
}
