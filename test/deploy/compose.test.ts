import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import {
  dockerignoreMatcher,
  envOf,
  instructionsOf,
  parseHealthcheck,
  readDockerfile,
  REPOSITORY,
} from './dockerfile.ts';
import { assertConfigCheckPasses } from './mounted-config.ts';

interface Volume {
  type: string;
  source: string;
  target: string;
  read_only?: boolean;
}
interface Service {
  build?: unknown;
  image?: string;
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  volumes?: (Volume | string)[];
  ports?: string[];
  container_name?: string;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number };
  restart?: string;
  read_only?: boolean;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

const compose = parse(readFileSync(`${REPOSITORY}compose.yaml`, 'utf8')) as Compose;
const services = compose.services;
const cfsign = services['cfsign'];
const nginx = services['nginx'];
const redis = services['redis'];
if (cfsign === undefined || nginx === undefined || redis === undefined)
  throw new Error('compose.yaml needs the services cfsign, nginx and redis');
const runtime = readDockerfile().at(-1);
if (runtime === undefined) throw new Error('the Dockerfile has no stage');

/** Compose's variable interpolation: ${VAR}, ${VAR:-default} and ${VAR:?error}. */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (_, name: string, kind?: string, rest?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (kind === '?') throw new Error(`${name}: ${rest ?? ''}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

/** The long-syntax volumes of a service (the short syntax hides read-only-ness in a suffix). */
function volumesOf(service: Service): Volume[] {
  return (service.volumes ?? []).map((volume) => {
    assert.equal(typeof volume, 'object', `long volume syntax: ${JSON.stringify(volume)}`);
    return volume as Volume;
  });
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(duration ?? '');
  assert.ok(match, `a duration: ${String(duration)}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

function mountFor(service: Service, path: string): Volume {
  const volume = volumesOf(service).find(
    (item) => path === item.target || path.startsWith(`${item.target}/`),
  );
  assert.ok(volume, `a volume holds ${path}`);
  return volume;
}

const API_KEYS = 'web:tok-compose-0123456789abcdef';
/** The environment compose gives each replica: the image's ENV under the service's own. */
const replicaEnv = Object.fromEntries(
  Object.entries({ ...envOf(runtime), ...cfsign.environment }).map(([name, value]) => [
    name,
    interpolate(value, { CFSIGN_API_KEYS: API_KEYS }),
  ]),
);
const configPath = replicaEnv['CFSIGN_CONFIG'] ?? '';
const configVolume = mountFor(cfsign, configPath);
const configText = readFileSync(
  join(REPOSITORY, configVolume.source, configPath.slice(configVolume.target.length)),
  'utf8',
);
const config = parse(configText) as {
  rateLimit: { store: string };
  server: { port: number; shutdownDelaySeconds: number };
};

/** nginx.conf without comments. */
const NGINX_CONF = 'deploy/compose/nginx.conf';
const nginxConf = readFileSync(`${REPOSITORY}${NGINX_CONF}`, 'utf8').replace(/#.*$/gm, '');

describe('compose.yaml', () => {
  it('runs two cfsign replicas built from the Dockerfile, reachable only through nginx', () => {
    assert.equal(cfsign.build, '.');
    assert.equal(cfsign.deploy?.replicas, 2);
    // A fixed name or host port could not be shared by two replicas.
    assert.equal(cfsign.container_name, undefined);
    assert.equal(cfsign.ports, undefined);
    assert.deepEqual(nginx.ports, ['8080:8080']);
    assert.match(nginx.image ?? '', /^nginx:\d/);
    assert.match(redis.image ?? '', /^redis:\d/);
  });

  it('gives every service a health check and a restart policy, and starts each after what it needs', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.healthcheck?.test[0], 'CMD', `${name}: exec-form health check`);
      assert.ok(['always', 'unless-stopped', 'on-failure'].includes(service.restart ?? ''), name);
    }
    assert.deepEqual(cfsign.depends_on, { redis: { condition: 'service_healthy' } });
    assert.deepEqual(nginx.depends_on, { cfsign: { condition: 'service_healthy' } });
  });

  it("checks cfsign's health with the image's own HEALTHCHECK command", () => {
    const image = parseHealthcheck(instructionsOf(runtime, 'HEALTHCHECK')[0] ?? '');
    assert.deepEqual(cfsign.healthcheck?.test, ['CMD', ...(image.command ?? [])]);
    assert.equal(cfsign.healthcheck.interval, image.options['interval']);
    assert.equal(cfsign.healthcheck.timeout, image.options['timeout']);
  });

  it('mounts configuration, keys and nginx.conf read-only, from files that are in the repository or made by keygen', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.read_only, true, `${name}: read-only root filesystem`);
      for (const volume of volumesOf(service)) {
        assert.equal(volume.type, 'bind');
        assert.equal(volume.read_only, true, `${name}: ${volume.target}`);
      }
    }
    const keyVolume = mountFor(cfsign, '/run/secrets/cfsign/private_key.pem');
    // The directory cfsign keygen --out ./keys fills; never part of the repository.
    assert.equal(keyVolume.source, './keys');
    // Nor does it reach the image: the build context leaves it out.
    const ignored = dockerignoreMatcher(readFileSync(`${REPOSITORY}.dockerignore`, 'utf8'));
    assert.equal(ignored('keys/private_key.pem'), true);
    const nginxConfVolume = mountFor(nginx, '/etc/nginx/conf.d/default.conf');
    assert.equal(nginxConfVolume.source, `./${NGINX_CONF}`);
    assert.ok(existsSync(join(REPOSITORY, nginxConfVolume.source)));
  });

  it('refuses to start without CFSIGN_API_KEYS instead of signing for nobody', () => {
    assert.throws(
      () => interpolate(cfsign.environment?.['CFSIGN_API_KEYS'] ?? '', {}),
      /CFSIGN_API_KEYS/,
    );
    assert.equal(replicaEnv['CFSIGN_API_KEYS'], API_KEYS);
  });

  it('mounts a configuration that loadConfig and cfsign config check accept, with the environment compose passes', async () => {
    const loaded = loadConfig({
      ...replicaEnv,
      CFSIGN_CONFIG: join(REPOSITORY, configVolume.source, 'cfsign.yaml'),
    });
    assert.equal(loaded.mode, 'production');
    assert.equal(loaded.auth, 'tokens');
    assert.equal(loaded.host, '0.0.0.0');
    const keyMount = mountFor(cfsign, '/run/secrets/cfsign/private_key.pem').target;
    await assertConfigCheckPasses(configText, keyMount, replicaEnv);
  });

  it('shares one Redis between the replicas: the rate-limit store is the redis service', () => {
    const store = new URL(config.rateLimit.store);
    assert.equal(store.protocol, 'redis:');
    assert.ok(store.hostname in services, store.hostname);
    assert.equal(store.hostname, 'redis');
    assert.equal(store.port, '6379');
    assert.ok(redis.command?.includes('--save'), 'rate-limit buckets are not persisted');
  });

  it('lets a replica finish its shutdown delay and in-flight requests before Docker kills it', () => {
    // start.ts exits within 10 s of SIGTERM whatever is in flight.
    assert.ok(seconds(cfsign.stop_grace_period) > config.server.shutdownDelaySeconds + 10);
  });
});

describe('the nginx configuration compose mounts', () => {
  it('proxies every path to the cfsign replicas by service name and the port they listen on', () => {
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(nginxConf);
    assert.ok(upstream, 'an upstream block');
    const [, name = '', body = ''] = upstream;
    const servers = [...body.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((match) => match[1]);
    assert.deepEqual(servers, [`cfsign:${config.server.port}`]);
    assert.equal(config.server.port, Number(instructionsOf(runtime, 'EXPOSE')[0]));
    const root = /location\s+\/\s*\{([^}]*)\}/.exec(nginxConf)?.[1] ?? '';
    assert.match(root, new RegExp(`proxy_pass\\s+http://${name};`));
    // Keep-alive to the replicas, closed before cfsign's own 5 s keep-alive timeout closes it.
    assert.match(root, /proxy_http_version\s+1\.1;/);
    assert.match(root, /proxy_set_header\s+Connection\s+"";/);
    const keepalive = /keepalive_timeout\s+(\d+)s;/.exec(body)?.[1];
    assert.ok(Number(keepalive) < 5, `keepalive_timeout ${String(keepalive)}`);
    assert.match(root, /proxy_next_upstream\s+[^;]*\berror\b/);
  });

  it('re-resolves the replicas through Docker DNS with an nginx that supports it', () => {
    assert.match(nginxConf, /resolver\s+127\.0\.0\.11\b/);
    assert.match(nginxConf, /server\s+cfsign:\d+\s+resolve\b/);
    // `resolve` in an upstream is in open-source nginx from 1.27.3.
    const [major = 0, minor = 0, patch = 0] = (
      /^nginx:(\d+(?:\.\d+)*)/.exec(nginx.image ?? '')?.[1] ?? ''
    )
      .split('.')
      .map(Number);
    assert.ok(major > 1 || minor > 27 || (minor === 27 && patch >= 3), nginx.image);
  });

  it('listens on the port compose publishes, with its health check, and the body and header sizes cfsign accepts', () => {
    const published = (nginx.ports?.[0] ?? '').split(':').at(-1);
    assert.match(nginxConf, new RegExp(`listen\\s+${published ?? '?'};`));
    const health = /http:\/\/127\.0\.0\.1:(\d+)(\/\S*)$/.exec(nginx.healthcheck?.test.at(-1) ?? '');
    assert.equal(health?.[1], published);
    assert.match(
      nginxConf,
      new RegExp(`location\\s+=\\s+${health?.[2] ?? '?'}\\s*\\{[^}]*return\\s+200`),
    );
    assert.match(nginxConf, /client_max_body_size\s+1m;/);
    assert.match(nginxConf, /large_client_header_buffers\s+\d+\s+16k;/);
  });
});
