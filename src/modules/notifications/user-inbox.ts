import { DurableObject } from 'cloudflare:workers';
import { exclusively } from '../../lib/concurrency';
import { newId } from '../../lib/ids';
import { recordFrame } from '../../lib/metrics';
import { standingsOf } from '../../policy/visibility';
import { queueDeliveries } from '../../queues/fanout.producer';
import { type ImpressionBatch, PostImpressions, type PostViews, type StoredImpressions } from '../insights/post-impressions';
import { InboxPush } from './inbox-push';
import { groupWithout, namesAccount, standingView, type StandingView } from './inbox-standing';
import type { Notification, NotificationType } from './notifications.schemas';

/** The version of an inbox's tables (see UserInbox.migrate): raise it with every change to them. */
export const INBOX_SCHEMA_VERSION = 4;
/** Notifications kept per user; older ones are pruned past this. */
export const INBOX_CAP = 1000;
/** Likes and follows on the same object within this window fold into one notification. */
export const GROUP_WINDOW_MS = 60 * 60 * 1000;
/**
 * How long the idempotency key of a delivery is remembered: longer than a fan-out message can live in
 * its queue (retention is at most 14 days), so a redelivered batch never notifies twice.
 */
export const DELIVERY_KEY_TTL_MS = 15 * 24 * 60 * 60 * 1000;
/**
 * How long a source's row (when it last notified, when it was retracted) is kept after its last use:
 * as long as a delivery key, so a queued delivery that arrives after its retraction is still dropped,
 * and far past any quiet window ({@link REPEAT_WINDOW_MS}). Older rows decide nothing and are deleted.
 */
export const SOURCE_TTL_MS = DELIVERY_KEY_TTL_MS;
/** A reconnect whose `since` is unknown (pruned) gets at most this many recent notifications. */
export const REPLAY_LIMIT = 200;
/**
 * While an inbox hides a suspended account it re-reads it from D1 this often (its alarm): a lift whose
 * message missed it (a relation changed during the suspension, so the lift's traces lack this inbox)
 * shows at most this late, and an account deleted meanwhile is forgotten here.
 */
export const STANDING_RECHECK_MS = 24 * 60 * 60 * 1000;
/** One account causes at most this many notifications per {@link FLOOD_WINDOW_MS} to someone who neither follows nor befriends it. */
export const FLOOD_LIMIT = 20;
export const FLOOD_WINDOW_MS = 60 * 60 * 1000;
/** The same friend or follow request repeated within this window notifies nobody. */
export const REPEAT_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Notification data: a JSON object (stored as JSON and sent over RPC). Typed loosely on purpose: a
 * recursive JSON type is too deep for the RPC stub types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = Record<string, any>;

export interface Delivery {
  type: NotificationType;
  data: JsonObject;
  /** Deliveries with the same key fold into one unread notification within {@link GROUP_WINDOW_MS}. */
  groupKey?: string;
  /** The actor, for grouping: `data.actors` keeps the latest few and `data.count` how many. */
  actor?: JsonObject;
  /**
   * What caused it (`friend_request:<actor id>`, …), so that undoing the action can retract it: a
   * {@link UserInbox.retract} removes it, and drops it should it arrive after the retraction.
   */
  source?: string;
  /** With `source`: a repeat within this many ms of the last one notifies nobody. */
  quietMs?: number;
  /** When the action happened (ms); defaults to now. */
  at?: number;
  /** The actor's id when the recipient neither follows nor is friends with them: capped at {@link FLOOD_LIMIT} an hour. */
  floodFrom?: string;
  /**
   * Idempotency key (`new_post:<post id>`, …) of a delivery made from a queue: an inbox stores a given
   * key once, so a redelivered message never notifies twice. (Kept {@link DELIVERY_KEY_TTL_MS}.)
   */
  key?: string;
}

/**
 * The source of a comment's notifications (`post_comment`, `comment_reply`, its `mention`s): deleting
 * the comment forgets them (UserInbox.forget), and one arriving after that is dropped.
 */
export const commentSource = (commentId: string) => `comment:${commentId}`;

/** Undoes what a delivery with this `source` did: removes its notification, or `actorId` from its group. */
export interface Retraction {
  source: string;
  groupKey?: string;
  actorId?: string;
  at: number;
}

/** What UserInbox.forget forgets: a removed post's, deleted comments' (as of `at`), or a removed message's notifications. */
export interface ForgetRef {
  postId?: string;
  messageId?: string;
  commentIds?: string[];
  /** When the comments were deleted (ms); defaults to now. */
  at?: number;
}

type Row = StandingView & {
  seq: number;
  id: string;
  type: string;
  data: string;
  read: number;
  created_at: number;
  updated_at: number;
  group_key: string | null;
  source: string | null;
};

/**
 * One Durable Object per user: that user's notifications, stored before they are pushed, and the
 * user's notification sockets (hibernation API). `seq` orders changes (a grouped notification moves to
 * a new seq when it grows), so `?since=<id>` replays exactly what changed after that notification.
 */
export class UserInbox extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Web Push for notifications stored while no socket is open (inbox-push.ts). */
  private readonly pushes: InboxPush;
  /** Impressions of this user's posts counted before the ImpressionCounter shards (insights/post-impressions.ts). */
  private readonly impressions: PostImpressions;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.migrate();
    this.pushes = new InboxPush(env, this.sql);
    this.impressions = new PostImpressions(this.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /**
   * Creates or upgrades the inbox's tables (its own, InboxPush's and PostImpressions'). An inbox already
   * at {@link INBOX_SCHEMA_VERSION} makes two reads and skips the rest: every wake of an inbox (each
   * fan-out delivery to an idle one) runs this.
   */
  private migrate(): void {
    const hasMeta = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'inbox_meta'").one().n > 0;
    if (hasMeta && this.sql.exec<{ version: number }>('SELECT version FROM inbox_meta').toArray()[0]?.version === INBOX_SCHEMA_VERSION) return;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS notifications (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL,
        group_key TEXT, read INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS notifications_group ON notifications (group_key, updated_at) WHERE group_key IS NOT NULL;
      CREATE INDEX IF NOT EXISTS notifications_unread ON notifications (read, seq);
      -- Idempotency keys of queued deliveries already handled (see Delivery.key).
      CREATE TABLE IF NOT EXISTS delivered (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS delivered_at ON delivered (at);
      -- Flood control: when each source last notified or was retracted, and what each stranger caused lately.
      CREATE TABLE IF NOT EXISTS sources (key TEXT PRIMARY KEY, sent_at INTEGER, retracted_at INTEGER);
      CREATE INDEX IF NOT EXISTS sources_last_used ON sources (MAX(COALESCE(sent_at, 0), COALESCE(retracted_at, 0)));
      CREATE TABLE IF NOT EXISTS flood (actor TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS flood_actor ON flood (actor, at);
      -- Removed notifications (at the removal's seq; was_seq is where the notification stood), so a
      -- reconnect with ?since= learns about removals too, also when since names the removed one.
      CREATE TABLE IF NOT EXISTS removed (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, was_seq INTEGER NOT NULL);
      -- Where a grouped notification stood before it moved (it moves to a new seq when it grows or
      -- shrinks), so ?since= naming it replays from its oldest place: see anchorOf.
      CREATE TABLE IF NOT EXISTS moved (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS moved_id ON moved (id);
      -- Accounts named here that are suspended (see refreshStanding), and where a notification's view
      -- changed in place because of one (so ?since= replays the change: see fetch).
      CREATE TABLE IF NOT EXISTS suspended_accounts (user_id TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS standing_changes (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
    `);
    const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(notifications)').toArray().map((c) => c.name));
    // Inboxes created before retraction lack the source column; before version 3, hidden and shown.
    if (!columns.has('source')) this.sql.exec('ALTER TABLE notifications ADD COLUMN source TEXT');
    if (!columns.has('hidden')) this.sql.exec('ALTER TABLE notifications ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0');
    if (!columns.has('shown')) this.sql.exec('ALTER TABLE notifications ADD COLUMN shown TEXT');
    this.sql.exec('CREATE INDEX IF NOT EXISTS notifications_source ON notifications (source) WHERE source IS NOT NULL');
    InboxPush.createTables(this.sql);
    PostImpressions.createTables(this.sql);
    this.sql.exec('CREATE TABLE IF NOT EXISTS inbox_meta (version INTEGER NOT NULL)');
    this.sql.exec('DELETE FROM inbox_meta');
    this.sql.exec('INSERT INTO inbox_meta (version) VALUES (?)', INBOX_SCHEMA_VERSION);
  }

  private present(row: Row): Notification {
    // Rows hold only what a Delivery carried: one of the types, with its data (as shown while someone it names is suspended).
    return { id: row.id, type: row.type, data: JSON.parse(row.shown ?? row.data), read: row.read === 1, created_at: new Date(row.created_at).toISOString() } as Notification;
  }

  private frame(row: Row): string {
    const n = this.present(row);
    return JSON.stringify({ type: n.type, data: n.data, id: n.id, created_at: n.created_at });
  }

  /** Notifications, removals and changes of standing share one sequence, so `?since=` replays them in order. */
  private nextSeq(): number {
    const max = (table: string) => this.sql.exec<{ seq: number | null }>(`SELECT MAX(seq) AS seq FROM ${table}`).one().seq ?? 0;
    return Math.max(max('notifications'), max('removed'), max('standing_changes')) + 1;
  }

  /**
   * Remembers where a grouped notification stood before it moves to `to` (see anchorOf), for the last
   * INBOX_CAP places like the rest (a group liked many times moves as often).
   */
  private move(row: Row, to: number): void {
    if (row.seq === to) return;
    this.sql.exec('INSERT OR IGNORE INTO moved (seq, id) VALUES (?, ?)', row.seq, row.id);
    this.sql.exec('DELETE FROM moved WHERE seq <= ?', to - INBOX_CAP);
  }

  /**
   * Where a replay from notification `id` starts: the oldest place it has held (now, before it moved, or
   * before it was removed), or null when this inbox no longer knows it. A client that last saw a grouped
   * notification may have seen any of its versions, so replaying from the oldest may repeat a few frames
   * (a frame with a known id replaces the notification) but never skips one.
   */
  private anchorOf(id: string): number | null {
    return this.sql
      .exec<{ seq: number | null }>(
        `SELECT MIN(seq) AS seq FROM (SELECT seq FROM notifications WHERE id = ?1 UNION ALL SELECT was_seq FROM removed WHERE id = ?1
           UNION ALL SELECT seq FROM moved WHERE id = ?1)`,
        id,
      )
      .one().seq;
  }

  private push(frame: string, kind: string): void {
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
        sent++;
      } catch {
        // a closing socket does not stop delivery to the others
      }
    }
    if (sent > 0) recordFrame(this.env.METRICS, { socket: 'notifications', direction: 'out', kind, sockets: sent });
  }

  /**
   * Flood control, decided here for every notification whoever caused it: a delivery retracted after it
   * happened, a repeat of its source within `quietMs`, or a stranger's delivery past {@link FLOOD_LIMIT}
   * an hour is dropped. True when it may be stored.
   */
  private admit(delivery: Delivery, now: number): boolean {
    const at = delivery.at ?? now;
    if (delivery.source) {
      const row = this.sql.exec<{ sent_at: number | null; retracted_at: number | null }>('SELECT sent_at, retracted_at FROM sources WHERE key = ?', delivery.source).toArray()[0];
      const windowOpen = row?.sent_at == null || !delivery.quietMs || at - row.sent_at >= delivery.quietMs;
      // The window starts with each request that would have notified, even one cancelled before it arrived.
      // A source without a window (a like, a comment) keeps no row per notification: only a retraction's.
      if (windowOpen && delivery.quietMs) {
        this.pruneSources(at);
        this.sql.exec('INSERT INTO sources (key, sent_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET sent_at = excluded.sent_at', delivery.source, at);
      }
      if (row?.retracted_at != null && row.retracted_at >= at) return false;
      if (!windowOpen) return false;
    }
    if (delivery.floodFrom) {
      this.sql.exec('DELETE FROM flood WHERE at <= ?', now - FLOOD_WINDOW_MS);
      const recent = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM flood WHERE actor = ?', delivery.floodFrom).one().n;
      if (recent >= FLOOD_LIMIT) return false;
      this.sql.exec('INSERT INTO flood (actor, at) VALUES (?, ?)', delivery.floodFrom, now);
    }
    return true;
  }

  /**
   * True the first time a delivery key is seen (and remembers it), false for a repeat. Runs before any
   * await, like all of deliver(), so two copies of one message arriving together cannot both pass.
   */
  private firstDelivery(key: string, now: number): boolean {
    if (this.sql.exec('SELECT 1 FROM delivered WHERE key = ?', key).toArray().length > 0) return false;
    this.sql.exec('DELETE FROM delivered WHERE at < ?', now - DELIVERY_KEY_TTL_MS);
    this.sql.exec('INSERT INTO delivered (key, at) VALUES (?, ?)', key, now);
    return true;
  }

  /**
   * Stores a notification (or folds it into a recent unread one of the same group), then pushes it;
   * a repeated idempotency key first, then flood control, may drop it.
   */
  async deliver(delivery: Delivery): Promise<void> {
    const now = Date.now();
    if (delivery.key !== undefined && !this.firstDelivery(delivery.key, now)) return;
    if (!this.admit(delivery, now)) return;
    const seq = this.nextSeq();
    let row: Row | undefined;
    /** The group it joined, as it was until now. */
    let grown: Row | undefined;
    if (delivery.groupKey) {
      const open = this.sql
        .exec<Row>('SELECT * FROM notifications WHERE group_key = ? AND read = 0 AND updated_at > ? ORDER BY seq DESC LIMIT 1', delivery.groupKey, now - GROUP_WINDOW_MS)
        .toArray()[0];
      if (open) {
        const data = JSON.parse(open.data) as JsonObject;
        const previous = (data.actors as JsonObject[] | undefined) ?? [];
        const repeat = previous.some((a) => a.id === delivery.actor?.id);
        // The latest five actors are shown; count says how many there were in all.
        const actors = [delivery.actor, ...previous.filter((a) => a.id !== delivery.actor?.id)].filter((a): a is JsonObject => Boolean(a)).slice(0, 5);
        const merged = { ...data, ...delivery.data, actors, count: Number(data.count ?? previous.length) + (repeat ? 0 : 1) };
        row = this.regroup(open, seq, merged, now);
        grown = open;
      }
    }
    if (!row) {
      const data = JSON.stringify(delivery.groupKey ? { ...delivery.data, actors: delivery.actor ? [delivery.actor] : [], count: 1 } : delivery.data);
      // Naming an account suspended by the time it arrives, it is kept hidden (as if delivered before).
      const view = this.viewOf(data, delivery.groupKey ?? null);
      row = this.sql.exec<Row>(
        'INSERT INTO notifications (seq, id, type, data, group_key, source, created_at, updated_at, hidden, shown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
        seq,
        newId(now),
        delivery.type,
        data,
        delivery.groupKey ?? null,
        delivery.groupKey ? null : (delivery.source ?? null),
        now,
        now,
        view.hidden,
        view.shown,
      ).one();
      // Past the cap, the oldest rows go (before it there is nothing to delete: one fan-out delivery to a
      // young inbox saves four statements).
      if (seq > INBOX_CAP) for (const table of ['notifications', 'removed', 'moved', 'standing_changes']) this.sql.exec(`DELETE FROM ${table} WHERE seq <= ?`, seq - INBOX_CAP);
    }
    this.announce(row, grown);
    // A notification new to its user (a grouped one that grows is not, unless it was hidden until now)
    // that nobody saw live goes out as a Web Push.
    if (!row.hidden && (grown === undefined || grown.hidden === 1) && this.ctx.getWebSockets().length === 0) await this.pushes.offer(this.present(row));
  }

  /** The accounts this inbox hides while they are suspended (see refreshStanding). */
  private suspendedAccounts(): Set<string> {
    return new Set(this.sql.exec<{ user_id: string }>('SELECT user_id FROM suspended_accounts').toArray().map((r) => r.user_id));
  }

  /** How a notification with this data shows now (see inbox-standing.ts). */
  private viewOf(data: string, groupKey: string | null): StandingView {
    return standingView(data, groupKey, this.suspendedAccounts());
  }

  /** Stores a grouped notification's new data, with its view, moving it to `seq` (see move); returns it. */
  private regroup(row: Row, seq: number, data: JsonObject, now: number): Row {
    const json = JSON.stringify(data);
    const view = this.viewOf(json, row.group_key);
    this.move(row, seq);
    this.sql.exec('UPDATE notifications SET seq = ?, data = ?, updated_at = ?, hidden = ?, shown = ? WHERE seq = ?', seq, json, now, view.hidden, view.shown, row.seq);
    return this.sql.exec<Row>('SELECT * FROM notifications WHERE seq = ?', seq).one();
  }

  /**
   * Tells open sockets how a notification shows after a change (`before`: how it showed until then;
   * none when it is new): its frame, or `notification.removed` once it is hidden.
   */
  private announce(row: Row, before?: Pick<Row, 'hidden'>): void {
    if (!row.hidden) this.push(this.frame(row), row.type);
    else if (before && !before.hidden) this.push(removedFrame(row.id), 'notification.removed');
  }

  /**
   * Counts views of this user's posts (each message key once): the impressions consumer's call before the
   * counters moved to the ImpressionCounter shards, kept for a consumer of that version still running
   * during a deployment; the insights read adds what an inbox holds (storedImpressions).
   */
  async recordImpressions(batches: ImpressionBatch[]): Promise<number> {
    return this.impressions.record(batches);
  }

  /** As recordImpressions, summed (null: send them per message; see PostImpressions.recordSummed). */
  async recordSummedImpressions(keys: string[], posts: PostViews[]): Promise<number | null> {
    return this.impressions.recordSummed(keys, posts);
  }

  /** The counters of one of this user's posts kept here (views counted before the shards), or null. */
  async storedImpressions(postId: string): Promise<StoredImpressions | null> {
    return this.impressions.stored(postId);
  }

  /** The push module's word on which subscriptions this user has (see inbox-push.ts). */
  async setPushTargets(userId: string, subscriptionIds: string[], active: boolean): Promise<void> {
    this.pushes.setTargets(userId, subscriptionIds, active);
  }

  /**
   * Undoes a notification whose cause was undone (a friend request cancelled, a follow or like taken
   * back): removes it from the list and the unread count and sends `{ "type": "notification.removed", "id" }`
   * to every open socket; in a group (likes, followers) it takes the actor out instead, removing the
   * notification once nobody is left. Remembered, so a delivery of the same source that happened before
   * the retraction but arrives after it is dropped.
   */
  async retract(retraction: Retraction): Promise<void> {
    this.noteRetraction(retraction.source, retraction.at);
    if (retraction.groupKey && retraction.actorId) {
      const open = this.sql
        .exec<Row>('SELECT * FROM notifications WHERE group_key = ? AND read = 0 ORDER BY seq DESC LIMIT 1', retraction.groupKey)
        .toArray()[0];
      if (open) this.withoutActor(open, retraction.actorId);
      return;
    }
    this.remove(this.sql.exec<Row>('SELECT * FROM notifications WHERE source = ?', retraction.source).toArray());
  }

  /** Remembers that `source` was undone at `at`, so a delivery of it from before then is dropped (see admit). */
  private noteRetraction(source: string, at: number): void {
    this.pruneSources(Date.now());
    this.sql.exec(
      'INSERT INTO sources (key, retracted_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET retracted_at = MAX(COALESCE(retracted_at, 0), excluded.retracted_at)',
      source,
      at,
    );
  }

  /** Deletes the source rows unused for {@link SOURCE_TTL_MS} (an index range), as each new one is written. */
  private pruneSources(now: number): void {
    this.sql.exec('DELETE FROM sources WHERE MAX(COALESCE(sent_at, 0), COALESCE(retracted_at, 0)) < ?', now - SOURCE_TTL_MS);
  }

  /**
   * Takes one actor out of a grouped notification (removing it once nobody is left); a group that does
   * not show them among its latest actors is left as it is.
   */
  private withoutActor(row: Row, actorId: string): void {
    const data = JSON.parse(row.data) as JsonObject;
    const rest = groupWithout(data, (id) => id === actorId);
    if (rest === data) return;
    if (rest === null) return this.remove([row]);
    this.announce(this.regroup(row, this.nextSeq(), rest, Date.now()), row);
  }

  /**
   * Forgets a user (a block between them and this inbox's owner): every notification naming them (as
   * `author`, `user`, `from_user`, `sender`, …: their profile, and their words in `new_post` or
   * `new_message`) goes, and they leave the groups they are in; each change reaches open sockets as a
   * retraction does. Neither side of a block sees the other, their inbox included.
   */
  async forgetUser(userId: string): Promise<void> {
    this.sql.exec('DELETE FROM suspended_accounts WHERE user_id = ?', userId);
    for (const row of this.naming(userId)) {
      const data = JSON.parse(row.data) as JsonObject;
      if (row.group_key && (data.actors as JsonObject[] | undefined)?.some((a) => a.id === userId)) this.withoutActor(row, userId);
      else if (namesAccount(data, (id) => id === userId)) this.remove([row]);
    }
  }

  /** The notifications whose data mentions `userId` anywhere, oldest first (their fields are checked after). */
  private naming(userId: string): Row[] {
    return this.sql.exec<Row>('SELECT * FROM notifications WHERE instr(data, ?) > 0 ORDER BY seq', JSON.stringify(userId)).toArray();
  }

  /**
   * Re-reads from D1 whether an account is suspended (after its suspension or the lift: the fan-out
   * queue's `account.standing`, src/queues/fanout.ts) and shows this inbox's notifications accordingly.
   * While it is, every notification naming it (its profile as `author`, `user`, `from_user`, `sender`, …,
   * its words in `new_post` or `new_message`) is hidden: not listed, not counted, not replayed, and it is
   * left out of the groups it is in (a group with nobody else is hidden). Open sockets get what a block
   * sends (`notification.removed`, or the shrunk group). Nothing is deleted: once the suspension is
   * lifted each comes back as it was (same id, place, data and read state) and open sockets get its
   * frame again. D1 is the authority, so a redelivered or late message cannot leave the wrong state;
   * calls run one at a time, so an older read never lands after a newer one. While it hides anyone the
   * inbox re-reads them every {@link STANDING_RECHECK_MS} (alarm).
   */
  async refreshStanding(userId: string): Promise<void> {
    await exclusively(this.ctx, () => this.readStandings([userId]));
  }

  /**
   * Re-reads accounts from D1 and shows their notifications accordingly (see refreshStanding); one this
   * inbox hides that is gone from D1 is forgotten, as its deletion's own message would.
   */
  private async readStandings(userIds: string[]): Promise<void> {
    const standings = await standingsOf(this.env.DB, userIds);
    const hidden = this.suspendedAccounts();
    for (const userId of userIds) {
      const suspended = standings.get(userId);
      if (suspended === undefined) {
        if (hidden.has(userId)) await this.forgetUser(userId);
        continue;
      }
      if (suspended === hidden.has(userId)) continue;
      if (suspended) this.sql.exec('INSERT INTO suspended_accounts (user_id) VALUES (?)', userId);
      else this.sql.exec('DELETE FROM suspended_accounts WHERE user_id = ?', userId);
      this.restyle(userId);
    }
    if (this.suspendedAccounts().size > 0 && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + STANDING_RECHECK_MS);
  }

  /** Shows the notifications naming `userId` as the suspended accounts now say, in place (seq and place in the list stay). */
  private restyle(userId: string): void {
    const accounts = this.suspendedAccounts();
    for (const row of this.naming(userId)) {
      const view = standingView(row.data, row.group_key, accounts);
      if (view.hidden === row.hidden && view.shown === row.shown) continue;
      this.sql.exec('UPDATE notifications SET hidden = ?, shown = ? WHERE seq = ?', view.hidden, view.shown, row.seq);
      // Noted for replays (fetch): the change has a place in the sequence although the row keeps its own.
      this.sql.exec('INSERT INTO standing_changes (seq, id) VALUES (?, ?)', this.nextSeq(), row.id);
      this.announce({ ...row, ...view }, row);
    }
  }

  /**
   * The account was deleted: everything its inbox holds goes (notifications, delivery keys, flood and
   * retraction records, push targets, impression counters) and its sockets close with `code`. The
   * tables stay, so a late call finds an empty inbox. Idempotent.
   */
  async erase(code: number): Promise<void> {
    await this.closeSockets(code, 'the account was deleted');
    const tables = this.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND substr(name, 1, 4) != '_cf_' AND name != 'inbox_meta'")
      .toArray();
    for (const { name } of tables) this.sql.exec(`DELETE FROM "${name}"`);
    await this.ctx.storage.deleteAlarm();
  }

  private remove(rows: Row[]): void {
    for (const row of rows) {
      // The removal's seq is taken before the row goes, so it is newer than everything (and never reused).
      this.sql.exec('INSERT INTO removed (seq, id, was_seq) VALUES (?, ?, ?)', this.nextSeq(), row.id, row.seq);
      this.sql.exec('DELETE FROM notifications WHERE seq = ?', row.seq);
      // A hidden one already left the sockets' lists.
      if (!row.hidden) this.push(removedFrame(row.id), 'notification.removed');
    }
  }

  /**
   * The inbox's alarm: while it hides suspended accounts, it re-reads them from D1 (see
   * STANDING_RECHECK_MS; it sets the next alarm while any is still suspended), and it hands over old
   * fan-out batches (handOverOldBatches).
   */
  override async alarm(): Promise<void> {
    const hidden = [...this.suspendedAccounts()];
    if (hidden.length > 0) await exclusively(this.ctx, () => this.readStandings(hidden));
    await this.handOverOldBatches();
  }

  /**
   * Fan-out goes through the kith-fanout queue (src/queues/fanout.ts). An inbox from before it may still
   * hold undelivered rows of the old alarm-driven batches (table `fanout`), with an alarm set: that
   * alarm hands them to the queue (one message chunk per delivery, under a fresh idempotency key) and
   * drops the table. A failed send throws, so the runtime retries the alarm and nothing is lost.
   */
  private async handOverOldBatches(): Promise<void> {
    if (this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fanout'").toArray().length === 0) return;
    const groups = new Map<string, string[]>();
    for (const row of this.sql.exec<{ recipient: string; delivery: string }>('SELECT recipient, delivery FROM fanout ORDER BY id')) {
      groups.set(row.delivery, [...(groups.get(row.delivery) ?? []), row.recipient]);
    }
    for (const [delivery, recipients] of groups) await queueDeliveries(this.env, recipients, JSON.parse(delivery) as Delivery);
    this.sql.exec('DROP TABLE fanout');
  }

  /** Newest first; `unread` keeps only unread ones; `before` is the seq cursor. */
  async list(query: { unread: boolean; limit: number; before?: number }): Promise<{ data: Notification[]; next: number | null }> {
    const rows = this.sql
      .exec<Row>(
        `SELECT * FROM notifications WHERE seq < ? AND hidden = 0 ${query.unread ? 'AND read = 0' : ''} ORDER BY seq DESC LIMIT ?`,
        query.before ?? Number.MAX_SAFE_INTEGER,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    return { data: page.map((r) => this.present(r)), next: rows.length > query.limit ? page[page.length - 1]!.seq : null };
  }

  /**
   * Forgets notifications about removed content: a post's `new_post` (it quotes the text), the
   * `wall_post` pointing at it and every `mention`, `post_comment` and `comment_reply` on it (its
   * comments went with it); deleted comments' `post_comment`, `comment_reply` and `mention` (by the
   * `comment_id` they carry), remembered as retracted at `at` so that one still on its way is dropped;
   * or a message's `new_message` (which holds its text). None of these is grouped: each goes like a
   * retraction, with a `notification.removed` frame to open sockets, and remembered for `?since=`.
   */
  async forget(ref: ForgetRef): Promise<void> {
    if (ref.postId) {
      this.impressions.forget(ref.postId);
      this.remove(
        this.sql
          .exec<Row>(
            `SELECT * FROM notifications WHERE (type = 'new_post' AND json_extract(data, '$.id') = ?1)
               OR (type IN ('wall_post', 'mention', 'post_comment', 'comment_reply') AND json_extract(data, '$.post_id') = ?1)`,
            ref.postId,
          )
          .toArray(),
      );
    }
    if (ref.commentIds?.length) {
      const at = ref.at ?? Date.now();
      for (const id of ref.commentIds) this.noteRetraction(commentSource(id), at);
      this.remove(
        this.sql
          .exec<Row>(
            `SELECT * FROM notifications WHERE type IN ('post_comment', 'comment_reply', 'mention') AND json_extract(data, '$.comment_id') IN (SELECT value FROM json_each(?))`,
            JSON.stringify(ref.commentIds),
          )
          .toArray(),
      );
    }
    if (ref.messageId) this.remove(this.sql.exec<Row>("SELECT * FROM notifications WHERE type = 'new_message' AND json_extract(data, '$.id') = ?", ref.messageId).toArray());
  }

  /**
   * Closes every notification socket of this user (their account was suspended), or only those opened
   * with the given sessions (devices signed out).
   */
  async closeSockets(code: number, reason: string, sessionIds?: string[]): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      if (sessionIds && !sessionIds.includes((ws.deserializeAttachment() as { sessionId?: string } | null)?.sessionId ?? '')) continue;
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  /**
   * Whether a notification is still worth a push: here, unread and not hidden. A push retried minutes
   * later (push-delivery.ts) asks first, so a notification retracted meanwhile (an unsent message, a
   * cancelled request), hidden by a suspension, or already read in the app never reaches the lock screen.
   */
  async pushable(id: string): Promise<boolean> {
    return this.sql.exec('SELECT 1 FROM notifications WHERE id = ? AND read = 0 AND hidden = 0', id).toArray().length > 0;
  }

  /** Unread notifications the user can see (hidden ones are not counted). */
  async unreadCount(): Promise<number> {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM notifications WHERE read = 0 AND hidden = 0').one().n;
  }

  /**
   * Marks the given notifications read (all when `ids` is omitted); unknown ids are ignored, and so are
   * hidden ones: they come back as they were when the suspension hiding them is lifted.
   */
  async markRead(ids?: string[]): Promise<number> {
    if (ids) this.sql.exec('UPDATE notifications SET read = 1 WHERE hidden = 0 AND id IN (SELECT value FROM json_each(?))', JSON.stringify(ids));
    else this.sql.exec('UPDATE notifications SET read = 1 WHERE read = 0 AND hidden = 0');
    return this.unreadCount();
  }

  /**
   * The user's notification socket (already authenticated by the worker). `?since=<id>` first replays
   * every notification that changed after that one, oldest first, then the socket is live.
   */
  override async fetch(request: Request): Promise<Response> {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    // The session (device) it was opened with, so signing that device out closes it.
    server.serializeAttachment({ sessionId: request.headers.get('X-Kith-Session') ?? undefined });
    const since = new URL(request.url).searchParams.get('since');
    if (since !== null) {
      const anchor = this.anchorOf(since);
      if (anchor !== null) {
        // Notifications, removals and changes of standing after the anchor, in the order they happened;
        // a change of standing is replayed as the notification shows now (its frame, or removed).
        const changes = this.sql
          .exec<{ id: string; gone: number }>(
            `SELECT seq, id, 0 AS gone FROM notifications WHERE seq > ?1 AND hidden = 0
             UNION ALL SELECT seq, id, 1 FROM removed WHERE seq > ?1
             UNION ALL SELECT s.seq, s.id, n.hidden FROM standing_changes s JOIN notifications n ON n.id = s.id WHERE s.seq > ?1 ORDER BY 1 ASC`,
            anchor,
          )
          .toArray();
        for (const { id, gone } of changes) {
          const row = gone ? undefined : this.sql.exec<Row>('SELECT * FROM notifications WHERE id = ?', id).one();
          server.send(row ? this.frame(row) : removedFrame(id));
        }
      } else {
        const rows = this.sql.exec<Row>('SELECT * FROM (SELECT * FROM notifications WHERE hidden = 0 ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC', REPLAY_LIMIT).toArray();
        for (const row of rows) server.send(this.frame(row));
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket): Promise<void> {
    recordFrame(this.env.METRICS, { socket: 'notifications', direction: 'in', kind: 'invalid', sockets: 1 });
    // Only ping is expected (answered by the runtime); anything else gets a short error.
    ws.send(JSON.stringify({ type: 'error', status: 400, detail: 'this socket only sends; use {"type":"ping"} to check it' }));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      // already closed
    }
  }
}

/** The frame telling open sockets a notification left the list. */
const removedFrame = (id: string) => JSON.stringify({ type: 'notification.removed', id });

/** The inbox's RPC surface as callers use it. */
export interface InboxApi {
  deliver(delivery: Delivery): Promise<void>;
  retract(retraction: Retraction): Promise<void>;
  list(query: { unread: boolean; limit: number; before?: number }): Promise<{ data: Notification[]; next: number | null }>;
  unreadCount(): Promise<number>;
  pushable(id: string): Promise<boolean>;
  markRead(ids?: string[]): Promise<number>;
  forget(ref: ForgetRef): Promise<void>;
  forgetUser(userId: string): Promise<void>;
  refreshStanding(userId: string): Promise<void>;
  erase(code: number): Promise<void>;
  closeSockets(code: number, reason: string, sessionIds?: string[]): Promise<void>;
  setPushTargets(userId: string, subscriptionIds: string[], active: boolean): Promise<void>;
  recordImpressions(batches: ImpressionBatch[]): Promise<number>;
  recordSummedImpressions(keys: string[], posts: PostViews[]): Promise<number | null>;
  storedImpressions(postId: string): Promise<StoredImpressions | null>;
  fetch(request: Request): Promise<Response>;
}

/**
 * A user's inbox. The stub is typed through {@link InboxApi}: the generated RPC types of free-form JSON
 * data recurse too deeply for TypeScript, and the methods are exactly these.
 */
export function inboxOf(env: Env, userId: string): InboxApi {
  return env.INBOXES.get(env.INBOXES.idFromName(userId)) as unknown as InboxApi;
}
