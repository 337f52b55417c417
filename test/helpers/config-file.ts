import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { rmSync } from 'node:fs';
import { stringify } from 'yaml';
import { digestToken } from '../../src/config/load-config.ts';
import { DISTRIBUTION, ECDSA, fixturePath, RSA } from './fixtures.ts';

/** Tokens of the clients in MULTI_TENANT_CONFIG. */
export const CLIENT_TOKENS = {
  acme: 'tok-acme-0123456789abcdef',
  broad: 'tok-broad-0123456789abcdef',
  cookie: 'tok-cookie-0123456789abcdef',
} as const;

export function bearer(client: keyof typeof CLIENT_TOKENS): { authorization: string } {
  return { authorization: `Bearer ${CLIENT_TOKENS[client]}` };
}

export const SECOND_DISTRIBUTION = 'https://d222222abcdef8.cloudfront.net';

/** Two distributions and three clients with different rights. */
export const MULTI_TENANT_CONFIG = {
  distributions: [
    {
      name: 'media',
      url: DISTRIBUTION,
      keys: [
        { id: RSA.keyPairId, privateKeyFile: fixturePath('rsa-2048.pkcs8.pem') },
        { id: ECDSA.keyPairId, privateKeyFile: fixturePath('ec-p256.pkcs8.pem') },
      ],
      activeKey: RSA.keyPairId,
      defaultTtl: 600,
      maxTtl: 86_400,
    },
    {
      name: 'downloads',
      url: SECOND_DISTRIBUTION,
      keys: [{ id: ECDSA.keyPairId, privateKeyFile: fixturePath('ec-p256.sec1.pem') }],
    },
  ],
  clients: [
    {
      name: 'acme',
      tokenSha256: digestToken(CLIENT_TOKENS.acme),
      allow: [{ distribution: 'media', prefixes: ['tenants/acme/'], maxTtl: 3600 }],
    },
    {
      name: 'broad',
      tokenSha256: digestToken(CLIENT_TOKENS.broad),
      allow: [
        { distribution: 'media', prefixes: ['videos/', 'thumbs/'], wildcards: true },
        { distribution: 'downloads' },
      ],
    },
    {
      name: 'cookie',
      tokenSha256: digestToken(CLIENT_TOKENS.cookie),
      allow: [{ distribution: 'media', prefixes: ['videos/'], wildcards: true, cookies: true }],
    },
  ],
};

/** Writes `content` as YAML (or JSON for a .json name) in a temporary folder; returns its path. */
export function writeConfigFile(t: TestContext, content: unknown, name = 'cfsign.yaml'): string {
  const directory = mkdtempSync(join(tmpdir(), 'cfsign-config-'));
  t.after(() => {
    rmSync(directory, { recursive: true, force: true });
  });
  const path = join(directory, name);
  writeFileSync(path, name.endsWith('.json') ? JSON.stringify(content) : stringify(content));
  return path;
}
