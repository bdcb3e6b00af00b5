#!/usr/bin/env node
/** The `regards-worker` command. The only file of cli/ that touches the process. */
import { buildCommand } from './build-command.ts';
import { checkCommand } from './check-command.ts';
import { configCommand } from './config-command.ts';
import { demoCommand } from './demo.ts';
import { devCommand } from './dev-command.ts';
import { COMMAND_HELP, USAGE } from './help.ts';
import { initCommand } from './init-command.ts';
import { invokeCommand } from './invoke.ts';
import { EXIT, FROM_SOURCES, type Io, UsageError } from './io.ts';
import { managerCommand } from './manager-command.ts';
import { newCommand } from './new-command.ts';
import { sendCommand } from './send-command.ts';

type Command = (args: readonly string[], io: Io) => Promise<number>;
const COMMANDS: Record<string, Command> = {
  build: buildCommand,
  check: checkCommand,
  config: configCommand,
  demo: demoCommand,
  dev: devCommand,
  init: initCommand,
  invoke: invokeCommand,
  manager: managerCommand,
  new: newCommand,
  send: sendCommand,
};

const HELP = ['help', '--help', '-h'];

async function runCommand(name: string | undefined, args: readonly string[]): Promise<void> {
  const command = name === undefined ? undefined : COMMANDS[name];
  // Asked for: on standard output, exit 0 (a command's own help, or the list). A missing or unknown
  // command: on standard error, exit 64.
  if ((name !== undefined && HELP.includes(name)) || args.some((arg) => HELP.slice(1).includes(arg))) {
    const topic = name !== undefined && HELP.includes(name) ? args[0] : name;
    process.stdout.write((topic === undefined ? undefined : COMMAND_HELP[topic]) ?? USAGE);
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
    stdin: process.stdin,
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

/**
 * The host `start` runs: compiled, the very file the image runs (lib/adapter.mjs, beside this one),
 * loaded only for `start`; from the sources, adapter/main.ts.
 */
const HOST = new URL(FROM_SOURCES ? '../adapter/main.ts' : './adapter.mjs', import.meta.url).href;

const [name, ...args] = process.argv.slice(2);
// The adapter handles its own signals and exit codes, and runs until one.
if (name === 'start' && args.length === 0) {
  const host: typeof import('../adapter/main.ts') = await import(HOST);
  await host.runAdapter(process.env);
} else if (name === 'start' && !args.some((arg) => HELP.includes(arg))) {
  process.stderr.write(
    `regards-worker start: takes no options (${args.join(' ')}): it is configured by its environment\n`,
  );
  process.exitCode = EXIT.usage;
} else await runCommand(name, args);
