import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser } from '../helpers/client';
import { defaultBody, listRoutes, mayHaveBody, urlWith, type Json, type RouteInfo } from '../helpers/routes';

/**
 * Throws malformed input at every operation of the served OpenAPI document, anonymously and with a
 * valid token: nothing may ever answer 5xx, and every 4xx must be problem+json with a request_id.
 * Deterministic: all randomness comes from a seeded PRNG.
 */

const SEED = 0x6b697468; // "kith"
const CONCURRENCY = 24;
/** RL_API_USER allows 300 requests per user per minute; stay well below it per token. */
const REQUESTS_PER_USER = 200;
const TIMEOUT = 120_000;

/**
 * `per` of the variants for the route at `index`, rotating through the list: every route meets several
 * variants of each kind and every variant meets many routes, without running the whole product (which
 * grew past 25,000 requests as the API grew, most of them answered by the same shared parser).
 */
function rotate<T>(variants: readonly T[], index: number, per: number): T[] {
  if (per >= variants.length) return [...variants];
  return Array.from({ length: per }, (_, k) => variants[(index * per + k) % variants.length]!);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < n && copy.length > 0) out.push(copy.splice(this.int(copy.length), 1)[0]!);
    return out;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** A string from a nasty alphabet: controls, NUL, quotes, surrogates, RTL marks, emoji, SQL and path bits. */
  string(max = 40): string {
    const pieces = ['\u0000', '\u0001', '\u001f', '"', "'", '\\', '/', '..', '%', '%00', '\n', '\r\n', '\t', '\u202e', '\u200b', '\ufeff',
      '\ud800', '\udfff', '💥', '𝕏', 'é', 'e\u0301', 'Ω', '漢', ' ', '<script>', '; DROP TABLE users; --', ' OR 1=1', '${x}', '{{x}}', 'a', 'Z', '0', '-', '_'];
    let s = '';
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick(pieces);
    return s;
  }
  json(depth = 0): Json {
    const kind = this.int(depth > 3 ? 5 : 7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.float() < 0.5;
      case 2:
        return this.pick([0, -1, 1, 1.5, -0.0001, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324]);
      case 3:
      case 4:
        return this.string();
      case 5:
        return Array.from({ length: this.int(4) }, () => this.json(depth + 1));
      default: {
        const obj: Record<string, Json> = {};
        for (let i = this.int(4); i > 0; i--) obj[this.pick(['id', 'user_id', 'email', 'content', 'password', 'limit', 'a', '', ' ', '__proto__x', this.string(8)])] = this.json(depth + 1);
        return obj;
      }
    }
  }
}

interface Case {
  route: RouteInfo;
  what: string;
  url: string;
  method: string;
  body?: string | Uint8Array | FormData | (() => FormData);
  headers?: Record<string, string>;
  authed: boolean;
}

interface Outcome {
  failures: string[];
  count: number;
  authedProtected: number;
  authedProtected401: number;
  statuses: Map<number, number>;
}

class TokenPool {
  private users: string[] = [];
  private used = 0;
  async reserve(n: number): Promise<void> {
    const needed = Math.ceil((this.used + n) / REQUESTS_PER_USER);
    while (this.users.length < needed) {
      const fresh = await Promise.all(Array.from({ length: Math.min(8, needed - this.users.length) }, () => createUser()));
      this.users.push(...fresh.map((u) => u.accessToken));
    }
  }
  take(): string {
    const token = this.users[Math.floor(this.used / REQUESTS_PER_USER)];
    if (!token) throw new Error('token pool exhausted: reserve() first');
    this.used += 1;
    return token;
  }
}

const pool = new TokenPool();

function describeBody(body: Case['body']): string {
  if (body === undefined) return '';
  if (typeof body === 'string') return ` body(${body.length})=${JSON.stringify(body.slice(0, 60))}`;
  if (body instanceof Uint8Array) return ` bytes(${body.byteLength})`;
  return ' multipart';
}

async function check(c: Case, token: string | undefined): Promise<string | null> {
  const where = `${c.method} ${c.url.slice(0, 160)} [${c.what}${c.authed ? ', authed' : ''}]${describeBody(c.body)}`;
  let res: Response;
  try {
    const body = typeof c.body === 'function' ? c.body() : c.body;
    res = await call(c.url, { method: c.method, body, headers: c.headers, token });
  } catch (err) {
    return `${where}: threw ${(err as Error).message}`;
  }
  const text = await res.text();
  if (res.status >= 500) return `${where}: ${res.status} ${text.slice(0, 200)}`;
  const ct = res.headers.get('Content-Type') ?? '';
  // HTML only where the document says so (the /docs page); the validating fetch checked the rest.
  if (/text\/html/i.test(ct) && !c.route.operation.responses?.[String(res.status)]?.content?.['text/html']) return `${where}: HTML ${res.status}`;
  if (res.status >= 400) {
    if (c.method === 'HEAD') return ct.includes('application/problem+json') ? null : `${where}: HEAD ${res.status} with Content-Type ${ct}`;
    if (!ct.includes('application/problem+json')) return `${where}: ${res.status} with Content-Type ${ct} ${text.slice(0, 120)}`;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return `${where}: ${res.status} problem body is not JSON: ${text.slice(0, 120)}`;
    }
    if (body.status !== res.status) return `${where}: problem status ${body.status} != ${res.status}`;
    if (typeof body.request_id !== 'string' || !body.request_id) return `${where}: problem without request_id`;
    if (res.headers.get('X-Request-Id') !== body.request_id) return `${where}: X-Request-Id differs from request_id`;
    if (typeof body.type !== 'string' || typeof body.title !== 'string' || typeof body.detail !== 'string') {
      return `${where}: incomplete problem ${text.slice(0, 120)}`;
    }
    if (/\bat .+:\d+:\d+|Error:|stack/i.test(body.detail)) return `${where}: detail leaks internals: ${body.detail.slice(0, 120)}`;
  }
  return c.authed && c.route.requiresAuth && res.status === 401 ? 'authed-401' : null;
}

async function run(cases: Case[]): Promise<Outcome> {
  await pool.reserve(cases.filter((c) => c.authed).length);
  const tokens = cases.map((c) => (c.authed ? pool.take() : undefined));
  const outcome: Outcome = { failures: [], count: cases.length, authedProtected: 0, authedProtected401: 0, statuses: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const result = await check(c, tokens[i]);
      if (c.authed && c.route.requiresAuth) outcome.authedProtected += 1;
      if (result === 'authed-401') outcome.authedProtected401 += 1;
      else if (result) outcome.failures.push(result);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcome;
}

function expectClean(outcome: Outcome): void {
  expect(outcome.count).toBeGreaterThan(0);
  expect(outcome.failures.slice(0, 40), `${outcome.failures.length} of ${outcome.count} requests misbehaved`).toEqual([]);
  // The valid token must actually get past authentication, or the authed half fuzzes nothing.
  if (outcome.authedProtected > 0) expect(outcome.authedProtected401).toBeLessThan(outcome.authedProtected * 0.1);
}

/** Each case twice: anonymous and with a valid token. */
function both(route: RouteInfo, what: string, url: string, extra: Partial<Case> = {}): Case[] {
  const base = { route, what, url, method: route.method, ...extra };
  return [{ ...base, authed: false }, { ...base, authed: true }];
}

const JSON_CT = { 'Content-Type': 'application/json' };

function nested(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object' ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

/** Replaces one field of the example with raw JSON text. */
function withField(example: Json | undefined, key: string, rawJson: string): string {
  const base = example && typeof example === 'object' && !Array.isArray(example) ? example : {};
  const marker = '__FUZZ_MARKER__';
  return JSON.stringify({ ...base, [key]: marker }).replace(`"${marker}"`, rawJson);
}

function fieldsOf(route: RouteInfo): string[] {
  const ex = route.exampleBody;
  const keys = ex && typeof ex === 'object' && !Array.isArray(ex) ? Object.keys(ex) : [];
  return keys.length > 0 ? keys : ['id'];
}

describe('Fuzzing every documented route', () => {
  let routes: RouteInfo[];
  let bodyRoutes: RouteInfo[];

  beforeAll(async () => {
    routes = await listRoutes();
    bodyRoutes = routes.filter((r) => mayHaveBody(r.method));
  });

  it('should cover every operation of the document', () => {
    expect(routes.length).toBeGreaterThan(10);
    expect(bodyRoutes.length).toBeGreaterThan(5);
  });

  it('should answer invalid JSON with problems, never 5xx', { timeout: TIMEOUT }, async () => {
    const invalid = ['{', '{"a":', "{'a':1}", 'undefined', 'NaN', '[1,2', '{"a":1}trailing', '', ' ', '\u0000', '{"a":1,}', '{"a" 1}',
      '\ufeff{}', '{"a":"\\x41"}', '{"a":"\\ud800"}', '{"a":01}', '"unterminated', '{}{}', '/* c */ {}'];
    const cases: Case[] = [];
    for (const [i, route] of bodyRoutes.entries()) {
      for (const text of rotate(invalid, i, 3)) cases.push(...both(route, 'invalid json', route.url, { body: text, headers: JSON_CT }));
      // Bytes that are not UTF-8 at all.
      cases.push(...both(route, 'invalid utf-8', route.url, { body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x3a, 0x31, 0x7d]), headers: JSON_CT }));
    }
    expectClean(await run(cases));
  });

  it('should answer JSON of the wrong type (array, number, string, null, bool)', { timeout: TIMEOUT }, async () => {
    const cases: Case[] = [];
    for (const [i, route] of bodyRoutes.entries()) {
      const wrong = ['[]', '[{}]', '0', '-1', '1e999', '"a string"', 'null', 'true', 'false', '{}'];
      for (const text of [...rotate(wrong, i, 3), JSON.stringify([route.exampleBody ?? {}])]) cases.push(...both(route, 'wrong type', route.url, { body: text, headers: JSON_CT }));
    }
    expectClean(await run(cases));
  });

  it('should answer mutated fields (wrong types, huge, unicode, NUL, deep nesting)', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED);
    const values = [
      'null', '0', '-1', '1.5', '1e308', '-9007199254740993', 'true', '[]', '{}', '""', '" "', '"\\u0000"', '"a\\u0000b"', '"\\ud800"',
      '"\\u202egnp.exe"', '"💥💥💥"', '"e\\u0301\\u0301\\u0301"', JSON.stringify('漢'.repeat(2000)), JSON.stringify('x'.repeat(50_000)),
      JSON.stringify([...'x'.repeat(2000)]), nested(2_000, 'object'), nested(5_000, 'array'), '{"__proto__":{"admin":true}}',
      '"../../etc/passwd"', '"%00"', '"<img src=x onerror=alert(1)>"', "\"' OR '1'='1\"", '"01JC6Z1W3R2J4D5E6F7G8H9J0K"',
    ];
    const cases: Case[] = [];
    const extraKeys = ['__proto__', 'constructor', 'prototype', 'unknown_field', '', '\u0000', 'x'.repeat(5000)];
    const whole = [
      ['nested object', nested(10_000, 'object')],
      ['nested array', nested(30_000, 'array')],
      ['many keys', JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])))],
    ] as const;
    for (const [i, route] of bodyRoutes.entries()) {
      // Each field of the example gets two hostile values.
      for (const field of fieldsOf(route)) {
        for (const v of rng.sample(values, 2)) cases.push(...both(route, `field ${field}`, route.url, { body: withField(route.exampleBody, field, v), headers: JSON_CT }));
      }
      // Unknown and prototype-polluting keys next to a valid example.
      for (const key of rotate(extraKeys, i, 2)) {
        cases.push(...both(route, `extra key ${key.slice(0, 10)}`, route.url, { body: withField(route.exampleBody, key, '{"polluted":true}'), headers: JSON_CT }));
      }
      // Deeply nested documents and many keys as the whole body.
      for (const [what, body] of rotate(whole, i, 1)) cases.push(...both(route, what, route.url, { body, headers: JSON_CT }));
    }
    expectClean(await run(cases));
  });

  it('should answer seeded random JSON documents', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 1);
    const cases: Case[] = [];
    for (const route of bodyRoutes) {
      for (let i = 0; i < 4; i++) {
        const doc = rng.float() < 0.5 ? rng.json() : { ...((route.exampleBody as object) ?? {}), [rng.pick(fieldsOf(route))]: rng.json(1) };
        cases.push({ route, what: `random #${i}`, url: route.url, method: route.method, body: JSON.stringify(doc), headers: JSON_CT, authed: i % 2 === 1 });
      }
    }
    expectClean(await run(cases));
  });

  it('should answer bodies over 64 KB with problems (413 for JSON routes)', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 2);
    const cases: Case[] = [];
    const bigString = JSON.stringify({ a: 'x'.repeat(70 * 1024) });
    const bigArray = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i));
    const bigText = 'y'.repeat(100 * 1024);
    const bigBytes = rng.bytes(80 * 1024);
    const big = [
      ['big json string', bigString, JSON_CT],
      ['big json array', bigArray, JSON_CT],
      ['big text', bigText, { 'Content-Type': 'text/plain' }],
      ['big random bytes', bigBytes, { 'Content-Type': 'application/octet-stream' }],
    ] as const;
    for (const [i, route] of bodyRoutes.entries()) {
      for (const [what, body, headers] of rotate(big, i, 2)) cases.push(...both(route, what, route.url, { body, headers }));
    }
    const outcome = await run(cases);
    expectClean(outcome);
  });

  it('should refuse a JSON body over 64 KB with 413 on every JSON route', { timeout: TIMEOUT }, async () => {
    const jsonRoutes = bodyRoutes.filter((r) => r.bodyTypes.some((t) => /json/i.test(t)));
    expect(jsonRoutes.length).toBeGreaterThan(0);
    const body = JSON.stringify({ a: 'x'.repeat(70 * 1024) });
    const wrong: string[] = [];
    for (const route of jsonRoutes) {
      const res = await call(route.url, { method: route.method, body, headers: JSON_CT });
      const problem = await res.json<{ status: number }>();
      // Auth and per-route limits may answer first; what must never happen is the body being read.
      if (![413, 401, 429].includes(res.status) || problem.status !== res.status) wrong.push(`${route.label}: ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('should answer wrong content types', { timeout: TIMEOUT }, async () => {
    const cases: Case[] = [];
    const types = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'APPLICATION/JSON',
      'application/json-patch+json', 'application/vnd.api+json', 'image/png', 'image/svg+xml', 'multipart/form-data', 'multipart/form-data; boundary=',
      'application/octet-stream', 'text/html', '*/*', 'garbage', 'application/json, text/plain'];
    for (const [i, route] of bodyRoutes.entries()) {
      const json = JSON.stringify(defaultBody(route) ?? {});
      const variants: [string, string | Uint8Array, Record<string, string> | undefined][] = [
        ...types.map((ct): [string, string, Record<string, string>] => [`content-type ${ct}`, json, { 'Content-Type': ct }]),
        ['form urlencoded', 'email=a%40b.c&password=x&__proto__[x]=1', { 'Content-Type': 'application/x-www-form-urlencoded' }],
        ['xml', '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', { 'Content-Type': 'application/xml' }],
        // No Content-Type at all (bytes carry none).
        ['no content-type', new TextEncoder().encode(json), undefined],
        ['empty no content-type', new Uint8Array(0), undefined],
      ];
      for (const [what, body, headers] of rotate(variants, i, 4)) cases.push(...both(route, what, route.url, { body, headers }));
    }
    expectClean(await run(cases));
  });

  it('should answer random bytes sent as multipart and as images', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 3);
    const cases: Case[] = [];
    const form = (build: (f: FormData) => void) => () => {
      const f = new FormData();
      build(f);
      return f;
    };
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
    const gif = new TextEncoder().encode('GIF89a');
    const webp = new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ');
    const withMagic = (magic: Uint8Array, n: number) => {
      const out = rng.bytes(n);
      out.set(magic, 0);
      return out;
    };
    const big = rng.bytes(70 * 1024);
    const magic = [withMagic(png, 600), withMagic(jpeg, 600), withMagic(gif, 600), withMagic(webp, 600)];
    for (const [i, route] of bodyRoutes.entries()) {
      const variants: Case[] = [];
      const add = (r: RouteInfo, what: string, url: string, extra: Partial<Case>) => variants.push(...both(r, what, url, extra));
      const small = rng.bytes(1 + rng.int(2048));
      add(route, 'multipart random file', route.url, { body: form((f) => f.append('file', new Blob([small]), 'x.png')) });
      add(route, 'multipart big random file', route.url, { body: form((f) => f.append('file', new Blob([big]), 'big.jpg')) });
      add(route, 'multipart empty file', route.url, { body: form((f) => f.append('file', new Blob([]), 'empty.png')) });
      add(route, 'multipart file as text', route.url, { body: form((f) => f.append('file', 'not a file')) });
      add(route, 'multipart no file', route.url, { body: form((f) => f.append('other', new Blob([small]), 'o.bin')) });
      add(route, 'multipart two files', route.url, { body: form((f) => { f.append('file', new Blob([small]), 'a'); f.append('file', new Blob([magic[0]!]), 'b'); }) });
      for (const [k, m] of magic.entries()) {
        add(route, `multipart magic ${k}`, route.url, { body: form((f) => f.append('file', new Blob([m], { type: 'image/png' }), '💥\u0000.png')) });
        add(route, `raw magic ${k}`, route.url, { body: m, headers: { 'Content-Type': 'image/png' } });
      }
      add(route, 'raw multipart garbage', route.url, { body: small, headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ' } });
      add(route, 'raw multipart no boundary', route.url, { body: small, headers: { 'Content-Type': 'multipart/form-data' } });
      add(route, 'truncated multipart', route.url, {
        body: '--B\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\u0089PNG',
        headers: { 'Content-Type': 'multipart/form-data; boundary=B' },
      });
      add(route, 'raw image random', route.url, { body: small, headers: { 'Content-Type': 'image/jpeg' } });
      add(route, 'raw octet random', route.url, { body: small, headers: { 'Content-Type': 'application/octet-stream' } });
      add(route, 'raw big image random', route.url, { body: big, headers: { 'Content-Type': 'image/gif' } });
      // Pairs (anonymous, authed) of each variant stay together.
      const pairs = Array.from({ length: variants.length / 2 }, (_, k) => variants.slice(2 * k, 2 * k + 2));
      for (const pair of rotate(pairs, i, 4)) cases.push(...pair);
    }
    expectClean(await run(cases));
  });

  it('should answer absurd query parameters', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 4);
    const b64url = (text: string) => btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    const absurd = [
      'limit=-1', 'limit=0', 'limit=1e9', 'limit=1000000000000000000000', 'limit=abc', 'limit=1.5', 'limit=', 'limit=%00', 'limit=NaN',
      'limit=Infinity', 'limit=0x10', 'limit=1&limit=2', 'limit[]=1', 'limit[a]=1', 'cursor=garbage', 'cursor=%00', 'cursor=', `cursor=${'A'.repeat(4000)}`,
      'cursor=%ZZ', 'cursor=====', 'cursor=..%2F..%2F', `cursor=${b64url('[1e308,"x"]')}`, `cursor=${b64url('[-1,""]')}`, `cursor=${b64url('["a","b"]')}`,
      `cursor=${b64url('[1]')}`, `cursor=${b64url('[1,2,3]')}`, `cursor=${b64url('{"a":1}')}`, `cursor=${b64url('null')}`,
      `cursor=${b64url('[9007199254740993,"01JC6Z1W3R2J4D5E6F7G8H9J0K"]')}`, `cursor=${b64url(`["2026-01-01T00:00:00.000Z","' OR 1=1 --"]`)}`,
      `cursor=${b64url('[1.5,"\\u0000"]')}`, 'cursor=a&cursor=b', 'w=0', 'w=-1', 'w=99999999999', 'w=abc', 'w=256.5', 'w=256&w=512', 'w[]=64',
      'w=%00', 'w=%ED%A0%80', 'q=%00', 'q=%ED%A0%80%FF', `q=${'%F0%9F%92%A5'.repeat(500)}`, 'unread=maybe', 'direction=sideways', 'sort=%27', 'age=-5', 'age=1e400',
      'before_seq=-1', 'after_seq=abc', 'since=%00', 'parent_id=..%2F', 'topic=%ZZ', 'role=owner%00', '%00=%00', '=&&&==', `${'k'.repeat(5000)}=1`,
      Array.from({ length: 300 }, (_, i) => `p${i}=${i}`).join('&'),
    ];
    const cases: Case[] = [];
    for (const [i, route] of routes.entries()) {
      const list = rotate(absurd, i, route.method === 'GET' ? 6 : 2);
      const documented = route.queryParams.map((p) => `${encodeURIComponent(p.name)}=${rawEncode(rng.string(30))}`);
      for (const q of [...list, ...documented]) {
        const body = stringBody(route);
        cases.push(...both(route, `query ${q.slice(0, 30)}`, `${route.url}${route.url.includes('?') ? '&' : '?'}${q}`, { body, headers: body ? JSON_CT : undefined }));
      }
    }
    expectClean(await run(cases));
  });

  it('should answer absurd path parameters', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 5);
    const absurd = [
      'a'.repeat(3000), '%00', 'a%00b', '..', '.', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f', '../', '%', '%ZZ', '%C0%AF', '%E0%80%AF', '%FF', '%ED%A0%80',
      '💥', encodeURIComponent('💥'), "'%20OR%201=1--", '%3Cscript%3E', '-1', '0', '1e309', 'null', 'undefined', '%20', '%09', '%0A', '%0D%0A',
      '01jc6z1w3r2j4d5e6f7g8h9j0k', 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ', '99999999999999999999999999', `${'01JC6Z1W3R2J4D5E6F7G8H9J0K'}-${'g'.repeat(64)}`,
      '__proto__', 'constructor', '%2F', 'a;b', 'a,b', '*', '~', 'A'.repeat(26) + '%00',
    ];
    const cases: Case[] = [];
    for (const [i, route] of routes.filter((r) => r.pathParams.length > 0).entries()) {
      for (const param of route.pathParams) {
        for (const value of [...rotate(absurd, i, 4), rawEncode(rng.string(20))]) {
          const url = urlWith(route, { [param]: value });
          cases.push(...both(route, `path ${param}=${value.slice(0, 20)}`, url, { body: stringBody(route), headers: stringBody(route) ? JSON_CT : undefined }));
        }
      }
    }
    // Stray slashes and very long paths next to every route.
    for (const [i, route] of routes.entries()) {
      const stray = [`${route.url}/`, `${route.url}//`, `${route.url}/extra`, `${route.url}/${'x'.repeat(4000)}`, route.url.replace('/api/v1/', '/api//v1/'), route.url.replace('/api/v1/', '/API/V1/')];
      for (const url of rotate(stray, i, 2)) {
        cases.push(...both(route, 'stray path', url, { body: stringBody(route), headers: stringBody(route) ? JSON_CT : undefined }));
      }
    }
    expectClean(await run(cases));
  });

  it('should answer absurd headers', { timeout: TIMEOUT }, async () => {
    const rng = new Rng(SEED + 6);
    const headerSets: Record<string, string>[] = [
      { 'CF-Connecting-IP': 'x'.repeat(5000) },
      { 'CF-Connecting-IP': 'not-an-ip' },
      { 'CF-Connecting-IP': '::1' },
      { 'CF-Connecting-IP': '999.999.999.999, 1.2.3.4' },
      { 'If-None-Match': '*' },
      { 'If-None-Match': `"${'a'.repeat(8000)}"` },
      { 'If-None-Match': 'W/"x", , ,"y"' },
      { 'X-Request-Id': '../../etc/passwd' },
      { 'X-Request-Id': '"quoted" %E9%9D%9E' },
      { Accept: 'text/html' },
      { Accept: 'application/xml;q=1, */*;q=0' },
      { 'Accept-Encoding': 'gzip;q=garbage, br' },
      { Origin: 'null' },
      { Origin: 'http://localhost:3000.evil.example' },
      { 'Content-Encoding': 'gzip' },
      { 'Transfer-Encoding': 'chunked' },
      { Range: 'bytes=0-0,-1,99999999999999999999-' },
      { 'X-HTTP-Method-Override': 'DELETE' },
      { Cookie: 'a=b; '.repeat(500) },
      { Authorization: `Bearer ${'a'.repeat(6000)}` },
      { Authorization: 'Bearer a.b.c' },
    ];
    const cases: Case[] = [];
    for (const [i, route] of routes.entries()) {
      for (const headers of [...rotate(headerSets, i, 3), { 'X-Fuzz': rawEncode(rng.string(30)) }]) {
        const body = stringBody(route);
        const h = { ...headers, ...(body ? JSON_CT : {}) };
        // A CF-Connecting-IP of our own replaces the random one call() would add.
        cases.push({ route, what: `headers ${Object.keys(headers).join(',')}`, url: route.url, method: route.method, body, headers: h, authed: false });
        if (!('Authorization' in headers)) cases.push({ route, what: `headers ${Object.keys(headers).join(',')}`, url: route.url, method: route.method, body, headers: h, authed: true });
      }
    }
    expectClean(await run(cases));
  });

  it('should answer every route with every method, with and without bodies', { timeout: TIMEOUT }, async () => {
    const cases: Case[] = [];
    const seen = new Set<string>();
    for (const route of routes) {
      if (seen.has(route.url)) continue;
      seen.add(route.url);
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const body = mayHaveBody(method) && method !== 'OPTIONS' ? '{"a":1}' : undefined;
        cases.push(...both({ ...route, method }, `method ${method}`, route.url, { method, body, headers: body ? JSON_CT : undefined }));
      }
    }
    expectClean(await run(cases));
  });
});

function stringBody(route: RouteInfo): string | undefined {
  const body = defaultBody(route);
  return body === undefined ? undefined : JSON.stringify(body);
}

/** Percent-encodes like encodeURIComponent, but writes lone surrogates as the invalid UTF-8 bytes they would be. */
function rawEncode(text: string): string {
  return text
    .split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/)
    .map((part, i) => (i % 2 === 1 ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}
