/**
 * Every manifest of deploy/kubernetes validated against the schemas the API server and the CRDs carry
 * (kubernetes-models, @kubernetes-models/keda, @kubernetes-models/prometheus-operator): a wrong type, a
 * missing required field or a value outside an enum fails here, not at `kubectl apply`. Those JSON
 * schemas do not close their objects, so unknown fields (a misspelt one, which `kubectl apply` refuses)
 * are found by the packages' TypeScript types: each manifest, as a literal of its kind's type, must
 * type-check (an object literal may hold only known properties).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const tempDir = useTempDirs();

const folder = resolve(import.meta.dirname, '../../deploy/kubernetes');
// biome-ignore lint/suspicious/noExplicitAny: manifests are data, checked by the schemas
type Doc = any;
/** kustomize's own file, not an object of the cluster: what it lists is checked below. */
const KUSTOMIZATION = 'kustomization.yaml';
const manifests = (await readdir(folder))
  .filter((name) => name.endsWith('.yaml') && name !== KUSTOMIZATION)
  .sort();
const documents: { file: string; doc: Doc }[] = [];
for (const file of manifests)
  for (const doc of parseAllDocuments(await readFile(join(folder, file), 'utf8')))
    documents.push({ file, doc: doc.toJS() });

/** The model of each kind the manifests use, by `apiVersion/kind`. */
const MODELS: Record<string, new (value: Doc) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};
const validate = (doc: Doc) => {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
};
/** The TypeScript type of each kind, by `apiVersion/kind`: its module and interface. */
const TYPES: Record<string, readonly [string, string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'policy/v1/PodDisruptionBudget': [
    'kubernetes-models/policy/v1/PodDisruptionBudget',
    'IPodDisruptionBudget',
  ],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
  'keda.sh/v1alpha1/TriggerAuthentication': [
    '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    'ITriggerAuthentication',
  ],
  'monitoring.coreos.com/v1/PodMonitor': [
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
    'IPodMonitor',
  ],
};

/** What tsc says of the manifests as literals of their kinds' types (empty when they all fit). */
async function unknownFields(docs: readonly Doc[]): Promise<string> {
  const lines = Object.entries(TYPES).map(
    ([, [module, name]]) => `import type { ${name} } from '${module}';`,
  );
  for (const [i, doc] of docs.entries()) {
    const [, name] = TYPES[`${doc.apiVersion}/${doc.kind}`] ?? ['', 'never'];
    lines.push(`export const manifest${i}: ${name} = ${JSON.stringify(doc)};`);
  }
  // Inside the repository, so that the packages resolve from its node_modules.
  const file = join(await tempDir(join(root, 'dist')), 'manifests.ts');
  await writeFile(file, `${lines.join('\n')}\n`);
  const tsc = join(root, 'node_modules/.bin/tsc');
  const flags = [
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--module',
    'nodenext',
    '--skipLibCheck',
    '--types',
    'node',
  ];
  return new Promise((done) =>
    execFile(tsc, [...flags, file], (_error, stdout, stderr) => done(`${stdout}${stderr}`.trim())),
  );
}

const ofKind = (kind: string) => documents.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);

describe('deploy/kubernetes against the Kubernetes, KEDA and Prometheus Operator schemas', () => {
  it.each(documents.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata?.name}`, doc]))(
    '%s is valid',
    (_name, doc) => {
      expect(() => validate(doc)).not.toThrow();
    },
  );

  it('are all the resources of the kustomize base (kubectl apply -k, and the overlay of init)', async () => {
    const kustomization = parseAllDocuments(await readFile(join(folder, KUSTOMIZATION), 'utf8'))[0]?.toJS();
    expect([...kustomization.resources].sort()).toEqual(manifests);
  });

  it('hold only fields their kinds know (a misspelt field would be refused by kubectl apply)', async () => {
    expect(await unknownFields(documents.map(({ doc }) => doc))).toBe('');
  });

  it('the types do refuse an unknown field: a misspelt probe', async () => {
    const [deployment] = ofKind('Deployment');
    const misspelt = structuredClone(deployment);
    const container = misspelt.spec.template.spec.containers[0];
    container.livenessProbe = { httpGett: container.livenessProbe.httpGet };
    expect(await unknownFields([misspelt])).toMatch(/'"httpGett"' does not exist in type 'IProbe'/);
  });

  it('the schemas do refuse what is wrong: a count as text, a trigger without its metadata', () => {
    const [deployment] = ofKind('Deployment');
    expect(() => validate({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } })).toThrow(
      /replicas must be integer/,
    );
    const [scaled] = ofKind('ScaledObject');
    const { metadata: _metadata, ...trigger } = scaled.spec.triggers[0];
    expect(() => validate({ ...scaled, spec: { ...scaled.spec, triggers: [trigger] } })).toThrow(/metadata/);
  });

  it("holds a disruption budget and a PodMonitor that select the Deployment's pods and its health port", () => {
    const [deployment] = ofKind('Deployment');
    const labels = deployment.spec.template.metadata.labels;
    const [budget] = ofKind('PodDisruptionBudget');
    expect(labels).toMatchObject(budget.spec.selector.matchLabels);
    expect(budget.spec.maxUnavailable).toBe(1);
    const [monitor] = ofKind('PodMonitor');
    expect(labels).toMatchObject(monitor.spec.selector.matchLabels);
    const ports = deployment.spec.template.spec.containers[0].ports.map(
      (port: { name: string }) => port.name,
    );
    expect(ports).toContain(monitor.spec.podMetricsEndpoints[0].port);
    expect(monitor.spec.podMetricsEndpoints[0].path).toBe(
      deployment.spec.template.metadata.annotations['prometheus.io/path'],
    );
  });
});
