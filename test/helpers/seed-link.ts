import { sign, type KeyObject } from 'node:crypto';

/**
 * Python's `json.dumps(str)`: a JSON string with `ensure_ascii`, so every character past ASCII
 * becomes a lowercase `\uXXXX` escape of its UTF-16 units.
 */
function pythonJsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A link made the way the seed Flask app makes it (see shared/seed): the object key pasted into
 * the URL unencoded, a custom policy from `json.dumps` (with its `", "` and `": "` separators),
 * RSA-SHA1 over those bytes, and Policy and Signature in standard base64 (`base64.b64encode`).
 */
export function seedSignedUrl(
  distributionUrl: string,
  objectKey: string,
  expiresAt: number,
  key: { keyPairId: string; privateKey: KeyObject },
): { url: string; policy: string; policyBase64: string; signatureBase64: string } {
  const resource = `${distributionUrl}/${objectKey}`;
  const policy = `{"Statement": [{"Resource": ${pythonJsonString(resource)}, "Condition": {"DateLessThan": {"AWS:EpochTime": ${expiresAt}}}}]}`;
  const policyBase64 = Buffer.from(policy, 'utf8').toString('base64');
  const signatureBase64 = sign('sha1', Buffer.from(policy, 'utf8'), key.privateKey).toString(
    'base64',
  );
  return {
    url: `${resource}?Policy=${policyBase64}&Signature=${signatureBase64}&Key-Pair-Id=${key.keyPairId}`,
    policy,
    policyBase64,
    signatureBase64,
  };
}
