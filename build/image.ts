/**
 * `npm run image`: the generic adapter image, built from deploy/Dockerfile with the first container
 * engine that works (podman, then docker; a client whose daemon does not answer is no engine). Its base is the `NODE_IMAGE` build argument (node:24-bookworm-slim by default).
 * Where that base cannot be pulled (a machine with no registry), podman builds on a local base made from
 * Debian's packages and the Node 24 binary this project installs: the same Dockerfile either way.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
export const IMAGE = 'localhost/regards-worker-adapter:latest';
export const DEFAULT_BASE = 'node:24-bookworm-slim';
/** The base made here when DEFAULT_BASE cannot be pulled. */
export const LOCAL_BASE = 'localhost/regards-worker-node:24';
/** The bundle of CAs the machine trusts (the registry may sit behind a TLS proxy): mounted while building only. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** What Node, npm, jemalloc and the Dockerfile's shell commands need, and nothing else. */
const BASE_PACKAGES = [
  'libc6',
  'libgcc-s1',
  'libstdc++6',
  'dash',
  'coreutils',
  'libacl1',
  'libattr1',
  'libselinux1',
  'libpcre2-8-0',
  'libgmp10',
  'libjemalloc2',
];

export interface Engine {
  readonly command: 'podman' | 'docker';
  /** The environment its commands run with (podman's configuration for this machine). */
  readonly env: NodeJS.ProcessEnv;
}

const execute = promisify(execFile);

/** How to get a working engine, one line per platform the README names. */
export const ENGINE_INSTALL_HINTS: readonly string[] = [
  'Debian, Ubuntu: apt-get install -y --no-install-recommends podman runc',
  'Fedora, RHEL: dnf install -y podman',
  'macOS: brew install podman && podman machine init && podman machine start',
  'or start the Docker daemon, where docker is installed',
];

/** How long `podman info` / `docker info` may take to answer before the engine counts as not working. */
const INFO_TIMEOUT_MS = 15_000;

/** podman's configuration for this machine: sandboxes that forbid raising resource limits, hybrid cgroups. */
async function podmanEnv(): Promise<NodeJS.ProcessEnv> {
  if (process.env.CONTAINERS_CONF !== undefined) return process.env;
  const conf = join(ROOT, 'node_modules', '.cache', 'regards-worker', 'containers.conf');
  await mkdir(join(conf, '..'), { recursive: true });
  await writeFile(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=10000:10000"]',
      '[engine]',
      'runtime = "runc"',
      '',
    ].join('\n'),
  );
  return { ...process.env, CONTAINERS_CONF: conf };
}

/** Whether `<command> info` answers, within INFO_TIMEOUT_MS: a client without its daemon does not. */
async function answersInfo(command: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return execute(command, ['info'], { env, timeout: INFO_TIMEOUT_MS }).then(
    () => true,
    () => false,
  );
}

let chosen: Promise<Engine> | undefined;

/**
 * The first container engine that works (its `info` answers), not the first on the PATH: podman (with
 * runc, unless CONTAINERS_CONF names a configuration), then docker. Asked once per process; rejects,
 * saying what to install, when none works.
 */
export function containerEngine(): Promise<Engine> {
  chosen ??= findEngine();
  return chosen;
}

/** The search itself, uncached: `candidates` lets a test put a stub first on the PATH. */
export async function findEngine(
  candidates: readonly Engine['command'][] = ['podman', 'docker'],
): Promise<Engine> {
  const tried: string[] = [];
  for (const command of candidates) {
    const env = command === 'podman' ? await podmanEnv() : process.env;
    if (await answersInfo(command, env)) return { command, env };
    tried.push(`${command} info`);
  }
  throw new Error(
    [`no working container engine (${tried.join(', ')}: no answer); install one:`, ...ENGINE_INSTALL_HINTS]
      .map((line, i) => (i === 0 ? line : `  ${line}`))
      .join('\n'),
  );
}

/** Runs an engine command, its output kept (and shown with `verbose`); rejects with that output on failure. */
export async function engineRun(
  engine: Engine,
  args: readonly string[],
  options: { input?: NodeJS.ReadableStream; verbose?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const child = spawn(engine.command, args, { cwd: ROOT, env: engine.env, stdio: ['pipe', 'pipe', 'pipe'] });
  if (options.input) options.input.pipe(child.stdin);
  else child.stdin.end();
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (options.verbose) process.stderr.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(
      `${engine.command} ${args.join(' ')} failed (${code ?? 'killed'}):\n${output.slice(-4000)}`,
    );
  return output;
}

async function imageExists(engine: Engine, name: string): Promise<boolean> {
  return engineRun(engine, ['image', 'inspect', name]).then(
    () => true,
    () => false,
  );
}

/** The base to build on: the configured one if it is here or can be pulled, else (podman) the local one. */
async function baseImage(engine: Engine, log: (line: string) => void): Promise<string> {
  const wanted = process.env.NODE_IMAGE ?? DEFAULT_BASE;
  if (await imageExists(engine, wanted)) return wanted;
  try {
    await engineRun(engine, ['pull', wanted], { timeoutMs: 120_000 });
    return wanted;
  } catch (error) {
    if (engine.command !== 'podman' || process.env.NODE_IMAGE !== undefined) throw error;
    log(`${wanted} cannot be pulled here: building on ${LOCAL_BASE}, made from Debian's packages`);
  }
  if (!(await imageExists(engine, LOCAL_BASE))) await makeLocalBase(engine, log);
  return LOCAL_BASE;
}

/**
 * A root file system with Debian's C and C++ runtimes, a shell, coreutils and jemalloc; the Node 24
 * binary of node_modules (its debug symbols removed) and npm from the registry; a `node` user (1000).
 */
async function makeLocalBase(engine: Engine, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'regards-image-base-'));
  try {
    const debs = join(work, 'debs');
    const root = join(work, 'root');
    await mkdir(debs);
    await mkdir(root);
    await execute('apt-get', ['download', ...BASE_PACKAGES], { cwd: debs });
    for (const deb of await readdir(debs)) await execute('dpkg-deb', ['-x', join(debs, deb), root]);
    const at = (path: string) => join(root, path);
    await mkdir(at('usr/local/bin'), { recursive: true });
    await mkdir(at('usr/local/lib/node_modules'), { recursive: true });
    await mkdir(at('usr/local/etc'), { recursive: true });
    await mkdir(at('home/node'), { recursive: true });
    await mkdir(at('tmp'), { recursive: true });
    await chmod(at('tmp'), 0o1777);
    const node = join(ROOT, 'node_modules', 'node', 'bin', 'node');
    await execute('objcopy', ['--strip-debug', node, at('usr/local/bin/node')]).catch(() =>
      copyFile(node, at('usr/local/bin/node')),
    );
    const { stdout } = await execute('npm', ['pack', 'npm@11', '--pack-destination', work, '--silent'], {
      cwd: work,
    });
    await execute('tar', ['-xzf', join(work, stdout.trim().split('\n').at(-1) ?? ''), '-C', work]);
    await execute('mv', [join(work, 'package'), at('usr/local/lib/node_modules/npm')]);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', at('usr/local/bin/npm'));
    // dash's package has /bin/sh already; a base without it gets it here.
    if (!existsSync(at('bin/sh'))) await symlink('dash', at('bin/sh'));
    const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
    const jemalloc = `/usr/lib/${triplet}/libjemalloc.so.2`;
    await symlink(jemalloc, at('usr/local/lib/libjemalloc.so.2'));
    // npm in a build trusts what the machine trusts; the bundle itself is mounted at build time only.
    await writeFile(at('usr/local/etc/npmrc'), `cafile=${HOST_CA_BUNDLE}\n`);
    await writeFile(
      at('etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
    );
    await writeFile(at('etc/group'), 'root:x:0:\nnode:x:1000:\n');
    await execute('chown', ['1000:1000', at('home/node')]);
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await engineRun(
      engine,
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'CMD ["node"]',
        '-',
        LOCAL_BASE,
      ],
      { input: tar.stdout },
    );
    log(`made ${LOCAL_BASE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface BuiltImage {
  readonly name: string;
  readonly base: string;
  readonly sizeBytes: number;
  readonly seconds: number;
}

/** Builds IMAGE from the working tree (the engine's layer cache makes an unchanged rebuild quick). */
export async function buildImage(
  options: { verbose?: boolean; log?: (line: string) => void } = {},
): Promise<BuiltImage> {
  const log = options.log ?? ((line: string) => console.log(line));
  const engine = await containerEngine();
  log(`container engine: ${engine.command} (${engine.command} info answers)`);
  const base = await baseImage(engine, log);
  const started = Date.now();
  const args = ['build', '--build-arg', `NODE_IMAGE=${base}`, '-f', 'deploy/Dockerfile', '-t', IMAGE];
  if (engine.command === 'podman') {
    // The Docker format keeps HEALTHCHECK; the host's network and CAs reach the npm registry.
    args.push('--format', 'docker', '--network', 'host');
    if (base === LOCAL_BASE && existsSync(HOST_CA_BUNDLE))
      args.push('-v', `${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`);
  }
  await engineRun(engine, [...args, '.'], { verbose: options.verbose ?? false });
  const seconds = (Date.now() - started) / 1000;
  const size = await engineRun(engine, ['image', 'inspect', '--format', '{{.Size}}', IMAGE]);
  return { name: IMAGE, base, sizeBytes: Number(size.trim()), seconds };
}

if (import.meta.main) {
  try {
    const built = await buildImage({ verbose: true });
    console.log(
      `${built.name}: ${(built.sizeBytes / 1e6).toFixed(0)} MB, on ${built.base}, built in ${built.seconds.toFixed(1)} s`,
    );
  } catch (error) {
    console.error(`npm run image: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
