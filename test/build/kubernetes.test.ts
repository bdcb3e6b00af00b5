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
});
