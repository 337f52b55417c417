import { join } from 'node:path';
import ts from 'typescript';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { REPOSITORY } from './dockerfile.ts';

/** A Kubernetes object as read from YAML. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

type ModelClass = new (data: never) => { validate(): void };

/**
 * The kinds cfsign ships, by apiVersion and kind: kubernetes-models' class (the JSON Schema
 * validator generated from Kubernetes' OpenAPI document) and its TypeScript interface.
 */
const KINDS: Record<string, { model: ModelClass; module: string; type: string }> = {
  'v1/ConfigMap': {
    model: ConfigMap,
    module: 'kubernetes-models/v1/ConfigMap',
    type: 'IConfigMap',
  },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': {
    model: Deployment,
    module: 'kubernetes-models/apps/v1/Deployment',
    type: 'IDeployment',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
};

function kindOf(manifest: Manifest): (typeof KINDS)[string] {
  const kind = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
  if (kind === undefined) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  return kind;
}

/**
 * Problems the Kubernetes JSON Schemas find: types, formats (quantities, int-or-string),
 * enums and required fields. One line per problem; empty when valid.
 */
export function schemaProblems(manifest: Manifest): string[] {
  const { model: ModelOfKind } = kindOf(manifest);
  try {
    new ModelOfKind(manifest as never).validate();
    return [];
  } catch (error) {
    return [`${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`];
  }
}

/**
 * Fields the schemas do not know. Kubernetes' schemas leave objects open, so a misspelled
 * field passes them, while the API server's strict field validation (kubectl's default) refuses
 * it. The same generated models also ship exact TypeScript interfaces: each manifest becomes an
 * object literal typed by its interface, and the compiler's excess-property check finds an
 * unknown field at any depth (the first of each manifest: fixing it shows the next).
 */
export function unknownFieldProblems(manifests: readonly Manifest[]): string[] {
  const file = join(REPOSITORY, 'test/deploy/kubernetes-manifests.generated.ts');
  const imports = new Set(manifests.map((manifest) => kindOf(manifest)));
  const source = [
    ...[...imports].map(({ module, type }) => `import type { ${type} } from '${module}';`),
    ...manifests.map(
      (manifest, index) =>
        `// ${manifest.kind} ${manifest.metadata.name}\nexport const manifest${index}: ${kindOf(manifest).type} = ${JSON.stringify(manifest, null, 2)};`,
    ),
  ].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.fileExists = (name) => name === file || fileExists(name);
  host.getSourceFile = (name, version, onError, create) =>
    name === file
      ? ts.createSourceFile(name, source, version, true)
      : getSourceFile(name, version, onError, create);
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file);
  if (sourceFile === undefined) throw new Error('the generated file was not compiled');
  return [
    ...program.getSyntacticDiagnostics(sourceFile),
    ...program.getSemanticDiagnostics(sourceFile),
  ].map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.start === undefined) return message;
    // Name the manifest: the comment line above the literal the problem is in.
    const before = source.slice(0, diagnostic.start);
    const owner = before.slice(before.lastIndexOf('\n// ') + 4).split('\n')[0] ?? '';
    return `${owner}: ${message}`;
  });
}
