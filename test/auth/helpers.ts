import { env } from 'cloudflare:workers';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { settleAfterResponse } from '../helpers/after-response';
import { call, expectStatus, uniqueName } from '../helpers/client';

/** The fields of `GET /me` (the "me" shape) every token body must carry. */
export const ME_KEYS = [
  'id',
  'username',
  'display_name',
  'avatar_url',
  'bio',
  'is_verified',
  'location',
  'website',
  'links',
  'created_at',
  'counts',
  'email',
  'email_verified',
  'birthdate',
  'gender',
  'visibility',
  'wall_policy',
  'discoverable',
  'message_policy',
  'role',
] as const;

/** A fresh username with upper-case letters in it (still valid once lower-cased). */
export function mixedCaseName(prefix = 'Au'): string {
  const lower = uniqueName(prefix.toLowerCase());
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

export function register(body: Record<string, unknown>, ip?: string): Promise<Response> {
  return call('/auth/register', { body, ip });
}

export function login(identifier: string, password: string, ip?: string): Promise<Response> {
  return call('/auth/login', { body: { login: identifier, password }, ip });
}

export function refresh(refreshToken: string, ip?: string): Promise<Response> {
  return call('/auth/refresh', { body: { refresh_token: refreshToken }, ip });
}

export function logout(refreshToken: string): Promise<Response> {
  return call('/auth/logout', { body: { refresh_token: refreshToken } });
}

export function getMe(token: string): Promise<Response> {
  return call('/me', { token });
}

/** Asks for a reset mail, and waits for the lookup and the mail that run after the answer. */
export async function forgot(email: string): Promise<Response> {
  return (await settleAfterResponse(() => call('/auth/password/forgot', { body: { email } }))).result;
}

/** Asks for a verification mail again (with a token, or `{ email }` without), and waits for the work after the answer. */
export async function resend(body: { email?: string }, token?: string): Promise<Response> {
  return (await settleAfterResponse(() => call('/auth/email/resend', { body, token }))).result;
}

export function reset(token: string, password: string): Promise<Response> {
  return call('/auth/password/reset', { body: { token, password } });
}

export function changePassword(accessToken: string, currentPassword: string, newPassword: string): Promise<Response> {
  return call('/auth/password/change', { token: accessToken, body: { current_password: currentPassword, new_password: newPassword } });
}

export interface TokenBody {
  user: any;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** Logs in and returns the token body, failing the test on any other status. */
export async function loginOk(identifier: string, password: string): Promise<TokenBody> {
  return expectStatus<TokenBody>(await login(identifier, password), 200);
}

/** Asserts the token-body shape shared by register, login and refresh. */
export function expectTokenBody(body: TokenBody): void {
  expect(body.token_type).toBe('Bearer');
  expect(body.expires_in).toBe(900);
  expect(typeof body.access_token).toBe('string');
  expect(body.access_token.split('.')).toHaveLength(3);
  expect(typeof body.refresh_token).toBe('string');
  expect(body.refresh_token.length).toBeGreaterThanOrEqual(32);
  expect(Object.keys(body.user).sort()).toEqual([...ME_KEYS].sort());
}

/** How many mails of a kind the outbox holds for an address. */
export async function mailCountTo(address: string, kind = 'password_reset'): Promise<number> {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM mail_outbox WHERE to_address = ?1 AND kind = ?2')
    .bind(address.toLowerCase(), kind)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Pulls the reset token out of a password-reset mail ("Reset token: <token>"). */
export function resetTokenFrom(mail: { body_text: string } | null): string {
  expect(mail, 'a reset mail in the outbox').not.toBeNull();
  const match = /Reset token: (\S+)/.exec(mail!.body_text);
  expect(match, mail!.body_text).not.toBeNull();
  return match![1]!;
}

export const TEST_SECRET = 'test-secret-for-vitest-only-0123456789abcdef';

export interface SignOptions {
  secret?: string;
  sub?: string;
  sid?: string;
  typ?: string;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch; null leaves the claim out. */
  exp?: number | null;
  iat?: number | null;
}

/** Signs an HS256 access token like the worker does, with any claim overridable. */
export async function signToken(options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (options.sid !== undefined) claims.sid = options.sid;
  claims.typ = options.typ ?? 'access';
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'kith')
    .setAudience(options.audience ?? 'kith-api');
  if (options.iat !== null) jwt.setIssuedAt(options.iat ?? now);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now + 900);
  if (options.sub !== undefined) jwt.setSubject(options.sub);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

export function base64UrlJson(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeJwtPayload(token: string): Record<string, any> {
  const part = token.split('.')[1]!;
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  return JSON.parse(atob(b64));
}

/** Asserts a body text carries no secret material or stack trace. */
export function expectNoLeaks(text: string): void {
  expect(text).not.toMatch(/password_hash|passwordHash|pbkdf2/i);
  expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|\.js:\d+|"stack"/i);
}

/** Pulls the token out of a verification or change mail ("Verification token: <token>"). */
export function emailTokenFrom(mail: { body_text: string } | null): string {
  expect(mail, 'a verification mail in the outbox').not.toBeNull();
  const match = /Verification token: (\S+)/.exec(mail!.body_text);
  expect(match, mail!.body_text).not.toBeNull();
  return match![1]!;
}

/** The newest mail of a kind sent to an address, with both parts. */
export async function lastMailOfKind(address: string, kind: string): Promise<{ subject: string; body_text: string; body_html: string | null } | null> {
  return env.DB.prepare('SELECT subject, body_text, body_html FROM mail_outbox WHERE to_address = ?1 AND kind = ?2 ORDER BY created_at DESC, id DESC LIMIT 1')
    .bind(address.toLowerCase(), kind)
    .first();
}

/** Confirms a user's address with the link registration mailed (through the API). */
export async function verifyEmailOf(user: { email: string }): Promise<void> {
  const token = emailTokenFrom(await lastMailOfKind(user.email, 'email_verification'));
  await expectStatus(await call('/auth/email/verify', { body: { token } }), 204);
}

/** What an authenticator app shows for a base32 secret, `offsetSteps` 30-second steps from now. */
export function totpCode(secret: string, offsetSteps = 0): string {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(Date.now() / 30_000) + offsetSteps), 6);
}

/** Verifies the user's address, enrols TOTP and confirms it; returns the secret and the recovery codes. */
export async function enableTotp(user: { email: string; accessToken: string }): Promise<{ secret: string; recoveryCodes: string[] }> {
  const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
  if (!me.email_verified) await verifyEmailOf(user);
  const { secret } = await expectStatus(await call('/me/mfa/totp', { method: 'POST', token: user.accessToken }), 200);
  const body = await expectStatus(await call('/me/mfa/totp/confirm', { token: user.accessToken, body: { code: totpCode(secret, -1) } }), 200);
  return { secret, recoveryCodes: body.recovery_codes };
}
