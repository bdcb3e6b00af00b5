/**
 * A RabbitMQ node of the test's own, for what must not be done to the shared broker on 5672 (TLS,
 * stopping it, clustering): its own node name, ports below the ephemeral range, data and logs in a
 * temporary folder; stopped and removed by `stop()`.
 */
import { execFile } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateBroker {
  readonly node: string;
  readonly dir: string;
  /** Plain AMQP, for the test's own connections. */
  readonly url: string;
  /** Ports chosen for the listeners the caller's configuration asked for (see `ports`). */
  readonly ports: Readonly<Record<string, number>>;
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface PrivateBrokerOptions {
  readonly label: string;
  /** Names of extra ports to reserve (a TLS listener, say), handed to `config`. */
  readonly extraPorts?: readonly string[];
  /** Files to write into the node's folder before it starts (certificates...), by name. */
  readonly files?: (dir: string) => Promise<void>;
  /** Lines of rabbitmq.conf beyond the plain listener. */
  readonly config?: (ports: Readonly<Record<string, number>>, dir: string) => readonly string[];
}

/** Free on 127.0.0.1 now; below 32768 and away from the shared broker's ports (5672, its dist port 25672). */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = randomInt(20_000, 25_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

export async function startPrivateBroker(options: PrivateBrokerOptions): Promise<PrivateBroker> {
  const dir = await mkdtemp(join(tmpdir(), `it-broker-${options.label}-`));
  const node = `it-${options.label}-${randomUUID().slice(0, 6)}@localhost`;
  const taken = new Set<number>();
  const amqp = await freePort(taken);
  const dist = await freePort(taken);
  const ports: Record<string, number> = { amqp, dist };
  for (const name of options.extraPorts ?? []) ports[name] = await freePort(taken);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(amqp),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    // No plugins: the shared broker's management or Prometheus ports must not be asked for twice.
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
  };
  const ctl = async (...args: string[]) =>
    (await run('rabbitmqctl', ['-n', node, ...args], { env, timeout: 60_000 })).stdout;
  const stop = async () => {
    await ctl('stop').catch(async () => {
      // Not answering: end its process.
      const pid = await readFile(join(dir, 'mnesia', `${node}.pid`), 'utf8').catch(() => '');
      if (/^\d+/.test(pid)) process.kill(Number.parseInt(pid, 10), 'SIGKILL');
    });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(join(dir, 'mnesia'));
    await mkdir(join(dir, 'log'));
    await writeFile(join(dir, 'enabled_plugins'), '[].\n');
    await options.files?.(dir);
    const config = [`listeners.tcp.local = 127.0.0.1:${amqp}`, ...(options.config?.(ports, dir) ?? [])];
    await writeFile(join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
    await ownedByBroker(dir);
    await run('rabbitmq-server', ['-detached'], { env, timeout: 60_000 });
    const deadline = Date.now() + 90_000;
    for (;;) {
      // Fails at once while the node is not yet known to epmd: ask again.
      const up = await ctl('await_startup', '--timeout', '30').then(
        () => true,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) {
        const log = await readFile(join(dir, 'log', `${node}.log`), 'utf8').catch(() => '(no log)');
        throw new Error(`RabbitMQ node ${node} did not start:\n${log.slice(-4000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { node, dir, url: `amqp://guest:guest@127.0.0.1:${amqp}`, ports, ctl, stop };
}

/** Run as root, rabbitmq-server switches to its own user, which must read and write the node's folder. */
async function ownedByBroker(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await chmod(dir, 0o755);
  await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  // The run's folder is made traversable (test/leftovers.ts); a TMPDIR above it that is not says so here.
  await run('runuser', ['-u', 'rabbitmq', '--', 'test', '-w', dir]).catch(() => {
    throw new Error(`the rabbitmq user cannot reach ${dir}: let it traverse the folders above (chmod o+x)`);
  });
}

/** Two nodes of the test's own, clustered: `second` joined `first`. Stopped together by `stop()`. */
export async function startCluster(label: string): Promise<{
  first: PrivateBroker;
  second: PrivateBroker;
  stop(): Promise<void>;
}> {
  const first = await startPrivateBroker({ label: `${label}-a` });
  const second = await startPrivateBroker({ label: `${label}-b` }).catch(async (error) => {
    await first.stop();
    throw error;
  });
  const stop = async () => {
    await Promise.all([second.stop(), first.stop()]);
  };
  try {
    await second.ctl('stop_app');
    await second.ctl('reset');
    await second.ctl('join_cluster', first.node);
    await second.ctl('start_app');
    await second.ctl('await_startup', '--timeout', '60');
  } catch (error) {
    await stop();
    throw error;
  }
  return { first, second, stop };
}
