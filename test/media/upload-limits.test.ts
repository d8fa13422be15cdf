import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { FIVE_MB, objectsOf, putAvatarRaw, uploadMedia } from './helpers';

/** Puts `used` of the account's 200 uploads of the day behind it (the window began a minute ago). */
async function used(user: TestUser, count: number): Promise<void> {
  await env.DB.prepare('INSERT OR REPLACE INTO auth_throttles (key, window_start, count) VALUES (?1, ?2, ?3)')
    .bind(`uploads:${user.id}`, Date.now() - 60_000, count)
    .run();
}

describe('Daily upload budget', () => {
  it('should take 200 uploads a day, then answer 429 with Retry-After to media and avatar uploads, storing nothing', async () => {
    const user = await createUser();
    await used(user, 199);
    await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes, 'last.png', 'image/png'), 201);
    const before = await objectsOf(user.id);

    const refused = await uploadMedia(user, IMAGE_FIXTURES.jpeg.bytes, 'more.jpg', 'image/jpeg');
    const retryAfter = Number(refused.headers.get('Retry-After'));
    const problem = await expectProblem(refused, 429);
    expect(problem.detail).toMatch(/200 image uploads a day/);
    // The window began a minute ago: it ends in a day less a minute.
    expect(retryAfter).toBeGreaterThan(24 * 3600 - 120);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600 - 60);

    await expectProblem(await putAvatarRaw(user, IMAGE_FIXTURES.gif.bytes, 'image/gif'), 429);
    // Refused before the body is read: an oversized body is 429 too, not 413.
    await expectProblem(await uploadMedia(user, new Uint8Array(FIVE_MB + 1)), 429);
    expect(await objectsOf(user.id)).toEqual(before);
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.avatar_url).toBeNull();
  });

  it('should count per account, and start a new day once the window is over', async () => {
    const [spent, other] = [await createUser(), await createUser()];
    await used(spent, 200);
    await expectProblem(await uploadMedia(spent, IMAGE_FIXTURES.png.bytes), 429);
    await expectStatus(await uploadMedia(other, IMAGE_FIXTURES.png.bytes), 201);
    await env.DB.prepare('UPDATE auth_throttles SET window_start = window_start - ?2 WHERE key = ?1').bind(`uploads:${spent.id}`, 24 * 3600 * 1000).run();
    await expectStatus(await uploadMedia(spent, IMAGE_FIXTURES.png.bytes), 201);
  });

  it("should forget the account's upload counter with the account", async () => {
    const user = await createUser();
    await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes), 201);
    await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } });
    expect(await env.DB.prepare('SELECT 1 FROM auth_throttles WHERE key = ?1').bind(`uploads:${user.id}`).first()).toBeNull();
  });
});

describe('Served images cannot act as documents', () => {
  it("should send a sandboxing Content-Security-Policy and inline disposition with every image, edge copies and variants included", async () => {
    const user = await createUser();
    const media = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes), 201);
    for (const url of [media.url, media.url, `${media.url}?w=64`]) {
      const res = await call(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Security-Policy'), `${url} ${res.headers.get('X-Cache')}`).toBe("default-src 'none'; sandbox");
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(res.headers.get('Content-Disposition')).toBe('inline');
      await res.arrayBuffer();
    }
  });
});
