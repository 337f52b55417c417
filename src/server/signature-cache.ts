import { LRUCache } from 'lru-cache';

/**
 * Signatures of recent policies for one key and hash. The same policy bytes need only one
 * private-key operation: a hot object with a stable expiry (`linkWindow`) is signed once per
 * window, and concurrent requests for it share the signature still being made.
 */
export interface SignatureCache {
  /** The signature of `policy`: cached, in the making, or made now by `signFresh`. */
  sign(policy: string, signFresh: (policy: string) => Promise<Buffer>): Promise<Buffer>;
  /** The signature of `policy` if it is cached or in the making, without making one. */
  reuse(policy: string): Promise<Buffer> | undefined;
}

/** Entries are about 1 KB (a policy and an RSA-2048 signature), so the default is ~4 MB at most. */
export const SIGNATURE_CACHE_ENTRIES = 4096;

export function createSignatureCache(maxEntries: number, onHit: () => void): SignatureCache {
  const signatures = new LRUCache<string, Promise<Buffer>>({ max: maxEntries });
  function reuse(policy: string): Promise<Buffer> | undefined {
    const known = signatures.get(policy);
    if (known !== undefined) onHit();
    return known;
  }
  return {
    reuse,
    sign(policy, signFresh) {
      const known = reuse(policy);
      if (known !== undefined) return known;
      const pending = signFresh(policy);
      signatures.set(policy, pending);
      // A failed signature is not remembered; the next request tries afresh.
      pending.catch(() => {
        if (signatures.peek(policy) === pending) signatures.delete(policy);
      });
      return pending;
    },
  };
}
