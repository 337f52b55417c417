import autocannon from 'autocannon';
import { messageOf } from './errors.ts';
import { percentile } from './stats.ts';

/** What one autocannon run measured. */
export interface LoadResult {
  connections: number;
  /** Seconds from the first request to the end of the run, as autocannon reports it. */
  seconds: number;
  /** Responses received (any status). */
  responses: number;
  requestsPerSecond: number;
  /** Precise per-response latency (autocannon's own histogram rounds to whole ms). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  firstError?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  request: autocannon.Request;
}

/** Runs autocannon once against `url` with one request template. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let firstError: string | undefined;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        timeout: 10,
        headers: options.headers ?? {},
        requests: [options.request],
      },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error(messageOf(error)));
          return;
        }
        latencies.sort((a, b) => a - b);
        const sum = latencies.reduce((total, value) => total + value, 0);
        const statusCodes: Record<string, number> = {};
        for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
          statusCodes[code] = stats.count ?? 0;
        }
        const load: LoadResult = {
          connections: options.connections,
          seconds: result.duration,
          responses: result.requests.total,
          requestsPerSecond: result.requests.total / result.duration,
          latencyMs: {
            p50: percentile(latencies, 50),
            p90: percentile(latencies, 90),
            p99: percentile(latencies, 99),
            max: latencies.at(-1) ?? 0,
            mean: latencies.length === 0 ? 0 : sum / latencies.length,
          },
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          mismatches: result.mismatches,
          statusCodes,
        };
        if (firstError !== undefined) load.firstError = firstError;
        resolve(load);
      },
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
    instance.on('reqError', (error: unknown) => {
      firstError ??= messageOf(error);
    });
  });
}

/** Every failed request of a run: connection errors, timeouts, non-2xx and body mismatches. */
export function failures(load: LoadResult): number {
  return load.errors + load.non2xx + load.mismatches;
}

/** `GET <path><n>` with a fresh n per request, so no cache can answer twice. */
export function uniqueGet(pathPrefix: string): autocannon.Request {
  let counter = 0;
  return {
    method: 'GET',
    setupRequest: (request) => {
      counter += 1;
      return { ...request, path: `${pathPrefix}${counter}.mp4` };
    },
  };
}

/** `POST /v1/signed-urls` with `size` object keys never sent before. */
export function uniqueBatch(keyPrefix: string, size: number): autocannon.Request {
  let counter = 0;
  return {
    method: 'POST',
    path: '/v1/signed-urls',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => {
      counter += 1;
      const items = Array.from({ length: size }, (_, index) => ({
        key: `${keyPrefix}${counter}-${index}.mp4`,
      }));
      return { ...request, body: JSON.stringify({ items }) };
    },
  };
}

/** The same `GET <path>` every time. */
export function fixedGet(path: string): autocannon.Request {
  return { method: 'GET', path };
}
