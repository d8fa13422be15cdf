import { and, asc, eq, inArray, or } from 'drizzle-orm';
import type { Context } from 'hono';
import { pushSubscriptions, type PushPolicy, type PushSubscriptionRow } from '../../db/schema';
import { fromBase64Url } from '../../lib/encoding';
import { ApiError } from '../../lib/errors';
import { addressKind, assertPublicHost, UnsafeUrlError } from '../../lib/public-address';
import { newId } from '../../lib/ids';
import type { AppEnv, AuthContext, Bindings } from '../../lib/types';
import { NOTIFICATION_TYPES, type NotificationType } from '../notifications/notifications.schemas';
import { inboxOf } from '../notifications/user-inbox';
import { isP256Point, vapidConfig } from './web-push';

/** Subscriptions kept per user (one per signed-in device); a new one past this replaces the stalest. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

type Alerts = Partial<Record<string, boolean>>;
interface PushData {
  alerts?: Alerts;
  policy?: PushPolicy;
}

/** The server's VAPID public key, or 503 when push is not configured. */
export async function serverKey(env: Bindings): Promise<string> {
  const vapid = await vapidConfig(env);
  if (!vapid) throw new ApiError('service_unavailable', 'Web push is not configured: set the VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY secrets (npm run vapid makes a pair).');
  return vapid.publicKey;
}

/** Every type on or off: the stored switches over the default (on). */
const allAlerts = (stored: Alerts) => Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, stored[type] !== false])) as Record<NotificationType, boolean>;

function present(row: PushSubscriptionRow, key: string) {
  return { id: row.id, endpoint: row.endpoint, alerts: allAlerts(row.alerts), policy: row.policy, server_key: key };
}

/**
 * An endpoint a push service could own: an absolute https URL on https's own port, naming its host (not
 * an address) that is not, and does not resolve to, a private or loopback address, without credentials.
 * PUSH_ALLOW_HTTP (local development) also lets plain http, loopback and other ports through; private
 * and link-local addresses never pass. Delivery never follows a redirect (web-push.ts).
 */
async function checkEndpoint(env: Bindings, endpoint: string): Promise<void> {
  const field = 'subscription.endpoint';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw ApiError.field(field, 'must be an absolute URL');
  }
  const local = env.PUSH_ALLOW_HTTP === 'true';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) throw ApiError.field(field, local ? 'must be an https or http URL' : 'must be an https URL');
  if (url.username || url.password) throw ApiError.field(field, 'must not carry credentials');
  if (!local && url.port !== '') throw ApiError.field(field, 'must use the https port (443)');
  if (!local && addressKind(url.hostname) !== null) throw ApiError.field(field, 'must name its host, not an IP address');
  try {
    await assertPublicHost(url.hostname, { allowLoopback: local, resolver: env.NEWS_DNS_RESOLVER });
  } catch (err) {
    throw ApiError.field(field, err instanceof UnsafeUrlError ? err.message : `could not be checked: ${(err as Error).message}`);
  }
}

async function checkKeys(keys: { p256dh: string; auth: string }): Promise<void> {
  if (!(await isP256Point(keys.p256dh))) throw ApiError.field('subscription.keys.p256dh', 'must be a P-256 public key: a 65-byte uncompressed point on the curve, base64url');
  let auth: Uint8Array;
  try {
    auth = fromBase64Url(keys.auth);
  } catch {
    throw ApiError.field('subscription.keys.auth', 'must be base64url');
  }
  if (auth.length !== 16) throw ApiError.field('subscription.keys.auth', 'must be a 16-byte secret, base64url');
}

/** Tells the user's inbox which subscriptions it pushes to (it enqueues pushes only while it has some). */
async function tellInbox(env: Bindings, userId: string, ids: string[], active: boolean): Promise<void> {
  if (ids.length > 0) await inboxOf(env, userId).setPushTargets(userId, ids, active);
}

/** Subscribes the caller's session, replacing its earlier subscription (Mastodon: one per access token's session). */
export async function subscribe(
  c: Context<AppEnv>,
  auth: AuthContext,
  input: { subscription: { endpoint: string; keys: { p256dh: string; auth: string } }; data?: PushData },
) {
  const key = await serverKey(c.env);
  await checkKeys(input.subscription.keys);
  await checkEndpoint(c.env, input.subscription.endpoint);
  const db = c.get('db');
  const now = new Date();
  const row: PushSubscriptionRow = {
    id: newId(now.getTime()),
    userId: auth.userId,
    sessionId: auth.sessionId,
    endpoint: input.subscription.endpoint,
    p256dh: input.subscription.keys.p256dh,
    auth: input.subscription.keys.auth,
    alerts: (input.data?.alerts ?? {}) as Record<string, boolean>,
    policy: input.data?.policy ?? 'all',
    createdAt: now,
    updatedAt: now,
    lastDeliveredAt: null,
    failures: 0,
  };
  // This session's earlier subscription goes, and so does this endpoint under another session of the same
  // account (the device signed in again): one device gets each notification once.
  const replaced = or(eq(pushSubscriptions.sessionId, auth.sessionId), and(eq(pushSubscriptions.userId, auth.userId), eq(pushSubscriptions.endpoint, row.endpoint)));
  const previous = await db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).where(replaced).all();
  await db.batch([db.delete(pushSubscriptions).where(replaced), db.insert(pushSubscriptions).values(row)]);
  // The stalest subscriptions past the cap go (their devices subscribe again when next used).
  const all = await db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).where(eq(pushSubscriptions.userId, auth.userId)).orderBy(asc(pushSubscriptions.updatedAt)).all();
  const stale = all.slice(0, Math.max(0, all.length - MAX_SUBSCRIPTIONS_PER_USER)).map((r) => r.id);
  if (stale.length > 0) await db.delete(pushSubscriptions).where(inArray(pushSubscriptions.id, stale));
  await tellInbox(c.env, auth.userId, [...previous.map((p) => p.id), ...stale], false);
  await tellInbox(c.env, auth.userId, [row.id], true);
  return present(row, key);
}

async function ownSubscription(c: Context<AppEnv>, auth: AuthContext): Promise<PushSubscriptionRow> {
  const row = await c.get('db').select().from(pushSubscriptions).where(and(eq(pushSubscriptions.sessionId, auth.sessionId), eq(pushSubscriptions.userId, auth.userId))).get();
  if (!row) throw new ApiError('not_found', 'This session has no push subscription.');
  return row;
}

export async function getSubscription(c: Context<AppEnv>, auth: AuthContext) {
  const key = await serverKey(c.env);
  return present(await ownSubscription(c, auth), key);
}

/** Changes alerts (merged over the current ones) and policy. */
export async function updateSubscription(c: Context<AppEnv>, auth: AuthContext, data: PushData) {
  const key = await serverKey(c.env);
  const row = await ownSubscription(c, auth);
  const alerts = { ...row.alerts, ...(data.alerts ?? {}) } as Record<string, boolean>;
  const policy = data.policy ?? row.policy;
  const updated = await c.get('db').update(pushSubscriptions).set({ alerts, policy, updatedAt: new Date() }).where(eq(pushSubscriptions.id, row.id)).returning().get();
  if (!updated) throw new ApiError('not_found', 'This session has no push subscription.');
  return present(updated, key);
}

/** Removes the session's subscription (nothing to remove is fine: the result is the same). */
export async function unsubscribe(c: Context<AppEnv>, auth: AuthContext): Promise<void> {
  const removed = await c.get('db').delete(pushSubscriptions).where(eq(pushSubscriptions.sessionId, auth.sessionId)).returning({ id: pushSubscriptions.id }).all();
  await tellInbox(c.env, auth.userId, removed.map((r) => r.id), false);
}
