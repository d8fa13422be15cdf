import type { Context } from 'hono';
import type { MediaRow, PostRow, UserRow } from '../../db/schema';
import type { AppEnv } from '../../lib/types';
import { loadViewerRelations, type ViewerRelations } from '../graph/relations';
import { mediaUrl } from '../media/media.keys';
import { presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds } from '../users/users.service';
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

async function chunkedAll<T>(db: D1Database, sqlFor: (marks: string) => string, ids: string[], lead: unknown[] = []): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const marks = part.map((_, j) => `?${j + lead.length + 1}`).join(',');
    const { results } = await db.prepare(sqlFor(marks)).bind(...lead, ...part).all<T>();
    out.push(...results);
  }
  return out;
}

/** Batch-loads what a page of posts needs: authors and wall owners, media, the viewer's likes and relations. */
export async function hydratePosts(c: Context<AppEnv>, viewerId: string | null, rows: PostRow[]): Promise<Hydrated> {
  const db = c.env.DB;
  const postIds = rows.map((r) => r.id);
  const people = rows.flatMap((r) => (r.targetUserId ? [r.authorId, r.targetUserId] : [r.authorId]));
  type MediaJoin = { post_id: string; id: string; owner_id: string; kind: MediaRow['kind']; key: string; content_type: MediaRow['contentType']; size: number; width: number; height: number; created_at: number };
  const [users, mediaRows, liked, relations] = await Promise.all([
    loadUsersByIds(c.get('db'), people),
    postIds.length
      ? chunkedAll<MediaJoin>(
          db,
          (marks) =>
            `SELECT pm.post_id, m.* FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id IN (${marks}) ORDER BY pm.post_id, pm.position`,
          postIds,
        )
      : [],
    viewerId && postIds.length
      ? chunkedAll<{ post_id: string }>(db, (marks) => `SELECT post_id FROM likes WHERE user_id = ?1 AND post_id IN (${marks})`, postIds, [viewerId])
      : [],
    loadViewerRelations(db, viewerId, people),
  ]);
  const media = new Map<string, MediaRow[]>();
  for (const m of mediaRows) {
    const list = media.get(m.post_id) ?? [];
    list.push({ id: m.id, ownerId: m.owner_id, kind: m.kind, key: m.key, contentType: m.content_type, size: m.size, width: m.width, height: m.height, createdAt: new Date(m.created_at) });
    media.set(m.post_id, list);
  }
  return { users, media, likedByMe: new Set(liked.map((l) => l.post_id)), relations };
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
