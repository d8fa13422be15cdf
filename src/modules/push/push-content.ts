import type { Notification, NotificationType } from '../notifications/notifications.schemas';
import type { Urgency } from './web-push';

/** What a push carries: only what the notification itself holds (a title, one line of it, and where it leads). */
export interface PushPayload {
  notification_id: string;
  type: NotificationType;
  title: string;
  body: string;
  url: string;
}

type Person = { id: string; display_name: string } | null | undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Data = Record<string, any>;

/** What the sender learns at delivery time about the recipient's side (push-delivery.ts). */
export interface PushFacts {
  /** The conversation is still a message request for the recipient: a stranger's words stay off the lock screen. */
  request: boolean;
}

interface PushRule {
  /** Seconds the push service may hold the push for an offline device (RFC 8030 TTL). */
  ttl: number;
  urgency: Urgency;
  /** Who caused it, for the subscription's policy (null: the site itself, which every policy but `none` lets through). */
  actor: (d: Data) => Person;
  title: (d: Data) => string;
  body: (d: Data, facts: PushFacts) => string;
  path: (d: Data) => string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const SNIPPET = 120;
const snippet = (text: unknown) => {
  const s = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim() : '';
  return s.length > SNIPPET ? `${s.slice(0, SNIPPET - 1)}…` : s;
};
const name = (p: Person) => p?.display_name ?? 'Someone';
const grouped = (d: Data, one: string, many: (n: number) => string) => (Number(d.count ?? 1) > 1 ? many(Number(d.count) - 1) : one);

/** Per notification type: how long it is worth delivering, how urgent it is, and what it says. A new type must be added here. */
const RULES: Record<NotificationType, PushRule> = {
  new_message: {
    ttl: DAY,
    urgency: 'high',
    actor: (d) => d.sender,
    title: (d) => name(d.sender),
    body: (d, facts) => (facts.request ? 'Sent you a message request' : snippet(d.content) || 'Sent an attachment'),
    path: (d) => `/conversations/${d.conversation_id}`,
  },
  conversation_invite: {
    ttl: DAY,
    urgency: 'normal',
    actor: (d) => d.from_user,
    title: (d) => name(d.from_user),
    // A request's group title is the stranger's words too.
    body: (d) => (d.title && !d.request ? `Added you to “${snippet(d.title)}”` : 'Added you to a conversation'),
    path: (d) => `/conversations/${d.conversation_id}`,
  },
  call_incoming: {
    ttl: 60,
    urgency: 'high',
    actor: (d) => d.from_user,
    title: (d) => (d.media === 'video' ? 'Incoming video call' : 'Incoming voice call'),
    body: (d) => `${name(d.from_user)} is calling you`,
    path: (d) => `/conversations/${d.conversation_id}`,
  },
  missed_call: {
    ttl: DAY,
    urgency: 'normal',
    actor: (d) => d.from_user,
    title: (d) => (d.media === 'video' ? 'Missed video call' : 'Missed voice call'),
    body: (d) => `From ${name(d.from_user)}`,
    path: (d) => `/conversations/${d.conversation_id}`,
  },
  friend_request: { ttl: 7 * DAY, urgency: 'normal', actor: (d) => d.from_user, title: (d) => name(d.from_user), body: () => 'Sent you a friend request', path: () => '/friends/requests' },
  friend_accepted: { ttl: 7 * DAY, urgency: 'normal', actor: (d) => d.friend, title: (d) => name(d.friend), body: () => 'Accepted your friend request', path: (d) => `/users/${d.friend?.id}` },
  follow_request: { ttl: 7 * DAY, urgency: 'normal', actor: (d) => d.from_user, title: (d) => name(d.from_user), body: () => 'Asked to follow you', path: () => '/follow_requests' },
  new_follower: { ttl: DAY, urgency: 'low', actor: (d) => d.follower, title: (d) => name(d.follower), body: (d) => grouped(d, 'Followed you', (n) => `and ${n} more followed you`), path: (d) => `/users/${d.follower?.id}` },
  new_post: { ttl: DAY, urgency: 'low', actor: (d) => d.author, title: (d) => name(d.author), body: (d) => snippet(d.message), path: (d) => `/posts/${d.id}` },
  wall_post: { ttl: DAY, urgency: 'normal', actor: (d) => d.author, title: (d) => name(d.author), body: () => 'Posted on your wall', path: (d) => `/posts/${d.post_id}` },
  post_like: { ttl: DAY, urgency: 'low', actor: (d) => d.user, title: (d) => name(d.user), body: (d) => grouped(d, 'Liked your post', (n) => `and ${n} more liked your post`), path: (d) => `/posts/${d.post_id}` },
  post_comment: { ttl: DAY, urgency: 'normal', actor: (d) => d.user, title: (d) => name(d.user), body: () => 'Commented on your post', path: (d) => `/posts/${d.post_id}` },
  comment_reply: { ttl: DAY, urgency: 'normal', actor: (d) => d.user, title: (d) => name(d.user), body: () => 'Replied to your comment', path: (d) => `/posts/${d.post_id}` },
  mention: { ttl: DAY, urgency: 'normal', actor: (d) => d.user, title: (d) => name(d.user), body: () => 'Mentioned you', path: (d) => `/posts/${d.post_id}` },
  community_join_request: { ttl: 7 * DAY, urgency: 'low', actor: (d) => d.user, title: (d) => name(d.user), body: (d) => `Asked to join ${snippet(d.community?.name)}`, path: (d) => `/communities/${d.community?.slug}` },
  community_join_approved: { ttl: 7 * DAY, urgency: 'normal', actor: (d) => d.approved_by, title: (d) => snippet(d.community?.name), body: () => 'You are now a member', path: (d) => `/communities/${d.community?.slug}` },
  report_resolved: { ttl: 7 * DAY, urgency: 'low', actor: () => null, title: () => 'Your report was reviewed', body: (d) => (d.status === 'actioned' ? 'We took action. Thank you.' : 'We found no breach of the rules.'), path: () => '/reports' },
  moderation_warning: { ttl: 7 * DAY, urgency: 'normal', actor: () => null, title: () => 'A message from the moderators', body: (d) => snippet(d.reason), path: () => '/me' },
};

export const pushRule = (type: NotificationType): PushRule => RULES[type];

/** The payload of one notification's push; `url` is on the web app (APP_URL). */
export function pushPayload(notification: Notification, appUrl: string, facts: PushFacts = { request: false }): PushPayload {
  const rule = RULES[notification.type];
  const data = notification.data as Data;
  return {
    notification_id: notification.id,
    type: notification.type,
    title: rule.title(data),
    body: rule.body(data, facts),
    url: `${appUrl.replace(/\/$/, '')}${rule.path(data)}`,
  };
}

/** Who caused the notification (for the subscription's policy), or null for the site itself. */
export function pushActorId(notification: Notification): string | null {
  return RULES[notification.type].actor(notification.data as Data)?.id ?? null;
}
