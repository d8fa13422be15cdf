// A small HTTP load generator over keep-alive connections: closed-loop (`measure`: `concurrency` workers,
// each sending its next request as soon as the previous one answers) and open-loop (`measureAtRate`).
import http from 'node:http';

/** One request over `agent`; resolves with its status and the moment its answer ended. */
function sendRequest(url, agent, req) {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: req.path,
        method: req.method ?? 'GET',
        agent,
        headers: { ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}), ...req.headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, done: performance.now() }));
      },
    );
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

/**
 * @param {{ origin: string, concurrency?: number, durationMs?: number, warmupMs?: number,
 *           next: (i: number) => { method?: string, path: string, headers?: Record<string,string>, body?: string } }} options
 */
export async function measure({ origin, concurrency = 16, durationMs = 5000, warmupMs = 500, next }) {
  const url = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = new Map();
  let counter = 0;
  let recording = false;

  async function send(req) {
    const started = performance.now();
    const { status, done } = await sendRequest(url, agent, req);
    return { status, ms: done - started };
  }

  const deadline = performance.now() + warmupMs + durationMs;
  setTimeout(() => (recording = true), warmupMs);
  let recordStart = 0;
  let recordEnd = 0;
  async function worker() {
    while (performance.now() < deadline) {
      const { status, ms } = await send(next(counter++));
      if (!recording) continue;
      if (!recordStart) recordStart = performance.now() - ms;
      recordEnd = performance.now();
      latencies.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const seconds = (recordEnd - recordStart) / 1000;
  return { requests: latencies.length, rps: latencies.length / seconds, p50: pct(50), p99: pct(99), statuses: Object.fromEntries(statuses) };
}

/**
 * An open-loop load: requests start on a fixed schedule, `rate` a second for `durationMs`, whether or not
 * earlier ones have answered (as independent users arrive), each on a keep-alive connection of its own
 * while it is in flight. A request's latency runs from the moment the schedule says it starts, so a
 * stall that delays the next sends counts against them too (no coordinated omission). It reads latency
 * at a load the server keeps up with, where `measure`, with a fixed number of requests always waiting,
 * reads mostly the queue in front of each one.
 *
 * @param {{ origin: string, rate: number, durationMs?: number, warmupMs?: number,
 *           next: (i: number) => { method?: string, path: string, headers?: Record<string,string>, body?: string } }} options
 */
export async function measureAtRate({ origin, rate, durationMs = 5000, warmupMs = 500, next }) {
  const url = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies = [];
  const statuses = new Map();
  const interval = 1000 / rate;
  const begin = performance.now();
  const total = Math.floor(((warmupMs + durationMs) / 1000) * rate);
  const warmup = Math.floor((warmupMs / 1000) * rate);
  const inFlight = [];
  let late = 0;
  for (let i = 0; i < total; i++) {
    const due = begin + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait < -interval) late++;
    inFlight.push(
      sendRequest(url, agent, next(i)).then(({ status, done }) => {
        if (i < warmup) return;
        latencies.push(done - due);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { requests: latencies.length, rps: rate, p50: pct(50), p99: pct(99), late, statuses: Object.fromEntries(statuses) };
}
