import { validatingFetch } from '../contract/validating-fetch';
import { expect } from 'vitest';
import { BASE, randomIp } from '../helpers/client';

/**
 * Conversation-socket helpers: open a socket on GET /api/v1/conversations/{id}/stream in-process
 * (through the worker's default export, no network), collect every frame it receives, and wait for
 * frames with a timeout that fails the test with what was actually seen.
 */

export const DEFAULT_WAIT_MS = 10_000;

export interface StreamOptions {
  /** How the token travels: `Authorization: Bearer` (default) or `?token=`. */
  via?: 'header' | 'query';
  /** `?after_seq=N` on connect. */
  afterSeq?: number;
  /** Extra headers; `upgrade: false` leaves out the Upgrade header. */
  headers?: Record<string, string>;
  upgrade?: boolean;
}

export function streamUrl(conversationId: string, query: Record<string, string | number | undefined> = {}): string {
  const url = new URL(`${BASE}/api/v1/conversations/${conversationId}/stream`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

/** The raw upgrade request: the Response (101 with a webSocket, or a problem) is returned as is. */
export async function connect(conversationId: string, token: string | null, options: StreamOptions = {}): Promise<Response> {
  const via = options.via ?? 'header';
  const headers = new Headers(options.headers);
  if (options.upgrade !== false) headers.set('Upgrade', 'websocket');
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', randomIp());
  if (token !== null && via === 'header') headers.set('Authorization', `Bearer ${token}`);
  const url = streamUrl(conversationId, { token: token !== null && via === 'query' ? token : undefined, after_seq: options.afterSeq });
  return validatingFetch(url, { headers });
}

export interface Received {
  /** The frame text as it arrived. */
  raw: string;
  /** The parsed frame (undefined when the text is not JSON). */
  data: any;
  at: number;
}

/** A client socket that records every frame and its close. */
export class TestSocket {
  readonly received: Received[] = [];
  closeEvent: { code: number; reason: string } | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly ws: WebSocket,
    readonly label: string,
  ) {
    ws.addEventListener('message', (e) => {
      const raw = typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      let data: any;
      try {
        data = JSON.parse(raw);
      } catch {
        data = undefined;
      }
      this.received.push({ raw, data, at: Date.now() });
      this.notify();
    });
    ws.addEventListener('close', (e) => {
      this.closeEvent = { code: e.code, reason: e.reason };
      this.notify();
    });
    ws.accept();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Every parsed frame, in arrival order. */
  get frames(): any[] {
    return this.received.map((r) => r.data);
  }

  /** Frames of one type, in arrival order. */
  ofType(type: string): any[] {
    return this.frames.filter((f) => f?.type === type);
  }

  /** The `message` of every `message.new` frame, in arrival order. */
  get messages(): any[] {
    return this.ofType('message.new').map((f) => f.message);
  }

  /** The seq of every `message.new` frame, in arrival order. */
  get seqs(): number[] {
    return this.messages.map((m) => m.seq as number);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves once `predicate` holds (checked now and on every frame/close); fails after `timeoutMs`. */
  waitUntil(predicate: (s: TestSocket) => boolean, what = 'condition', timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; got ${this.received.length} frames: ${this.summary()}; close=${JSON.stringify(this.closeEvent)}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Waits until at least `n` frames have arrived in total. */
  waitForFrames(n: number, timeoutMs?: number): Promise<void> {
    return this.waitUntil((s) => s.received.length >= n, `${n} frames`, timeoutMs);
  }

  /** Waits until at least `n` `message.new` frames have arrived. */
  waitForMessages(n: number, timeoutMs?: number): Promise<void> {
    return this.waitUntil((s) => s.ofType('message.new').length >= n, `${n} message.new frames`, timeoutMs);
  }

  /** Waits for the first frame (after index `from`) matching `predicate`, and returns it. */
  async next(predicate: (frame: any, raw: string) => boolean, what = 'a matching frame', from = 0, timeoutMs?: number): Promise<Received> {
    const find = () => this.received.slice(from).find((r) => predicate(r.data, r.raw));
    await this.waitUntil(() => find() !== undefined, what, timeoutMs);
    return find()!;
  }

  /** Sends a frame and waits for the first frame received after it that matches `predicate`. */
  async request(frame: unknown, predicate: (frame: any, raw: string) => boolean, what?: string, timeoutMs?: number): Promise<Received> {
    const from = this.received.length;
    this.send(frame);
    return this.next(predicate, what, from, timeoutMs);
  }

  /** Waits for the close event (e.g. the server closing with 4003). */
  async closed(timeoutMs?: number): Promise<{ code: number; reason: string }> {
    await this.waitUntil((s) => s.closeEvent !== null, 'the close event', timeoutMs);
    return this.closeEvent!;
  }

  close(code = 1000, reason = 'test done'): void {
    if (this.closeEvent) return;
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  summary(limit = 20): string {
    const head = this.received.slice(-limit).map((r) => (r.data?.type === 'message.new' ? `message.new#${r.data.message?.seq}` : r.raw.slice(0, 120)));
    return `[${head.join(', ')}]`;
  }
}

/** Opens a socket and asserts the 101; the returned socket already records frames. */
export async function openSocket(conversationId: string, token: string, options: StreamOptions & { label?: string } = {}): Promise<TestSocket> {
  const res = await connect(conversationId, token, options);
  if (res.status !== 101) {
    const text = await res.text();
    expect(res.status, `upgrade failed: ${res.status} ${text}`).toBe(101);
  }
  expect(res.webSocket, 'a 101 carries a webSocket').toBeTruthy();
  return new TestSocket(res.webSocket!, options.label ?? `socket(${conversationId.slice(-6)})`);
}

/** Waits for all sockets in parallel. */
export function waitAll(sockets: TestSocket[], predicate: (s: TestSocket) => boolean, what?: string, timeoutMs?: number): Promise<void[]> {
  return Promise.all(sockets.map((s) => s.waitUntil(predicate, what, timeoutMs)));
}

/** Lets in-flight frames arrive before asserting that something did NOT happen. */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Closes every socket given (ignoring ones already closed). */
export function closeAll(...sockets: (TestSocket | undefined)[]): void {
  for (const s of sockets) s?.close();
}
