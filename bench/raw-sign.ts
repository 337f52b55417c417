import { sign, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.ts';

export interface RawSignResult {
  /** Signatures completed before the deadline. */
  signatures: number;
  seconds: number;
  perSecond: number;
  inFlight: number;
  /** From the call to its callback, queueing on libuv's pool included. */
  latencyMs: { p50: number; p99: number; max: number };
}

export interface RawSignOptions {
  key: KeyObject;
  hash: 'sha1' | 'sha256';
  seconds: number;
  inFlight: number;
  /** Used to build a realistic canned policy, unique per signature. */
  distributionUrl: string;
}

/**
 * The raw limit: asynchronous `crypto.sign` over a cached KeyObject, `inFlight` at a time on
 * libuv's pool, each over a unique canned policy, for a fixed duration. Nothing but signing and
 * its callback runs, so no service on this machine can sign faster.
 */
export function measureRawSign(options: RawSignOptions): Promise<RawSignResult> {
  const { key, hash, seconds, inFlight, distributionUrl } = options;
  const expires = Math.floor(Date.now() / 1000) + 3600;
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    const deadline = begin + seconds * 1000;
    const latencies: number[] = [];
    let started = 0;
    let active = 0;
    let failure: Error | undefined;

    const finish = (): void => {
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      latencies.sort((a, b) => a - b);
      resolve({
        signatures: latencies.length,
        seconds,
        perSecond: latencies.length / seconds,
        inFlight,
        latencyMs: {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          max: latencies.at(-1) ?? 0,
        },
      });
    };

    const launch = (): void => {
      const n = started;
      started += 1;
      active += 1;
      const policy = `{"Statement":[{"Resource":"${distributionUrl}/bench/raw/${n}.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
      const at = performance.now();
      sign(hash, Buffer.from(policy, 'utf8'), key, (error) => {
        active -= 1;
        const done = performance.now();
        if (error !== null) failure ??= error;
        else if (done <= deadline) latencies.push(done - at);
        if (failure === undefined && done < deadline) launch();
        else if (active === 0) finish();
      });
    };

    for (let i = 0; i < inFlight; i += 1) launch();
  });
}
