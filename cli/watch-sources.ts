/**
 * Watching a folder of sources for `dev`: each folder is watched (never each file), so that an atomic
 * save, which writes a temporary file and renames it over the source (`sed -i`, vim, JetBrains IDEs),
 * is seen like a plain write, and so is every later one; folders created later are watched too. Only
 * source names count, so the line says which source changed, never an editor's temporary file.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** What a function is made of; editors' temporary and backup files are not. */
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;

export interface SourceWatcher {
  close(): void;
}

export async function watchSources(root: string, onChange: (file: string) => void): Promise<SourceWatcher> {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  const adding = new Set<string>();
  const add = async (dir: string): Promise<void> => {
    if (closed || watchers.has(dir) || adding.has(dir)) return;
    adding.add(dir);
    const isFolder = await stat(dir).then(
      (info) => info.isDirectory(),
      () => false,
    );
    adding.delete(dir);
    // Files are never watched one by one: a rename over one would leave its watcher on the old file.
    if (!isFolder || closed || watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (event, name) => {
        if (name === null) return;
        const path = join(dir, name);
        if (SOURCE.test(name)) onChange(relative(root, path));
        // A new folder, or one renamed into place.
        if (event === 'rename') void add(path).catch(() => undefined);
      });
    } catch {
      return; // gone already
    }
    watcher.on('error', () => {
      // The folder was removed: forget it, a new one of that name is added when it appears.
      watcher.close();
      watchers.delete(dir);
    });
    watchers.set(dir, watcher);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => add(join(dir, e.name))));
  };
  await add(root);
  return {
    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
