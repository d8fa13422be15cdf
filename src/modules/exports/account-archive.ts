import { createDb, type Database } from '../../db/client';
import { SECURITY_ACTIONS } from '../audit/audit';
import { blocksAmong } from '../graph/relations';
import { inboxOf } from '../notifications/user-inbox';
import { objectName } from '../media/media.keys';
import { presentHiddenUser, presentMe, presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds, requireUserRow } from '../users/users.service';
import type { PublicUser } from '../users/users.schemas';
import type { ArchiveWriter } from './archive-writer';
import { iso } from './exports.service';

/** Rows read per statement (and people looked up per page). */
const PAGE = 500;
/** Messages read per room call (the room's own page limit). */
const MESSAGE_PAGE = 100;
/**
 * Room calls per conversation: its newest 10,000 messages (`complete: false` when there are more), so
 * one build stays within an invocation's subrequests however long a conversation's history.
 */
const MESSAGE_PAGES = 100;

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp' };

const README = `Your Kith data

Every file is JSON (UTF-8). Times are ISO 8601 in UTC. People other than you appear as their public
profile (id, username, display name, avatar URL, bio); an account suspended now, or one that blocks
you, has empty names.

account.json           your profile with its private fields, sessions, sign-in providers, two-factor state, push subscriptions
security_events.json   sign-ins, failed sign-ins, password and e-mail changes, sessions signed out, exports
posts.json             your posts (wall posts you wrote included), with tags and the paths of their images in media/
comments.json          your comments
likes.json             the posts you liked
following.json, followers.json, friends.json, friend_requests.json, follow_requests_rejected.json, blocks.json, mutes.json
communities.json       the communities you are in, with your role
professional.json      your professional profile, positions and education
notifications.json     your notifications
conversations/<id>.json  each conversation you are in, with the messages you can read there (newest first, the
                         newest 10,000; "complete" says whether that is all), in a community's chat your own only
media.json, media/     every image you uploaded, as stored (without metadata)
`;

/** Pages of `sql`'s rows: it selects `rid` (a rowid) and takes ?1 (the account), ?2 (after this rid) and ?3 (page size). */
async function* pages<T extends { rid: number }>(db: D1Database, sql: string, userId: string): AsyncIterable<Omit<T, 'rid'>[]> {
  let after = 0;
  for (;;) {
    const { results } = await db.prepare(sql).bind(userId, after, PAGE).all<T>();
    if (results.length === 0) return;
    after = results[results.length - 1]!.rid;
    yield results.map(({ rid: _rid, ...row }) => row);
    if (results.length < PAGE) return;
  }
}

/**
 * The public shape of each of `ids` as the account sees them through the API: suspended or missing
 * accounts, and those who block the account (its own blocks and mutes list them as hidden users), with
 * empty names.
 */
async function people(db: D1Database, orm: Database, userId: string, ids: string[], baseUrl: string): Promise<Map<string, PublicUser>> {
  const [rows, blocks] = await Promise.all([loadUsersByIds(orm, ids), blocksAmong(db, [userId, ...ids])]);
  const blockingMe = new Set(blocks.filter(([, blocked]) => blocked === userId).map(([blocker]) => blocker));
  return new Map(
    ids.map((id) => {
      const row = rows.get(id);
      return [id, row && row.suspendedAt === null && !blockingMe.has(id) ? presentPublicUser(row, baseUrl) : presentHiddenUser(id)];
    }),
  );
}

/** A list of relations to people: each row's `user_id` becomes `user`, the public shape. */
async function* withPeople(db: D1Database, orm: Database, userId: string, rows: AsyncIterable<Record<string, unknown>[]>, baseUrl: string): AsyncIterable<unknown[]> {
  for await (const page of rows) {
    const shapes = await people(db, orm, userId, page.map((r) => r.user_id as string), baseUrl);
    yield page.map(({ user_id, created_at, ...rest }) => ({ user: shapes.get(user_id as string), ...rest, created_at: iso(created_at as number) }));
  }
}

/** Rows with their `created_at` (milliseconds) as ISO text. */
async function* dated(rows: AsyncIterable<Record<string, unknown>[]>, fields = ['created_at']): AsyncIterable<unknown[]> {
  for await (const page of rows) yield page.map((row) => ({ ...row, ...Object.fromEntries(fields.map((f) => [f, iso(row[f] as number | null)])) }));
}

/**
 * Writes everything Kith holds about an account into `archive`: from D1, the account's inbox and the
 * rooms of its conversations (as the account reads them through the API), and its images from R2.
 */
export async function writeAccountArchive(env: Env, userId: string, baseUrl: string, archive: ArchiveWriter): Promise<void> {
  const db = env.DB;
  const orm = createDb(db);
  const user = await requireUserRow(orm, userId);
  await archive.text('README.txt', [README]);

  const [sessions, identities, totp, subscriptions] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent FROM sessions WHERE user_id = ?1 ORDER BY created_at').bind(userId),
    db.prepare('SELECT provider, email, created_at FROM oauth_identities WHERE user_id = ?1 ORDER BY created_at').bind(userId),
    db.prepare('SELECT confirmed_at FROM mfa_totp WHERE user_id = ?1 AND confirmed_at IS NOT NULL').bind(userId),
    db.prepare('SELECT id, endpoint, created_at, last_delivered_at FROM push_subscriptions WHERE user_id = ?1 ORDER BY created_at').bind(userId),
  ]);
  await archive.json('account.json', {
    profile: presentMe(user, baseUrl),
    sessions: sessions!.results.map((s) => ({ ...s, created_at: iso(s.created_at as number), last_used_at: iso(s.last_used_at as number), expires_at: iso(s.expires_at as number), revoked_at: iso(s.revoked_at as number | null) })),
    sign_in_providers: identities!.results.map((i) => ({ ...i, created_at: iso(i.created_at as number) })),
    two_factor: { totp_enabled: totp!.results.length > 0, enabled_at: iso(totp!.results[0]?.confirmed_at as number | undefined) },
    // The endpoint's host only: the full URL is a capability to push to the device.
    push_subscriptions: subscriptions!.results.map((p) => ({ id: p.id, host: new URL(p.endpoint as string).host, created_at: iso(p.created_at as number), last_delivered_at: iso(p.last_delivered_at as number | null) })),
  });

  const securityActions = JSON.stringify(SECURITY_ACTIONS);
  await archive.jsonArray(
    'security_events.json',
    (async function* () {
      for await (const page of pages<{ rid: number; action: string; ip: string | null; data: string; created_at: number }>(
        db,
        `SELECT seq AS rid, action, ip, data, created_at FROM audit_log WHERE subject_id = ?1 AND subject_type = 'user' AND seq > ?2
           AND action IN (SELECT value FROM json_each('${securityActions.replaceAll("'", "''")}')) ORDER BY seq LIMIT ?3`,
        userId,
      )) {
        yield page.map((e) => ({ ...e, data: JSON.parse(e.data) as unknown, created_at: iso(e.created_at) }));
      }
    })(),
  );

  const mediaPaths = new Map<string, string>();
  const { results: uploads } = await db.prepare('SELECT id, key, kind, content_type, size, width, height, created_at FROM media WHERE owner_id = ?1 ORDER BY created_at').bind(userId).all<{ id: string; key: string; kind: string; content_type: string; size: number; width: number; height: number; created_at: number }>();
  for (const m of uploads) mediaPaths.set(m.id, `media/${m.key}.${EXTENSIONS[m.content_type] ?? 'bin'}`);

  await archive.jsonArray(
    'posts.json',
    (async function* () {
      for await (const page of pages<{ rid: number; id: string; held: number; created_at: number; edited_at: number | null; tags: string; media: string }>(
        db,
        `SELECT p.rowid AS rid, p.id, p.content, p.visibility, p.space, p.community_id, p.target_user_id AS wall_of, p.tags, p.like_count, p.comment_count, p.held, p.created_at, p.edited_at,
           (SELECT json_group_array(media_id) FROM (SELECT media_id FROM post_media WHERE post_id = p.id ORDER BY position)) AS media
         FROM posts p WHERE p.author_id = ?1 AND p.rowid > ?2 ORDER BY p.rowid LIMIT ?3`,
        userId,
      )) {
        yield page.map((p) => ({
          ...p,
          held: p.held === 1,
          tags: JSON.parse(p.tags || '[]'),
          media: (JSON.parse(p.media) as string[]).map((id) => mediaPaths.get(id) ?? null),
          created_at: iso(p.created_at),
          edited_at: iso(p.edited_at),
        }));
      }
    })(),
  );
  await archive.jsonArray('comments.json', dated(pages(db, 'SELECT rowid AS rid, id, post_id, parent_id, content, created_at FROM comments WHERE author_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3', userId)));
  await archive.jsonArray('likes.json', dated(pages(db, 'SELECT rowid AS rid, post_id, created_at FROM likes WHERE user_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3', userId)));

  const relations: [string, string][] = [
    ['following.json', 'SELECT rowid AS rid, followee_id AS user_id, status, created_at FROM follows WHERE follower_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
    ['followers.json', 'SELECT rowid AS rid, follower_id AS user_id, status, created_at FROM follows WHERE followee_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
    ['friends.json', 'SELECT rowid AS rid, friend_id AS user_id, created_at FROM friendships WHERE user_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
    [
      'friend_requests.json',
      `SELECT rowid AS rid, CASE WHEN from_user_id = ?1 THEN to_user_id ELSE from_user_id END AS user_id,
         CASE WHEN from_user_id = ?1 THEN 'sent' ELSE 'received' END AS direction, status, created_at
       FROM friend_requests WHERE (from_user_id = ?1 OR to_user_id = ?1) AND rowid > ?2 ORDER BY rowid LIMIT ?3`,
    ],
    ['follow_requests_rejected.json', 'SELECT rowid AS rid, follower_id AS user_id, rejected_at AS created_at FROM follow_rejections WHERE followee_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
    ['blocks.json', 'SELECT rowid AS rid, blocked_id AS user_id, created_at FROM blocks WHERE blocker_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
    ['mutes.json', 'SELECT rowid AS rid, muted_id AS user_id, created_at FROM mutes WHERE muter_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3'],
  ];
  for (const [name, sql] of relations) await archive.jsonArray(name, withPeople(db, orm, userId, pages(db, sql, userId), baseUrl));

  await archive.jsonArray(
    'communities.json',
    dated(
      pages(
        db,
        `SELECT m.rowid AS rid, c.id, c.slug, c.name, m.role, m.created_at AS joined_at FROM community_members m JOIN communities c ON c.id = m.community_id
         WHERE m.user_id = ?1 AND m.rowid > ?2 ORDER BY m.rowid LIMIT ?3`,
        userId,
      ),
      ['joined_at'],
    ),
  );

  const [profile, positions, education] = await db.batch<Record<string, unknown>>([
    db.prepare('SELECT headline, summary, industry, open_to_work, visibility, skills, certifications, languages, updated_at FROM professional_profiles WHERE user_id = ?1').bind(userId),
    db.prepare('SELECT title, company, location, started_on, ended_on, description FROM professional_positions WHERE user_id = ?1 ORDER BY ord').bind(userId),
    db.prepare('SELECT school, degree, field, started_on, ended_on, activities FROM professional_education WHERE user_id = ?1 ORDER BY ord').bind(userId),
  ]);
  const pro = profile!.results[0];
  await archive.json('professional.json', {
    profile: pro ? { ...pro, open_to_work: pro.open_to_work === 1, skills: JSON.parse(pro.skills as string), certifications: JSON.parse(pro.certifications as string), languages: JSON.parse(pro.languages as string), updated_at: iso(pro.updated_at as number) } : null,
    positions: positions!.results,
    education: education!.results,
  });

  const inbox = inboxOf(env, userId);
  await archive.jsonArray(
    'notifications.json',
    (async function* () {
      let before: number | undefined;
      for (;;) {
        const page = await inbox.list({ unread: false, limit: 100, before });
        yield page.data;
        if (page.next === null) return;
        before = page.next;
      }
    })(),
  );

  for await (const page of pages<{ rid: number; id: string; kind: string; title: string | null; created_at: number; request: number }>(
    db,
    `SELECT m.rowid AS rid, c.id, c.kind, c.title, c.created_at, m.request FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ?1 AND m.rowid > ?2 ORDER BY m.rowid LIMIT ?3`,
    userId,
  )) {
    for (const conversation of page) {
      const room = env.ROOMS.get(env.ROOMS.idFromName(conversation.id));
      // A community's chat is everyone's: only the account's own messages there.
      const own = conversation.kind === 'community';
      const header = { id: conversation.id, kind: conversation.kind, title: conversation.title, request: conversation.request === 1, created_at: iso(conversation.created_at), only_own_messages: own };
      await archive.text(
        `conversations/${conversation.id}.json`,
        (async function* () {
          // The header's fields, then the messages (newest first), then whether they are all there.
          yield `${JSON.stringify(header).slice(0, -1)},"messages":[`;
          let before: number | undefined;
          let first = true;
          let complete = true;
          for (let read = 0; ; read++) {
            if (read === MESSAGE_PAGES) {
              complete = false;
              break;
            }
            const result = await room.history(userId, { beforeSeq: before, limit: MESSAGE_PAGE });
            if (!result.ok || result.value.messages.length === 0) break;
            const kept = own ? result.value.messages.filter((m) => m.sender?.id === userId) : result.value.messages;
            if (kept.length > 0) yield `${first ? '\n' : ',\n'}${kept.map((m) => JSON.stringify(m)).join(',\n')}`;
            first = first && kept.length === 0;
            before = result.value.messages[result.value.messages.length - 1]!.seq;
            if (!result.value.more) break;
          }
          yield `\n],"complete":${complete}}\n`;
        })(),
      );
    }
  }

  await archive.json(
    'media.json',
    uploads.map((m) => ({ path: mediaPaths.get(m.id), kind: m.kind, content_type: m.content_type, size: m.size, width: m.width, height: m.height, created_at: iso(m.created_at) })),
  );
  for (const m of uploads) {
    const object = await env.MEDIA.get(objectName(m.key));
    if (object) await archive.bytes(mediaPaths.get(m.id)!, object.body);
  }
}
