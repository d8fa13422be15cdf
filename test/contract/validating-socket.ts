import { exports } from 'cloudflare:workers';
import { ContractError, ContractValidator, isObject, type JsonObject } from './validator';

/**
 * Socket frames against the AsyncAPI document the worker serves at /asyncapi.json, the way
 * validating-fetch.ts holds HTTP exchanges to /openapi.json. Every socket a test opens through
 * `validatingFetch` is watched: each frame it receives must be one of the messages Kith sends on that
 * channel, and each frame the test sends one of the messages Kith receives. A test may send a frame the
 * document does not allow (to see it refused), but then the server must refuse it: an `error` frame (or
 * the socket closing) must follow. test/setup.ts fails the test with whatever broke the document.
 */

type Action = 'send' | 'receive';
interface Channel {
  name: string;
  /** Message payload pointers by the `type` they carry, per action. */
  byType: Record<Action, Map<string, string>>;
}

const CHANNEL_PATHS: [RegExp, string][] = [
  [/^\/api\/v1\/conversations\/[^/]+\/stream$/, 'conversation'],
  [/^\/api\/v1\/notifications\/stream$/, 'notifications'],
];

let loading: Promise<{ validator: ContractValidator; channels: Map<string, Channel> }> | undefined;

function load() {
  loading ??= (async () => {
    const response = await exports.default.fetch(new Request('http://kith.test/asyncapi.json', { headers: { 'CF-Connecting-IP': '10.255.255.253' } }));
    if (response.status !== 200) throw new Error(`GET /asyncapi.json answered ${response.status}`);
    const doc = (await response.json()) as JsonObject;
    const validator = new ContractValidator(doc);
    const resolve = (ref: string): JsonObject => ref.slice(2).split('/').reduce<JsonObject>((node, key) => node[key] as JsonObject, doc);
    const channels = new Map<string, Channel>();
    for (const operation of Object.values(doc.operations as JsonObject) as JsonObject[]) {
      const name = String((operation.channel as JsonObject).$ref).split('/').pop()!;
      const channel = channels.get(name) ?? { name, byType: { send: new Map(), receive: new Map() } };
      channels.set(name, channel);
      for (const messageRef of operation.messages as JsonObject[]) {
        const payloadRef = String(((resolve(String(resolve(String(messageRef.$ref)).$ref)) as JsonObject).payload as JsonObject).$ref);
        for (const type of typesOf(resolve(payloadRef))) channel.byType[operation.action as Action].set(type, payloadRef);
      }
    }
    return { validator, channels };
  })();
  return loading;
}

/** The `type` constants a frame schema admits (one, or one per member of a union). */
function typesOf(schema: JsonObject): string[] {
  const members = (schema.anyOf ?? schema.oneOf) as JsonObject[] | undefined;
  if (members) return members.flatMap(typesOf);
  const type = isObject(schema.properties) && isObject(schema.properties.type) ? schema.properties.type.const : undefined;
  return typeof type === 'string' ? [type] : [];
}

const problems: string[] = [];
const counts = { frames: 0 };
/** Frames sent that the document does not allow, per socket, each waiting for the server to refuse it. */
const unrefused = new Map<WebSocket, string[]>();

/** What is wrong with one frame on a channel (`send`: server → client), per the served document. */
export async function checkFrame(channelName: string, action: Action, raw: unknown): Promise<string[]> {
  const { validator, channels } = await load();
  const channel = channels.get(channelName);
  if (!channel) throw new Error(`no channel ${channelName}`);
  const found = check(channel, validator, action, raw);
  counts.frames -= 1;
  return found;
}

function check(channel: Channel, validator: ContractValidator, action: Action, raw: unknown): string[] {
  counts.frames += 1;
  if (typeof raw !== 'string') return ['a binary frame (frames are JSON text)'];
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return [`not JSON: ${raw.slice(0, 80)}`];
  }
  const type = isObject(frame as never) ? (frame as JsonObject).type : undefined;
  const ref = typeof type === 'string' ? channel.byType[action].get(type) : undefined;
  if (!ref) return [`no ${action === 'send' ? 'server' : 'client'} frame of type ${JSON.stringify(type)} on the ${channel.name} channel`];
  return validator.validate(ref, frame, 'closed');
}

/** Watches a socket just upgraded at `path` (a 101's webSocket, before the test accepts it). */
export function watchFrames(ws: WebSocket, path: string): void {
  const name = CHANNEL_PATHS.find(([pattern]) => pattern.test(path))?.[1];
  if (!name) return;
  const ready = load();
  let state: Awaited<ReturnType<typeof load>> | undefined;
  const channelOf = () => state!.channels.get(name)!;
  void ready.then((loaded) => (state = loaded));
  // Frames are handled in arrival order once the document is loaded (the first socket of a file waits for it).
  let queue: Promise<void> = ready.then(() => undefined);
  const inOrder = (task: () => void) => {
    queue = queue.then(task).catch((err: unknown) => void problems.push(String(err)));
  };
  ws.addEventListener('message', (event) =>
    inOrder(() => {
      const found = check(channelOf(), state!.validator, 'send', event.data);
      if (found.length > 0) problems.push(`${name} socket received ${String(event.data).slice(0, 200)}:\n    ${found.join('\n    ')}`);
      const parsed = typeof event.data === 'string' ? (JSON.parse(event.data) as { type?: string }) : undefined;
      if (parsed?.type === 'error') unrefused.get(ws)?.shift();
    }),
  );
  ws.addEventListener('close', () => inOrder(() => void unrefused.delete(ws)));
  const send = ws.send.bind(ws);
  ws.send = (data: string | ArrayBuffer | ArrayBufferView) => {
    inOrder(() => {
      if (check(channelOf(), state!.validator, 'receive', data).length > 0) unrefused.set(ws, [...(unrefused.get(ws) ?? []), String(data).slice(0, 200)]);
    });
    send(data);
  };
}

/**
 * What broke the document since the last call (and how many frames were checked). Waits a moment for
 * refusals still on their way, and for frames still being checked.
 */
export async function takeFrameResults(): Promise<{ frames: number; problems: string[] }> {
  if ([...unrefused.values()].some((pending) => pending.length > 0)) await new Promise((resolve) => setTimeout(resolve, 300));
  const found = [...problems];
  for (const [ws, pending] of unrefused) {
    for (const frame of pending) found.push(`sent ${frame}, which the document does not allow, and the server did not refuse it`);
    unrefused.delete(ws);
  }
  problems.length = 0;
  const frames = counts.frames;
  counts.frames = 0;
  return { frames, problems: found };
}

export function frameError(problemsFound: string[]): ContractError {
  return new ContractError('socket frames against /asyncapi.json', problemsFound);
}
