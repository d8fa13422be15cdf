import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { media as mediaTable, users as usersTable, type MediaRow, type PostRow, type UserRow } from '../../db/schema';
import type { AppEnv } from '../../lib/types';
import { relationIds, relationStatements, relationsFromRows, type ViewerRelations } from '../graph/relations';
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

const CHUNK = 90;

/** `IN (...)` statements over `ids` in chunks of at most 90 bound ids (D1 allows 100 parameters). */
function chunkedStatements(db: D1Database, ids: string[], sqlFor: (marks: string) => string, lead: unknown[] = []): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const marks = part.map((_, j) => `?${j + lead.length + 1}`).join(',');
    statements.push(db.prepare(sqlFor(marks)).bind(...lead, ...part));
  }
  return statements;
}

type MediaJoin = Record<string, unknown> & { post_id: string };

/**
 * Batch-loads what a page of posts needs (authors and wall owners, media, the viewer's likes and
 * relations) in ONE round trip: every lookup is a statement of a single `DB.batch`.
 */
export async function hydratePosts(c: Context<AppEnv>, viewerId: string | null, rows: PostRow[]): Promise<Hydrated> {
  const db = c.env.DB;
  const postIds = [...new Set(rows.map((r) => r.id))];
  const people = [...new Set(rows.flatMap((r) => (r.targetUserId ? [r.authorId, r.targetUserId] : [r.authorId])))];
  const relationUserIds = viewerId ? relationIds(viewerId, people) : [];
  const groups = [
    chunkedStatements(db, people, (marks) => `SELECT * FROM users WHERE id IN (${marks})`),
    chunkedStatements(db, postIds, (marks) => `SELECT pm.post_id, m.* FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id IN (${marks}) ORDER BY pm.post_id, pm.position`),
    viewerId ? chunkedStatements(db, postIds, (marks) => `SELECT post_id FROM likes WHERE user_id = ?1 AND post_id IN (${marks})`, [viewerId]) : [],
    viewerId && relationUserIds.length ? relationStatements(db, viewerId, relationUserIds) : [],
  ];
  const results = groups.some((g) => g.length) ? await db.batch<Record<string, unknown>>(groups.flat()) : [];
  let at = 0;
  const take = (group: D1PreparedStatement[]) => results.slice(at, (at += group.length)).flatMap((r) => r.results);
  const [userRows, mediaRows, likedRows, relationRows] = groups.map(take) as [Record<string, unknown>[], MediaJoin[], { post_id: string }[], { kind: string; id: string }[]];

  const users = new Map(userRows.map((raw) => [raw.id as string, mapRow(usersTable, raw)]));
  const media = new Map<string, MediaRow[]>();
  for (const raw of mediaRows) {
    const list = media.get(raw.post_id) ?? [];
    list.push(mapRow(mediaTable, raw));
    media.set(raw.post_id, list);
  }
  return { users, media, likedByMe: new Set(likedRows.map((l) => l.post_id)), relations: relationsFromRows(viewerId, relationRows) };
}

/**
 * The visibility rule. A block in either direction (with the author, or with the wall owner) hides the
 * post. Otherwise: the author and the wall owner always see it; `private` is for them alone; `friends`
 * adds the author's friends; `public` is for everyone, except that a private account's posts reach only
 * its approved followers and friends.
 */
export function canViewPost(post: PostRow, author: UserRow, target: UserRow | null, rel: ViewerRelations): boolean {
  const viewer = rel.viewerId;
  if (viewer === null) return post.visibility === 'public' && author.visibility === 'public';
  if (rel.blockedEither.has(author.id) || (target && rel.blockedEither.has(target.id))) return false;
  if (viewer === author.id || viewer === target?.id) return true;
  switch (post.visibility) {
    case 'private':
      return false;
    case 'friends':
      return rel.friends.has(author.id);
    case 'public':
      return author.visibility === 'public' || rel.friends.has(author.id) || rel.following.has(author.id);
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
export async function renderPosts(c: Context<AppEnv>, viewerId: string | null, rows: PostRow[], options: RenderOptions = {}): Promise<Post[]> {
  if (rows.length === 0) return [];
  const h = await hydratePosts(c, viewerId, rows);
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
