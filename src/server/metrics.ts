import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, in a registry of its own (one per server instance). */
export interface ServiceMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method' | 'status'>;
  signatures: Counter<'key_pair_id' | 'algorithm' | 'hash'>;
  signatureCacheHits: Counter<'key_pair_id'>;
  errors: Counter<'code'>;
  signingInFlight: Gauge;
  reloads: Counter;
  reloadFailures: Counter;
}

export interface MetricsOptions {
  processMetrics: boolean;
  /** Signatures the signing gate holds now; read only when /metrics is scraped. */
  signingInFlight: () => number;
}

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const { signingInFlight } = options;
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'cfsign_http_requests_total',
      help: 'HTTP requests by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'cfsign_http_request_duration_seconds',
      help: 'HTTP request latency by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    signatures: new Counter({
      name: 'cfsign_signatures_total',
      help: 'Private-key signatures made, by Key-Pair-Id, key algorithm and hash.',
      labelNames: ['key_pair_id', 'algorithm', 'hash'],
      registers: [registry],
    }),
    signatureCacheHits: new Counter({
      name: 'cfsign_signature_cache_hits_total',
      help: 'Links and cookie sets that reused the signature of an identical policy instead of signing again.',
      labelNames: ['key_pair_id'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'cfsign_errors_total',
      help: 'Error responses by error code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    signingInFlight: new Gauge({
      name: 'cfsign_signing_in_flight',
      help: 'Signatures being made or queued now, of the maxSigningInFlight beyond which signing is shed with 503.',
      registers: [registry],
      collect() {
        this.set(signingInFlight());
      },
    }),
    reloads: new Counter({
      name: 'cfsign_reloads_total',
      help: 'Configuration and key reloads that took effect.',
      registers: [registry],
    }),
    reloadFailures: new Counter({
      name: 'cfsign_reload_failures_total',
      help: 'Reloads refused because the new configuration or a key was invalid; the old state was kept.',
      registers: [registry],
    }),
  };
}
