/**
 * How a new worker project (init) is deployed: a compose file that runs the generic image on the
 * project's bundles archive, and a Kubernetes overlay on the manifests of the regards-worker it uses.
 */

/** Below the project's folder, for its first worker type, with the image of regards-worker `version`. */
export function deployFiles(worker: string, version: string): [path: string, text: string][] {
  return [
    ['deploy/compose.yaml', compose(version)],
    ['deploy/kubernetes/kustomization.yaml', kustomization(worker, version)],
  ];
}

function compose(version: string): string {
  return `# This project's workers on one machine: RabbitMQ and the generic regards-worker image, serving the
# bundles of \`npm run build\` (dist/bundles.tar.gz, mounted read-only); the local Worker Manager for
# development. From the project's folder:  npm run build && docker compose -f deploy/compose.yaml up
# Then: npm run send -- --content-type <a content type of deploy/regards-workers.json> --body <file>

services:
  rabbitmq:
    image: rabbitmq:3.13-management
    ports: ["5672:5672", "15672:15672"]
    healthcheck:
      test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
      interval: 5s
      timeout: 5s
      retries: 30

  manager:
    image: node:24-bookworm-slim
    working_dir: /project
    volumes: ["..:/project:ro"]
    command:
      - node
      - node_modules/regards-worker/lib/cli.mjs
      - manager
      - --config
      - deploy/regards-workers.json
    environment:
      AMQP_URL: amqp://guest:guest@rabbitmq:5672
    depends_on:
      rabbitmq: { condition: service_healthy }

  adapter:
    # The generic image, built from regards-worker's deploy/Dockerfile (its npm run image) and pushed
    # to your registry: the name below is a placeholder.
    image: \${REGARDS_WORKER_IMAGE:-registry.example.org/regards/regards-worker-adapter:${version}}
    read_only: true
    # Longer than WORKER_DRAIN_SECONDS (30 by default): in-flight requests finish before the engine kills it.
    stop_grace_period: 45s
    volumes: ["../dist/bundles.tar.gz:/bundles/bundles.tar.gz:ro", "data:/data"]
    environment:
      AMQP_URL: amqp://guest:guest@rabbitmq:5672
      WORKER_BUNDLES: /bundles/bundles.tar.gz
      WORKER_TENANT: PROJECT1
    ports: ["8080:8080"]
    depends_on:
      rabbitmq: { condition: service_healthy }

volumes:
  data:
`;
}

/**
 * An overlay on the package's manifests (deploy/kubernetes of regards-worker, installed beside this
 * project): the example worker type of the base renamed to this project's, its bundle mounted.
 */
function kustomization(worker: string, version: string): string {
  const base = 'extract-metadata';
  return `# This project's worker on Kubernetes: regards-worker's manifests (installed with it) for the type
# ${worker}. Make the bundles' ConfigMap from a build (npm run build), then apply:
#   kubectl create configmap regards-worker-bundles --from-file=manifest.json=dist/manifest.json \\
#     --from-file=${worker}.mjs=dist/bundles/${worker}.mjs --from-file=${worker}.mjs.map=dist/bundles/${worker}.mjs.map
#   kubectl apply -k deploy/kubernetes
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../node_modules/regards-worker/deploy/kubernetes
images:
  # The generic image in your registry.
  - name: registry.example.org/regards/regards-worker-adapter
    newTag: "${version}"
patches:
  - target: { kind: Deployment, name: regards-worker-${base} }
    patch: |-
      - { op: replace, path: /metadata/name, value: regards-worker-${worker} }
      - { op: replace, path: /metadata/labels/app.kubernetes.io~1component, value: ${worker} }
      - { op: replace, path: /spec/selector/matchLabels/app.kubernetes.io~1component, value: ${worker} }
      - { op: replace, path: /spec/template/metadata/labels/app.kubernetes.io~1component, value: ${worker} }
      - op: replace
        path: /spec/template/spec/volumes/0/configMap/items
        value:
          - { key: manifest.json, path: manifest.json }
          - { key: ${worker}.mjs, path: bundles/${worker}.mjs }
          - { key: ${worker}.mjs.map, path: bundles/${worker}.mjs.map }
  - target: { kind: Deployment, name: regards-worker-${base} }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: regards-worker-${base} }
      spec:
        template:
          spec:
            containers:
              - name: adapter
                env:
                  - { name: WORKER_TYPES, value: ${worker} }
  - target: { kind: ScaledObject, name: regards-worker-${base} }
    patch: |-
      - { op: replace, path: /metadata/name, value: regards-worker-${worker} }
      - { op: replace, path: /spec/scaleTargetRef/name, value: regards-worker-${worker} }
      - { op: replace, path: /spec/triggers/0/metadata/queueName, value: regards.worker.${worker}.request }
  - target: { kind: PodDisruptionBudget, name: regards-worker-${base} }
    patch: |-
      - { op: replace, path: /metadata/name, value: regards-worker-${worker} }
      - { op: replace, path: /spec/selector/matchLabels/app.kubernetes.io~1component, value: ${worker} }
`;
}
