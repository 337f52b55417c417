import { verify, type KeyObject } from 'node:crypto';
import { messageOf } from './errors.ts';

/** CloudFront's base64 back to standard base64 (`-`→`+`, `_`→`=`, `~`→`/`). */
function decodeCloudFrontBase64(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
}

/**
 * Checks a canned-policy signed URL the way CloudFront would: rebuilds the policy from the URL
 * and Expires, and verifies Signature with the public key. Returns a reason when it fails.
 */
export function checkCannedUrl(
  signedUrl: string,
  publicKey: KeyObject,
  expected: { keyPairId: string; hash: 'sha1' | 'sha256' },
): string | undefined {
  const question = signedUrl.indexOf('?');
  if (question === -1) return 'no query string';
  const resource = signedUrl.slice(0, question);
  const query = new URLSearchParams(signedUrl.slice(question + 1));
  const expires = query.get('Expires');
  const signature = query.get('Signature');
  if (expires === null || !/^\d+$/.test(expires)) return 'no Expires';
  if (signature === null) return 'no Signature';
  if (query.get('Key-Pair-Id') !== expected.keyPairId) return 'wrong Key-Pair-Id';
  const hash = query.get('Hash-Algorithm') === 'SHA256' ? 'sha256' : 'sha1';
  if (hash !== expected.hash) return `signed with ${hash}, expected ${expected.hash}`;
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  const valid = verify(
    hash,
    Buffer.from(policy, 'utf8'),
    publicKey,
    decodeCloudFrontBase64(signature),
  );
  return valid ? undefined : 'the signature does not verify';
}

/** Asks `url` for one link (`{"signed_url": …}`) and checks it; returns a reason on failure. */
export async function checkServerLink(
  url: string,
  headers: Record<string, string>,
  publicKey: KeyObject,
  expected: { keyPairId: string; hash: 'sha1' | 'sha256' },
): Promise<string | undefined> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}: ${text.slice(0, 300)}`;
    const body = JSON.parse(text) as { signed_url?: unknown };
    if (typeof body.signed_url !== 'string') return `no signed_url in ${text.slice(0, 300)}`;
    return checkCannedUrl(body.signed_url, publicKey, expected);
  } catch (error) {
    return messageOf(error);
  }
}
