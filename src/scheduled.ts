import { liftExpiredActions } from './modules/moderation/account-actions';

/**
 * The Cron Trigger entry (wrangler.toml `[triggers]`): which job runs on which schedule.
 * Every minute: lift timed silences and suspensions that are due, and forget spam fingerprints older
 * than the longest spam window (a day).
 */
export const EVERY_MINUTE = '* * * * *';

const FINGERPRINT_TTL_MS = 24 * 60 * 60 * 1000;

/** Runs the jobs of one cron expression at `now` (tests call this directly instead of waiting). */
export async function runScheduled(env: Pick<Env, 'DB'>, cron: string, now = Date.now()): Promise<void> {
  if (cron === EVERY_MINUTE) {
    await liftExpiredActions(env.DB, now);
    await env.DB.prepare('DELETE FROM content_fingerprints WHERE created_at < ?1').bind(now - FINGERPRINT_TTL_MS).run();
  }
}

export const scheduled: ExportedHandlerScheduledHandler<Env> = (controller, env, ctx) => {
  ctx.waitUntil(runScheduled(env, controller.cron, controller.scheduledTime));
};
