import type { JsonObject } from './user-inbox';

/**
 * How a notification shows while accounts it names are suspended (UserInbox.refreshStanding). Nothing
 * is rewritten: the inbox keeps what was delivered, and a suspended account's notifications are hidden
 * (or its place in a group left out) only as long as the suspension lasts.
 */

/** True when one of the notification's own fields (`author`, `user`, `from_user`, `sender`, …) is an account `gone` picks. */
export function namesAccount(data: JsonObject, gone: (id: unknown) => boolean): boolean {
  return Object.values(data).some((value) => gone((value as JsonObject | null)?.id));
}

/**
 * A grouped notification's data without the actors `gone` picks: `actors` and `count` shrink, and the
 * fields that named one of them (`user`, `follower`) follow the newest remaining actor. The same object
 * when none of its actors is picked; null when nobody is left.
 */
export function groupWithout(data: JsonObject, gone: (id: unknown) => boolean): JsonObject | null {
  const actors = (data.actors as JsonObject[] | undefined) ?? [];
  const rest = actors.filter((actor) => !gone(actor.id));
  if (rest.length === actors.length) return data;
  const count = Number(data.count ?? actors.length) - (actors.length - rest.length);
  if (count <= 0 || rest.length === 0) return null;
  const lead = Object.fromEntries(Object.entries(data).filter(([, v]) => gone((v as JsonObject | null)?.id)).map(([k]) => [k, rest[0]]));
  return { ...data, ...lead, actors: rest, count };
}

/** How one stored notification shows: hidden, or with `shown` as its data (null: as stored). */
export type StandingView = {
  hidden: 0 | 1;
  shown: string | null;
};

/**
 * The view of a notification (its stored `data` JSON, and its group key) while the accounts in
 * `suspended` are: a group leaves them out (hidden once nobody else is left), any other notification
 * naming one of them is hidden.
 */
export function standingView(data: string, groupKey: string | null, suspended: ReadonlySet<string>): StandingView {
  if (suspended.size === 0) return { hidden: 0, shown: null };
  const parsed = JSON.parse(data) as JsonObject;
  const gone = (id: unknown) => typeof id === 'string' && suspended.has(id);
  if (groupKey !== null && Array.isArray(parsed.actors)) {
    const shown = groupWithout(parsed, gone);
    if (shown === null) return { hidden: 1, shown: null };
    return { hidden: 0, shown: shown === parsed ? null : JSON.stringify(shown) };
  }
  return { hidden: namesAccount(parsed, gone) ? 1 : 0, shown: null };
}
