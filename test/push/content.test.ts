import { describe, expect, it } from 'vitest';
import { NOTIFICATION_DATA, NOTIFICATION_TYPES, type Notification, type NotificationType } from '../../src/modules/notifications/notifications.schemas';
import { pushActorId, pushPayload, pushRule } from '../../src/modules/push/push-content';

// What each push says, type by type: built from data each type's schema accepts, so the rules read the fields the
// notifications really carry (a renamed field would show up here as "Someone" or "undefined").
const APP = 'https://app.kith.example/';
const ID = '01JC6Z1W3R2J4D5E6F7G8H9J0K';
const person = (id: string, display_name: string) => ({ id, username: display_name.toLowerCase().replace(/\W/g, ''), display_name, avatar_url: null, bio: '', is_verified: false });
const ann = person('01JC6Z1W3R2J4D5E6F7G8H9J0A', 'Ann Actor');
const community = { id: ID, slug: 'night-owls', name: 'Night Owls' };

function notification<T extends NotificationType>(type: T, data: Record<string, unknown>): Notification {
  // Every fixture is a payload the worker could really send.
  const parsed = NOTIFICATION_DATA[type].parse(data);
  return { id: ID, type, data: parsed, read: false, created_at: new Date(0).toISOString() } as Notification;
}

const cases: Array<[NotificationType, Record<string, unknown>, { title: string; body: string; path: string; actor: string | null }]> = [
  ['new_message', { id: ID, conversation_id: ID, seq: 3, sender: ann, content: '  see\n you  soon ', created_at: 'x' }, { title: 'Ann Actor', body: 'see you soon', path: `/conversations/${ID}`, actor: ann.id }],
  ['conversation_invite', { conversation_id: ID, title: 'Trip', from_user: ann, request: false }, { title: 'Ann Actor', body: 'Added you to “Trip”', path: `/conversations/${ID}`, actor: ann.id }],
  // A stranger's group title is their words: a request shows none.
  ['conversation_invite', { conversation_id: ID, title: 'Trip', from_user: ann, request: true }, { title: 'Ann Actor', body: 'Added you to a conversation', path: `/conversations/${ID}`, actor: ann.id }],
  ['conversation_invite', { conversation_id: ID, title: null, from_user: ann, request: false }, { title: 'Ann Actor', body: 'Added you to a conversation', path: `/conversations/${ID}`, actor: ann.id }],
  ['call_incoming', { call_id: 'c1', conversation_id: ID, media: 'video', from_user: ann }, { title: 'Incoming video call', body: 'Ann Actor is calling you', path: `/conversations/${ID}`, actor: ann.id }],
  ['call_incoming', { call_id: 'c1', conversation_id: ID, media: 'audio', from_user: ann }, { title: 'Incoming voice call', body: 'Ann Actor is calling you', path: `/conversations/${ID}`, actor: ann.id }],
  ['missed_call', { call_id: 'c1', conversation_id: ID, media: 'video', from_user: ann }, { title: 'Missed video call', body: 'From Ann Actor', path: `/conversations/${ID}`, actor: ann.id }],
  ['missed_call', { call_id: 'c1', conversation_id: ID, media: 'audio', from_user: ann }, { title: 'Missed voice call', body: 'From Ann Actor', path: `/conversations/${ID}`, actor: ann.id }],
  ['friend_request', { request_id: ID, from_user: ann }, { title: 'Ann Actor', body: 'Sent you a friend request', path: '/friends/requests', actor: ann.id }],
  ['friend_accepted', { friend: ann }, { title: 'Ann Actor', body: 'Accepted your friend request', path: `/users/${ann.id}`, actor: ann.id }],
  ['follow_request', { from_user: ann }, { title: 'Ann Actor', body: 'Asked to follow you', path: '/follow_requests', actor: ann.id }],
  ['new_follower', { follower: ann, actors: [ann], count: 1 }, { title: 'Ann Actor', body: 'Followed you', path: `/users/${ann.id}`, actor: ann.id }],
  ['new_follower', { follower: ann, actors: [ann], count: 4 }, { title: 'Ann Actor', body: 'and 3 more followed you', path: `/users/${ann.id}`, actor: ann.id }],
  ['new_post', { id: ID, author: ann, message: 'Ann Actor posted' }, { title: 'Ann Actor', body: 'Ann Actor posted', path: `/posts/${ID}`, actor: ann.id }],
  ['wall_post', { post_id: ID, author: ann }, { title: 'Ann Actor', body: 'Posted on your wall', path: `/posts/${ID}`, actor: ann.id }],
  ['post_like', { post_id: ID, user: ann, actors: [ann], count: 2 }, { title: 'Ann Actor', body: 'and 1 more liked your post', path: `/posts/${ID}`, actor: ann.id }],
  ['post_like', { post_id: ID, user: ann, actors: [ann], count: 1 }, { title: 'Ann Actor', body: 'Liked your post', path: `/posts/${ID}`, actor: ann.id }],
  ['post_comment', { post_id: ID, comment_id: ID, user: ann }, { title: 'Ann Actor', body: 'Commented on your post', path: `/posts/${ID}`, actor: ann.id }],
  ['comment_reply', { post_id: ID, comment_id: ID, parent_id: ID, user: ann }, { title: 'Ann Actor', body: 'Replied to your comment', path: `/posts/${ID}`, actor: ann.id }],
  ['mention', { post_id: ID, comment_id: null, user: ann }, { title: 'Ann Actor', body: 'Mentioned you', path: `/posts/${ID}`, actor: ann.id }],
  ['community_join_request', { community, user: ann }, { title: 'Ann Actor', body: 'Asked to join Night Owls', path: '/communities/night-owls', actor: ann.id }],
  ['community_join_approved', { community, approved_by: ann }, { title: 'Night Owls', body: 'You are now a member', path: '/communities/night-owls', actor: ann.id }],
  [
    'report_resolved',
    { report_id: ID, subject_type: 'post', subject_id: ID, category: 'spam', status: 'actioned', resolved_at: 'x' },
    { title: 'Your report was reviewed', body: 'We took action. Thank you.', path: '/reports', actor: null },
  ],
  [
    'report_resolved',
    { report_id: ID, subject_type: 'post', subject_id: ID, category: 'spam', status: 'dismissed', resolved_at: 'x' },
    { title: 'Your report was reviewed', body: 'We found no breach of the rules.', path: '/reports', actor: null },
  ],
  ['moderation_warning', { action: 'warn', reason: 'Be kind.', until: null }, { title: 'A message from the moderators', body: 'Be kind.', path: '/me', actor: null }],
];

describe('Push content', () => {
  it('should have a rule for every notification type, with a positive TTL and a known urgency', () => {
    expect(new Set(cases.map(([type]) => type))).toEqual(new Set(NOTIFICATION_TYPES));
    for (const type of NOTIFICATION_TYPES) {
      expect(pushRule(type).ttl, type).toBeGreaterThan(0);
      expect(['very-low', 'low', 'normal', 'high'], type).toContain(pushRule(type).urgency);
    }
    expect(pushRule('call_incoming').ttl).toBe(60);
  });

  it.each(cases)('should say what a %s notification is about, link to it on the app and name its actor', (type, data, want) => {
    const n = notification(type, data);
    expect(pushPayload(n, APP)).toEqual({ notification_id: ID, type, title: want.title, body: want.body, url: `https://app.kith.example${want.path}` });
    expect(pushActorId(n)).toBe(want.actor);
  });

  it('should cut long text to one line of 120 characters and fall back when there is no text or no sender', () => {
    const long = pushPayload(notification('new_message', { id: ID, conversation_id: ID, seq: 1, sender: null, content: 'word '.repeat(60), created_at: 'x' }), APP);
    expect(long.title).toBe('Someone');
    expect(long.body).toHaveLength(120);
    expect(long.body.endsWith('…')).toBe(true);
    const attachment = notification('new_message', { id: ID, conversation_id: ID, seq: 1, sender: null, content: '', created_at: 'x' });
    expect(pushPayload(attachment, APP).body).toBe('Sent an attachment');
    expect(pushActorId(attachment)).toBeNull();
  });

  it('should leave the text of a message request off the lock screen', () => {
    const n = notification('new_message', { id: ID, conversation_id: ID, seq: 1, sender: ann, content: 'unsolicited', created_at: 'x' });
    expect(pushPayload(n, APP, { request: true })).toMatchObject({ title: 'Ann Actor', body: 'Sent you a message request' });
    expect(pushPayload(n, APP, { request: false }).body).toBe('unsolicited');
  });
});
