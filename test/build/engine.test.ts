/**
 * The container engine `npm run image` and the image tests use: the first that works, not the first on
 * the PATH. Stub engines on a PATH of the test's own: a docker client whose daemon does not answer is
 * passed over.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_INSTALL_HINTS, findEngine } from '../../build/image.ts';
import { useTempDirs } from '../helpers/files.ts';

const tempDir = useTempDirs();
const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

/** A PATH holding only the given commands, each a shell script exiting with its code on `info`. */
async function pathWith(commands: Record<string, number>): Promise<void> {
  const dir = await tempDir();
  for (const [command, code] of Object.entries(commands)) {
    const file = join(dir, command);
    await writeFile(file, `#!/bin/sh\n[ "$1" = info ] && exit ${code}\nexit 0\n`);
    await chmod(file, 0o755);
  }
  process.env.PATH = dir;
}

describe('the container engine', () => {
  it('is not a docker client whose daemon does not answer', async () => {
    await pathWith({ docker: 1 });
    const refusal = await findEngine().then(
      () => 'chosen',
      (error: Error) => error.message,
    );
    expect(refusal).toContain('no working container engine (podman info, docker info: no answer)');
    for (const hint of ENGINE_INSTALL_HINTS) expect(refusal).toContain(hint);
  });

  it('is docker where podman is on the PATH but does not work', async () => {
    await pathWith({ podman: 125, docker: 0 });
    expect((await findEngine()).command).toBe('docker');
  });

  it('is podman, first, where both work', async () => {
    await pathWith({ podman: 0, docker: 0 });
    const engine = await findEngine();
    expect(engine.command).toBe('podman');
    expect(engine.env.CONTAINERS_CONF ?? '').not.toBe('');
  });
});
