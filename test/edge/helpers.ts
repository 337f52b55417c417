import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { signCookies } from '../../src/core/sign-cookies.ts';
import { signUrl } from '../../src/core/sign-url.ts';
import { buildEdge, type Edge, type EdgeContent } from '../../src/edge/build-edge.ts';
import { RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';

export const NOW = new Date('2026-06-01T12:00:00Z');
export const NOW_SECONDS = NOW.getTime() / 1000;
/** The Host header the tests send: the edge's "distribution domain". */
export const HOST = 'edge.test';
export const DISTRIBUTION = `http://${HOST}`;
export const SAMPLE_ROOT = fileURLToPath(new URL('../../examples/edge-root/', import.meta.url));

export function sampleFile(path: string): Buffer {
  return readFileSync(`${SAMPLE_ROOT}${path}`);
}

export interface TestEdge {
  edge: Edge;
  readonly logText: () => string;
}

/** Builds an edge (never listening) trusting the fixture keys, closed when the test ends. */
export async function buildTestEdge(
  t: TestContext,
  content: EdgeContent = { root: SAMPLE_ROOT },
  now: Date = NOW,
): Promise<TestEdge> {
  let text = '';
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const edge = await buildEdge({ ...content, keys: TRUSTED_KEYS, now: () => now, logStream });
  t.after(() => edge.close());
  return { edge, logText: () => text };
}

/** A signed URL for `url` made by the real signer with the RSA fixture key, valid for an hour. */
export function signedUrl(
  url: string,
  options: { expires?: number; ipAddress?: string; resource?: string } = {},
): string {
  return signUrl({
    ...RSA,
    url,
    expires: options.expires ?? NOW_SECONDS + 3600,
    now: NOW,
    ...(options.ipAddress === undefined ? {} : { ipAddress: options.ipAddress }),
    ...(options.resource === undefined ? {} : { resource: options.resource }),
  }).url;
}

/** The request target (path and query) of a URL on the test distribution. */
export function targetOf(url: string, distribution = DISTRIBUTION): string {
  if (!url.startsWith(distribution)) throw new Error(`${url} is not on ${distribution}`);
  return url.slice(distribution.length);
}

/** A `Cookie` header with signed cookies for a resource pattern, valid for an hour. */
export function signedCookieHeader(resource: string): string {
  const { cookies } = signCookies({ ...RSA, resource, expires: NOW_SECONDS + 3600, now: NOW });
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** The same URL with one character of its Signature changed to another base64 character. */
export function tamperSignature(url: string): string {
  const start = url.indexOf('Signature=') + 'Signature='.length + 20;
  const replacement = url[start] === 'A' ? 'B' : 'A';
  return `${url.slice(0, start)}${replacement}${url.slice(start + 1)}`;
}

/** The value of a query parameter, exactly as written in the URL. */
export function queryValue(url: string, name: string): string {
  const match = new RegExp(`[?&]${name}=([^&]*)`).exec(url);
  if (match?.[1] === undefined) throw new Error(`no ${name} in ${url}`);
  return match[1];
}
