// Chat load: N sockets in one room, S of them sending `message.send` frames; measures accepted
// messages per second (acks) and the delay from send to delivery on every socket.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a WebSocket and resolves once it is open. */
export function openSocket(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`socket to ${url} failed`)), { once: true });
  });
}

/**
 * @param {{ sockets: WebSocket[], senders: number, durationMs: number, ratePerSecond?: number,
 *           frame: (clientId: string) => string, deliveredId: (data: any) => string | undefined,
 *           ackedId: (data: any) => string | undefined }} options
 * Closed loop (no rate): each sender sends its next message when the previous one is acknowledged.
 * Open loop (rate): senders together send `ratePerSecond` messages per second, whatever the acks.
 */
export async function runChat({ sockets, senders, durationMs, ratePerSecond, frame, deliveredId, ackedId, label }) {
  const sentAt = new Map();
  const latencies = [];
  let acked = 0;
  let delivered = 0;
  const waiters = new Map();
  const listeners = sockets.map((ws) => {
    const onMessage = (event) => {
      const data = JSON.parse(event.data);
      const now = performance.now();
      const delivery = deliveredId(data);
      if (delivery && sentAt.has(delivery)) {
        latencies.push(now - sentAt.get(delivery));
        delivered++;
      }
      const ack = ackedId(data);
      if (ack && waiters.has(ack)) {
        acked++;
        waiters.get(ack)();
        waiters.delete(ack);
      }
    };
    ws.addEventListener('message', onMessage);
    return () => ws.removeEventListener('message', onMessage);
  });

  let counter = 0;
  const send = (ws) => {
    const id = `${label}-${counter++}`;
    const done = new Promise((resolve) => waiters.set(id, resolve));
    sentAt.set(id, performance.now());
    ws.send(frame(id));
    return done;
  };
  const started = performance.now();
  const deadline = started + durationMs;
  if (ratePerSecond) {
    const interval = 1000 / ratePerSecond;
    let next = started;
    let turn = 0;
    while (performance.now() < deadline) {
      send(sockets[turn++ % senders]);
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
  } else {
    await Promise.all(
      sockets.slice(0, senders).map(async (ws) => {
        while (performance.now() < deadline) await send(ws);
      }),
    );
  }
  const elapsed = (performance.now() - started) / 1000;
  // Let in-flight deliveries land before counting.
  const expected = sentAt.size * sockets.length;
  for (let i = 0; i < 100 && delivered < expected; i++) await sleep(20);
  listeners.forEach((stop) => stop());
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { sent: sentAt.size, acked, perSecond: acked / elapsed, delivered, expected, p50: pct(50), p99: pct(99) };
}
