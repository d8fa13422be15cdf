import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ME_KEYS = [
  'avatar_url',
  'bio',
  'birthdate',
  'counts',
  'created_at',
  'discoverable',
  'display_name',
  'email',
  'email_verified',
  'gender',
  'id',
  'is_verified',
  'links',
  'location',
  'message_policy',
  'role',
  'username',
  'visibility',
  'wall_policy',
  'website',
];
const PROFILE_KEYS = ['avatar_url', 'bio', 'counts', 'created_at', 'display_name', 'headline', 'id', 'is_verified', 'links', 'location', 'username', 'website'];

const getMe = async (user: TestUser) => expectStatus(await call('/me', { token: user.accessToken }), 200);
const patchMe = (user: TestUser, body: unknown) => call('/me', { method: 'PATCH', token: user.accessToken, body });

describe('GET /me', () => {
  it('should return the me shape with private fields and counts', async () => {
    const user = await createUser({ display_name: 'Ada Lovelace' });
    const me = await getMe(user);
    expect(Object.keys(me).sort()).toEqual(ME_KEYS);
    expect(me).toEqual({
      id: user.id,
      username: user.username,
      display_name: 'Ada Lovelace',
      avatar_url: null,
      bio: expect.any(String),
      is_verified: false,
      email: user.email,
      email_verified: false,
      birthdate: null,
      gender: null,
      location: null,
      website: null,
      links: [],
      visibility: 'public',
      wall_policy: 'friends',
      discoverable: true,
      message_policy: 'everyone',
      role: 'user',
      created_at: expect.stringMatching(ISO),
      counts: { posts: 0, followers: 0, following: 0, friends: 0 },
    });
    expect(me.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('should equal the user returned by register', async () => {
    const user = await createUser();
    expect(await getMe(user)).toEqual(user.me);
  });

  it('should never include the password hash', async () => {
    const user = await createUser();
    const res = await call('/me', { token: user.accessToken });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toMatch(/password/i);
    expect(text).not.toContain(user.password);
    const me = JSON.parse(text);
    expect(me).not.toHaveProperty('password_hash');
    expect(me).not.toHaveProperty('passwordHash');
  });
});

describe('PATCH /me', () => {
  it('should update display_name and bio', async () => {
    const user = await createUser();
    const me = await expectStatus(await patchMe(user, { display_name: '  Grace Hopper  ', bio: 'Compilers & COBOL.' }), 200);
    expect(me.display_name).toBe('Grace Hopper');
    expect(me.bio).toBe('Compilers & COBOL.');
    expect(await getMe(user)).toEqual(me);
  });

  it('should accept a bio of 500 characters and an empty bio', async () => {
    const user = await createUser();
    expect((await expectStatus(await patchMe(user, { bio: 'b'.repeat(500) }), 200)).bio).toBe('b'.repeat(500));
    expect((await expectStatus(await patchMe(user, { bio: '' }), 200)).bio).toBe('');
  });

  it('should upper-case the location country and keep region and city', async () => {
    const user = await createUser();
    const me = await expectStatus(await patchMe(user, { location: { country: 'gb', region: 'GB-LND', city: 'London' } }), 200);
    expect(me.location).toEqual({ country: 'GB', region: 'GB-LND', city: 'London' });
    expect((await getMe(user)).location).toEqual({ country: 'GB', region: 'GB-LND', city: 'London' });
  });

  it('should accept a location with only a country (region and city null)', async () => {
    const user = await createUser();
    const me = await expectStatus(await patchMe(user, { location: { country: 'DE' } }), 200);
    expect(me.location).toEqual({ country: 'DE', region: null, city: null });
  });

  it('should replace the whole location on update', async () => {
    const user = await createUser();
    await expectStatus(await patchMe(user, { location: { country: 'US', region: 'US-CA', city: 'San Francisco' } }), 200);
    const me = await expectStatus(await patchMe(user, { location: { country: 'fr', city: 'Paris' } }), 200);
    expect(me.location).toEqual({ country: 'FR', region: null, city: 'Paris' });
  });

  it('should set website and links', async () => {
    const user = await createUser();
    const links = [
      { label: 'Blog', url: 'https://blog.example.com/me' },
      { label: 'Code', url: 'http://code.example.org' },
    ];
    const me = await expectStatus(await patchMe(user, { website: 'https://ada.example', links }), 200);
    expect(me.website).toBe('https://ada.example');
    expect(me.links).toEqual(links);
    expect((await getMe(user)).links).toEqual(links);
  });

  it('should accept exactly 5 links and an empty list', async () => {
    const user = await createUser();
    const links = Array.from({ length: 5 }, (_, i) => ({ label: `L${i}`, url: `https://example.com/${i}` }));
    expect((await expectStatus(await patchMe(user, { links }), 200)).links).toEqual(links);
    expect((await expectStatus(await patchMe(user, { links: [] }), 200)).links).toEqual([]);
  });

  it('should set birthdate and gender', async () => {
    const user = await createUser();
    const me = await expectStatus(await patchMe(user, { birthdate: '1990-12-10', gender: 'female' }), 200);
    expect(me.birthdate).toBe('1990-12-10');
    expect(me.gender).toBe('female');
    for (const gender of ['male', 'nonbinary']) {
      expect((await expectStatus(await patchMe(user, { gender }), 200)).gender).toBe(gender);
    }
  });

  it('should accept today and a leap day as birthdate', async () => {
    const user = await createUser();
    expect((await expectStatus(await patchMe(user, { birthdate: '2000-02-29' }), 200)).birthdate).toBe('2000-02-29');
    const today = new Date().toISOString().slice(0, 10);
    expect((await expectStatus(await patchMe(user, { birthdate: today }), 200)).birthdate).toBe(today);
  });

  it('should switch visibility between public and private', async () => {
    const user = await createUser();
    expect((await expectStatus(await patchMe(user, { visibility: 'private' }), 200)).visibility).toBe('private');
    expect((await getMe(user)).visibility).toBe('private');
    expect((await expectStatus(await patchMe(user, { visibility: 'public' }), 200)).visibility).toBe('public');
  });

  it('should change the username (lower-cased) and allow logging in with it', async () => {
    const user = await createUser();
    const wanted = `New_${user.username}`.slice(0, 30);
    const me = await expectStatus(await patchMe(user, { username: wanted }), 200);
    expect(me.username).toBe(wanted.toLowerCase());
    await expectStatus(await call(`/users/${wanted.toLowerCase()}`), 200);
    await expectProblem(await call(`/users/${user.username}`), 404);
    const login = await expectStatus(await call('/auth/login', { body: { login: wanted, password: user.password } }), 200);
    expect(login.user.id).toBe(user.id);
  });

  it('should let a user "change" to their own username in another case', async () => {
    const user = await createUser();
    const me = await expectStatus(await patchMe(user, { username: user.username.toUpperCase() }), 200);
    expect(me.username).toBe(user.username);
  });

  it('should clear nullable fields with null', async () => {
    const user = await createUser();
    await expectStatus(
      await patchMe(user, {
        location: { country: 'IT', city: 'Rome' },
        website: 'https://example.it',
        birthdate: '1985-05-05',
        gender: 'male',
      }),
      200,
    );
    const me = await expectStatus(await patchMe(user, { location: null, website: null, birthdate: null, gender: null }), 200);
    expect(me).toMatchObject({ location: null, website: null, birthdate: null, gender: null });
    expect(await getMe(user)).toMatchObject({ location: null, website: null, birthdate: null, gender: null });
  });

  it('should leave fields that are not sent unchanged', async () => {
    const user = await createUser();
    await expectStatus(await patchMe(user, { bio: 'kept', website: 'https://kept.example', gender: 'nonbinary' }), 200);
    const me = await expectStatus(await patchMe(user, { display_name: 'Only This' }), 200);
    expect(me).toMatchObject({ display_name: 'Only This', bio: 'kept', website: 'https://kept.example', gender: 'nonbinary' });
  });

  it('should accept an empty object and change nothing', async () => {
    const user = await createUser();
    const before = await getMe(user);
    const me = await expectStatus(await patchMe(user, {}), 200);
    expect(me).toEqual(before);
  });
});

describe('GET /users/{id_or_username}', () => {
  it('should return the public profile by id', async () => {
    const user = await createUser({ display_name: 'Profile Person' });
    const profile = await expectStatus(await call(`/users/${user.id}`), 200);
    expect(Object.keys(profile).sort()).toEqual(PROFILE_KEYS);
    expect(profile).toEqual({
      id: user.id,
      username: user.username,
      display_name: 'Profile Person',
      avatar_url: null,
      bio: expect.any(String),
      is_verified: false,
      headline: null,
      location: null,
      website: null,
      links: [],
      created_at: user.me.created_at,
      counts: { posts: 0, followers: 0, following: 0, friends: 0 },
    });
  });

  it('should find a user by username in any case', async () => {
    const user = await createUser();
    for (const ref of [user.username, user.username.toUpperCase(), user.username[0]!.toUpperCase() + user.username.slice(1)]) {
      const profile = await expectStatus(await call(`/users/${ref}`), 200);
      expect(profile.id).toBe(user.id);
    }
  });

  it('should not include relationship for anonymous callers', async () => {
    const user = await createUser();
    const profile = await expectStatus(await call(`/users/${user.id}`), 200);
    expect(profile).not.toHaveProperty('relationship');
  });

  it('should include relationship for authenticated callers', async () => {
    const user = await createUser();
    const viewer = await createUser();
    const profile = await expectStatus(await call(`/users/${user.username}`, { token: viewer.accessToken }), 200);
    expect(profile.relationship).toEqual({ following: false, followed_by: false, follow_requested: false, friend: false, friend_request: null, blocking: false, muting: false });
    expect(profile.id).toBe(user.id);
  });

  it('should include relationship when looking at oneself', async () => {
    const user = await createUser();
    const profile = await expectStatus(await call(`/users/${user.id}`, { token: user.accessToken }), 200);
    expect(profile.relationship).toEqual(expect.objectContaining({ following: expect.any(Boolean), blocking: expect.any(Boolean) }));
  });

  it('should show the public profile fields the user set', async () => {
    const user = await createUser();
    await expectStatus(
      await patchMe(user, {
        display_name: 'Shown',
        bio: 'Public bio',
        location: { country: 'jp', region: 'JP-13', city: 'Tokyo' },
        website: 'https://shown.example',
        links: [{ label: 'Site', url: 'https://shown.example/x' }],
      }),
      200,
    );
    const profile = await expectStatus(await call(`/users/${user.id}`), 200);
    expect(profile).toMatchObject({
      display_name: 'Shown',
      bio: 'Public bio',
      location: { country: 'JP', region: 'JP-13', city: 'Tokyo' },
      website: 'https://shown.example',
      links: [{ label: 'Site', url: 'https://shown.example/x' }],
    });
  });
});

describe('DELETE /me', () => {
  it('should delete the account, its sessions and its stored objects', async () => {
    const user = await createUser();
    const avatar = await expectStatus(
      await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: IMAGE_FIXTURES.png.bytes, headers: { 'Content-Type': 'image/png' } }),
      200,
    );
    const upload = await expectStatus(
      await call('/media', { method: 'POST', token: user.accessToken, body: IMAGE_FIXTURES.jpeg.bytes, headers: { 'Content-Type': 'image/jpeg' } }),
      201,
    );
    expect((await call(`${avatar.avatar_url}?w=64`)).status).toBe(200);
    const before = await env.MEDIA.list({ prefix: `media/${user.id}-` });
    expect(before.objects.length).toBeGreaterThanOrEqual(3);

    const res = await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    await expectProblem(await call('/auth/login', { body: { login: user.username, password: user.password } }), 401);
    await expectProblem(await call('/auth/login', { body: { login: user.email, password: user.password } }), 401);
    await expectProblem(await call('/me', { token: user.accessToken }), 401);
    await expectProblem(await call('/auth/refresh', { body: { refresh_token: user.refreshToken } }), 401);
    await expectProblem(await call(`/users/${user.id}`), 404);
    await expectProblem(await call(`/users/${user.username}`), 404);

    const after = await env.MEDIA.list({ prefix: `media/${user.id}-` });
    expect(after.objects).toEqual([]);
    await expectProblem(await call(avatar.avatar_url), 404);
    await expectProblem(await call(upload.url), 404);
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM media WHERE owner_id = ?1').bind(user.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it('should free the username and email for a new registration', async () => {
    const user = await createUser();
    expect((await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } })).status).toBe(204);
    const again = await createUser({ username: user.username, email: user.email });
    expect(again.id).not.toBe(user.id);
  });

  it('should leave other users untouched', async () => {
    const user = await createUser();
    const other = await createUser();
    const otherAvatar = await expectStatus(
      await call('/me/avatar', { method: 'PUT', token: other.accessToken, body: IMAGE_FIXTURES.gif.bytes, headers: { 'Content-Type': 'image/gif' } }),
      200,
    );
    expect((await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } })).status).toBe(204);
    await expectStatus(await call(`/users/${other.id}`), 200);
    await expectStatus(await call('/me', { token: other.accessToken }), 200);
    expect((await call(otherAvatar.avatar_url)).status).toBe(200);
  });
});
