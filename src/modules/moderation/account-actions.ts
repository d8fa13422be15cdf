import { postPath, purgeEdgeGroups, purgeEdgePaths } from '../../lib/edge-cache';
import type { Context } from 'hono';
import type { SiteRole, UserRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import type { AppEnv, Bindings } from '../../lib/types';
import { type AuditEntry, audit, requestIp } from '../audit/audit';
import { forgetSessions } from '../../lib/session-cache';
import { closeUserSockets } from '../auth/sessions.service';
import { releaseSilenceHoldsSql } from '../comments/comments.service';
import { revokeTurnCredentials } from '../calls/calls.service';
import { purgeOwnerMediaCopies } from '../media/media.service';
import { emitEvent, SYSTEM_ACTOR } from '../notifications/events';
import { accountTraces } from '../users/account-erasure';
import { presentPublicUser } from '../users/users.presenter';
import { queueAccountStanding } from '../../queues/fanout.producer';
import type { AccountState } from './moderation.schemas';
import { outranks } from '../../middleware/require-staff';

/**
 * Account actions: warn, silence and suspend (and the undo of the last two). They are columns of
 * `users` (suspended_at/until, silenced_at/until), so every read path applies them from the row it
 * already loads: the post pipeline's rules stage, the users-visibility predicate, the session check.
 * Timed actions are lifted by the Cron Trigger (src/scheduled.ts), which sweeps the two partial
 * indexes on `*_until` every minute and records each lift in the audit log.
 */
export type AccountActionKind = 'warn' | 'silence' | 'unsilence' | 'suspend' | 'unsuspend';

/** Close code for the sockets of a suspended account. */
export const SUSPENDED_CLOSE_CODE = 4403;

export function accountState(row: UserRow, baseUrl: string): AccountState {
  const status = row.suspendedAt ? 'suspended' : row.silencedAt ? 'silenced' : 'active';
  const until = status === 'suspended' ? row.suspendedUntil : status === 'silenced' ? row.silencedUntil : null;
  return { user: presentPublicUser(row, baseUrl), role: row.role, status, until: until ? until.toISOString() : null };
}

/** Refuses acting on yourself, and a moderator acting on an admin (403). */
export function assertMayActOn(actor: { userId: string; role: SiteRole }, target: Pick<UserRow, 'id' | 'role'>): void {
  if (target.id === actor.userId) throw new ApiError('forbidden', 'You cannot take action on your own account.');
  if (!outranks(actor.role, target.role)) throw new ApiError('forbidden', 'A moderator may not act on an admin.');
}

export interface PlannedAction {
  statements: D1PreparedStatement[];
  entry: AuditEntry;
  /** Right before the batch: queue a suspension's (or lift's) news to the account's rooms and inboxes. */
  before(): Promise<void>;
  /** After the batch committed: end the suspended account's access, send the warning. */
  after(c: Context<AppEnv>): Promise<void>;
}

/**
 * Queues `account.standing` to every room and inbox that shows the account (its traces, as a deletion
 * finds them: src/modules/users/account-erasure.ts): while it is suspended its conversations show a
 * hidden user and other people's notifications leave it out; lifted, both show it again. Sent before the
 * change commits, so a failed send fails the action rather than leaving them behind (the consumer waits
 * for D1 to show the change: src/queues/fanout.ts).
 */
async function queueStanding(env: Pick<Bindings, 'DB' | 'FANOUT_QUEUE'>, userId: string, suspended: boolean): Promise<void> {
  await queueAccountStanding(env, userId, suspended, await accountTraces(env.DB, userId));
}

/**
 * An account action as statements for the caller's batch, its audit entry, and what follows the
 * commit. `guard` (an SQL condition and its params) makes the change conditional, as when it rides on
 * a report resolution that may lose a race.
 */
export function planAccountAction(
  c: Context<AppEnv>,
  actorId: string | null,
  targetId: string,
  input: { action: AccountActionKind; reason: string; durationHours?: number },
  extra: { reportId?: string; guard?: { sql: string; params: unknown[] } } = {},
): PlannedAction {
  const db = c.var.d1;
  const now = Date.now();
  const until = input.durationHours ? now + input.durationHours * 3_600_000 : null;
  const guard = extra.guard;
  const n = guard?.params.length ?? 0;
  const where = (sql: string) => (guard ? `${sql} AND ${guard.sql}` : sql);
  const update = (set: string, ...values: unknown[]) =>
    db.prepare(where(`UPDATE users SET ${set} WHERE id = ?${n + 1}`)).bind(...(guard?.params ?? []), targetId, ...values);
  const statements: D1PreparedStatement[] = [];
  switch (input.action) {
    case 'suspend':
      statements.push(update(`suspended_at = ?${n + 2}, suspended_until = ?${n + 3}`, now, until));
      break;
    case 'unsuspend':
      statements.push(update('suspended_at = NULL, suspended_until = NULL'));
      break;
    case 'silence':
      statements.push(update(`silenced_at = ?${n + 2}, silenced_until = ?${n + 3}`, now, until));
      break;
    case 'unsilence':
      // The comments the silence held are published with it (they ask D1 whether it was lifted).
      statements.push(update('silenced_at = NULL, silenced_until = NULL'), db.prepare(releaseSilenceHoldsSql('?1')).bind(targetId));
      break;
    case 'warn':
      break;
  }
  const entry: AuditEntry = {
    action: 'account.action',
    actorId,
    subjectType: 'user',
    subjectId: targetId,
    ip: requestIp(c),
    data: { action: input.action, reason: input.reason, until: until ? new Date(until).toISOString() : null, ...(extra.reportId ? { report_id: extra.reportId } : {}) },
    when: guard,
  };
  return {
    statements,
    entry,
    async before() {
      if (input.action === 'suspend' || input.action === 'unsuspend') await queueStanding(c.env, targetId, input.action === 'suspend');
    },
    async after(ctx) {
      if (input.action === 'suspend') {
        await endAccess(ctx, targetId);
        // Its images stop being served (MEDIA_WITHDRAWN_SQL); their edge copies must not go on serving them.
        await purgeOwnerMediaCopies(ctx.var.d1, targetId);
      }
      // A suspension hides the profile and the posts (and a community's creator), a silence the posts,
      // from anonymous readers too; rare enough to orphan every cached profile, post and community list.
      if (input.action !== 'warn') await purgeEdgeGroups('users', 'posts', 'communities');
      if (input.action === 'warn' || input.action === 'silence') {
        emitEvent(ctx, {
          type: 'moderation_warning',
          actorId: SYSTEM_ACTOR,
          recipientId: targetId,
          data: { action: input.action, reason: input.reason, until: until ? new Date(until).toISOString() : null },
        });
      }
    },
  };
}

/**
 * A suspension takes effect at once: this isolate forgets the account's sessions (other isolates
 * refuse its writes already, since writes always ask D1, and stop serving its reads within the session
 * cache's 10 s), every socket it holds (conversations and notifications) is closed, and its TURN
 * credentials are revoked.
 */
export async function endAccess(c: Context<AppEnv>, userId: string): Promise<void> {
  forgetSessions({ userId });
  await Promise.all([closeUserSockets(c.env, userId, { code: SUSPENDED_CLOSE_CODE, reason: 'account suspended' }), revokeTurnCredentials(c, { userId })]);
}

/** POST /admin/users/{id}/actions: one action, recorded in the same batch. */
export async function applyAccountAction(
  c: Context<AppEnv>,
  actor: { userId: string; role: SiteRole },
  target: UserRow,
  input: { action: AccountActionKind; reason: string; durationHours?: number },
): Promise<void> {
  assertMayActOn(actor, target);
  const plan = planAccountAction(c, actor.userId, target.id, input);
  await plan.before();
  await audit(c.var.d1, plan.entry, plan.statements);
  await plan.after(c);
}

/**
 * The Cron Trigger's sweep: lifts every timed silence and suspension that is due (partial indexes
 * users_suspended_until_idx and users_silenced_until_idx), each with its audit entry in the same batch;
 * a suspension's lift is queued to its rooms and inboxes first (see queueStanding: should the send fail,
 * the sweep stops there and the next minute tries again). An action extended or undone meanwhile is left
 * alone (the UPDATE re-checks the time; rooms and inboxes re-read D1). Per account a few D1 statements and
 * queue sends whatever its audience, so a sweep of `limit` accounts stays well inside one invocation.
 */
export async function liftExpiredActions(env: Pick<Bindings, 'DB' | 'FANOUT_QUEUE'>, now = Date.now(), limit = 200): Promise<number> {
  const db = env.DB;
  const { results } = await db
    .prepare(
      `SELECT id, 'suspend' AS kind FROM users WHERE suspended_until <= ?1
       UNION ALL SELECT id, 'silence' FROM users WHERE silenced_until <= ?1 LIMIT ?2`,
    )
    .bind(now, limit)
    .all<{ id: string; kind: 'suspend' | 'silence' }>();
  for (const { id, kind } of results) {
    const column = kind === 'suspend' ? 'suspended' : 'silenced';
    if (kind === 'suspend') await queueStanding(env, id, false);
    const [, released] = await audit(
      db,
      {
        action: 'account.action',
        actorId: null,
        subjectType: 'user',
        subjectId: id,
        ip: null,
        data: { action: kind === 'suspend' ? 'unsuspend' : 'unsilence', reason: 'expired', until: null },
        // Recorded only if this sweep lifted it.
        when: { sql: `EXISTS (SELECT 1 FROM users WHERE id = ?1 AND ${column}_at IS NULL)`, params: [id] },
      },
      [
        db.prepare(`UPDATE users SET ${column}_at = NULL, ${column}_until = NULL WHERE id = ?1 AND ${column}_until <= ?2`).bind(id, now),
        // A silence's comments are published with its lift, as by hand (planAccountAction).
        ...(kind === 'silence' ? [db.prepare(releaseSilenceHoldsSql('?1')).bind(id)] : []),
      ],
    );
    // Their posts' cached copies count them now.
    const posts = new Set(((released?.results ?? []) as { post_id: string }[]).map((r) => r.post_id));
    if (posts.size > 0) await purgeEdgePaths('posts', [...posts].map(postPath));
  }
  return results.length;
}
