import { and, eq } from 'drizzle-orm';
import { purgeEdgeGroups, purgeProfile } from '../../lib/edge-cache';
import { mapRow, toStatement, uniqueViolation } from '../../db/client';
import { follows, users, type ProfessionalVisibility, type UserRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import type { AppEnv, AppRouteHandler } from '../../lib/types';
import type { Context } from 'hono';
import { sendEmailLink } from '../auth/email.service';
import { currentUser } from '../../middleware/auth';
import { screenText } from '../../policy/content-rules';
import { isAccountVisible } from '../../policy/visibility';
import { audit, type AuditEntry, requestIp } from '../audit/audit';
import { ownerChangesOnDeparture } from '../communities/communities.service';
import { insertAutoReport } from '../moderation/reports.store';
import { forgetSessions } from '../../lib/session-cache';
import { clearEndedCommunities, communitiesEndingWith } from '../communities/communities.service';
import { deleteOwnerObjects, uploadsKey } from '../media/media.service';
import { deleteExportObjects } from '../exports/exports.service';
import { keepAnAdmin } from '../messaging/messaging.service';
import { queueAccountForget } from '../../queues/fanout.producer';
import { accountTraces } from './account-erasure';
import { presentMe, presentProfile, presentPublicUser } from './users.presenter';
import { professionalVisibleTo } from '../professional/professional.service';
import { relationshipFromRow, relationshipStatement } from '../graph/relations';
import { ID_PATTERN } from '../../lib/ids';
import type { Relationship } from './users.schemas';
import { assertAvailable, conflict, requireUserRow } from './users.service';
import { reachKeysOf } from '../../policy/reach';
import { accountLoginKey } from '../auth/login-throttle';
import { confirmPassword } from '../auth/auth.service';
import { mailAllowanceKeysOf } from '../mail/mail-caps';
import { mailDeps } from '../mail/mail-requests';
import { revokeTurnCredentials } from '../calls/calls.service';
import type * as routes from './users.routes';

export const getMe: AppRouteHandler<typeof routes.getMe> = async (c) => {
  const user = await requireUserRow(c.get('db'), currentUser(c).userId);
  return c.json(presentMe(user, c.get('baseUrl')), 200);
};

export const updateMe: AppRouteHandler<typeof routes.updateMe> = async (c) => {
  const { userId } = currentUser(c);
  const body = c.req.valid('json');
  const db = c.get('db');
  if (body.username) await assertAvailable(db, { username: body.username }, userId);
  const verdict = await screenText(c, [{ field: 'display_name', text: body.display_name }, { field: 'bio', text: body.bio }], 'profile');
  // A new address is only mailed a link here; it replaces `email` once verified (POST /auth/email/verify).
  if (body.email !== undefined) await requestEmailChange(c, userId, body.email, body.current_password ?? '');

  // A rename purges the cached profile under the old name too.
  const oldUsername = body.username !== undefined ? (await requireUserRow(db, userId)).username : undefined;
  const changes: Partial<UserRow> = {};
  if (body.display_name !== undefined) changes.displayName = body.display_name;
  if (body.bio !== undefined) changes.bio = body.bio;
  if (body.website !== undefined) changes.website = body.website;
  if (body.links !== undefined) changes.links = body.links;
  if (body.birthdate !== undefined) changes.birthdate = body.birthdate;
  if (body.gender !== undefined) changes.gender = body.gender;
  if (body.username !== undefined) changes.username = body.username;
  if (body.visibility !== undefined) changes.visibility = body.visibility;
  if (body.wall_policy !== undefined) changes.wallPolicy = body.wall_policy;
  if (body.discoverable !== undefined) changes.discoverable = body.discoverable;
  if (body.message_policy !== undefined) changes.messagePolicy = body.message_policy;
  if (body.location !== undefined) {
    changes.locationCountry = body.location?.country ?? null;
    changes.locationRegion = body.location?.region ?? null;
    changes.locationCity = body.location?.city ?? null;
  }
  if (Object.keys(changes).length > 0) {
    try {
      const update = db.update(users).set({ ...changes, updatedAt: new Date() }).where(eq(users.id, userId));
      // Going public lets every pending follow request through, in the same transaction.
      const approvePending = db.update(follows).set({ status: 'accepted' }).where(and(eq(follows.followeeId, userId), eq(follows.status, 'pending')));
      const statements = [toStatement(c.var.d1, update)];
      if (body.visibility === 'public') statements.push(toStatement(c.var.d1, approvePending));
      // A flagged bio or name is published and opens a report, in the same transaction.
      if (verdict.action === 'flag') {
        const before = await requireUserRow(db, userId);
        const after = { ...before, ...changes };
        statements.push(
          insertAutoReport(c.var.d1, verdict.reason, {
            subjectType: 'user',
            subjectId: userId,
            subjectUserId: userId,
            snapshot: { author: presentPublicUser(after, c.get('baseUrl')), content: after.bio, media: [] },
          }).statement,
        );
      }
      await c.var.d1.batch(statements);
    } catch (err) {
      if (uniqueViolation(err) === 'username') throw conflict([{ field: 'username', message: 'is already taken' }]);
      throw err;
    }
  }
  const after = await requireUserRow(db, userId);
  if (Object.keys(changes).length > 0) {
    await purgeProfile(after, oldUsername);
    // Going private hides posts from anonymous readers: every cached post goes.
    if (body.visibility !== undefined) await purgeEdgeGroups('posts');
  }
  return c.json(presentMe(after, c.get('baseUrl')), 200);
};

/** Checks the password and the address, then mails the new address its link (429 past the hourly cap). */
async function requestEmailChange(c: Context<AppEnv>, userId: string, email: string, password: string): Promise<void> {
  const user = await requireUserRow(c.get('db'), userId);
  await confirmPassword(c, user, password, 'current_password');
  if (email === user.email) return;
  await assertAvailable(c.get('db'), { email }, userId);
  // Recorded (without the address) so the account's security events show a change it did not ask for.
  const requested: AuditEntry = { action: 'auth.email_change_requested', actorId: userId, subjectType: 'user', subjectId: userId, ip: requestIp(c) };
  const refusal = await sendEmailLink(mailDeps(c), userId, email, 'change', requested);
  if (refusal) throw refusal;
}

export const deleteMe: AppRouteHandler<typeof routes.deleteMe> = async (c) => {
  const { userId } = currentUser(c);
  const db = c.get('db');
  const user = await requireUserRow(db, userId);
  await confirmPassword(c, user, c.req.valid('json').password, 'password');
  const endedCommunities = await communitiesEndingWith(c, userId);
  const handovers = await ownerChangesOnDeparture(c, userId);
  // Its messages in rooms and its notifications in other inboxes are out of D1's reach: found now (the
  // delete cascades the rows that lead to them) and queued before the delete, so a failed send fails the
  // deletion rather than losing the clean-up; the consumer waits until the account is gone from D1.
  const traces = await accountTraces(c.var.d1, userId);
  await queueAccountForget(c.env, userId, traces);
  const groups = traces.conversations.filter((t) => t.kind === 'group').map((t) => t.id);
  // Its TURN credentials are looked up while their rows exist (the delete cascades them), and revoked
  // once the account is gone.
  await revokeTurnCredentials(c, { userId }, { onlyIfAnswered: true });
  // D1 first (the source of truth; cascades remove sessions, tokens, media rows and memberships, and
  // triggers hand owned communities over; a group it administered gets a new admin), recorded in the
  // same batch; then the objects D1 cannot reach.
  const ip = requestIp(c);
  await audit(
    c.var.d1,
    [
      { action: 'account.deleted', actorId: userId, subjectType: 'user', subjectId: userId, ip, data: { username: user.username } },
      ...handovers.map((h) => ({
        action: 'community.owner_changed' as const,
        actorId: userId,
        subjectType: 'community' as const,
        subjectId: h.communityId,
        ip,
        data: { from: userId, to: h.successorId, reason: 'account_deleted' },
      })),
    ],
    [
      toStatement(c.var.d1, db.delete(users).where(eq(users.id, userId))),
      ...(groups.length > 0 ? [keepAnAdmin(c.var.d1, groups)] : []),
      // Its throttle windows are keyed by text, not tied to the row: they go with it.
      c.var.d1.prepare('DELETE FROM auth_throttles WHERE key IN (SELECT value FROM json_each(?1))').bind(JSON.stringify([...reachKeysOf(userId), accountLoginKey(userId), ...mailAllowanceKeysOf(userId), uploadsKey(userId)])),
    ],
  );
  forgetSessions({ userId });
  await deleteOwnerObjects(c.env, userId);
  await deleteExportObjects(c.env, userId);
  // The profile, every post of the account and the communities it ended leave the edge cache (its images: deleteOwnerObjects).
  await purgeProfile(user);
  await purgeEdgeGroups('posts', 'communities');
  await clearEndedCommunities(c, endedCommunities);
  return c.body(null, 204);
};

export const getUser: AppRouteHandler<typeof routes.getUser> = async (c) => {
  const ref = c.req.valid('param').id_or_username;
  const viewer = c.get('auth');
  const db = c.var.d1;
  // One round trip: the user and, for a signed-in viewer given an id, every relationship flag.
  const byId = ID_PATTERN.test(ref);
  const lookup = db
    .prepare(
      `SELECT u.*, pp.headline AS professional_headline, pp.visibility AS professional_visibility
       FROM users u LEFT JOIN professional_profiles pp ON pp.user_id = u.id WHERE u.${byId ? 'id' : 'username'} = ?1`,
    )
    .bind(byId ? ref : ref.toLowerCase());
  const withRelation = viewer && byId && viewer.userId !== ref;
  const [userResult, relationResult] = await db.batch<Record<string, unknown>>(
    withRelation ? [lookup, relationshipStatement(db, viewer.userId, ref)] : [lookup],
  );
  const raw = userResult?.results[0];
  if (!raw) throw new ApiError('not_found', 'No such user.');
  const user = mapRow(users, raw);
  // A suspended account is absent for everyone else (it cannot sign in to read itself).
  if (!isAccountVisible(user) && viewer?.userId !== user.id) throw new ApiError('not_found', 'No such user.');
  let relationship: Relationship | undefined;
  if (viewer && viewer.userId !== user.id) {
    const row = withRelation ? relationResult?.results[0] : await relationshipStatement(db, viewer.userId, user.id).first();
    const found = relationshipFromRow(row as Parameters<typeof relationshipFromRow>[0]);
    // A block in either direction makes the profile invisible, as if it did not exist.
    if (found.blockedEither) throw new ApiError('not_found', 'No such user.');
    relationship = found.relationship;
  } else if (viewer) {
    relationship = relationshipFromRow(undefined).relationship;
  }
  const headline = raw.professional_headline as string | null;
  const headlineVisible =
    headline !== null &&
    professionalVisibleTo(raw.professional_visibility as ProfessionalVisibility, user.visibility === 'private', {
      self: viewer?.userId === user.id,
      friend: relationship?.friend ?? false,
      following: relationship?.following ?? false,
    });
  return c.json(presentProfile(user, c.get('baseUrl'), headlineVisible ? headline : null, relationship), 200);
};
