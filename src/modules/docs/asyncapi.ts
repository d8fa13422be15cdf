import { z } from '@hono/zod-openapi';
import { CONVERSATION_CLIENT_FRAMES, CONVERSATION_SERVER_FRAMES } from '../messaging/room-frames';
import { MessageSchema } from '../messaging/messaging.schemas';
import { INBOX_CLIENT_FRAMES, INBOX_SERVER_FRAMES } from '../notifications/inbox-frames';
import { PublicUserSchema } from '../users/users.schemas';

/**
 * The AsyncAPI 3 document of both sockets (/asyncapi.json), generated from the zod schemas of their
 * frames (messaging/room-frames.ts, notifications/inbox-frames.ts) and of what they carry (Message,
 * PublicUser: the same schemas as the REST document). Operations are Kith's: `send` is server → client,
 * `receive` client → server.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Frames = Record<string, z.ZodType>;

const SHARED = { Message: MessageSchema, PublicUser: PublicUserSchema };

const CHANNELS = {
  conversation: {
    address: '/api/v1/conversations/{id}/stream',
    title: 'Conversation socket',
    description:
      'One conversation, live: messages in `seq` order (with `?after_seq=N`, the ones after N first; more than 1,000 behind, the upgrade is refused with 409 and the client pages REST history first), edits, deletions, typing, read receipts, and call signalling. Opened by a member with a WebSocket upgrade (`Authorization: Bearer`, or `?token=` from browsers). Close codes: 4403 removed from or left the conversation, 4003 left the community, 4004 conversation deleted, 4429 you opened more than 10 sockets on this conversation (your oldest is closed). Limits per member, across their sockets on the conversation: frames of at most 128 KB (413 `error` otherwise), 10 frames a second in bursts of 60 by default (`ROOM_FRAME_RATE`; 429 `error` past it; the frame is dropped).',
    parameters: { id: { description: 'The conversation id' } },
    query: {
      after_seq: { type: 'integer', minimum: 0, description: 'Replay the messages after this seq first' },
      token: { type: 'string', description: 'The access token, for clients that cannot set headers' },
    },
    server: CONVERSATION_SERVER_FRAMES as Frames,
    client: CONVERSATION_CLIENT_FRAMES as Frames,
  },
  notifications: {
    address: '/api/v1/notifications/stream',
    title: 'Notification socket',
    description:
      'Your notifications, live, on every device: each new one as it is stored, and withdrawals. With `?since=<id>` the ones after that notification first (or the latest 50 when it is unknown), so a reconnecting client misses nothing.',
    parameters: {},
    query: {
      since: { type: 'string', description: 'Replay the notifications (and removals) after this notification id first' },
      token: { type: 'string', description: 'The access token, for clients that cannot set headers' },
    },
    server: INBOX_SERVER_FRAMES as Frames,
    client: INBOX_CLIENT_FRAMES as Frames,
  },
} as const;

/** The schemas: every frame, and what frames share, as draft-07 JSON Schema (AsyncAPI's schema format). */
function schemas(): JsonObject {
  const registry = z.registry<{ id: string }>();
  const all: Frames = { ...SHARED };
  for (const channel of Object.values(CHANNELS)) Object.assign(all, channel.server, channel.client);
  for (const [id, schema] of Object.entries(all)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { target: 'draft-7', io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const out: JsonObject = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _, $id: __, ...rest } = schema as JsonObject;
    out[id] = rest;
  }
  return out;
}

const ref = (path: string) => ({ $ref: `#/${path}` });
const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

let built: JsonObject | undefined;

/** The document (built once per isolate), with `servers` naming the origin it was fetched from. */
export function asyncApiDocument(origin: string): JsonObject {
  built ??= build();
  const url = new URL(origin);
  return {
    ...built,
    // The specification wants an absolute URI here: this deployment's reference.
    info: { ...(built.info as JsonObject), externalDocs: { description: 'The REST API', url: `${url.origin}/docs` } },
    servers: {
      kith: {
        host: url.host,
        protocol: url.protocol === 'https:' ? 'wss' : 'ws',
        description: 'This server',
        security: [ref('components/securitySchemes/bearer'), ref('components/securitySchemes/queryToken')],
      },
    },
  };
}

function build(): JsonObject {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  for (const [channelName, channel] of Object.entries(CHANNELS)) {
    const channelMessages: JsonObject = {};
    const operationMessages = { send: [] as Json[], receive: [] as Json[] };
    for (const [direction, frames] of [['send', channel.server], ['receive', channel.client]] as const) {
      for (const [name, schema] of Object.entries(frames)) {
        const key = lowerFirst(name);
        messages[name] = {
          name,
          title: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
          summary: schema.description ?? name,
          contentType: 'application/json',
          payload: ref(`components/schemas/${name}`),
        };
        channelMessages[key] = ref(`components/messages/${name}`);
        operationMessages[direction].push(ref(`channels/${channelName}/messages/${key}`));
      }
    }
    channels[channelName] = {
      address: channel.address,
      title: channel.title,
      description: channel.description,
      messages: channelMessages,
      ...(Object.keys(channel.parameters).length > 0 ? { parameters: channel.parameters } : {}),
      bindings: { ws: { method: 'GET', query: { type: 'object', properties: channel.query }, bindingVersion: '0.1.0' } },
    };
    const pascal = channelName.charAt(0).toUpperCase() + channelName.slice(1);
    operations[`send${pascal}Frames`] = {
      action: 'send',
      channel: ref(`channels/${channelName}`),
      summary: `Frames Kith sends on the ${channel.title.toLowerCase()}`,
      messages: operationMessages.send,
    };
    operations[`receive${pascal}Frames`] = {
      action: 'receive',
      channel: ref(`channels/${channelName}`),
      summary: `Frames clients send on the ${channel.title.toLowerCase()}`,
      messages: operationMessages.receive,
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Kith sockets',
      version: '1.0.0',
      description:
        'The two WebSocket protocols of Kith. Each frame is one JSON text message whose `type` tells which it is. The REST API (including the upgrade requests, their statuses and problems) is described by /openapi.json.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      schemas: schemas(),
      messages,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token in `Authorization: Bearer` on the upgrade request' },
        queryToken: { type: 'httpApiKey', name: 'token', in: 'query', description: 'The access token in `?token=` (browsers cannot set headers on a WebSocket)' },
      },
    },
  };
}
