import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PBKDF2_ITERATIONS,
  configurePasswordHashing,
  hashPassword,
  passwordHashIterations,
  verifyPassword,
} from '../../src/lib/crypto';
import { call, createUser, expectStatus } from '../helpers/client';

/** The suite hashes with a lower work factor (vitest.config.ts); production leaves it unset. */
describe('Password work factor', () => {
  afterEach(() => configurePasswordHashing(env.PASSWORD_HASH_ITERATIONS));

  it('should hash with 100,000 PBKDF2 rounds when PASSWORD_HASH_ITERATIONS is unset, as in production', async () => {
    configurePasswordHashing(undefined);
    expect(passwordHashIterations()).toBe(PBKDF2_ITERATIONS);
    const stored = await hashPassword('correct horse battery');
    expect(stored.split('$')[1]).toBe('100000');
    expect(await verifyPassword('correct horse battery', stored)).toEqual({ ok: true, needsRehash: false });
  });

  it.each(['', '5', '999', '100001', '1e6', '2000.5', 'fast'])('should ignore the setting %j and keep 100,000', (setting) => {
    configurePasswordHashing(setting);
    expect(passwordHashIterations()).toBe(PBKDF2_ITERATIONS);
  });

  it('should verify a hash by its own round count and ask for a rehash only when it is below the factor', async () => {
    configurePasswordHashing('1000');
    const cheap = await hashPassword('pw-one');
    expect(cheap.split('$')[1]).toBe('1000');
    configurePasswordHashing(undefined);
    expect(await verifyPassword('pw-one', cheap)).toEqual({ ok: true, needsRehash: true });
    const strong = await hashPassword('pw-two');
    configurePasswordHashing('1000');
    // A stronger stored hash is never downgraded.
    expect(await verifyPassword('pw-two', strong)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword('wrong', strong)).ok).toBe(false);
  });

  it('should store what the worker was configured with, and sign in with it', async () => {
    const user = await createUser();
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1').bind(user.id).first<{ password_hash: string }>();
    expect(row!.password_hash.split('$')[1]).toBe(env.PASSWORD_HASH_ITERATIONS);
    const login = await call('/auth/login', { body: { login: user.username, password: user.password } });
    await expectStatus(login, 200);
  });

  it('should rehash a password stored below the work factor at the next sign-in', async () => {
    const user = await createUser();
    const before = (await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1').bind(user.id).first<{ password_hash: string }>())!.password_hash;
    expect(before.split('$')[1]).toBe('1000');
    const configured = env.PASSWORD_HASH_ITERATIONS;
    // The deployment raises its work factor: the worker reads the setting on every request.
    Object.assign(env, { PASSWORD_HASH_ITERATIONS: '2000' });
    try {
      await expectStatus(await call('/auth/login', { body: { login: user.username, password: user.password } }), 200);
    } finally {
      Object.assign(env, { PASSWORD_HASH_ITERATIONS: configured });
    }
    const after = (await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1').bind(user.id).first<{ password_hash: string }>())!.password_hash;
    expect(after.split('$')[1]).toBe('2000');
    expect(after).not.toBe(before);
    expect(await verifyPassword(user.password, after)).toEqual({ ok: true, needsRehash: false });
  });
});
