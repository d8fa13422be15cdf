import type { Bindings } from './lib/types';
import { purgeEdgeGroups } from './lib/edge-cache';
import { liftExpiredActions } from './modules/moderation/account-actions';
import { claimDueSources } from './modules/news/news.service';
import { refreshTrends } from './modules/tags/trends';
import { pruneUserSearchCache } from './modules/search/search.service';
import type { NewsFetchMessage } from './queues/news';
import { pruneDeliveredMail, requeueUnsentMail } from './modules/mail/mail-delivery';
import { pruneSignInRows } from './modules/auth/sign-in-rows';
import { FAILED_LOGINS } from './modules/auth/login-throttle';
import { MAIL_CAP } from './modules/mail/mail-caps';
import { pruneThrottles } from './lib/throttle';
import { pruneIdempotencyKeys } from './lib/idempotency';
import { REACH } from './policy/reach';
import { UPLOADS } from './modules/media/media.service';
import { deleteUnattachedUploads } from './modules/media/unattached';
import { releaseExpiredHolds } from './modules/media/media-holds';
import { pruneExports } from './modules/exports/exports.service';

/** wrangler.toml `[triggers] crons`: every 15 minutes, queue the news sources that are due. */
export const NEWS_CRON = '*/15 * * * *';

/**
 * Every minute: lift timed silences and suspensions that are due, and forget spam fingerprints older
 * than the longest spam window (a day).
 */
export const MODERATION_CRON = '* * * * *';
const FINGERPRINT_TTL_MS = 24 * 60 * 60 * 1000;

/** The moderation minute's jobs at `now` (tests call this directly instead of waiting for the cron). */
export async function runModerationJobs(env: Pick<Bindings, 'DB' | 'FANOUT_QUEUE'>, now: number): Promise<void> {
  await liftExpiredActions(env, now);
  await env.DB.prepare('DELETE FROM content_fingerprints WHERE created_at < ?1').bind(now - FINGERPRINT_TTL_MS).run();
}

/**
 * Every minute, sign-in housekeeping: re-queue mail that never reached the mail queue, delete mail
 * delivered a week ago, delete the short-lived sign-in rows (OAuth states and codes, MFA steps, TURN credentials,
 * e-mail links) a day after they expired, the throttle counters whose window is over (failed
 * logins, reach limits), and the Idempotency-Keys of create requests older than a day.
 */
export async function runSignInJobs(env: Bindings, now: number): Promise<void> {
  await requeueUnsentMail(env, now);
  await pruneDeliveredMail(env, now);
  await pruneSignInRows(env.DB, now);
  await pruneThrottles(env.DB, now, [FAILED_LOGINS, MAIL_CAP, UPLOADS, ...Object.values(REACH)]);
  await pruneIdempotencyKeys(env.DB, now);
}
/**
 * wrangler.toml: every 10 minutes, recompute the trending hashtags (src/modules/tags/trends.ts), drop
 * the expired typeahead rankings (user_search_cache), delete data exports past their 7 days, the
 * attachment uploads nothing used within a day (src/modules/media/unattached.ts), and the deleted uploads
 * a kept copy of a message no longer holds (src/modules/media/media-holds.ts).
 */
export const TRENDS_CRON = '*/10 * * * *';

/** Messages per `sendBatch` call (the Queues limit). */
const SEND_BATCH = 100;

/**
 * Queues one message per due news source. The fetches happen in the queue consumer, a few sources per
 * invocation, so no invocation (this one included) comes near the subrequest limit however many
 * sources there are.
 */
export async function queueDueNewsSources(env: Bindings, now: number): Promise<number> {
  const ids = await claimDueSources(env.DB, now);
  for (let i = 0; i < ids.length; i += SEND_BATCH) {
    const messages = ids.slice(i, i + SEND_BATCH).map((id) => ({ body: { type: 'news.fetch', source_id: id } satisfies NewsFetchMessage }));
    await env.NEWS_QUEUE.sendBatch(messages);
  }
  return ids.length;
}

/** The Cron Trigger entry: which job runs on which cron. */
export async function handleScheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  switch (controller.cron) {
    case NEWS_CRON:
      await queueDueNewsSources(env, controller.scheduledTime);
      return;
    case MODERATION_CRON:
      await runModerationJobs(env, controller.scheduledTime);
      await runSignInJobs(env, controller.scheduledTime);
      return;
    case TRENDS_CRON:
      await refreshTrends(env.DB, controller.scheduledTime);
      await deleteUnattachedUploads(env, controller.scheduledTime);
      await releaseExpiredHolds(env, controller.scheduledTime);
      await purgeEdgeGroups('trends');
      await pruneUserSearchCache(env.DB, controller.scheduledTime);
      await pruneExports(env, controller.scheduledTime);
      return;
    default:
      console.error(JSON.stringify({ level: 'error', message: `no job for cron ${controller.cron}` }));
  }
}
