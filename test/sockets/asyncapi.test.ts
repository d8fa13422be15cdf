import { describe, expect, it } from 'vitest';
import { checkFrame } from '../contract/validating-socket';
import { call, createUser, expectStatus } from '../helpers/client';
import { conversation } from '../notifications/helpers';
import { openSocket } from '../messaging/socket-helpers';
import { publicUserExample } from '../../src/modules/users/users.schemas';

/**
 * /asyncapi.json: both socket protocols, generated from the frames' zod schemas. Every frame the socket
 * tests send and receive is checked against it (test/contract/validating-socket.ts); here, the document
 * itself, and that the check catches a frame that drifts.
 */

type Doc = Record<string, any>;

function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((child) => refsIn(child, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refsIn(value, found);
    }
  }
  return found;
}

const message = {
  id: '01JC7A0B1C2D3E4F5G6H7J8K9M',
  conversation_id: '01JC79ZZ0A1B2C3D4E5F6G7H8J',
  seq: 1,
  kind: 'text',
  sender: publicUserExample,
  content: 'hi',
  media: [],
  call: null,
  client_id: null,
  created_at: '2026-11-21T10:00:00.000Z',
  edited_at: null,
  deleted: false,
};

describe('AsyncAPI document', () => {
  it('should describe both sockets, send and receive, with every reference resolving', async () => {
    const doc = await expectStatus<Doc>(await call('/asyncapi.json'), 200);
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.servers.kith).toMatchObject({ host: 'kith.test', protocol: 'ws' });
    expect(Object.fromEntries(Object.entries(doc.channels).map(([name, ch]: [string, any]) => [name, ch.address]))).toEqual({
      conversation: '/api/v1/conversations/{id}/stream',
      notifications: '/api/v1/notifications/stream',
    });
    expect(Object.values(doc.operations).map((op: any) => `${op.action} ${op.channel.$ref}`).sort()).toEqual([
      'receive #/channels/conversation',
      'receive #/channels/notifications',
      'send #/channels/conversation',
      'send #/channels/notifications',
    ]);
    const resolve = (ref: string) => ref.slice(2).split('/').reduce<any>((node, key) => node?.[key], doc);
    expect(refsIn(doc).filter((ref) => resolve(ref) === undefined)).toEqual([]);
    // The call signalling frames, both ways.
    const messages = Object.keys(doc.components.messages);
    for (const name of ['CallInvite', 'CallAnswer', 'CallCandidates', 'CallEnded', 'SendCallInvite', 'SendCallHangup', 'NotificationFrame', 'NotificationRemoved']) expect(messages).toContain(name);
  });

  it('should refuse a frame that drifts from the document', async () => {
    const frame = { type: 'message.new', message };
    expect(await checkFrame('conversation', 'send', JSON.stringify(frame))).toEqual([]);
    expect(await checkFrame('conversation', 'send', JSON.stringify({ ...frame, extra: 1 }))).not.toEqual([]);
    expect(await checkFrame('conversation', 'send', JSON.stringify({ type: 'message.new', message: { ...message, seq: 'one' } }))).not.toEqual([]);
    expect(await checkFrame('conversation', 'send', JSON.stringify({ type: 'message.renamed', message }))).not.toEqual([]);
    expect(await checkFrame('conversation', 'receive', JSON.stringify({ type: 'call.invite', call_id: 'c1', media: 'audio', sdp: 'v=0' }))).toEqual([]);
    expect(await checkFrame('conversation', 'receive', JSON.stringify({ type: 'call.invite', call_id: 'c1', media: 'smell', sdp: 'v=0' }))).not.toEqual([]);
    expect(await checkFrame('notifications', 'send', JSON.stringify({ type: 'friend_accepted', data: { friend: publicUserExample }, id: 'n1', created_at: message.created_at }))).toEqual([]);
    expect(await checkFrame('notifications', 'send', JSON.stringify({ type: 'friend_accepted', data: {}, id: 'n1', created_at: message.created_at }))).not.toEqual([]);
  });

  it('should check the frames of a socket opened in a test', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conv = await conversation(a, [b]);
    const socket = await openSocket(conv.id, a.accessToken);
    const ack = await socket.request({ type: 'message.send', client_id: 'c-1', content: 'hello' }, (f) => f?.type === 'ack');
    expect(ack.data.seq).toBe(1);
    // A frame the document does not allow is fine to send when the server refuses it.
    await socket.request({ type: 'message.shout', content: 'HELLO' }, (f) => f?.type === 'error');
    socket.close();
  });
});
