import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';

const getMe = async (user: TestUser) => expectStatus(await call('/me', { token: user.accessToken }), 200);
const patchMe = (user: TestUser, body: unknown) => call('/me', { method: 'PATCH', token: user.accessToken, body });

/** Sends an invalid PATCH, expects a 400 naming the field, and checks that nothing changed. */
async function expectRejected(user: TestUser, body: unknown, field: string, status = 400): Promise<any> {
  const before = await getMe(user);
  const problem = await expectProblem(await patchMe(user, body), status, field);
  expect(await getMe(user)).toEqual(before);
  return problem;
}

const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('PATCH /me unknown fields', () => {
  for (const [field, value] of [
    ['email_verified', true],
    ['is_verified', true],
    ['counts', { posts: 100, followers: 1000, following: 0, friends: 0 }],
    ['password', 'new password 123'],
    ['password_hash', 'x'],
    ['id', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['avatar_url', 'https://evil.example/a.png'],
    ['created_at', '2000-01-01T00:00:00.000Z'],
    ['displayName', 'camel'],
  ] as const) {
    it(`should refuse "${field}" with 400 naming it`, async () => {
      const user = await createUser();
      const problem = await expectRejected(user, { [field]: value }, field);
      expect(problem.errors.find((e: { field: string }) => e.field === field).message).toEqual(expect.any(String));
    });
  }

  it('should name every unknown field and write none of the known ones', async () => {
    const user = await createUser();
    const problem = await expectRejected(user, { display_name: 'Valid Name', email_verified: true, is_verified: true }, 'email_verified');
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email_verified', 'is_verified']));
  });

  it('should refuse unknown keys inside location', async () => {
    const user = await createUser();
    await expectRejected(user, { location: { country: 'GB', planet: 'Earth' } }, 'location.planet');
  });

  it('should refuse unknown keys inside a link', async () => {
    const user = await createUser();
    await expectRejected(user, { links: [{ label: 'a', url: 'https://a.example', icon: 'x' }] }, 'links.0.icon');
  });
});

describe('PATCH /me invalid values', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['blank display_name', { display_name: '   ' }, 'display_name'],
    ['null display_name', { display_name: null }, 'display_name'],
    ['too long display_name', { display_name: 'x'.repeat(51) }, 'display_name'],
    ['numeric display_name', { display_name: 42 }, 'display_name'],
    ['bio over 500 characters', { bio: 'b'.repeat(501) }, 'bio'],
    ['three-letter country', { location: { country: 'GBR' } }, 'location.country'],
    ['one-letter country', { location: { country: 'G' } }, 'location.country'],
    ['country with digits', { location: { country: 'G1' } }, 'location.country'],
    ['empty country', { location: { country: '' } }, 'location.country'],
    ['missing country', { location: { city: 'London' } }, 'location.country'],
    ['location as a string', { location: 'London' }, 'location'],
    ['empty city', { location: { country: 'GB', city: '' } }, 'location.city'],
    ['ftp website', { website: 'ftp://files.example.com' }, 'website'],
    ['javascript website', { website: 'javascript:alert(1)' }, 'website'],
    ['website without scheme', { website: 'example.com' }, 'website'],
    ['website not a URL', { website: 'not a url' }, 'website'],
    ['six links', { links: Array.from({ length: 6 }, (_, i) => ({ label: `L${i}`, url: `https://e.example/${i}` })) }, 'links'],
    ['link with a javascript url', { links: [{ label: 'x', url: 'javascript:alert(1)' }] }, 'links.0.url'],
    ['link with a data url', { links: [{ label: 'ok', url: 'https://ok.example' }, { label: 'x', url: 'data:text/html,hi' }] }, 'links.1.url'],
    ['link without label', { links: [{ url: 'https://e.example' }] }, 'links.0.label'],
    ['link with blank label', { links: [{ label: ' ', url: 'https://e.example' }] }, 'links.0.label'],
    ['links null', { links: null }, 'links'],
    ['links not an array', { links: 'https://e.example' }, 'links'],
    ['impossible birthdate', { birthdate: '2001-02-30' }, 'birthdate'],
    ['non-leap-year Feb 29', { birthdate: '2001-02-29' }, 'birthdate'],
    ['month 13', { birthdate: '1990-13-01' }, 'birthdate'],
    ['slashed birthdate', { birthdate: '1990/01/01' }, 'birthdate'],
    ['unpadded birthdate', { birthdate: '1990-1-1' }, 'birthdate'],
    ['datetime birthdate', { birthdate: '1990-01-01T00:00:00Z' }, 'birthdate'],
    ['future birthdate', { birthdate: daysFromToday(2) }, 'birthdate'],
    ['far-future birthdate', { birthdate: '2999-01-01' }, 'birthdate'],
    ['unknown gender', { gender: 'other' }, 'gender'],
    ['capitalised gender', { gender: 'Female' }, 'gender'],
    ['too short username', { username: 'ab' }, 'username'],
    ['too long username', { username: 'a'.repeat(31) }, 'username'],
    ['username with a space', { username: 'has space' }, 'username'],
    ['username with a dash', { username: 'has-dash' }, 'username'],
    ['username with non-ASCII', { username: 'émile_x' }, 'username'],
    ['null username', { username: null }, 'username'],
    ['unknown visibility', { visibility: 'friends' }, 'visibility'],
    ['null visibility', { visibility: null }, 'visibility'],
  ];
  for (const [name, body, field] of cases) {
    it(`should refuse ${name} with 400 naming "${field}"`, async () => {
      const user = await createUser();
      await expectRejected(user, body, field);
    });
  }
});

describe('PATCH /me atomicity', () => {
  it('should not write a valid field when another field is invalid', async () => {
    const user = await createUser({ display_name: 'Original' });
    await expectRejected(user, { display_name: 'Changed', website: 'ftp://nope' }, 'website');
    expect((await getMe(user)).display_name).toBe('Original');
  });

  it('should not write anything when the username is taken (409)', async () => {
    const taken = await createUser();
    const user = await createUser({ display_name: 'Before' });
    await expectRejected(user, { display_name: 'After', bio: 'new bio', username: taken.username }, 'username', 409);
    const me = await getMe(user);
    expect(me.display_name).toBe('Before');
    expect(me.username).toBe(user.username);
  });

  it('should not write a valid location when birthdate is invalid', async () => {
    const user = await createUser();
    await expectRejected(user, { location: { country: 'NL' }, gender: 'female', birthdate: '1990-02-31' }, 'birthdate');
  });
});

describe('PATCH /me username conflicts', () => {
  it('should answer 409 naming username when another user has it, in any case', async () => {
    const taken = await createUser();
    const user = await createUser();
    const problem = await expectRejected(user, { username: taken.username.toUpperCase() }, 'username', 409);
    expect(problem.type).toContain('conflict');
    await expectRejected(user, { username: taken.username }, 'username', 409);
  });
});

describe('PATCH /me malformed requests', () => {
  it('should refuse malformed JSON with 400', async () => {
    const user = await createUser();
    const res = await call('/me', { method: 'PATCH', token: user.accessToken, body: '{"display_name": ', headers: { 'Content-Type': 'application/json' } });
    await expectProblem(res, 400);
  });

  it('should refuse a JSON array or a bare value with 400', async () => {
    const user = await createUser();
    await expectProblem(await patchMe(user, [{ display_name: 'x' }]), 400);
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: '"x"', headers: { 'Content-Type': 'application/json' } }), 400);
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: 'null', headers: { 'Content-Type': 'application/json' } }), 400);
  });

  it('should refuse a JSON body over 64 KB with 413', async () => {
    const user = await createUser();
    await expectProblem(await patchMe(user, { bio: 'x'.repeat(70 * 1024) }), 413);
  });
});

describe('GET /users/{id_or_username} errors', () => {
  it('should answer 404 problem for an unknown username', async () => {
    const body = await expectProblem(await call('/users/no_such_user_here'), 404);
    expect(body.type).toContain('not-found');
  });

  it('should answer 404 problem for an unknown id', async () => {
    await expectProblem(await call('/users/01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404);
  });

  it('should answer 404 to authenticated callers too', async () => {
    const viewer = await createUser();
    await expectProblem(await call('/users/nobody_at_all_zz', { token: viewer.accessToken }), 404);
  });

  it('should answer a 4xx problem for an over-long reference', async () => {
    const res = await call(`/users/${'a'.repeat(200)}`);
    expect([400, 404]).toContain(res.status);
    await expectProblem(res, res.status);
  });

  it('should answer 401 for an invalid token rather than ignore it', async () => {
    const user = await createUser();
    await expectProblem(await call(`/users/${user.id}`, { token: 'garbage.token.here' }), 401);
  });
});

describe('DELETE /me errors', () => {
  it('should answer 403 naming password for a wrong password and keep the account', async () => {
    const user = await createUser();
    const problem = await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: 'wrong password!' } }), 403);
    expect(problem.errors?.map((e: { field: string }) => e.field) ?? ['password']).toContain('password');
    await getMe(user);
    await expectStatus(await call(`/users/${user.id}`), 200);
    await expectStatus(await call('/auth/login', { body: { login: user.username, password: user.password } }), 200);
  });

  it('should answer 400 naming password when it is missing', async () => {
    const user = await createUser();
    await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: {} }), 400, 'password');
    await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: '' } }), 400, 'password');
    await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: 12345678 } }), 400, 'password');
    await getMe(user);
  });

  it('should answer 400 without a body', async () => {
    const user = await createUser();
    await expectProblem(await call('/me', { method: 'DELETE', token: user.accessToken }), 400);
    await getMe(user);
  });

  it('should refuse unknown fields or leave the account when they are sent with a wrong password', async () => {
    const user = await createUser();
    const res = await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: 'nope nope', confirm: true } });
    expect([400, 403]).toContain(res.status);
    await expectProblem(res, res.status);
    await getMe(user);
  });

  it('should answer 401 without a token', async () => {
    const user = await createUser();
    await expectProblem(await call('/me', { method: 'DELETE', body: { password: user.password } }), 401);
    await getMe(user);
  });
});
