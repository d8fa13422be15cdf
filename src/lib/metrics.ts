import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from './types';

/**
 * Metrics on Workers Analytics Engine (binding `METRICS`, dataset `kith_metrics`; README "Metrics" has
 * the SQL API queries). Writing a data point is fire-and-forget and costs no subrequest; locally
 * (`wrangler dev`, the vitest pool) the binding accepts points and keeps none.
 *
 * Two kinds of row, told apart by blob1:
 * - `request`: blob2 route pattern (`/api/v1/users/:id_or_username`, never the raw path: no ids or
 *   usernames in metrics), blob3 method, blob4 status, blob5 colo; double1 duration (ms), double2
 *   status; index1 the route pattern (the sampling key).
 * - `frame`: blob2 socket (`conversation` | `notifications`), blob3 direction (`in` | `out`), blob4
 *   frame kind (`message.send`, `typing`, `call.invite`, a notification type, …), blob5 colo (unknown
 *   inside a Durable Object: empty); double1 sockets reached (out) or 1 (in); index1 the frame kind.
 */
export type MetricsBinding = Pick<AnalyticsEngineDataset, 'writeDataPoint'>;

export interface RequestMetric {
  route: string;
  method: string;
  status: number;
  durationMs: number;
  colo: string;
}

export interface FrameMetric {
  socket: 'conversation' | 'notifications';
  direction: 'in' | 'out';
  kind: string;
  /** Sockets the frame went to (out), 1 for a received frame. */
  sockets: number;
}

/** The data point of one request. */
export function requestDataPoint(m: RequestMetric): AnalyticsEngineDataPoint {
  return { indexes: [m.route], blobs: ['request', m.route, m.method, String(m.status), m.colo], doubles: [m.durationMs, m.status] };
}

/** The data point of one socket frame. */
export function frameDataPoint(m: FrameMetric): AnalyticsEngineDataPoint {
  return { indexes: [m.kind], blobs: ['frame', m.socket, m.direction, m.kind, ''], doubles: [m.sockets, 0] };
}

/** Writes a point, never failing the work it measures (an absent binding, a full buffer). */
export function writePoint(binding: MetricsBinding | undefined, point: AnalyticsEngineDataPoint): void {
  if (!binding) return;
  try {
    binding.writeDataPoint(point);
  } catch (err) {
    console.error(JSON.stringify({ level: 'warn', message: 'metrics point dropped', error: String(err) }));
  }
}

/** A frame kind as metrics name it: its `type` when it is a short string, else `invalid`. */
export function frameKind(frame: unknown): string {
  const type = typeof frame === 'object' && frame !== null ? (frame as { type?: unknown }).type : undefined;
  return typeof type === 'string' && /^[a-z_.]{1,40}$/.test(type) ? type : 'invalid';
}

export function recordFrame(binding: MetricsBinding | undefined, m: FrameMetric): void {
  writePoint(binding, frameDataPoint(m));
}

/**
 * The data centre a request reached. An isolate lives in one data centre, so it is read once per
 * isolate: `request.cf` is rebuilt from its serialized form at every access, which cost about 7% of a
 * cached read's CPU when read per request (profiled in workerd).
 */
let colo: string | undefined;
function coloOf(request: Request): string {
  colo ??= String((request as { cf?: { colo?: unknown } }).cf?.colo ?? '');
  return colo;
}

/** Writes the data point of one request. */
export function recordRequest(binding: MetricsBinding | undefined, request: Request, m: Omit<RequestMetric, 'colo'>): void {
  writePoint(binding, requestDataPoint({ ...m, colo: coloOf(request) }));
}

/**
 * App middleware: one data point per request, after the answer is made (the route pattern is known
 * then; a path no route has is `unmatched`). Duration is wall time as the Workers clock sees it, which
 * advances with I/O: the part of a request that grows with load.
 */
export const requestMetrics = createMiddleware<AppEnv>(async function requestMetricsMiddleware(c, next) {
  const started = Date.now();
  await next();
  const route = routePath(c, -1);
  recordRequest(c.env.METRICS, c.req.raw, {
    route: route === '*' || route === '/*' ? 'unmatched' : route,
    method: c.req.method,
    status: c.res.status,
    durationMs: Date.now() - started,
  });
});
