import type { Notification } from './notifications.schemas';

/** The one kind of message on the push queue: push this notification to the user's subscriptions. */
export interface PushMessage {
  type: 'push.notification';
  user_id: string;
  notification: Notification;
  /** Only these subscriptions (a retry of the ones that failed); all the user's when omitted. */
  subscription_ids?: string[];
  /** Retries made so far. */
  attempt?: number;
}

/**
 * Push delivery beside a UserInbox: the inbox keeps, in its own storage, which push subscriptions its
 * user has (told by the push module when they change), and for a notification stored while no
 * notifications socket is open it queues one push message; the push queue's consumer does the rest.
 * An inbox whose user has no subscription queues nothing.
 */
export class InboxPush {
  constructor(
    private readonly env: Env,
    private readonly sql: SqlStorage,
  ) {}

  /** Its table, created by the inbox's migration (UserInbox.migrate). */
  static createTables(sql: SqlStorage): void {
    sql.exec('CREATE TABLE IF NOT EXISTS push_targets (id TEXT PRIMARY KEY, user_id TEXT NOT NULL)');
  }

  setTargets(userId: string, ids: string[], active: boolean): void {
    for (const id of ids) {
      if (active) this.sql.exec('INSERT OR IGNORE INTO push_targets (id, user_id) VALUES (?, ?)', id, userId);
      else this.sql.exec('DELETE FROM push_targets WHERE id = ?', id);
    }
  }

  /** Queues the push of a notification the user could not see live; a failure is logged, never the delivery's. */
  async offer(notification: Notification): Promise<void> {
    const target = this.sql.exec<{ user_id: string }>('SELECT user_id FROM push_targets LIMIT 1').toArray()[0];
    if (!target) return;
    try {
      await this.env.PUSH_QUEUE.send({ type: 'push.notification', user_id: target.user_id, notification } satisfies PushMessage);
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', message: 'push not queued', notification_id: notification.id, error: String(err) }));
    }
  }
}
