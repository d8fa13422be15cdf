import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { ORIGIN, validatingFetch } from '../contract/validating-fetch';

export const BASE = ORIGIN;
export const API = `${BASE}/api/v1`;

let ipCounter = 0;
/** A fresh client address per call, so per-address rate limits of one test never leak into another. */
export function randomIp(): string {
  ipCounter += 1;
  const r = crypto.getRandomValues(new Uint8Array(2));
  return `10.${(ipCounter >> 8) & 255}.${ipCounter & 255}.${r[0]! % 250 + 1}`;
}

export interface CallOptions {
  method?: string;
  /** Objects are sent as JSON; strings, bytes and FormData as they are. */
  body?: unknown;
  token?: string;
  ip?: string;
  headers?: Record<string, string>;
}

/**
 * Calls the worker's default export in-process (no network), like a client would; every exchange is
 * validated against the served OpenAPI document (test/contract/validating-fetch.ts).
 */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', options.ip ?? randomIp());
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`);
  let body: BodyInit | undefined;
  if (options.body instanceof FormData || options.body instanceof Uint8Array || typeof options.body === 'string') {
    body = options.body as BodyInit;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const url = path.startsWith('http') ? path : path.startsWith('/api/') || path.startsWith('/health') || path.startsWith('/docs') || path.startsWith('/errors') || path.startsWith('/openapi') || path.startsWith('/asyncapi') ? BASE + path : API + path;
  // A redirect is the answer under test (OAuth), never followed: following one would loop back into the worker.
  return validatingFetch(new Request(url, { method: options.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' }));
}

/** Reads a JSON (or problem+json) body, failing the test with the body when the status is not the expected one. */
export async function expectStatus<T = any>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, `${res.status} ${text}`).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Asserts an RFC 9457 problem with the given status, and (optionally) that it names a field. */
export async function expectProblem(res: Response, status: number, field?: string): Promise<any> {
  const body = await expectStatus(res, status);
  expect(res.headers.get('Content-Type')).toContain('application/problem+json');
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String), request_id: expect.any(String) });
  if (field) expect(body.errors?.map((e: { field: string }) => e.field)).toContain(field);
  return body;
}

/**
 * Walks every page of a list (`path` may carry its own query) with the given page size; asserts each
 * page is full except the last, and that the walk ends within `maxPages`.
 */
export async function walkPages(path: string, token: string | undefined, limit: number, maxPages = 50): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  const sep = path.includes('?') ? '&' : '?';
  let cursor: string | null = null;
  let pages = 0;
  do {
    const qs: string = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { data: any[]; next_cursor: string | null } = await expectStatus(await call(path + qs, { token }), 200);
    pages += 1;
    expect(page.data.length).toBeLessThanOrEqual(limit);
    if (page.next_cursor !== null) expect(page.data.length, 'a page before the last is full').toBe(limit);
    items.push(...page.data);
    cursor = page.next_cursor;
    expect(pages, 'pagination did not terminate').toBeLessThan(maxPages);
  } while (cursor !== null);
  return { items, pages };
}

let userCounter = 0;
export function uniqueName(prefix = 'u'): string {
  userCounter += 1;
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}${userCounter}_${rand}`.toLowerCase().slice(0, 30);
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  me: any;
}

/** Registers a fresh account through the API. */
export async function createUser(overrides: Partial<{ username: string; email: string; password: string; display_name: string }> = {}): Promise<TestUser> {
  const username = overrides.username ?? uniqueName();
  const email = overrides.email ?? `${username}@example.com`;
  const password = overrides.password ?? 'correct horse battery';
  const res = await call('/auth/register', { body: { username, email, password, display_name: overrides.display_name } });
  const body = await expectStatus(res, 201);
  return { id: body.user.id, username, email, password, accessToken: body.access_token, refreshToken: body.refresh_token, me: body.user };
}

/** Reads the newest message sent to an address from the local mail outbox. */
export async function lastMailTo(address: string): Promise<{ subject: string; body_text: string; kind: string } | null> {
  return env.DB.prepare('SELECT subject, body_text, kind FROM mail_outbox WHERE to_address = ?1 ORDER BY created_at DESC, id DESC LIMIT 1')
    .bind(address.toLowerCase())
    .first();
}
