import type { Context } from 'hono';
import { notePostImpressions } from '../../middleware/impressions';
import { positionalMapper, type D1Client } from '../../db/client';
import { media as mediaTable, posts as postsTable, users as usersTable, type CommunityRole, type FilterContext, type MediaRow, type PostRow, type UserSummary } from '../../db/schema';
import { blockedEitherSql, isAccountVisible } from '../../policy/visibility';
import { compileFilters, parseViewerFilters, type ViewerFilter, viewerFiltersSql } from '../filters/filter-rules';
import type { AppEnv } from '../../lib/types';
import { relationFlagsSql, relationsFromFlags, type ViewerRelations } from '../graph/relations';
import { isStaffRole } from '../../middleware/require-staff';
import { isMember } from '../communities/roles';
import { mediaUrl } from '../media/media.keys';
import { presentPublicUser } from '../users/users.presenter';
import type { Post } from './posts.schemas';

/**
 * Every read path for posts (single post, user lists, wall, feeds, and the checks behind comments
 * and likes) goes through this pipeline: skeleton rows in → hydration (batch loads) → rules
 * (blocks, mutes, visibility) → presentation. Visibility is decided here and nowhere else.
 */

/** What the rules need to know of a post's community: who may see it, and the viewer's role there. */
export interface CommunityAccess {
  visibility: 'public' | 'private';
  role: CommunityRole | null;
}

export interface Hydrated {
  users: Map<string, UserSummary>;
  /** The communities of community posts in the page. */
  communities: Map<string, CommunityAccess>;
  media: Map<string, MediaRow[]>;
  likedByMe: Set<string>;
  relations: ViewerRelations;
  /** The viewer's live personal filters (all contexts; the rules stage picks the one it serves). */
  filters: ViewerFilter[];
  /** Wall posts whose author and wall owner have a block between them, either way. */
  wallBlocks: Set<string>;
}

/**
 * Where a page's posts come from: a `skel` CTE with the posts table's columns, either a skeleton query
 * itself or explicit ids passed as one JSON parameter.
 */
export interface SkeletonSource {
  /** A WITH clause defining `skel`. */
  cte: string;
  params: unknown[];
  /** An SQL expression the page statement also returns, as `extra` (it may use the source's params). */
  extra?: string;
}

/** Skeleton of posts chosen by id elsewhere (discover's ranked page). */
export function skeletonOfIds(ids: string[]): SkeletonSource {
  return {
    cte: `WITH skel AS (SELECT p.* FROM json_each(?1) j JOIN posts p ON p.id = j.value)`,
    params: [JSON.stringify(ids)],
  };
}

/** Skeleton from a query returning post rows. */
export function skeletonOfQuery(sql: string, params: unknown[], extra?: string): SkeletonSource {
  return { cte: `WITH skel AS MATERIALIZED (${sql})`, params, extra };
}

/**
 * Rows travel as positional JSON arrays in these column orders (not objects): a page's keys would
 * otherwise be repeated on every row, and the whole page crosses D1's JSON response as one string.
 */
const POST_COLUMNS = ['id', 'author_id', 'target_user_id', 'community_id', 'content', 'tags', 'topic', 'visibility', 'space', 'like_count', 'comment_count', 'held', 'created_at', 'edited_at'] as const;
const USER_COLUMNS = ['id', 'username', 'display_name', 'avatar_key', 'bio', 'is_verified', 'visibility', 'suspended_at', 'silenced_at'] as const;
/** An attachment travels as its post and place there (post_media), then these columns of the media row. */
const MEDIA_FIELDS = ['id', 'owner_id', 'kind', 'key', 'content_type', 'size', 'width', 'height', 'created_at'] as const;

const POST_JSON = `json_array(${POST_COLUMNS.join(', ')})`;
const decodePost = positionalMapper(postsTable, POST_COLUMNS) as (values: readonly unknown[]) => PostRow;
const decodeUser = positionalMapper(usersTable, USER_COLUMNS) as (values: readonly unknown[]) => UserSummary;
const decodeMedia = positionalMapper(mediaTable, MEDIA_FIELDS) as (values: readonly unknown[]) => MediaRow;
/** A user row, then the viewer's relations to them (a bitmask) when there is a viewer. */
const userJson = (relations: string | null) => `json_array(${[...USER_COLUMNS.map((c) => `u.${c}`), ...(relations ? [relations] : [])].join(', ')})`;
const MEDIA_JSON = `json_array(pm.post_id, pm.position, ${MEDIA_FIELDS.map((c) => `m.${c}`).join(', ')})`;

/**
 * ONE statement for a whole page: the skeleton and everything hydration needs (authors and wall owners
 * with the viewer's relations to them, media, the viewer's likes, communities), each part aggregated
 * into a JSON column. One round trip, one evaluation of the skeleton.
 *
 * `skel` is referenced exactly once, by the subquery `s` that folds it into JSON arrays (the posts, and
 * the ids each hydration part looks up). SQLite plans a CTE anew at every place it is referenced, so
 * the earlier shape (each part reading `skel`) planned a complex skeleton such as the home feed's seven
 * times: 1.5 ms to prepare the home page statement against 0.5 ms now (node:sqlite, same schema).
 * Exported so a test can EXPLAIN it.
 */
export function pageQuery(viewerId: string | null, source: SkeletonSource): { sql: string; params: unknown[] } {
  const viewer = `?${source.params.length + 1}`;
  // Each part walks its ids with a join, json_each outermost (CROSS JOIN fixes the order: otherwise the
  // planner may walk all the viewer's likes and look each up in the page) and a keyed search per id.
  // `x IN (SELECT value FROM json_each(…))` planned an ephemeral index per part instead, which cost
  // about 0.2 ms of CPU per home page in workerd (measured with raw routes beside the bench's ceilings).
  const parts = [
    's.posts',
    // Each author and wall owner, with the viewer's relations to them as a bitmask.
    `(SELECT json_group_array(${userJson(viewerId ? relationFlagsSql(viewer, 'u.id') : null)}) FROM users u
      WHERE u.id IN (SELECT value FROM json_each(s.authors) UNION ALL SELECT value FROM json_each(s.targets))) AS users`,
    `(SELECT json_group_array(${MEDIA_JSON}) FROM json_each(s.ids) j CROSS JOIN post_media pm ON pm.post_id = j.value JOIN media m ON m.id = pm.media_id) AS media`,
  ];
  if (viewerId) parts.push(`(SELECT json_group_array(l.post_id) FROM json_each(s.ids) j CROSS JOIN likes l ON l.user_id = ${viewer} AND l.post_id = j.value) AS liked`);
  const role = viewerId ? `(SELECT cm.role FROM community_members cm WHERE cm.community_id = k.id AND cm.user_id = ${viewer})` : 'NULL';
  parts.push(
    `(SELECT json_group_array(json_object('id', k.id, 'visibility', k.visibility, 'role', ${role}))
      FROM json_each(s.communities) j CROSS JOIN communities k ON k.id = j.value) AS communities`,
  );
  // Wall posts whose author and wall owner are parted by a block (whoever looks).
  parts.push(
    `(SELECT json_group_array(json_extract(w.value, '$[0]')) FROM json_each(s.walls) w
      WHERE ${blockedEitherSql("json_extract(w.value, '$[1]')", "json_extract(w.value, '$[2]')")}) AS wall_blocks`,
  );
  if (viewerId) parts.push(`${viewerFiltersSql(viewer)} AS filters`);
  if (source.extra) parts.push(`(${source.extra}) AS extra`);
  const sql = `${source.cte}
    SELECT ${parts.join(',\n    ')}
    FROM (SELECT json_group_array(${POST_JSON}) AS posts, json_group_array(id) AS ids, json_group_array(author_id) AS authors,
      json_group_array(target_user_id) AS targets, json_group_array(DISTINCT community_id) AS communities,
      json_group_array(json_array(id, author_id, target_user_id)) FILTER (WHERE target_user_id IS NOT NULL) AS walls FROM skel) s`;
  return { sql, params: [...source.params, ...(viewerId ? [viewerId] : [])] };
}

function pageStatement(db: D1Client, viewerId: string | null, source: SkeletonSource): D1PreparedStatement {
  const { sql, params } = pageQuery(viewerId, source);
  return db.prepare(sql).bind(...params);
}

type PageRow = { posts: string; users: string; media: string; liked?: string; communities: string; wall_blocks: string; filters?: string; extra?: unknown };

/** A page's skeleton rows (newest first) with their hydration, and the source's `extra` value if it asked for one. */
export interface LoadedPage {
  rows: PostRow[];
  hydrated: Hydrated;
  extra?: unknown;
}

/** Decodes a {@link pageStatement} row: the skeleton's rows (newest first) and their hydration. */
function decodePage(viewerId: string | null, row: PageRow | null): LoadedPage {
  const parse = <T>(text: string | undefined): T[] => (text ? (JSON.parse(text) as T[]) : []);
  const rows = parse<unknown[]>(row?.posts).map(decodePost);
  const userRows = parse<unknown[]>(row?.users);
  const users = new Map(userRows.map((values) => [values[0] as string, decodeUser(values)]));
  const media = new Map<string, MediaRow[]>();
  // Each attachment: post id, position, then the media row (MEDIA_JSON).
  const attachments = parse<unknown[]>(row?.media).sort((a, b) => (a[1] as number) - (b[1] as number));
  for (const values of attachments) {
    const list = media.get(values[0] as string) ?? [];
    list.push(decodeMedia(values.slice(2)));
    media.set(values[0] as string, list);
  }
  const communities = new Map(
    parse<{ id: string; visibility: CommunityAccess['visibility']; role: CommunityRole | null }>(row?.communities).map((k) => [k.id, { visibility: k.visibility, role: k.role }]),
  );
  return {
    rows,
    extra: row?.extra ?? undefined,
    hydrated: {
      users,
      communities,
      media,
      likedByMe: new Set(parse<string>(row?.liked)),
      relations: relationsFromFlags(viewerId, userRows.map((values) => ({ id: values[0] as string, r: values[USER_COLUMNS.length] as number | undefined }))),
      filters: parseViewerFilters(row?.filters),
      wallBlocks: new Set(parse<string>(row?.wall_blocks)),
    },
  };
}

const newestFirst = (a: PostRow, b: PostRow) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export interface LoadOptions {
  /** See {@link SkeletonSource.extra}. */
  extra?: string;
  /** Statements to run first, in the same batch (one round trip, one transaction). */
  before?: D1PreparedStatement[];
}

/**
 * Runs a newest-first skeleton query and its hydration as one statement (one round trip, the skeleton
 * evaluated once). Returns the skeleton's rows in order, with what the rules and presentation need.
 */
export async function loadSkeleton(c: Context<AppEnv>, viewerId: string | null, sql: string, params: unknown[], options: LoadOptions = {}): Promise<LoadedPage> {
  const statement = pageStatement(c.var.d1, viewerId, skeletonOfQuery(sql, params, options.extra));
  const row = options.before?.length
    ? ((await c.var.d1.batch<PageRow>([...options.before, statement])).at(-1)?.results[0] ?? null)
    : await statement.first<PageRow>();
  const page = decodePage(viewerId, row);
  return { ...page, rows: page.rows.sort(newestFirst) };
}

/**
 * The visibility rule. Held posts (a content rule or spam hold) are seen by their author and staff only.
 * A suspended author's (or wall owner's) posts are seen by nobody else; a silenced author's reach only
 * their accepted followers and friends. A block in either direction (with the author, or with the wall
 * owner) hides the post; so does one between the author and the wall owner (`wallBlocked`), from
 * everyone but those two (whom their own block already parts, as above). A community post is seen by the community's audience: everyone for a public
 * community, its members for a private one (and always by its author). Otherwise: the author and the
 * wall owner always see it; `private` is for them alone; `friends` adds the author's friends; `public`
 * is for everyone, except that a private account's posts reach only its approved followers and
 * friends. Posts on a private account's wall reach only that account's approved followers and friends
 * as well.
 */
export function canViewPost(
  post: PostRow,
  author: UserSummary,
  target: UserSummary | null,
  rel: ViewerRelations,
  community: CommunityAccess | null,
  wallBlocked: boolean,
): boolean {
  const viewer = rel.viewerId;
  if (post.held && viewer !== author.id && !rel.staff) return false;
  if (viewer !== author.id && (!isAccountVisible(author) || (target && viewer !== target.id && !isAccountVisible(target)))) return false;
  if (author.silencedAt !== null && viewer !== author.id && !rel.friends.has(author.id) && !rel.following.has(author.id)) return false;
  if (post.communityId) {
    if (!community) return false;
    if (viewer !== null && rel.blockedEither.has(author.id)) return false;
    if (viewer === author.id || community.visibility === 'public') return true;
    return isMember(community.role);
  }
  const reaches = (user: UserSummary) => user.visibility === 'public' || rel.friends.has(user.id) || rel.following.has(user.id);
  // A wall post whose owner and author have parted by a block is nobody else's to read (a wall owner blocking a troll hides what they wrote there).
  if (target && wallBlocked && viewer !== author.id && viewer !== target.id) return false;
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

/**
 * {@link canViewPost}'s answer for an anonymous viewer, as an SQL condition on the posts row aliased
 * `p`: for aggregates over many posts that cannot run the rules stage row by row (hashtag trends, the tag
 * search's check that a tag has a post anyone may see). It must say exactly what canViewPost says for
 * `viewerId: null`; test/search/visibility.test.ts checks the two agree on every kind of post.
 */
export function anonymousVisiblePostSql(p: string): string {
  return `(${p}.held = 0
    AND EXISTS (SELECT 1 FROM users pa WHERE pa.id = ${p}.author_id AND pa.suspended_at IS NULL AND pa.silenced_at IS NULL
      AND (${p}.community_id IS NOT NULL OR (pa.visibility = 'public' AND ${p}.visibility = 'public')))
    AND (${p}.target_user_id IS NULL OR (EXISTS (SELECT 1 FROM users pw WHERE pw.id = ${p}.target_user_id AND pw.suspended_at IS NULL
      AND (${p}.community_id IS NOT NULL OR pw.visibility = 'public')) AND NOT ${blockedEitherSql(`${p}.author_id`, `${p}.target_user_id`)}))
    AND (${p}.community_id IS NULL OR EXISTS (SELECT 1 FROM communities pk WHERE pk.id = ${p}.community_id AND pk.visibility = 'public')))`;
}

export function presentPost(row: PostRow, h: Hydrated, baseUrl: string): Post {
  const author = h.users.get(row.authorId)!;
  const target = row.targetUserId ? h.users.get(row.targetUserId) : undefined;
  return {
    id: row.id,
    author: presentPublicUser(author, baseUrl),
    content: row.content,
    tags: row.tags,
    topic: row.topic,
    visibility: row.visibility,
    space: row.space,
    target_user: target ? presentPublicUser(target, baseUrl) : null,
    community_id: row.communityId,
    media: (h.media.get(row.id) ?? []).map((m) => ({ id: m.id, url: mediaUrl(baseUrl, m.key), content_type: m.contentType, width: m.width, height: m.height })),
    like_count: row.likeCount,
    comment_count: row.commentCount,
    liked_by_me: h.likedByMe.has(row.id),
    created_at: row.createdAt.toISOString(),
    edited_at: row.editedAt ? row.editedAt.toISOString() : null,
    ...(row.held ? { held: true as const } : {}),
  };
}

export interface RenderOptions {
  /** Feeds also drop muted authors; direct reads (a profile, a single post) do not. */
  hideMuted?: boolean;
  /** The personal-filter context this list is read in; direct reads of one post have none. */
  context?: FilterContext;
  /** False where posts are only checked (a like, a comment list), not served: no impressions. */
  countImpressions?: boolean;
}

/**
 * Rules, then presentation: keeps the rows' order and drops what the viewer may not see, then applies
 * the viewer's personal filters of the list's context (not to their own posts): `hide` drops the
 * post, `warn` marks it `filtered`.
 */
export function presentVisible(c: Context<AppEnv>, rows: PostRow[], h: Hydrated, options: RenderOptions = {}): Post[] {
  const baseUrl = c.get('baseUrl');
  h.relations.staff = isStaffRole(c.get('auth')?.role);
  const filters = options.context ? compileFilters(h.filters, options.context) : null;
  const out: Post[] = [];
  for (const row of rows) {
    const author = h.users.get(row.authorId);
    if (!author) continue;
    const target = row.targetUserId ? (h.users.get(row.targetUserId) ?? null) : null;
    if (options.hideMuted && h.relations.muted.has(author.id)) continue;
    if (!canViewPost(row, author, target, h.relations, row.communityId ? (h.communities.get(row.communityId) ?? null) : null, h.wallBlocks.has(row.id))) continue;
    const post = presentPost(row, h, baseUrl);
    if (filters && row.authorId !== h.relations.viewerId) {
      const outcome = filters.apply(row.content);
      if (outcome.hide) continue;
      if (outcome.filtered.length > 0) post.filtered = outcome.filtered;
    }
    out.push(post);
  }
  const served = new Set(out.map((p) => p.id));
  if (options.countImpressions !== false) notePostImpressions(c, rows.filter((r) => served.has(r.id)).map((r) => ({ id: r.id, authorId: r.authorId })));
  return out;
}

/** A ranked page's skeleton rows, best first, with each row's rank key. */
export interface RankedPage extends LoadedPage {
  rankKeys: Map<string, number>;
}

/**
 * Runs a ranked skeleton query and its hydration as one statement. The query returns post rows best
 * first, each with a numeric `rank_key` column; the rows come back in that order, with their keys.
 */
export async function loadRankedSkeleton(c: Context<AppEnv>, viewerId: string | null, sql: string, params: unknown[], extra?: string): Promise<RankedPage> {
  const order = 'SELECT json_group_array(json_array(id, rank_key)) FROM skel';
  const source = skeletonOfQuery(sql, params, `json_object('order', (${order}), 'extra', ${extra ? `(${extra})` : 'NULL'})`);
  const page = decodePage(viewerId, await pageStatement(c.var.d1, viewerId, source).first<PageRow>());
  const { order: ranked, extra: value } = JSON.parse(String(page.extra)) as { order: [string, number][]; extra: unknown };
  const rankKeys = new Map(ranked);
  const position = new Map(ranked.map(([id], i) => [id, i]));
  return { rows: page.rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!), hydrated: page.hydrated, extra: value ?? undefined, rankKeys };
}

/**
 * Runs the whole pipeline on posts chosen by id (in one statement), in the order given; ids that no
 * longer exist or that the viewer may not see are dropped.
 */
export async function renderPostsById(c: Context<AppEnv>, viewerId: string | null, ids: string[], options: RenderOptions = {}): Promise<Post[]> {
  if (ids.length === 0) return [];
  const { rows, hydrated } = decodePage(viewerId, await pageStatement(c.var.d1, viewerId, skeletonOfIds(ids)).first<PageRow>());
  const order = new Map(ids.map((id, i) => [id, i]));
  return presentVisible(c, rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!), hydrated, options);
}
