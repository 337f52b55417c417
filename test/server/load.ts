import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';

/** One request a load worker sends. */
export interface LoadRequest {
  method?: 'GET' | 'POST';
  /** `http://127.0.0.1:PORT` */
  address: string;
  path: string;
  headers?: Record<string, string>;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** Anything the test wants back with the outcome (which instance, which client). */
  tag?: string;
}

/** What became of one request: a complete response, or how the exchange broke. */
export interface Outcome {
  request: LoadRequest;
  /** performance.now() when the request was sent and when its outcome was known. */
  sentAt: number;
  doneAt: number;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  /**
   * Set when no complete response arrived: the error code (ECONNRESET, ECONNREFUSED, ...), and
   * whether the response had begun (its status line had arrived) when the exchange broke.
   */
  failure?: { code: string; midResponse: boolean };
}

export interface Load {
  /** Every outcome so far, in the order they were known. */
  readonly outcomes: readonly Outcome[];
  /** Stops sending new requests, waits for those in flight, and returns every outcome. */
  stop(): Promise<Outcome[]>;
}

/** Longest wait for one response: a hung request fails the test instead of hanging it. */
const REQUEST_TIMEOUT_MS = 10_000;

function send(agent: Agent, spec: LoadRequest): Promise<Outcome> {
  const sentAt = performance.now();
  const url = new URL(spec.path, spec.address);
  const body = spec.json === undefined ? undefined : JSON.stringify(spec.json);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Omit<Outcome, 'request' | 'sentAt' | 'doneAt'>): void => {
      if (settled) return;
      settled = true;
      resolve({ request: spec, sentAt, doneAt: performance.now(), ...outcome });
    };
    const outgoing = request(
      url,
      {
        method: spec.method ?? 'GET',
        agent,
        headers: {
          ...spec.headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          settle({ status: response.statusCode ?? 0, headers: response.headers, body: text });
        });
        response.on('close', () => {
          if (!response.complete) settle({ failure: { code: 'INCOMPLETE', midResponse: true } });
        });
        response.on('error', (error: NodeJS.ErrnoException) => {
          settle({ failure: { code: error.code ?? error.message, midResponse: true } });
        });
      },
    );
    outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => {
      outgoing.destroy(Object.assign(new Error('no response in time'), { code: 'TIMEOUT' }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      settle({ failure: { code: error.code ?? error.message, midResponse: false } });
    });
    outgoing.end(body);
  });
}

/**
 * Runs `workers` closed loops, each sending `next(worker, sequence)` as soon as its previous
 * request has its outcome, over keep-alive connections on loopback, until `stop()`, until
 * `next` returns undefined, or until the test ends (pass or fail). Bounded: each request gives
 * up after 10 s.
 */
export function startLoad(
  t: TestContext,
  workers: number,
  next: (worker: number, sequence: number) => LoadRequest | undefined,
): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const outcomes: Outcome[] = [];
  let stopped = false;
  let sequence = 0;
  const loops = Array.from({ length: workers }, async (_, worker) => {
    while (!stopped) {
      const spec = next(worker, sequence);
      sequence += 1;
      if (spec === undefined) return;
      outcomes.push(await send(agent, spec));
    }
  });
  const stop = async (): Promise<Outcome[]> => {
    stopped = true;
    await Promise.all(loops);
    agent.destroy();
    return outcomes;
  };
  // A test that fails midway must not leave workers looping against a stopped service.
  t.after(stop);
  return { outcomes, stop };
}

/** Counts outcomes by status (or by failure code), for assertion messages and figures. */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key =
      outcome.failure === undefined
        ? String(outcome.status)
        : `${outcome.failure.code}${outcome.failure.midResponse ? ' mid-response' : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
