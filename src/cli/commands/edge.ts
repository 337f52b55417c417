import type { KeyObject } from 'node:crypto';
import { SignerError, isSignerError } from '../../errors.ts';
import { assertKeyPairId } from '../../core/grant.ts';
import { loadPublicKey } from '../../keys/load-key.ts';
import { buildEdge, type EdgeContent } from '../../edge/build-edge.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';

const DEFAULT_PORT = 8081;
const DEFAULT_HOST = '127.0.0.1';

const PUBLIC_KEY_USAGE =
  '--public-key takes ID=FILE: the Key-Pair-Id CloudFront shows for the public key, then its PEM file (e.g. K2JCJMDEHXQW5F=public_key.pem)';

/**
 * Loads `ID=FILE` pairs into the trusted key group. The ID is required even for a single key:
 * CloudFront finds the key by the link's Key-Pair-Id and answers InvalidKey for any other, and
 * an edge that accepted any ID would pass links CloudFront refuses. Errors name the ID, never
 * the file.
 */
function loadTrustedKeys(specs: readonly string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const spec of specs) {
    const separator = spec.indexOf('=');
    if (separator <= 0 || separator === spec.length - 1) {
      throw new SignerError('ERR_USAGE', PUBLIC_KEY_USAGE);
    }
    const keyPairId = spec.slice(0, separator);
    try {
      assertKeyPairId(keyPairId);
    } catch {
      throw new SignerError('ERR_USAGE', PUBLIC_KEY_USAGE);
    }
    if (keys.has(keyPairId)) {
      throw new SignerError('ERR_USAGE', `--public-key: Key-Pair-Id ${keyPairId} is given twice`);
    }
    try {
      keys.set(keyPairId, loadPublicKey({ file: spec.slice(separator + 1) }));
    } catch (error) {
      if (!isSignerError(error)) throw error;
      throw new SignerError(error.code, `--public-key ${keyPairId}: ${error.message}`);
    }
  }
  return keys;
}

function readContent(root: string | undefined, origin: string | undefined): EdgeContent {
  if (root !== undefined && origin !== undefined) {
    throw new SignerError('ERR_USAGE', 'give --root or --origin, not both');
  }
  if (root !== undefined) return { root };
  if (origin !== undefined) return { origin };
  throw new SignerError('ERR_USAGE', 'give --root DIR (files to serve) or --origin URL (to proxy)');
}

function readPort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new SignerError('ERR_USAGE', '--port must be a whole number from 0 to 65535');
  }
  return port;
}

/** Why the edge could not listen, said as something the user can change. */
function describeListenError(error: unknown, host: string, port: number): SignerError | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return new SignerError('ERR_USAGE', `${host}:${port} is already in use; choose another --port`);
  }
  if (code === 'EACCES') {
    return new SignerError('ERR_USAGE', `this user may not listen on ${host}:${port}`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new SignerError('ERR_USAGE', `--host ${host} is not an address of this machine`);
  }
  return undefined;
}

export const edgeCommand: CommandSpec = {
  name: 'edge',
  summary:
    'Serve a folder (or proxy an origin) only to requests with a signed URL or signed cookies CloudFront would accept; a local distribution.',
  positionals: [],
  options: {
    root: { type: 'string', value: 'DIR', description: 'serve the files below DIR' },
    origin: {
      type: 'string',
      value: 'URL',
      description: 'proxy to this origin instead (http(s)://host:port[/path])',
    },
    'public-key': {
      type: 'string[]',
      value: 'ID=FILE',
      required: true,
      description: 'a trusted public key PEM and its Key-Pair-Id',
    },
    port: { type: 'string', value: 'PORT', description: `port to listen on (${DEFAULT_PORT})` },
    host: {
      type: 'string',
      value: 'ADDR',
      description: `address to listen on (${DEFAULT_HOST}, this machine only)`,
    },
  },
  notes: [
    'Each request is judged as CloudFront judges it: the URL is http:// + the Host header + the path and',
    "query; CloudFront's query parameters (if present) are checked and cookies ignored, otherwise the",
    "CloudFront-* cookies are. Refusals are 403 with CloudFront's XML body, the reason in x-cfsign-reason",
    "and the failure in x-cfsign-failure; accepted requests are served without CloudFront's parameters.",
    'Only GET and HEAD are allowed. With --root, no listings, hidden files or paths leaving DIR; a',
    "missing file is 404 NoSuchKey. With --origin, the query (less CloudFront's parameters) is forwarded,",
    'cookies are not. Sign links for the URL the edge prints.',
  ],
  examples: [
    'cfsign edge --root ./public --public-key K2JCJMDEHXQW5F=./keys/public_key.pem',
    'cfsign edge --origin http://127.0.0.1:3000 --public-key K2JCJMDEHXQW5F=a.pem --public-key K3ROTATEDKEY=b.pem --port 9000',
  ],
  async run(args, io) {
    const content = readContent(args.strings['root'], args.strings['origin']);
    const keys = loadTrustedKeys(args.lists['public-key'] ?? []);
    const port = readPort(args.strings['port']);
    const host = args.strings['host'] ?? DEFAULT_HOST;
    const edge = await buildEdge({
      ...content,
      keys,
      now: () => io.now(),
      logStream: {
        write: (line: string) => {
          io.stdout(line);
        },
      },
    });
    let address: string;
    try {
      address = await edge.listen({ host, port });
    } catch (error) {
      await edge.close();
      throw describeListenError(error, host, port) ?? error;
    }
    const serving =
      content.root === undefined ? `proxying ${content.origin}` : `serving ${content.root}`;
    io.stdout(
      `cfsign edge: ${serving} at ${address} for Key-Pair-Id ${[...keys.keys()].join(', ')}; sign links for ${address}/…; Ctrl-C stops\n`,
    );
    // Like start.ts for the service, the command that listens owns the signals that stop it.
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void edge.close().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return EXIT_OK;
  },
};
