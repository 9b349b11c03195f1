/**
 * Prometheus metrics of the API (prom-client), served at `GET /metrics`.
 *
 * Labels are bounded on purpose: `route` is the route pattern (never the raw
 * URL: `/v1/receipts/:id`, and `unmatched` for 404s), `op` an operation name
 * the core decoded, `code` an error code or `OK`. A client cannot grow the
 * label space by sending odd requests. The registry is a dependency of
 * buildApp, so a process can share one and tests can read theirs.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  enclaveRtt: Histogram<'op'>;
  answers: Counter<'op' | 'code'>;
}

/** Seconds, from 50 µs (an enclave round trip on loopback) to 10 s (the enclave timeout). */
const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The API's metrics on `registry` (a new one with the default process metrics when omitted); idempotent per registry. */
export function apiMetrics(registry?: Registry): ApiMetrics {
  const reg = registry ?? new Registry();
  if (reg.getSingleMetric('process_cpu_user_seconds_total') === undefined) collectDefaultMetrics({ register: reg });
  const existing = <T>(name: string): T | undefined => reg.getSingleMetric(name) as T | undefined;
  return {
    registry: reg,
    httpRequests:
      existing('sentinel_http_requests_total') ??
      new Counter({ name: 'sentinel_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers: [reg] }),
    httpDuration:
      existing('sentinel_http_request_duration_seconds') ??
      new Histogram({ name: 'sentinel_http_request_duration_seconds', help: 'HTTP request handling time (seconds), by method and route pattern', labelNames: ['method', 'route'], buckets: BUCKETS, registers: [reg] }),
    enclaveRtt:
      existing('sentinel_enclave_rtt_seconds') ??
      new Histogram({ name: 'sentinel_enclave_rtt_seconds', help: 'Round trip to the enclave (seconds), by operation', labelNames: ['op'], buckets: BUCKETS, registers: [reg] }),
    answers:
      existing('sentinel_answers_total') ??
      new Counter({ name: 'sentinel_answers_total', help: 'Enclave answers by operation and code (OK for success)', labelNames: ['op', 'code'], registers: [reg] }),
  };
}
