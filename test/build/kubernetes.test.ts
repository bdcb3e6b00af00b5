/**
 * The Kubernetes manifests, loaded as YAML, agree with the code: the queue KEDA scales on is the one
 * the protocol names, every variable is one the host reads, the probes and the scrape use the host's
 * paths and port, and the drain fits in the grace period.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, DEFAULTS } from '../../adapter/config.ts';
import { requestQueueName, VHOST } from '../../protocol/index.ts';
import { DEFAULT_SETTINGS } from '../../sdk/settings.ts';

const folder = resolve(import.meta.dirname, '../../deploy/kubernetes');
// biome-ignore lint/suspicious/noExplicitAny: manifests are checked by the assertions below
type Doc = any;
const documents: Doc[] = [];
for (const file of (await readdir(folder)).filter((name) => name.endsWith('.yaml'))) {
  for (const doc of parseAllDocuments(await readFile(join(folder, file), 'utf8'))) {
    expect(doc.errors, file).toEqual([]);
    documents.push(doc.toJS());
  }
}
const ofKind = (kind: string) => documents.filter((doc) => doc.kind === kind);
const [deployment] = ofKind('Deployment');
const container = deployment?.spec.template.spec.containers[0];
const env = Object.fromEntries(
  (container?.env ?? []).map((variable: { name: string; value?: string }) => [variable.name, variable.value]),
);

describe('deploy/kubernetes', () => {
  it('has a Deployment, a ScaledObject on it and the TriggerAuthentication it names', () => {
    const [scaled] = ofKind('ScaledObject');
    const [auth] = ofKind('TriggerAuthentication');
    expect(scaled.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(scaled.spec.triggers[0].authenticationRef.name).toBe(auth.metadata.name);
  });

  it('scales on the request queue the protocol names, in the vhost, counting unacknowledged messages', () => {
    const [scaled] = ofKind('ScaledObject');
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('rabbitmq');
    expect(trigger.metadata.queueName).toBe(requestQueueName('extract-metadata'));
    expect(trigger.metadata.vhostName).toBe(VHOST);
    expect(new URL(env.AMQP_URL).pathname).toBe(`/${VHOST}`);
    expect(trigger.metadata.protocol).toBe('http');
    expect(trigger.metadata.value).toBe(env.WORKER_PREFETCH);
  });

  it('sets only variables the host reads, its bundles read-only where WORKER_BUNDLES says', () => {
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES).toContain(name);
    const mounts = Object.fromEntries(
      container.volumeMounts.map((mount: { name: string }) => [mount.name, mount]),
    );
    expect(mounts.bundles).toMatchObject({ mountPath: env.WORKER_BUNDLES, readOnly: true });
    const secret = mounts['amqp-secret'];
    expect(env.AMQP_PASSWORD_FILE.startsWith(`${secret.mountPath}/`)).toBe(true);
  });

  it('probes /livez and /readyz and lets Prometheus scrape /metrics, on the health port', () => {
    const port = Number(env.WORKER_HEALTH_PORT ?? DEFAULTS.WORKER_HEALTH_PORT);
    expect(container.ports[0].containerPort).toBe(port);
    expect(container.livenessProbe.httpGet.path).toBe('/livez');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations).toMatchObject({
      'prometheus.io/path': '/metrics',
      'prometheus.io/port': String(port),
    });
  });

  it('drains within the grace period, and runs restricted', () => {
    const spec = deployment.spec.template.spec;
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(env.WORKER_DRAIN_SECONDS));
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('serves the one type whose bundle it mounts, from a whole build (WORKER_TYPES)', () => {
    const bundles = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'bundles');
    const paths = bundles.configMap.items.map((item: { path: string }) => item.path);
    const types = env.WORKER_TYPES.split(',');
    expect(paths).toEqual([
      'manifest.json',
      ...types.flatMap((t: string) => [`bundles/${t}.mjs`, `bundles/${t}.mjs.map`]),
    ]);
  });

  it('limits memory above what its handler threads may hold (prefetch × WORKER_MEMORY_MB) and the host', () => {
    const mib = (quantity: string) =>
      Number(/^(\d+)Mi$/.exec(quantity)?.[1] ?? Number(/^(\d+)Gi$/.exec(quantity)?.[1]) * 1024);
    const limit = mib(container.resources.limits.memory);
    const threads = Number(env.WORKER_PREFETCH) * Number(env.WORKER_MEMORY_MB ?? DEFAULT_SETTINGS.memoryMb);
    // The host itself, its threads' code and young generations: about 200 MB measured under load.
    expect(limit).toBeGreaterThanOrEqual(threads + 160);
  });

  it('names an image in a registry, and never scales to zero (the manager keeps requests no worker heartbeats for)', () => {
    expect(container.image).toMatch(/^[a-z0-9.-]+\.[a-z]+(:\d+)?\/.+:[\w.-]+$/);
    const [scaled] = ofKind('ScaledObject');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });
});
