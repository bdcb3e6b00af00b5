/** What `regards-worker --help` and `regards-worker <command> --help` print. */

export const USAGE = `usage: regards-worker <command> [options]   (regards-worker <command> --help: its options)

commands:
  init <dir>            a new worker project: functions/, its tests, build, lint, CI and deployment files
  demo                  (this repository) run the examples through a local manager, show the trace
  build                 bundle functions/*.ts into dist/bundles and write dist/manifest.json
  invoke <type|bundle>  run one bundle on one request, no broker, as the host would; print what it would publish
  start                 run the adapter host on RabbitMQ (configured by AMQP_URL and WORKER_* variables)
  new <name>            scaffold functions/<name>.ts, its test and a sample request
  dev                   build, run the adapter, rebuild on every change in functions/ (the adapter swaps bundles)
  config                write the REGARDS worker configuration for the built bundles
  check                 check a configuration as the manager does, and the bundles against REGARDS models
  manager               run a local Worker Manager (development only) from a REGARDS configuration export
  send                  publish a RequestEvent to the manager and print its ResponseEvents
`;

/** Each command's own help: every option it takes. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  init: `usage: regards-worker init <dir> [--worker <name>] [--package <spec>]
  writes a new worker project into <dir> (new or empty): package.json depending on this regards-worker,
  tsconfig.json, biome.json, functions/ with one worker, its test and a sample request, a README with the
  loop, a CI script (.ci/run), and deploy/ (REGARDS configuration, compose file, Kubernetes overlay)
  --worker <name>    the first worker's type (default hello-world)
  --package <spec>   how the project depends on regards-worker (default ^<this version>; a tarball or path)
`,
  demo: `usage: regards-worker demo
  builds the examples, starts a local manager and the adapter, sends a sample archive through a two-step
  workflow and one product to extract-metadata; prints the ResponseEvents, the feature update and the trace
`,
  build: `usage: regards-worker build [--functions <dir>] [--out <dir>] [--pack]
  --functions <dir>  where the functions are (default functions)
  --out <dir>        where the bundles and manifest.json go (default dist)
  --pack             also write <out>/bundles.tar.gz: one reproducible archive that WORKER_BUNDLES accepts
`,
  invoke: `usage: regards-worker invoke <type|bundle.mjs> --body <file.json|-> [--header name=value ...] [--bundles <dir>]
  runs the handler as the host does (in a thread of its own under its time limit, unless inline) and prints
  what the host would publish: events, new requests, then the response; a failure's stack on standard error
  --body <file|->       the request body (- reads standard input)
  --header name=value   a request header over the defaults (repeatable)
  --bundles <dir>       the built bundles (default WORKER_BUNDLES, else dist)
  exit 0 SUCCESS, 2 INVALID_CONTENT, 3 ERROR, 4 retried or dead-lettered, 64 bad usage
`,
  start: `usage: regards-worker start
  runs the adapter host; configured by its environment: AMQP_URL (or AMQP_URL_FILE, AMQP_PASSWORD_FILE,
  AMQP_CA_FILE, AMQP_CERT_FILE, AMQP_KEY_FILE) and the WORKER_* variables (docs/configuration.md)
  SIGTERM or SIGINT drains, then exits 0; exit 2 on a bad variable, 3 when the broker refuses
`,
  new: `usage: regards-worker new <name> [--root <dir>]
  <name>        the worker type: kebab-case, 2 to 64 characters
  --root <dir>  the project (default .): writes functions/<name>.ts, test/functions/<name>.test.ts
                and requests/<name>.json (a request its input schema accepts)
`,
  dev: `usage: regards-worker dev
  builds functions/, runs the adapter on dist/, and rebuilds on every change (atomic saves too): the running
  adapter swaps to the new bundles without a restart, in-flight requests finish on their version; Ctrl-C stops
`,
  config: `usage: regards-worker config [--bundles <dir>] [--merge <file>] [--out <file>]
  --bundles <dir>  the built bundles (default dist)
  --merge <file>   an existing configuration whose workflows are kept
  --out <file>     where to write it (default standard output)
`,
  check: `usage: regards-worker check [--config <file>] [--bundles <dir>] [--model <model.xml> ...] [--external <type> ...] [--json]
  --config <file>    a worker and workflow configuration, in the manager's export format
  --bundles <dir>    the built bundles: each type has one, and each step's output fits the next step's input
  --model <file>     a REGARDS model: the bundles' feature updates checked against it (repeatable)
  --external <type>  a worker type that runs elsewhere, without a bundle here (repeatable)
  --json             the problems as JSON
  exit 0 clean, 1 with errors, 2 when an input cannot be read or is not what its option says, 64 bad usage
`,
  manager: `usage: regards-worker manager --config <file> [--model <model.xml> ...]
  --config <file>  the REGARDS worker and workflow configuration export
  --model <file>   a REGARDS model: the stand-in for rs-fem checks feature updates against it (repeatable)
  on AMQP_URL; development only, not a production manager
`,
  send: `usage: regards-worker send --content-type <type> --body <file> [--tenant t] [--owner o] [--session s] [--request-id id] [--timeout seconds]
  --content-type <t>   the request's content type (a worker's or a workflow's)
  --body <file>        the request body
  --tenant <t>         default WORKER_TENANT, else PROJECT1
  --owner, --session   the request's owner and session
  --request-id <id>    default a new UUID
  --timeout <seconds>  how long to wait for a final ResponseEvent (default 60)
  exit 0 SUCCESS, 2 INVALID_CONTENT, 3 ERROR or dead-lettered, 4 no final answer in time
`,
};
