import { ContractError, ContractValidator, coerce, isJsonMediaType, isObject, matchMediaType, pointer, type Json, type JsonObject, type MatchedOperation } from './validator';

/** What a test sent, as far as the checks need it. */
export interface SentRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The body as sent, when it is JSON (read from a clone, so streams still stream). */
  json?: Promise<string>;
  hasBody?: boolean;
}

/** Statuses whose responses never have a body. */
export const NULL_BODY = new Set([101, 204, 205, 304]);

/** Resolves a `$ref`'d object and says where it lives, so its schemas can be addressed by pointer. */
function located(validator: ContractValidator, raw: Json | undefined, at: string[]): { value: JsonObject; at: string[] } | undefined {
  if (isObject(raw) && typeof raw.$ref === 'string') {
    const value = validator.deref(raw);
    return value ? { value, at: raw.$ref.slice(2).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~')) } : undefined;
  }
  return isObject(raw) ? { value: raw, at } : undefined;
}

/** The response object an operation documents for a status (exact, then `4XX`, then `default`). */
function documentedResponse(validator: ContractValidator, match: MatchedOperation, status: number) {
  const responses = isObject(match.operation.responses) ? match.operation.responses : {};
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  return key ? located(validator, responses[key], ['paths', match.template, match.method, 'responses', key]) : undefined;
}

function checkHeaders(validator: ContractValidator, response: Response, documented: { value: JsonObject; at: string[] }): string[] {
  const problems: string[] = [];
  const headers = isObject(documented.value.headers) ? documented.value.headers : {};
  for (const [name, raw] of Object.entries(headers)) {
    const header = located(validator, raw, [...documented.at, 'headers', name]);
    if (!header) continue;
    const value = response.headers.get(name);
    if (value === null) {
      if (header.value.required === true) problems.push(`required header ${name} is missing`);
      continue;
    }
    const schema = validator.deref(header.value.schema);
    if (schema) problems.push(...validator.validate(pointer(...header.at, 'schema'), coerce(value, schema), 'closed').map((p) => `header ${name}: ${p}`));
  }
  return problems;
}

function checkBody(validator: ContractValidator, response: Response, documented: { value: JsonObject; at: string[] }, body: Uint8Array | null, method: string): string[] {
  const content = isObject(documented.value.content) ? documented.value.content : undefined;
  if (body === null || method === 'HEAD') return [];
  if (body.byteLength === 0) {
    return content && Object.keys(content).length > 0 && !NULL_BODY.has(response.status) ? ['the body is empty, but the document declares content'] : [];
  }
  if (!content || Object.keys(content).length === 0) return [`a ${body.byteLength}-byte body is sent, but the document declares no content`];
  const contentType = response.headers.get('Content-Type');
  const mediaType = matchMediaType(content, contentType);
  if (!mediaType) return [`Content-Type ${contentType ?? '(none)'} is not among the documented ${Object.keys(content).join(', ')}`];
  if (!isJsonMediaType(contentType!)) return [];
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return [`the ${contentType} body is not JSON`];
  }
  return validator.validate(pointer(...documented.at, 'content', mediaType, 'schema'), value, 'closed');
}

/** Checks one response; throws a ContractError naming the operation, the status and each problem. */
export function checkResponse(validator: ContractValidator, sent: SentRequest, response: Response, body: Uint8Array | null): void {
  const match = validator.findOperation(sent.method, sent.url.pathname);
  const where = `${sent.method} ${sent.url.pathname} → ${response.status}`;
  let documented: { value: JsonObject; at: string[] } | undefined;
  let label: string;
  if (match) {
    label = `${match.label} → ${response.status}`;
    documented = documentedResponse(validator, match, response.status);
    if (!documented) {
      const listed = Object.keys(isObject(match.operation.responses) ? match.operation.responses : {}).join(', ');
      throw new ContractError(`${label} (${where})`, [`status ${response.status} is not documented (documented: ${listed})`]);
    }
  } else {
    // No operation: a CORS preflight (any OPTIONS under /api/), a known path with another method
    // (405), or no such path (404); the document describes each in components.responses.
    const known = validator.templatesFor(sent.url.pathname).length > 0;
    const [name, status] =
      sent.method === 'OPTIONS' && sent.url.pathname.startsWith('/api/') ? ['CorsPreflight', 204] : known ? ['MethodNotAllowed', 405] : ['NoRoute', 404];
    label = `${sent.method} ${sent.url.pathname} (no operation: components.responses.${name}) → ${response.status}`;
    if (response.status !== status) throw new ContractError(`${label} (${where})`, [`a request no operation matches answers ${status} here`]);
    documented = located(validator, { $ref: `#/components/responses/${name}` }, []);
    if (!documented) throw new ContractError(label, [`the document has no components.responses.${name}`]);
  }
  const problems = [...checkHeaders(validator, response, documented), ...checkBody(validator, response, documented, body, sent.method)];
  if (problems.length > 0) throw new ContractError(label, problems);
}

/** Checks what a successful request sent: its path and query parameters and its body. */
export async function checkRequest(validator: ContractValidator, sent: SentRequest, status: number): Promise<void> {
  const match = validator.findOperation(sent.method, sent.url.pathname);
  if (!match) return;
  const problems: string[] = [];
  const path = new Map(Object.entries(match.pathParams).map(([k, v]) => [k, [decodeURIComponent(v)]]));
  const query = new Map<string, string[]>();
  for (const [k, v] of sent.url.searchParams) query.set(k, [...(query.get(k) ?? []), v]);
  problems.push(...validator.checkParameters(match, 'path', path), ...validator.checkParameters(match, 'query', query));

  // A body sent to an operation that declares none is not checked: the worker never reads it.
  const declared = located(validator, match.operation.requestBody, ['paths', match.template, match.method, 'requestBody']);
  const contentType = sent.headers.get('Content-Type');
  if (!sent.hasBody) {
    if (declared?.value.required === true) problems.push('the request body is required, but none was sent');
  } else if (declared) {
    const content = isObject(declared.value.content) ? declared.value.content : undefined;
    const mediaType = matchMediaType(content, contentType, true);
    if (!mediaType) problems.push(`request Content-Type ${contentType ?? '(none)'} is not among the documented ${Object.keys(content ?? {}).join(', ')}`);
    else if (sent.json) {
      const text = await sent.json;
      try {
        problems.push(...validator.validate(pointer(...declared.at, 'content', mediaType, 'schema'), JSON.parse(text), 'as-written').map((p) => `request body ${p}`));
      } catch {
        problems.push('the request body is not JSON');
      }
    }
  }
  if (problems.length > 0) throw new ContractError(`${match.label} → ${status} (request)`, problems);
}
