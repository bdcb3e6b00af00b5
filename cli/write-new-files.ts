/** Writing generated files (`new`, `init`): never over an existing one. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Io, UsageError } from './io.ts';

/** Writes each file below `root`, creating folders; refuses at the first one that exists. */
export async function writeNewFiles(root: string, files: readonly [string, string][], io: Io): Promise<void> {
  for (const [relative, text] of files) {
    const path = join(root, relative);
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(path, text, { flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') throw new UsageError(`${path} exists already`);
      throw error;
    }
    // A script is executable.
    if (text.startsWith('#!')) await chmod(path, 0o755);
    io.out(`wrote ${path}\n`);
  }
}
