import { createKithClient, type KithClient, type KithClientOptions } from '@kith/client';
import { decodeJwtPayload, signToken } from '../../../test/auth/helpers';
import { ORIGIN, validatingFetch } from '../../../test/contract/validating-fetch';
import { randomIp, uniqueName } from '../../../test/helpers/client';

/**
 * The client under test, pointed at the worker in-process: its fetch is the contract-validating fetch
 * (test/contract/validating-fetch.ts), so every answer the client gets, socket upgrades and retries
 * after a refresh included, is checked against the served document. Each client has its own address.
 */

/** Every request the client sent (through `fetch`), in order, for tests that count calls. */
export interface Recorded {
  requests: Request[];
  /** The answer to each request (same index). */
  answers: Response[];
  /** How many requests went to `path` (a path under the origin, e.g. `/api/v1/auth/refresh`). */
  count(path: string): number;
}

export function recordingFetch(inner: (request: Request) => Promise<Response> = validatingFetch): Recorded & { fetch: (request: Request) => Promise<Response> } {
  const requests: Request[] = [];
  const answers: Response[] = [];
  return {
    requests,
    answers,
    count: (path) => requests.filter((r) => new URL(r.url).pathname === path).length,
    fetch: async (request) => {
      const index = requests.push(request.clone()) - 1;
      const answer = await inner(request);
      answers[index] = answer;
      return answer;
    },
  };
}

export function kithClient(options: Partial<KithClientOptions> = {}): KithClient {
  return createKithClient({ baseUrl: ORIGIN, fetch: validatingFetch, ...options, headers: { 'CF-Connecting-IP': randomIp(), ...options.headers } });
}

export const PASSWORD = 'correct horse battery staple';

/** Registers a fresh account through the client (which keeps the tokens). */
export async function signUp(kith: KithClient, name: string) {
  const username = uniqueName(name);
  const { data, response } = await kith.api.POST('/api/v1/auth/register', { body: { email: `${username}@example.com`, username, password: PASSWORD, display_name: name } });
  if (!data) throw new Error(`register answered ${response.status}`);
  return { username, id: data.user.id };
}

/** The access token re-signed with an expiry in the past: same user, same session, so a refresh revives it. */
export async function expired(accessToken: string): Promise<string> {
  const claims = decodeJwtPayload(accessToken);
  const now = Math.floor(Date.now() / 1000);
  return signToken({ sub: claims.sub, sid: claims.sid, iat: now - 3600, exp: now - 60 });
}

/** Waits until `check` holds, polling every few ms; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
