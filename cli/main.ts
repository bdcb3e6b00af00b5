#!/usr/bin/env node
/** The `regards-worker` command. The only file of cli/ that touches the process. */
import { runAdapter } from '../adapter/main.ts';
import { buildCommand } from './build-command.ts';
import { checkCommand } from './check-command.ts';
import { configCommand } from './config-command.ts';
import { demoCommand } from './demo.ts';
import { devCommand } from './dev-command.ts';
import { invokeCommand } from './invoke.ts';
import { EXIT, type Io, UsageError } from './io.ts';
import { managerCommand } from './manager-command.ts';
import { newCommand } from './new-command.ts';
import { sendCommand } from './send-command.ts';

const USAGE = `usage: regards-worker <command> [options]

commands:
  demo                  build, start a local manager and the adapter, run a two-step workflow, show its trace
  build                 bundle functions/*.ts into dist/bundles and write dist/manifest.json
  invoke <type|bundle>  run one bundle on one request, no broker: --body <file> [--header name=value ...]
  start                 run the adapter host on RabbitMQ (configured by AMQP_URL and WORKER_* variables)
  new <name>            scaffold functions/<name>.ts and its test
  dev                   build, run the adapter, and rebuild and restart it on every change in functions/
  config [--merge <f>]  write the REGARDS worker configuration for the built bundles (workflows of <f> kept)
  check --config <f>    check a worker/workflow configuration as the manager does [--bundles dir] [--external type]
  manager --config <f>  run a local Worker Manager (development only) from a REGARDS configuration export
  send --content-type <t> --body <f>   publish a RequestEvent and print its ResponseEvents
`;

type Command = (args: readonly string[], io: Io) => Promise<number>;
const COMMANDS: Record<string, Command> = {
  build: buildCommand,
  check: checkCommand,
  config: configCommand,
  demo: demoCommand,
  dev: devCommand,
  invoke: invokeCommand,
  manager: managerCommand,
  new: newCommand,
  send: sendCommand,
};

const HELP = ['help', '--help', '-h'];

async function runCommand(name: string | undefined, args: readonly string[]): Promise<void> {
  const command = name === undefined ? undefined : COMMANDS[name];
  // Asked for: on standard output, exit 0. A missing or unknown command: on standard error, exit 64.
  if ((name !== undefined && HELP.includes(name)) || args.some((arg) => HELP.slice(1).includes(arg))) {
    process.stdout.write(USAGE);
    process.exitCode = EXIT.ok;
    return;
  }
  if (command === undefined) {
    if (name !== undefined) process.stderr.write(`regards-worker: unknown command ${name}\n`);
    process.stderr.write(USAGE);
    process.exitCode = EXIT.usage;
    return;
  }
  const interrupted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted.signal.aborted) process.exit(130);
      interrupted.abort();
    });
  }
  const io: Io = {
    cwd: process.cwd(),
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    signal: interrupted.signal,
  };
  try {
    process.exitCode = await command(args, io);
  } catch (cause) {
    const usage =
      cause instanceof UsageError || (cause as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.err(`regards-worker ${name}: ${(cause as Error).message}\n`);
    process.exitCode = usage ? EXIT.usage : EXIT.failed;
  }
}

const [name, ...args] = process.argv.slice(2);
// The adapter handles its own signals and exit codes, and runs until one.
if (name === 'start' && !args.some((arg) => HELP.includes(arg))) await runAdapter(process.env);
else await runCommand(name, args);
