import { SignerError } from '../errors.ts';

/** Caps the private-key operations in flight; beyond the cap, work is shed with a 503. */
export interface SigningGate {
  /** Runs `work` holding `cost` slots, or throws ERR_OVERLOADED without running it. */
  run<T>(cost: number, work: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
}

export function createSigningGate(capacity: number): SigningGate {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    async run(cost, work) {
      // An idle gate admits any single request, so a batch larger than the cap still runs alone.
      if (inFlight > 0 && inFlight + cost > capacity) {
        throw new SignerError(
          'ERR_OVERLOADED',
          'the service is signing at capacity; retry shortly',
          { details: { retryAfterSeconds: 1 } },
        );
      }
      inFlight += cost;
      try {
        return await work();
      } finally {
        inFlight -= cost;
      }
    },
  };
}
