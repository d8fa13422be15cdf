import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { problemResponse } from '../../src/lib/errors';

// What the error handler makes of errors that are not Kith's own ApiError: Hono's HTTPExceptions keep their
// status as the nearest problem code, and anything else is an opaque 500 that never echoes its message.
const context = { get: (key: string) => (key === 'requestId' ? 'req-123' : undefined), req: { url: 'https://kith.test/api/v1/anything' } } as unknown as Context;
const render = async (err: unknown) => {
  const res = problemResponse(err, context);
  return { status: res.status, type: res.headers.get('Content-Type'), body: (await res.json()) as Record<string, unknown> };
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('problem+json for errors that are not ApiErrors', () => {
  it('should keep an HTTPException’s status as its problem code, and fall back to 400 or 500 for other statuses', async () => {
    const tooLarge = await render(new HTTPException(413, { message: 'Body too big' }));
    expect(tooLarge).toEqual({
      status: 413,
      type: 'application/problem+json',
      body: expect.objectContaining({ status: 413, detail: 'Body too big', request_id: 'req-123', title: expect.any(String), type: expect.stringMatching(/^https:\/\/kith\.test\/errors\/[a-z-]+$/) }),
    });
    expect((await render(new HTTPException(418))).body).toMatchObject({ status: 400, detail: expect.any(String) });
    expect((await render(new HTTPException(502, { message: 'upstream' }))).body).toMatchObject({ status: 500, detail: 'upstream' });
    // Hono's own message for a body that does not parse is replaced by one a client can act on.
    expect((await render(new HTTPException(400, { message: 'Malformed JSON in request body' }))).body.detail).toBe('The request body is not valid JSON.');
  });

  it('should answer an unexpected error with an opaque 500 that names the request, logging the cause', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { status, body } = await render(new Error('D1_ERROR: secret table layout'));
    expect(status).toBe(500);
    expect(body).toMatchObject({ status: 500, request_id: 'req-123', detail: 'An unexpected error occurred. Quote the request_id when reporting it.' });
    expect(JSON.stringify(body)).not.toContain('secret table');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('D1_ERROR: secret table layout'));
    // Even a thrown non-Error is rendered, never re-thrown.
    expect((await render('a string')).status).toBe(500);
  });
});
