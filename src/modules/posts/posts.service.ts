import { and, eq, inArray } from 'drizzle-orm';
import { postPath, purgeEdgePaths, purgeProfilesById } from '../../lib/edge-cache';
import type { Context } from 'hono';
import { mapRow, toStatement, type D1Client } from '../../db/client';
import { media, postMedia, posts, type CommunityRole, type PostRow, type UserRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { createdBefore, createOrTaken, type IdempotentCreate, madeBefore, recordCreate } from '../../lib/idempotency';
import { newId } from '../../lib/ids';
import { NEWEST_FIRST, openCursor, sealCursor, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { isMember, isModerator } from '../communities/roles';
import { loadViewerRelations, RELATION, relationFlagsSql } from '../graph/relations';
import { whoMaySeePost } from '../notifications/delivery';
import { forgetContent, postRemovalAudience } from '../notifications/removed-content';
import { emitEvent } from '../notifications/events';
import { OWN_TIMELINE_ENTRY_SQL } from '../feeds/hybrid';
import { queuePostFanOut } from '../../queues/fanout.producer';
import { findUserById } from '../users/users.service';
import { presentPublicUser } from '../users/users.presenter';
import { mediaUrl } from '../media/media.keys';
import { postMediaKeys, purgeMediaCopies } from '../media/media.service';
import { screenText, type TextVerdict } from '../../policy/content-rules';
import { takeReach, withinReach } from '../../policy/reach';
import { insertAutoReport } from '../moderation/reports.store';
import { spamStatements, spamVerdict } from '../moderation/spam';
import type { AutoReason, ReportSnapshot } from '../../db/schema';
import { extractHashtags } from '../tags/hashtags';
import { postTagStatements } from '../tags/post-tags';
import { notePostImpressions } from '../../middleware/impressions';
import { type CommunityAccess, type LoadedPage, loadSkeleton, presentVisible, type RenderOptions } from './post-pipeline';
import { accountsNamedIn } from './mentions';
import type { Post } from './posts.schemas';

/**
 * The post as the viewer sees it (one round trip), or 404 when it does not exist or is not visible to
 * them; with the viewer's role in the post's community, for a community post.
 */
export async function getVisiblePost(c: Context<AppEnv>, viewerId: string | null, id: string): Promise<{ row: PostRow; post: Post; communityRole: CommunityRole | null }> {
  const { rows, hydrated } = await loadSkeleton(c, viewerId, 'SELECT * FROM posts WHERE id = ?1', [id]);
  const [row] = rows;
  const [post] = row ? presentVisible(c, [row], hydrated, { countImpressions: false }) : [];
  if (!row || !post) throw new ApiError('not_found', 'No such post.');
  return { row, post, communityRole: row.communityId ? (hydrated.communities.get(row.communityId)?.role ?? null) : null };
}

const COMMUNITY_AUDIENCE = "community posts are seen by the community's audience (everyone, or the members of a private community): leave visibility out";

/** A community post needs a community the author is a member of (not merely an applicant). */
async function assertMayPostInCommunity(c: Context<AppEnv>, authorId: string, communityId: string): Promise<void> {
  const access = await communityAccess(c.var.d1, communityId, authorId);
  if (!access) throw new ApiError('not_found', 'No such community.');
  if (!isMember(access.role)) throw new ApiError('forbidden', 'Only members of this community can post in it: join it first.');
}

/** Validates attachments: each must be the author's own upload from POST /media. */
async function assertOwnMedia(c: Context<AppEnv>, authorId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length !== ids.length) throw ApiError.field('media_ids', 'must not repeat an id');
  if (unique.length === 0) return unique;
  const rows = await c
    .get('db')
    .select({ id: media.id })
    .from(media)
    .where(and(inArray(media.id, unique), eq(media.ownerId, authorId), eq(media.kind, 'attachment')))
    .all();
  if (rows.length !== unique.length) throw ApiError.field('media_ids', 'must be ids of your own uploads (POST /api/v1/media)');
  return unique;
}

/**
 * Wall posts need the owner's permission: `everyone`, `friends` (the default) or `nobody`; a suspended
 * owner (or one on either side of a block with the author) is absent. A silenced author writes only on
 * the walls of people who follow or befriend it (the only ones who see its posts), and a post on the open
 * wall of such a stranger takes one of the author's `wall_post` reach for the day (429 past it): the
 * returned function gives it back, for a write that then fails.
 */
async function assertMayPostOnWall(c: Context<AppEnv>, authorId: string, targetId: string): Promise<(() => Promise<void>) | null> {
  const row = await c.var.d1
    .prepare(
      `SELECT t.wall_policy, t.suspended_at, ${relationFlagsSql('t.id', '?2')} AS r, (SELECT a.silenced_at FROM users a WHERE a.id = ?2) AS author_silenced
       FROM users t WHERE t.id = ?1`,
    )
    .bind(targetId, authorId)
    .first<{ wall_policy: UserRow['wallPolicy']; suspended_at: number | null; r: number; author_silenced: number | null }>();
  if (!row || row.suspended_at !== null || (row.r & RELATION.blocked) !== 0) throw new ApiError('not_found', 'No such user.');
  const known = (row.r & (RELATION.friend | RELATION.following)) !== 0;
  if (row.wall_policy === 'nobody') throw new ApiError('forbidden', 'This user does not accept wall posts.');
  if (row.wall_policy === 'friends' && (row.r & RELATION.friend) === 0) throw new ApiError('forbidden', 'Only friends of this user may post on their wall.');
  if (row.author_silenced !== null && !known) {
    throw new ApiError('forbidden', 'Your account is silenced: you can write only on the walls of people who follow you or are your friends.');
  }
  return known ? null : takeReach(c.var.d1, authorId, 'wall_post', 1);
}

export interface NewPostInput {
  content?: string;
  visibility?: PostRow['visibility'];
  topic?: string | null;
  space?: PostRow['space'];
  target_user_id?: string | null;
  community_id?: string | null;
  media_ids?: string[];
}

export async function createPost(c: Context<AppEnv>, authorId: string, input: NewPostInput, retry: IdempotentCreate | null = null): Promise<{ post: Post; created: boolean }> {
  // A retry (the same Idempotency-Key) gets the post its first request made, checked and created nothing again.
  const before = retry ? await createdBefore(c.var.d1, authorId, retry) : null;
  if (before) return { post: await postMadeBefore(c, authorId, before), created: false };
  const content = (input.content ?? '').trim();
  const verdict = await screenText(c, [{ field: 'content', text: content }], 'post');
  const mediaIds = await assertOwnMedia(c, authorId, input.media_ids ?? []);
  if (!content && mediaIds.length === 0) throw ApiError.field('content', 'a post needs non-blank content or at least one media item');
  const targetId = input.target_user_id && input.target_user_id !== authorId ? input.target_user_id : null;
  const communityId = input.community_id ?? null;
  // The professional side has no walls or communities: its posts live in the professional feed alone.
  if (input.space === 'professional' && (targetId || communityId)) {
    throw ApiError.field('space', 'a professional post cannot be a wall post or a community post');
  }
  if (communityId) {
    if (targetId) throw ApiError.field('community_id', 'a post goes on a wall or in a community, not both');
    if (input.visibility && input.visibility !== 'public') throw ApiError.field('visibility', COMMUNITY_AUDIENCE);
    await assertMayPostInCommunity(c, authorId, communityId);
  }
  const giveBack = targetId ? await assertMayPostOnWall(c, authorId, targetId) : null;

  const now = new Date();
  const id = newId(now.getTime());
  const db = c.get('db');
  const tags = extractHashtags(content);
  const statements = [
    ...(retry ? recordCreate(c.var.d1, authorId, retry, id, now.getTime()) : []),
    toStatement(
      c.var.d1,
      db.insert(posts).values({
        id,
        authorId,
        targetUserId: targetId,
        communityId,
        content,
        tags,
        topic: input.topic ?? null,
        visibility: input.visibility ?? 'public',
        space: input.space ?? 'personal',
        held: verdict.action === 'hold',
        createdAt: now,
      }),
    ),
    ...mediaIds.map((mediaId, position) => toStatement(c.var.d1, db.insert(postMedia).values({ postId: id, mediaId, position }))),
    ...postTagStatements(c.var.d1, id, now.getTime(), tags),
  ];
  // A personal post goes into its author's own live timeline at once; the rest of its audience gets it
  // from the fan-out queue (announcePost). Professional posts stay off home timelines.
  if ((input.space ?? 'personal') === 'personal') statements.push(c.var.d1.prepare(OWN_TIMELINE_ENTRY_SQL).bind(authorId, now.getTime(), id));
  // A rule's hold or flag opens its report in the same transaction as the post.
  if (verdict.action !== 'allow') statements.push(await ruleReport(c, verdict, id, authorId, communityId, content, mediaIds));
  // The spam counts are read inside the same batch (before this post's fingerprint): no extra round trip.
  const spam = content ? await spamStatements(c.var.d1, authorId, content, now.getTime()) : null;
  if (spam) statements.push(spam.check, spam.record);
  const outcome = await createOrTaken(c.var.d1, authorId, retry, () => c.var.d1.batch<{ repeats: number; born: number | null; links: number }>(statements)).catch(async (err: unknown) => {
    await giveBack?.();
    throw err;
  });
  // The same key sent twice at once: the other request's batch took it, and this one created nothing.
  if ('takenBy' in outcome) {
    await giveBack?.();
    return { post: await postMadeBefore(c, authorId, outcome.takenBy), created: false };
  }
  const results = outcome.done;
  const tripped = spam && verdict.action !== 'hold' ? spamVerdict(spam, results.at(-2)?.results[0]) : null;
  if (tripped) await holdForSpam(c, id, authorId, communityId, content, mediaIds, tripped);

  const { row, post } = await getVisiblePost(c, authorId, id);
  if (!row.held) await announcePost(c, row);
  return { post, created: true };
}

/** The post an earlier request with the same Idempotency-Key made, as its author sees it now (409 once it is gone). */
const postMadeBefore = async (c: Context<AppEnv>, authorId: string, id: string): Promise<Post> => (await madeBefore(getVisiblePost(c, authorId, id), 'post')).post;

/**
 * Tells the post's audience about it (new_post, wall_post, mentions): at creation, or when a moderator
 * releases a held post. Its timeline push and `new_post` notifications go through the fan-out queue,
 * queued before the request answers (POST /posts costs the same whatever the audience).
 */
export async function announcePost(c: Context<AppEnv>, row: PostRow): Promise<void> {
  await queuePostFanOut(c.env, { post_id: row.id, base_url: c.get('baseUrl'), notify: true });
  emitEvent(c, { type: 'new_post', actorId: row.authorId, postId: row.id });
  if (row.targetUserId) emitEvent(c, { type: 'wall_post', actorId: row.authorId, recipientId: row.targetUserId, postId: row.id });
  await emitMentions(c, row.authorId, row.content, row, {});
}

/** The snapshot a report keeps of a post or comment: its author (public user), text and attachments. */
export async function contentSnapshot(c: Context<AppEnv>, authorId: string, content: string, mediaIds: string[]): Promise<ReportSnapshot> {
  const author = await findUserById(c.get('db'), authorId);
  const rows = mediaIds.length ? await c.get('db').select().from(media).where(inArray(media.id, mediaIds)).all() : [];
  const baseUrl = c.get('baseUrl');
  return {
    author: author ? presentPublicUser(author, baseUrl) : null,
    content,
    media: rows.map((m) => ({ id: m.id, url: mediaUrl(baseUrl, m.key), content_type: m.contentType, width: m.width, height: m.height })),
  };
}

/** The automatic report of a post a keyword rule held or flagged. */
async function ruleReport(c: Context<AppEnv>, verdict: Exclude<TextVerdict, { action: 'allow' | 'reject' }>, postId: string, authorId: string, communityId: string | null, content: string, mediaIds: string[]) {
  const snapshot = await contentSnapshot(c, authorId, content, mediaIds);
  return insertAutoReport(c.var.d1, verdict.reason, { subjectType: 'post', subjectId: postId, subjectUserId: authorId, communityId, snapshot }).statement;
}

/**
 * A spam hold found after the post's batch: the post is held and its report opened together. (The
 * check rode in the post's own batch; between the two the post was readable for a moment, but it has
 * notified nobody: announcements wait for this.)
 */
async function holdForSpam(c: Context<AppEnv>, postId: string, authorId: string, communityId: string | null, content: string, mediaIds: string[], reason: AutoReason): Promise<void> {
  const snapshot = await contentSnapshot(c, authorId, content, mediaIds);
  const db = c.var.d1;
  await db.batch([
    db.prepare('UPDATE posts SET held = 1 WHERE id = ?1').bind(postId),
    insertAutoReport(db, reason, { subjectType: 'post', subjectId: postId, subjectUserId: authorId, communityId, snapshot }).statement,
  ]);
}

/**
 * Emits `mention` for each distinct @username that exists, is not the author, and may see the post
 * (whoMaySeePost); blocks in either direction with the author suppress it, and strangers (who neither
 * follow nor are friends with the author) are notified only within the author's day (src/policy/reach.ts).
 * Returns whom it notified.
 */
export async function emitMentions(c: Context<AppEnv>, authorId: string, text: string, row: PostRow, extra: { commentId?: string }, skip: string[] = []): Promise<string[]> {
  const mentioned = await accountsNamedIn(c.var.d1, [text]);
  if (mentioned.length === 0) return [];
  const candidates = mentioned.filter((id) => id !== authorId && !skip.includes(id));
  const recipients = await withinReach(c.var.d1, authorId, 'mention', await whoMaySeePost(c.env, row, candidates, [authorId]));
  for (const recipientId of recipients) emitEvent(c, { type: 'mention', actorId: authorId, recipientId, postId: row.id, ...extra });
  return recipients;
}

/** A community's visibility and one user's role in it (null when the community is gone). */
async function communityAccess(db: D1Client, communityId: string, userId: string): Promise<CommunityAccess | null> {
  return db
    .prepare('SELECT visibility, (SELECT role FROM community_members WHERE community_id = ?1 AND user_id = ?2) AS role FROM communities WHERE id = ?1')
    .bind(communityId, userId)
    .first<CommunityAccess>();
}

export async function updatePost(c: Context<AppEnv>, viewerId: string, id: string, input: Omit<NewPostInput, 'target_user_id' | 'community_id' | 'space'>): Promise<Post> {
  const { row } = await getVisiblePost(c, viewerId, id);
  if (row.authorId !== viewerId) throw new ApiError('forbidden', 'Only the author can edit a post.');
  const verdict = input.content !== undefined ? await screenText(c, [{ field: 'content', text: input.content.trim() }], 'post') : ({ action: 'allow' } as const);
  if (row.communityId && input.visibility && input.visibility !== 'public') throw ApiError.field('visibility', COMMUNITY_AUDIENCE);
  const db = c.get('db');
  const content = input.content !== undefined ? input.content.trim() : row.content;
  const currentMedia = await db.select({ id: postMedia.mediaId, key: media.key }).from(postMedia).innerJoin(media, eq(media.id, postMedia.mediaId)).where(eq(postMedia.postId, id)).all();
  const mediaIds = input.media_ids !== undefined ? await assertOwnMedia(c, viewerId, input.media_ids) : currentMedia.map((m) => m.id);
  if (!content && mediaIds.length === 0) throw ApiError.field('content', 'a post needs non-blank content or at least one media item');
  const tags = extractHashtags(content);

  const statements = [
    toStatement(
      c.var.d1,
      db
        .update(posts)
        .set({
          content,
          tags,
          ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
          ...(input.topic !== undefined ? { topic: input.topic } : {}),
          // An edit a rule holds goes back under review; a released post is not re-held by clean edits.
          ...(verdict.action === 'hold' ? { held: true } : {}),
          editedAt: new Date(),
        })
        .where(eq(posts.id, id)),
    ),
  ];
  statements.push(...postTagStatements(c.var.d1, id, row.createdAt.getTime(), tags, row.tags));
  if (verdict.action !== 'allow') statements.push(await ruleReport(c, verdict, id, row.authorId, row.communityId, content, mediaIds));
  if (input.media_ids !== undefined) {
    statements.push(toStatement(c.var.d1, db.delete(postMedia).where(eq(postMedia.postId, id))));
    mediaIds.forEach((mediaId, position) => statements.push(toStatement(c.var.d1, db.insert(postMedia).values({ postId: id, mediaId, position }))));
  }
  await c.var.d1.batch(statements);
  // A new visibility took the post out of every timeline but its author's (a trigger): the fan-out queue
  // pushes it back to the audience it has now, without notifying anyone again.
  if (input.visibility !== undefined && input.visibility !== row.visibility && !row.held && verdict.action !== 'hold') {
    await queuePostFanOut(c.env, { post_id: id, base_url: c.get('baseUrl'), notify: false });
  }
  await purgeEdgePaths('posts', [postPath(id)]);
  // An image edited out is withdrawn when nothing else uses it (a post_media trigger).
  const dropped = currentMedia.filter((m) => !mediaIds.includes(m.id));
  await purgeMediaCopies(dropped.map((m) => m.key));
  return (await getVisiblePost(c, viewerId, id)).post;
}

/**
 * The post a viewer clears (deletes, or deletes a comment under): as they see it, or, for the owner of
 * the wall it is on, whatever hides it from them (a block either way with its author, a hold, a
 * suspension): their wall is theirs to clear without reading it. 404 otherwise, as getVisiblePost.
 */
export async function postToClear(c: Context<AppEnv>, viewerId: string, id: string): Promise<{ row: PostRow; communityRole: CommunityRole | null }> {
  try {
    return await getVisiblePost(c, viewerId, id);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'not_found') throw err;
    const raw = await c.var.d1.prepare('SELECT * FROM posts WHERE id = ?1 AND target_user_id = ?2').bind(id, viewerId).first<Record<string, unknown>>();
    if (!raw) throw err;
    return { row: mapRow(posts, raw), communityRole: null };
  }
}

/**
 * The author, the owner of the wall it was written on, or its community's moderators may delete a post;
 * the notifications about it and its comments leave the inboxes that got them, as after its removal by
 * moderation.
 */
export async function deletePost(c: Context<AppEnv>, viewerId: string, id: string): Promise<void> {
  const { row, communityRole } = await postToClear(c, viewerId, id);
  if (row.authorId !== viewerId && row.targetUserId !== viewerId && !isModerator(communityRole)) {
    throw new ApiError('forbidden', "Only the author, the wall owner or the community's moderators can delete this post.");
  }
  const [images, audience] = await Promise.all([postMediaKeys(c.var.d1, id), postRemovalAudience(c.var.d1, id)]);
  await c.get('db').delete(posts).where(eq(posts.id, id));
  await purgeEdgePaths('posts', [postPath(id)]);
  // An image on no other post (nor an avatar or message) is withdrawn with it (a post_media trigger).
  await purgeMediaCopies(images);
  await purgeProfilesById(c.var.d1, [row.authorId]);
  // The notifications about it and its comments, and its impression counters (a view still queued finds
  // no post and is dropped by the consumer). The post is gone either way: a failure is logged.
  await forgetContent(c.env, { postId: id }, audience);
}

/** Keyset position of a post in newest-first lists: (created_at, id). */
export const postKey = (row: PostRow): [number, string] => [row.createdAt.getTime(), row.id];
export const FIRST_PAGE = NEWEST_FIRST;

/** The position a post list's `?cursor=` names (sealed: see sealCursor), or the list's start. */
export const postCursor = async (c: Context<AppEnv>, cursor: string | undefined): Promise<[number, string]> =>
  cursor ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'string'])) as [number, string]) : NEWEST_FIRST;

/** A post list's `next_cursor`: sealed, since the row it names may be one the rules hid from the caller. */
export const postListCursor = (c: Context<AppEnv>, values: (string | number)[]) => sealCursor(c.env.JWT_SECRET, values);

/**
 * A page of posts from a skeleton query returning `limit + 1` rows, in one round trip (skeleton and
 * hydration share a batch). The rules may drop rows the viewer cannot see, but the cursor always
 * follows the skeleton, so pages never skip or repeat a post.
 */
export async function renderPostPage(c: Context<AppEnv>, viewerId: string | null, sql: string, params: unknown[], limit: number, options: RenderOptions = {}) {
  return presentPostPage(c, await loadSkeleton(c, viewerId, sql, params), limit, options);
}

/** Rules and presentation for a loaded `limit + 1` row skeleton; the cursor follows the skeleton (sealed). */
export async function presentPostPage(c: Context<AppEnv>, { rows, hydrated }: LoadedPage, limit: number, options: RenderOptions = {}) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: presentVisible(c, page, hydrated, options),
    next_cursor: rows.length > limit && last ? await postListCursor(c, postKey(last)) : null,
  };
}

/** A chunk of a skeleton: its rows (in the list's order) with their hydration, and each row's keyset position. */
export interface SkeletonChunk<K> extends LoadedPage {
  keyOf: (row: PostRow) => K;
}

/** Rows each read after the first examines, at least (see {@link fillVisiblePage}). */
export const FILL_READ_ROWS = 200;
/** Reads one page of a sparse list takes at most. */
const FILL_READS = 3;

/**
 * A page of `limit` posts the viewer may see, from a skeleton whose rows the rules may drop often
 * (search, tag pages). `load(after, count)` reads up to `count + 1` rows after a position; the first read
 * examines twice the rows the page still needs, each later one at least FILL_READ_ROWS, FILL_READS reads
 * at most.
 *
 * `next` (the position after the page's last post) is handed out only when one more post the viewer may
 * see was found after the page: an answer never shows that posts hidden from the viewer exist (neither
 * an empty page with a cursor, nor a cursor after the last visible post). Rows left after FILL_READS
 * reads that showed no further post end the list as well; a skeleton of at most FILL_READ_ROWS rows after
 * any position (search's candidates) is always read to its end. Only the posts served count impressions.
 */
export async function fillVisiblePage<K>(
  c: Context<AppEnv>,
  limit: number,
  start: K,
  load: (after: K, count: number) => Promise<SkeletonChunk<K>>,
  options: RenderOptions = {},
): Promise<{ data: Post[]; next: K | null }> {
  const shown: { post: Post; row: PostRow; key: K }[] = [];
  let after = start;
  for (let read = 0; read < FILL_READS && shown.length <= limit; read++) {
    // One past the page: the post that proves the list goes on.
    const need = limit + 1 - shown.length;
    const count = read === 0 ? need * 2 : Math.max(need * 2, FILL_READ_ROWS);
    const { rows, hydrated, keyOf } = await load(after, count);
    const examined = rows.slice(0, count);
    const byId = new Map(examined.map((row) => [row.id, row]));
    for (const post of presentVisible(c, examined, hydrated, { ...options, countImpressions: false })) {
      const row = byId.get(post.id)!;
      shown.push({ post, row, key: keyOf(row) });
    }
    if (rows.length <= count) break;
    after = keyOf(examined.at(-1)!);
  }
  const page = shown.slice(0, limit);
  if (options.countImpressions !== false) notePostImpressions(c, page.map(({ row }) => ({ id: row.id, authorId: row.authorId })));
  return { data: page.map(({ post }) => post), next: shown.length > limit ? page.at(-1)!.key : null };
}

/** Which visibilities of `authorId`'s posts the viewer may see (the SQL prefilter matching canViewPost). */
export async function visibleLevels(c: Context<AppEnv>, viewerId: string | null, authorId: string, authorPrivate: boolean): Promise<PostRow['visibility'][]> {
  if (viewerId === authorId) return ['public', 'friends', 'private'];
  if (!viewerId) return authorPrivate ? [] : ['public'];
  const rel = await loadViewerRelations(c.var.d1, viewerId, [authorId]);
  if (rel.blockedEither.has(authorId)) return [];
  if (rel.friends.has(authorId)) return ['public', 'friends'];
  return !authorPrivate || rel.following.has(authorId) ? ['public'] : [];
}

/**
 * Skeleton of a user's posts (index posts_author_created_idx), exported so a test can EXPLAIN it.
 * Parameters: ?1 author, ?2 cursor created_at, ?3 cursor id, ?4 limit + 1, ?5.. the visible levels.
 */
export function userPostsSql(levelCount: number, orOnViewersWall = false): string {
  const marks = Array.from({ length: levelCount }, (_, i) => `?${i + 5}`).join(',');
  // canViewPost lets a wall owner see every post on their wall, whatever its level: ?(5 + levelCount) is the viewer.
  const levels = orOnViewersWall ? `(visibility IN (${marks}) OR target_user_id = ?${levelCount + 5})` : `visibility IN (${marks})`;
  return `SELECT * FROM posts WHERE author_id = ?1 AND (created_at, id) < (?2, ?3) AND ${levels}
     ORDER BY created_at DESC, id DESC LIMIT ?4`;
}

/**
 * Skeleton of a wall (indexes posts_author_created_idx and posts_target_created_idx), exported so a
 * test can EXPLAIN it. Parameters: ?1 owner, ?2 cursor created_at, ?3 cursor id, ?4 limit + 1.
 */
export const WALL_SQL = `SELECT * FROM posts WHERE rowid IN (
       SELECT rowid FROM (SELECT rowid FROM posts WHERE author_id = ?1 AND target_user_id IS NULL AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4)
       UNION ALL
       SELECT rowid FROM (SELECT rowid FROM posts WHERE target_user_id = ?1 AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?4)
     ) ORDER BY created_at DESC, id DESC LIMIT ?4`;

/** Posts a user authored that the viewer may see, newest first. */
export async function listUserPosts(c: Context<AppEnv>, viewerId: string | null, authorId: string, authorPrivate: boolean, limit: number, cursor?: string) {
  const levels = await visibleLevels(c, viewerId, authorId, authorPrivate);
  const wallOwner = viewerId && viewerId !== authorId ? viewerId : null;
  if (levels.length === 0 && !wallOwner) return { data: [], next_cursor: null };
  const [ts, id] = await postCursor(c, cursor);
  const params = [authorId, ts, id, limit + 1, ...levels, ...(wallOwner ? [wallOwner] : [])];
  return renderPostPage(c, viewerId, userPostsSql(levels.length, wallOwner !== null), params, limit, { context: 'profile' });
}

/** A user's wall: their own posts (not those on other walls) and posts others wrote on it, newest first. */
export async function listWall(c: Context<AppEnv>, viewerId: string | null, ownerId: string, limit: number, cursor?: string) {
  const [ts, id] = await postCursor(c, cursor);
  return renderPostPage(c, viewerId, WALL_SQL, [ownerId, ts, id, limit + 1], limit, { context: 'profile' });
}

/**
 * Posts on the owner's wall whose author the owner blocked (which hides them from the owner and
 * everyone else), newest first: ids and times only, for the owner to delete them (see postToClear).
 * Not those hidden because their author blocked the owner: listing them would tell the owner who
 * blocked them, which a block never does (they are hidden from everyone, and deletable by id).
 */
export async function listHiddenWallPosts(c: Context<AppEnv>, ownerId: string, limit: number, cursor?: string) {
  const [ts, id] = timeKeyCursor(cursor, NEWEST_FIRST);
  const { results } = await c.var.d1
    .prepare(
      `SELECT p.id, p.created_at FROM posts p
       WHERE p.target_user_id = ?1 AND (p.created_at, p.id) < (?2, ?3) AND EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = ?1 AND b.blocked_id = p.author_id)
       ORDER BY p.created_at DESC, p.id DESC LIMIT ?4`,
    )
    .bind(ownerId, ts, id, limit + 1)
    .all<{ id: string; created_at: number }>();
  return toPage(results, limit, (r) => [r.created_at, r.id], (r) => ({ id: r.id, created_at: new Date(r.created_at).toISOString() }));
}
