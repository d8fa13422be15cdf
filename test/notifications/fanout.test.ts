import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FAN_OUT_INLINE } from '../../src/modules/notifications/delivery';
import { inboxOf } from '../../src/modules/notifications/user-inbox';
import { call, createUser, expectStatus } from '../helpers/client';
import { eventually } from './helpers';

/** Followers made directly in D1 (registering 150 accounts through PBKDF2 would take seconds). */
async function followersOf(authorId: string, count: number): Promise<string[]> {
  const prefix = `fan${Math.random().toString(36).slice(2, 8)}`;
  await env.DB.prepare(
    `WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < ?1)
     INSERT INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, created_at, updated_at)
     SELECT ?2 || '_' || j, ?2 || '_' || j, ?2 || '_' || j || '@example.com', 'x', 'Fan ' || j, '', '[]', 'public', 'friends', ?3, ?3 FROM n`,
  )
    .bind(count, prefix, Date.now())
    .run();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}_${i + 1}`);
  await env.DB.prepare(`INSERT INTO follows (follower_id, followee_id, status, created_at) SELECT value, ?1, 'accepted', ?2 FROM json_each(?3)`)
    .bind(authorId, Date.now(), JSON.stringify(ids))
    .run();
  return ids;
}

describe('Large fan-out', () => {
  it("should deliver a post to every follower of a large audience through the author's inbox queue", async () => {
    const author = await createUser();
    const followers = await followersOf(author.id, FAN_OUT_INLINE + 50);
    expect(followers).toHaveLength(FAN_OUT_INLINE + 50);
    const post = await expectStatus(await call('/posts', { body: { content: 'to everyone' }, token: author.accessToken }), 201);

    await eventually(async () => {
      const pages = await Promise.all(followers.map((id) => inboxOf(env as Env, id).list({ unread: false, limit: 1 })));
      const newest = pages.map((p) => p.data[0]);
      expect(newest.filter((n) => n?.type === 'new_post' && n.data.id === post.id)).toHaveLength(followers.length);
    }, 10_000);

    // The queue is empty afterwards, and the author got nothing.
    await runInDurableObject(env.INBOXES.get(env.INBOXES.idFromName(author.id)), (_inbox, state) => {
      expect(state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM fanout').one().n).toBe(0);
      expect(state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM notifications').one().n).toBe(0);
    });
  });
});
