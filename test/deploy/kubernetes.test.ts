import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IService } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import { instructionsOf, readDockerfile, REPOSITORY } from './dockerfile.ts';
import { schemaProblems, unknownFieldProblems, type Manifest } from './kubernetes-schema.ts';
import { assertConfigCheckPasses } from './mounted-config.ts';

const DIRECTORY = `${REPOSITORY}deploy/kubernetes/`;
const KUSTOMIZATION = 'kustomization.yaml';
const files = readdirSync(DIRECTORY).filter((file) => file.endsWith('.yaml'));
const manifests: Manifest[] = files
  .filter((file) => file !== KUSTOMIZATION)
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIRECTORY, file), 'utf8')).map((document) => {
      assert.deepEqual(document.errors, [], file);
      return document.toJS() as Manifest;
    }),
  );

function only(kind: string): unknown {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

const deployment = only('Deployment') as IDeployment;
const configMap = only('ConfigMap') as IConfigMap;
const hpa = only('HorizontalPodAutoscaler') as IHorizontalPodAutoscaler;
const pdb = only('PodDisruptionBudget') as IPodDisruptionBudget;
const services = manifests.filter((manifest) => manifest.kind === 'Service') as IService[];
const pod = deployment.spec?.template.spec;
const container = pod?.containers[0];
if (pod === undefined || container === undefined)
  throw new Error('the Deployment has no container');
const podLabels = deployment.spec?.template.metadata?.labels ?? {};

function envValue(name: string): string | undefined {
  return container?.env?.find((variable) => variable.name === name)?.value;
}

function mountOf(volumeName: string): { mountPath: string; readOnly?: boolean } {
  const mount = container?.volumeMounts?.find((item) => item.name === volumeName);
  assert.ok(mount, `${volumeName} is mounted`);
  return mount;
}

function selects(selector: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => podLabels[key] === value);
}

/** A CPU quantity in cores: '2', '1.5', '500m'. */
function cores(quantity: string | number | undefined): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/**
 * The variables kubelet adds for each Service with a cluster IP when service links are on
 * (docker-link style): NAME_SERVICE_HOST, NAME_SERVICE_PORT[_PORTNAME], NAME_PORT[_N_PROTO...].
 */
function serviceLinkVariables(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of services.filter(
    (item) => (item.spec?.type ?? 'ClusterIP') === 'ClusterIP',
  )) {
    const prefix = (service.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
    const ip = '10.96.0.10';
    env[`${prefix}_SERVICE_HOST`] = ip;
    for (const [index, port] of (service.spec?.ports ?? []).entries()) {
      const protocol = port.protocol ?? 'TCP';
      if (index === 0) {
        env[`${prefix}_SERVICE_PORT`] = String(port.port);
        env[`${prefix}_PORT`] = `${protocol.toLowerCase()}://${ip}:${port.port}`;
      }
      if (port.name !== undefined)
        env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replace(/-/g, '_')}`] = String(
          port.port,
        );
      const base = `${prefix}_PORT_${port.port}_${protocol}`;
      env[base] = `${protocol.toLowerCase()}://${ip}:${port.port}`;
      env[`${base}_PROTO`] = protocol.toLowerCase();
      env[`${base}_PORT`] = String(port.port);
      env[`${base}_ADDR`] = ip;
    }
  }
  return env;
}

const configKey = 'cfsign.yaml';
const configText = configMap.data?.[configKey] ?? '';
const config = parse(configText) as {
  rateLimit: { store: string };
  server: { port: number; shutdownDelaySeconds: number };
};
const scratch = mkdtempSync(join(tmpdir(), 'cfsign-kubernetes-'));
const configCopy = join(scratch, configKey);
writeFileSync(configCopy, configText);
/** The container's environment, with the ConfigMap's file at a path of this machine. */
const containerEnv = Object.fromEntries(
  (container.env ?? []).map((variable) => [
    variable.name,
    variable.name === 'CFSIGN_CONFIG' ? configCopy : (variable.value ?? ''),
  ]),
);

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Kubernetes manifests', () => {
  it('are valid against the Kubernetes schemas (kubernetes-models), and a wrong type would not be', () => {
    assert.deepEqual(manifests.flatMap(schemaProblems), []);
    const broken = structuredClone(deployment) as unknown as Manifest & {
      spec: { replicas: unknown };
    };
    broken.spec.replicas = 'two';
    assert.match(schemaProblems(broken).join('\n'), /spec\/replicas must be integer/);
  });

  it('use no field Kubernetes does not know, at any depth, and a misspelled one would be found', () => {
    const misspelled = structuredClone(deployment) as unknown as Manifest;
    const copy = misspelled as unknown as IDeployment;
    const probe = copy.spec?.template.spec?.containers[0]?.readinessProbe;
    Object.assign(copy.spec?.template.spec?.containers[0] ?? {}, { readinesProbe: probe });
    const problems = unknownFieldProblems([...manifests, misspelled]);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^Deployment cfsign: .*'"readinesProbe"' does not exist in type 'IContainer'/,
    );
  });

  it('are all listed in the kustomization, and hold no Secret: keys never enter the repository', () => {
    const kustomization = parse(readFileSync(join(DIRECTORY, KUSTOMIZATION), 'utf8')) as {
      resources: string[];
    };
    assert.deepEqual(
      [...kustomization.resources].sort(),
      files.filter((file) => file !== KUSTOMIZATION).sort(),
    );
    assert.ok(!manifests.some((manifest) => manifest.kind === 'Secret'));
    for (const file of files)
      assert.doesNotMatch(readFileSync(join(DIRECTORY, file), 'utf8'), /PRIVATE KEY/);
  });
});

describe('the Deployment', () => {
  it('runs at least two replicas and rolls out without losing one', () => {
    const spec = deployment.spec;
    assert.ok(spec);
    assert.ok((spec.replicas ?? 1) >= 2);
    assert.equal(spec.strategy?.rollingUpdate?.maxUnavailable, 0);
    assert.ok(selects(spec.selector.matchLabels));
  });

  it("runs the image's own CMD as its non-root USER, on a read-only root filesystem, with no privilege to gain", () => {
    assert.equal(container.command, undefined);
    assert.equal(container.args, undefined);
    const runtime = readDockerfile().at(-1);
    assert.ok(runtime);
    const [uid] = (instructionsOf(runtime, 'USER')[0] ?? '').split(':');
    const podSecurity = pod.securityContext;
    const security = container.securityContext;
    assert.ok(podSecurity && security);
    assert.equal(podSecurity.runAsNonRoot, true);
    assert.equal(String(podSecurity.runAsUser), uid);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.deepEqual(security.capabilities?.drop, ['ALL']);
    assert.equal(podSecurity.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(pod.automountServiceAccountToken, false);
  });

  it('checks readiness on /readyz and liveness on /healthz, on the port the configuration listens on', () => {
    const http = container.ports?.find((port) => port.name === 'http');
    assert.equal(http?.containerPort, config.server.port);
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.readinessProbe.httpGet.port, 'http');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container.livenessProbe.httpGet.port, 'http');
    // Where a load balancer follows readiness, a draining pod leaves it within the delay.
    const readiness = container.readinessProbe;
    assert.ok(
      (readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3) <=
        config.server.shutdownDelaySeconds,
    );
  });

  it('requests and limits CPU and memory, with one signing thread per CPU of the limit', () => {
    const { requests, limits } = container.resources ?? {};
    for (const resource of ['cpu', 'memory'])
      assert.ok(requests?.[resource] !== undefined && limits?.[resource] !== undefined, resource);
    const threads = Number(envValue('UV_THREADPOOL_SIZE'));
    assert.equal(threads, Math.max(2, Math.ceil(cores(limits?.['cpu']))));
  });

  it('reads its key from a Secret volume mounted read-only, readable by no one else, and its config from the ConfigMap', () => {
    const keys = pod.volumes?.find((volume) => volume.secret !== undefined);
    assert.ok(keys?.secret?.secretName);
    assert.equal(
      keys.secret.defaultMode === undefined ? 0o644 : keys.secret.defaultMode & 0o007,
      0,
    );
    const keyMount = mountOf(keys.name);
    assert.equal(keyMount.readOnly, true);
    const configVolume = pod.volumes?.find(
      (volume) => volume.configMap?.name === configMap.metadata?.name,
    );
    assert.ok(configVolume, 'the ConfigMap is a volume');
    const configMount = mountOf(configVolume.name);
    assert.equal(configMount.readOnly, true);
    assert.equal(envValue('CFSIGN_CONFIG'), `${configMount.mountPath}/${configKey}`);
    assert.equal(pod.securityContext?.fsGroup, pod.securityContext?.runAsGroup);
  });

  it('lets a pod finish its shutdown delay and in-flight requests before it is killed', () => {
    // start.ts exits within 10 s of SIGTERM whatever is in flight.
    assert.ok((pod.terminationGracePeriodSeconds ?? 30) > config.server.shutdownDelaySeconds + 10);
  });

  it('turns service links off, since the cfsign Service would add CFSIGN_* variables that stop the service', () => {
    assert.equal(pod.enableServiceLinks, false);
    const links = serviceLinkVariables();
    assert.ok('CFSIGN_SERVICE_HOST' in links, Object.keys(links).join(', '));
    assert.throws(
      () => loadConfig({ ...containerEnv, ...links }),
      (error: Error) => /CFSIGN_SERVICE_HOST: unknown variable/.test(error.message),
    );
  });
});

describe('the ConfigMap', () => {
  it('holds a configuration file that loadConfig accepts with the container environment', () => {
    const loaded = loadConfig(containerEnv);
    assert.equal(loaded.mode, 'production');
    assert.equal(loaded.auth, 'tokens');
    assert.equal(loaded.host, '0.0.0.0');
  });

  it('passes cfsign config check with its keys where the Secret volume puts them', async () => {
    const keys = pod.volumes?.find((volume) => volume.secret !== undefined);
    const keyMount = mountOf(keys?.name ?? '').mountPath;
    await assertConfigCheckPasses(configText, keyMount, containerEnv);
  });

  it('shares rate limits through the Redis Service of the manifests', () => {
    const store = new URL(config.rateLimit.store);
    assert.equal(store.protocol, 'redis:');
    const redis = services.find((service) => service.metadata?.name === store.hostname);
    assert.ok(redis, `a Service named ${store.hostname}`);
    assert.ok(redis.spec?.ports?.some((port) => String(port.port) === store.port));
  });
});

describe('the Service, the HorizontalPodAutoscaler and the PodDisruptionBudget', () => {
  it('route to the pods by their labels and named port', () => {
    const service = services.find((item) => item.metadata?.name === deployment.metadata?.name);
    assert.ok(service);
    assert.ok(selects(service.spec?.selector));
    assert.deepEqual(
      service.spec?.ports?.map((port) => port.targetPort),
      ['http'],
    );
  });

  it('scale the Deployment on CPU between two replicas and more, against the CPU it requests', () => {
    const spec = hpa.spec;
    assert.ok(spec);
    assert.deepEqual(spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    assert.ok((spec.minReplicas ?? 1) >= 2);
    assert.ok(spec.maxReplicas > (spec.minReplicas ?? 1));
    const [metric] = spec.metrics ?? [];
    assert.equal(metric?.resource?.name, 'cpu');
    assert.equal(metric.resource.target.type, 'Utilization');
    assert.ok(
      container.resources?.requests?.['cpu'] !== undefined,
      'utilization is relative to the request',
    );
  });

  it('keep a replica up through voluntary disruptions, while still letting a node drain', () => {
    assert.ok(selects(pdb.spec?.selector?.matchLabels));
    const minAvailable = Number(pdb.spec?.minAvailable);
    assert.ok(minAvailable >= 1 && minAvailable < (hpa.spec?.minReplicas ?? 0));
  });
});
