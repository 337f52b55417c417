import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { fixturePath } from '../helpers/fixtures.ts';

/** The private key files a configuration file names, as written in it. */
export function keyFilesOf(text: string): string[] {
  const config = parse(text) as {
    distributions: { keys: { privateKeyFile?: string }[] }[];
  };
  return config.distributions.flatMap((distribution) =>
    distribution.keys.flatMap((key) =>
      key.privateKeyFile === undefined ? [] : [key.privateKeyFile],
    ),
  );
}

/**
 * A configuration file as a container sees it, laid out on this machine: each key file under
 * the container's key mount is a copy of a fixture key at the same name in a temporary
 * directory, and only that directory prefix of the text changes. Throws if the configuration
 * names a key file outside the mount, which the container could not read.
 */
export function layOutMountedConfig(
  text: string,
  keyMount: string,
  fixture = 'rsa-2048.pkcs8.pem',
): { configPath: string; keyDirectory: string } {
  const files = keyFilesOf(text);
  if (files.length === 0) throw new Error('the configuration names no key file');
  for (const file of files) {
    if (!file.startsWith(`${keyMount}/`) || file.slice(keyMount.length + 1).includes('/'))
      throw new Error(`${file} is not a file of the key mount ${keyMount}`);
  }
  const keyDirectory = mkdtempSync(join(tmpdir(), 'cfsign-mounted-keys-'));
  for (const file of files)
    copyFileSync(fixturePath(fixture), join(keyDirectory, file.slice(keyMount.length + 1)));
  const configPath = join(keyDirectory, 'cfsign.yaml');
  writeFileSync(configPath, text.replaceAll(`${keyMount}/`, `${keyDirectory}/`));
  return { configPath, keyDirectory };
}

/**
 * Runs `cfsign config check` on a container's configuration laid out here (see
 * layOutMountedConfig), with the environment the container gets, and asserts it passes with
 * the one distribution, client and key the shipped configurations hold.
 */
export async function assertConfigCheckPasses(
  text: string,
  keyMount: string,
  env: Record<string, string>,
): Promise<void> {
  const laidOut = layOutMountedConfig(text, keyMount);
  try {
    const result = await runCli(['config', 'check', laidOut.configPath], {
      env: { ...env, CFSIGN_CONFIG: laidOut.configPath },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^ok: 1 distribution\(s\) \(media\), 1 client\(s\), keys loaded: K2JCJMDEHXQW5F/,
    );
  } finally {
    rmSync(laidOut.keyDirectory, { recursive: true, force: true });
  }
}
