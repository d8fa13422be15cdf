import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { burstUntilLimited } from '../helpers/rate-limit';
import { eventually, ofType, waitForNotification } from '../notifications/helpers';
import { deleteRaw, editRaw, send, startDirect, users } from './helpers';

/**
 * An edit reaches the other members as a new message does (`message.updated` on their sockets), so it
 * is held to the same rules as a send; a message its sender took back leaves nothing of its text in
 * the others' notifications.
 */

describe('Edits are sends', () => {
  it('should refuse an edit in a direct conversation once the recipient’s message_policy excludes the sender (403 /messages-not-accepted)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const first = await send(a, conv.id, 'hello there');
    await expectStatus(await call('/me', { method: 'PATCH', token: b.accessToken, body: { message_policy: 'nobody' } }), 200);
    await expectProblem(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: { content: 'still there?' } }), 403);
    const edit = await expectProblem(await editRaw(a, conv.id, first.seq, { content: 'a new thing to say, through the edit' }), 403);
    expect(edit.type).toMatch(/\/messages-not-accepted$/);
    // Taking it back is always allowed.
    await expectStatus(await deleteRaw(a, conv.id, first.seq), 204);
  });

  it('should count edits against the sender’s message rate (429 with Retry-After)', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    // The send itself took one of the 30.
    const message = await send(a, conv.id, 'version 0');
    const { limited } = await burstUntilLimited({ limit: 29, slack: 1, periodSeconds: 10, max: 80, send: (i) => editRaw(a, conv.id, message.seq, { content: `version ${i + 1}` }) });
    await expectProblem(limited, 429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});

describe('Unsent messages', () => {
  it('should take the unsent message’s text out of the recipient’s notifications', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const message = await send(a, conv.id, 'something I regret saying');
    await waitForNotification(b, 'new_message', (n) => n.data.content === 'something I regret saying');
    await expectStatus(await deleteRaw(a, conv.id, message.seq), 204);
    await eventually(async () => expect(await ofType(b, 'new_message')).toEqual([]));
  });
});
