import { exports } from 'cloudflare:workers';
import { checkRequest, checkResponse, NULL_BODY, type SentRequest } from './exchange';
import { ContractValidator, isJsonMediaType, type JsonObject } from './validator';
import { watchFrames } from './validating-socket';

/**
 * The fetch every test uses to reach the worker (in-process, no network): it sends the request to the
 * worker's default export and checks the answer against the document the worker serves at
 * /openapi.json (fetched once per test file). A response that breaks the document throws a
 * ContractError, which fails the test that received it. Successful requests are checked too, so the
 * requests tests rely on stay documented.
 */

export const ORIGIN = 'http://kith.test';

/** Validated so far in this test file, read (and reset) by test/setup.ts for the run's total. */
const counts = { responses: 0, requests: 0 };

export function takeContractCounts(): { responses: number; requests: number } {
  const taken = { ...counts };
  counts.responses = 0;
  counts.requests = 0;
  return taken;
}

let loading: Promise<ContractValidator> | undefined;

/** The validator for the served document, made once per test file. */
export function contractValidator(): Promise<ContractValidator> {
  loading ??= (async () => {
    const request = new Request(`${ORIGIN}/openapi.json`, { headers: { 'CF-Connecting-IP': '10.255.255.254' } });
    const response = await exports.default.fetch(request);
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}: ${new TextDecoder().decode(body)}`);
    const validator = new ContractValidator(JSON.parse(new TextDecoder().decode(body)) as JsonObject);
    // The document's own response is checked like any other.
    counts.responses += 1;
    checkResponse(validator, { method: 'GET', url: new URL(request.url), headers: request.headers }, response, body);
    return validator;
  })();
  return loading;
}

/** The served document (as the validator read it). */
export async function servedDocument(): Promise<JsonObject> {
  return (await contractValidator()).doc;
}

/**
 * `fetch` against the worker, validating the exchange (see the file comment). Same signature as
 * `fetch`, so typed clients (openapi-fetch) and socket helpers use it as is; a WebSocket upgrade's
 * 101 is checked for its status and headers, and its frames against /asyncapi.json (validating-socket.ts).
 */
export async function validatingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const validator = await contractValidator();
  const url = new URL(request.url);
  const contentType = request.headers.get('Content-Type');
  const sent: SentRequest = { method: request.method, url, headers: request.headers, hasBody: request.body !== null };
  // JSON bodies are read from a clone for the request check; so are untyped ones, which may be empty.
  const copy = request.body && (!contentType || isJsonMediaType(contentType)) ? request.clone() : undefined;
  if (copy) sent.json = copy.text();
  if (copy && !contentType) sent.hasBody = (await sent.json!).length > 0;
  const response = await exports.default.fetch(request);
  counts.responses += 1;
  if (response.status === 101) {
    checkResponse(validator, sent, response, null);
    if (response.webSocket) watchFrames(response.webSocket, url.pathname);
    return response;
  }
  const body = new Uint8Array(await response.arrayBuffer());
  const ok = response.status >= 200 && response.status < 300;
  if (copy && !ok) await sent.json?.catch(() => undefined);
  checkResponse(validator, sent, response, body);
  if (ok) {
    counts.requests += 1;
    await checkRequest(validator, sent, response.status);
  }
  return new Response(NULL_BODY.has(response.status) || request.method === 'HEAD' ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

