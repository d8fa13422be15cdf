import { describe, expect, it } from 'vitest';
import { checkRequest, checkResponse, type SentRequest } from './exchange';
import { closeSchema, ContractValidator, type JsonObject } from './validator';

// A small document with the shapes the served one uses: a component, a nullable reference, an
// allOf extension, a required header, and a problem response.
const doc: JsonObject = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  components: {
    headers: { 'X-Request-Id': { required: true, schema: { type: 'string', pattern: '^[a-z0-9-]+$' } } },
    responses: { NoRoute: { description: 'no route', content: { 'application/problem+json': { schema: { type: 'object', properties: { status: { type: 'integer' } } } } } } },
    schemas: {
      User: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, required: ['id', 'name'] },
      Profile: { allOf: [{ $ref: '#/components/schemas/User' }, { type: 'object', properties: { bio: { type: 'string' } }, required: ['bio'] }] },
      Post: {
        type: 'object',
        properties: { id: { type: 'string' }, target: { anyOf: [{ $ref: '#/components/schemas/User' }, { type: 'null' }] }, extra: { type: 'object', additionalProperties: {} } },
        required: ['id', 'target'],
      },
    },
  },
  paths: {
    '/posts/{id}': {
      get: {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9A-Z]{3}$' } },
          { name: 'unread', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: {
          200: { description: 'ok', headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/Post' } } } },
        },
      },
      patch: {
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { name: { type: 'string' } } } } } },
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Profile' } } } } },
      },
    },
    '/posts/latest': { get: { responses: { 204: { description: 'none' } } } },
  },
};

const validator = new ContractValidator(doc);
const sent = (method: string, path: string, extra: Partial<SentRequest> = {}): SentRequest => ({ method, url: new URL(`http://kith.test${path}`), headers: new Headers(), ...extra });
const json = (value: unknown, status = 200, headers: Record<string, string> = { 'X-Request-Id': 'abc-1' }) => {
  const body = new TextEncoder().encode(JSON.stringify(value));
  return { response: new Response(body, { status, headers: { 'Content-Type': 'application/json', ...headers } }), body };
};
const respond = (method: string, path: string, value: unknown, status = 200, headers?: Record<string, string>) => {
  const { response, body } = json(value, status, headers);
  return () => checkResponse(validator, sent(method, path), response, body);
};

describe('closeSchema', () => {
  it('should close objects, but leave allOf members open and point their refs at open variants', () => {
    const schemas = (doc.components as JsonObject).schemas as JsonObject;
    const closed = closeSchema(schemas.Profile!) as JsonObject;
    expect(closed.unevaluatedProperties).toBe(false);
    const [ref, inline] = closed.allOf as JsonObject[];
    expect(ref!.$ref).toBe('#/components/schemas/User__open');
    expect(inline!.unevaluatedProperties).toBeUndefined();
  });

  it('should keep what a schema says about extra keys', () => {
    const closed = closeSchema({ type: 'object', properties: {}, additionalProperties: { type: 'string' } }) as JsonObject;
    expect(closed.unevaluatedProperties).toBeUndefined();
  });
});

describe('ContractValidator', () => {
  it('should prefer literal segments over templates when finding the operation', () => {
    expect(validator.findOperation('GET', '/posts/latest')?.template).toBe('/posts/latest');
    expect(validator.findOperation('GET', '/posts/ABC')?.pathParams).toEqual({ id: 'ABC' });
    expect(validator.findOperation('HEAD', '/posts/ABC')?.method).toBe('get');
  });

  it('should accept a valid response, with a null nullable reference and an open map', () => {
    expect(respond('GET', '/posts/ABC', { id: '1', target: null, extra: { anything: 1 } })).not.toThrow();
    expect(respond('GET', '/posts/ABC', { id: '1', target: { id: 'u', name: 'n' } })).not.toThrow();
  });

  it('should report undeclared keys, at any depth and through allOf', () => {
    expect(respond('GET', '/posts/ABC', { id: '1', target: null, secret: 'x' })).toThrow(/"secret" \(not declared\)/);
    expect(respond('GET', '/posts/ABC', { id: '1', target: { id: 'u', name: 'n', email: 'e' } })).toThrow(/email/);
    expect(respond('PATCH', '/posts/ABC', { id: 'u', name: 'n', bio: 'b' })).not.toThrow();
    expect(respond('PATCH', '/posts/ABC', { id: 'u', name: 'n', bio: 'b', email: 'e' })).toThrow(/"email" \(not declared\)/);
  });

  it('should name the operation, the status and the schema path in a failure', () => {
    expect(respond('GET', '/posts/ABC', { id: 1, target: null })).toThrow(/GET \/posts\/\{id\} → 200[\s\S]*\/id must be string \[/);
  });

  it('should refuse an undocumented status, a missing required header and an undocumented media type', () => {
    expect(respond('GET', '/posts/ABC', { id: '1', target: null }, 201)).toThrow(/status 201 is not documented/);
    expect(respond('GET', '/posts/ABC', { id: '1', target: null }, 200, {})).toThrow(/required header X-Request-Id is missing/);
    expect(respond('GET', '/posts/ABC', { id: '1', target: null }, 200, { 'X-Request-Id': 'NOT SANE' })).toThrow(/header X-Request-Id/);
    const text = new TextEncoder().encode('hi');
    const response = new Response(text, { headers: { 'Content-Type': 'text/plain', 'X-Request-Id': 'a' } });
    expect(() => checkResponse(validator, sent('GET', '/posts/ABC'), response, text)).toThrow(/Content-Type text\/plain is not among/);
  });

  it('should hold requests that match no operation to the fallback responses', () => {
    expect(respond('GET', '/nowhere', { status: 404 }, 404)).toThrow(/answers 404|Content-Type/);
    const problem = new TextEncoder().encode('{"status":404}');
    const res = () => new Response(problem, { status: 404, headers: { 'Content-Type': 'application/problem+json' } });
    expect(() => checkResponse(validator, sent('GET', '/nowhere'), res(), problem)).not.toThrow();
    expect(() => checkResponse(validator, sent('GET', '/posts/ABC/x'), new Response(null, { status: 500 }), new Uint8Array())).toThrow(/answers 404 here/);
  });

  it('should check the path, query and body of a successful request against the document as written', async () => {
    await expect(checkRequest(validator, sent('GET', '/posts/ABC?unread=true&other=1'), 200)).resolves.toBeUndefined();
    await expect(checkRequest(validator, sent('GET', '/posts/abcd'), 200)).rejects.toThrow(/path parameter "id"/);
    await expect(checkRequest(validator, sent('GET', '/posts/ABC?unread=yes'), 200)).rejects.toThrow(/query parameter "unread": \(root\) must be boolean/);
    const body = (value: unknown) => ({ hasBody: true, json: Promise.resolve(JSON.stringify(value)), headers: new Headers({ 'Content-Type': 'application/json' }) });
    await expect(checkRequest(validator, sent('PATCH', '/posts/ABC', body({ name: 'n', more: 1 })), 200)).resolves.toBeUndefined();
    await expect(checkRequest(validator, sent('PATCH', '/posts/ABC', body({ name: 1 })), 200)).rejects.toThrow(/request body \/name must be string/);
    await expect(checkRequest(validator, sent('PATCH', '/posts/ABC'), 200)).rejects.toThrow(/body is required/);
  });
});
