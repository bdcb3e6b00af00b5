/**
 * Writing an archive's entries into a target folder, safely: no entry may land outside the target
 * (no `..`, no absolute path, no write through a link that leads out, no link left pointing out),
 * and the entry count and the bytes actually written are bounded. On any failure, what this
 * extraction created is removed again.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, realpath, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import type { EntryHeader } from './archive.ts';
import { errorCode, isInside } from './files.ts';

export interface Limits {
  readonly maxBytes: number;
  readonly maxEntries: number;
}

export interface ExtractedFile {
  /** Relative to the target folder, with `/` separators. */
  readonly path: string;
  readonly size: number;
  readonly md5: string;
}

/** An entry the policy refuses; the request is answered INVALID_CONTENT naming it. */
export class EntryRejected extends Error {
  readonly code = 'ENTRY_REJECTED';
  readonly entry: string;
  constructor(entry: string, reason: string) {
    super(`entry ${JSON.stringify(entry)}: ${reason}`);
    this.entry = entry;
  }
}

export class Extraction {
  readonly files: ExtractedFile[] = [];
  private readonly root: string;
  private readonly limits: Limits;
  private readonly signal: AbortSignal | undefined;
  private entries = 0;
  private bytes = 0;
  /** What this extraction created, in order, so that undo() can remove it. */
  private readonly created: string[] = [];
  private readonly links: { entry: string; path: string }[] = [];

  /** `root` must be the real path (no links) of an existing folder. */
  constructor(root: string, limits: Limits, signal?: AbortSignal) {
    this.root = root;
    this.limits = limits;
    this.signal = signal;
  }

  async add(header: EntryHeader, data: AsyncIterable<Buffer>): Promise<void> {
    this.signal?.throwIfAborted();
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new EntryRejected(header.path, `the archive has more than ${this.limits.maxEntries} entries`);
    }
    const relative = entryPath(header.path);
    if (relative === '') return; // the archive's own root folder, "./"
    const destination = join(this.root, relative);
    switch (header.kind) {
      case 'directory':
        await this.makeDirectory(header.path, destination);
        return;
      case 'file':
        await this.writeFile(header, relative, destination, data);
        return;
      case 'symlink':
        await this.makeLink(header, destination);
        return;
      case 'hardlink':
        await this.copyHardLink(header, relative, destination);
        return;
      default:
        throw new EntryRejected(header.path, `unsupported entry type ${header.typeName}`);
    }
  }

  /** After the last entry: no link may resolve outside the target, whatever the order of entries. */
  async checkLinks(): Promise<void> {
    for (const link of this.links) {
      let real: string;
      try {
        real = await realpath(link.path);
      } catch (cause) {
        if (errorCode(cause) === 'ENOENT') continue; // dangling, checked lexically when made
        if (errorCode(cause) === 'ELOOP') throw new EntryRejected(link.entry, 'symbolic link loop');
        throw cause;
      }
      if (!isInside(this.root, real))
        throw new EntryRejected(link.entry, 'symbolic link resolves outside the target');
    }
  }

  /** Removes what this extraction created, newest first. Files it overwrote stay overwritten. */
  async undo(): Promise<void> {
    for (const path of this.created.reverse()) await rm(path, { recursive: true, force: true });
    this.created.length = 0;
  }

  private async makeDirectory(entry: string, directory: string): Promise<void> {
    // The deepest folder that exists must really be inside the target, links resolved.
    let existing = directory;
    while (!(await exists(existing))) existing = dirname(existing);
    const real = await realpath(existing).catch(() => undefined);
    if (real === undefined || !isInside(this.root, real)) {
      throw new EntryRejected(entry, 'path leads outside the target through a link');
    }
    try {
      const first = await mkdir(directory, { recursive: true });
      if (first !== undefined) this.created.push(first);
    } catch (cause) {
      const code = errorCode(cause);
      if (code === 'ENOTDIR' || code === 'EEXIST')
        throw new EntryRejected(entry, 'a file of that name is in the way');
      throw cause;
    }
  }

  private async writeFile(
    header: EntryHeader,
    relative: string,
    destination: string,
    data: AsyncIterable<Buffer>,
  ): Promise<void> {
    if (this.bytes + header.size > this.limits.maxBytes) throw this.tooLarge(header.path);
    await this.makeDirectory(header.path, dirname(destination));
    await this.replace(header.path, destination);
    // O_NOFOLLOW: never write through a link that sits at the destination itself.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(destination, flags, (header.mode ?? 0) & 0o111 ? 0o755 : 0o644);
    this.created.push(destination);
    const hash = createHash('md5');
    let size = 0;
    try {
      for await (const chunk of data) {
        size += chunk.length;
        this.bytes += chunk.length;
        if (this.bytes > this.limits.maxBytes) throw this.tooLarge(header.path);
        this.signal?.throwIfAborted();
        hash.update(chunk);
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
    this.files.push({ path: relative, size, md5: hash.digest('hex') });
  }

  private async makeLink(header: EntryHeader, destination: string): Promise<void> {
    const target = header.linkTarget ?? '';
    if (target === '' || target.includes('\0'))
      throw new EntryRejected(header.path, 'symbolic link without a target');
    if (isAbsolute(target) || posix.isAbsolute(target)) {
      throw new EntryRejected(header.path, `symbolic link to an absolute path ${target}`);
    }
    await this.makeDirectory(header.path, dirname(destination));
    const resolved = resolve(await realpath(dirname(destination)), target);
    if (!isInside(this.root, resolved)) {
      throw new EntryRejected(header.path, `symbolic link ${target} points outside the target`);
    }
    await this.replace(header.path, destination);
    await symlink(target, destination);
    this.created.push(destination);
    this.links.push({ entry: header.path, path: destination });
  }

  /** A hard link is extracted as a copy of an entry this archive already extracted. */
  private async copyHardLink(header: EntryHeader, relative: string, destination: string): Promise<void> {
    const linked = relativeEntryPath(header.linkTarget ?? '');
    if ('problem' in linked) {
      throw new EntryRejected(header.path, `hard link target ${header.linkTarget}: ${linked.problem}`);
    }
    const source = this.files.find((file) => file.path === linked.path);
    if (source === undefined) {
      throw new EntryRejected(
        header.path,
        `hard link to ${header.linkTarget}, which is not a file of this archive`,
      );
    }
    this.bytes += source.size;
    if (this.bytes > this.limits.maxBytes) throw this.tooLarge(header.path);
    await this.makeDirectory(header.path, dirname(destination));
    await this.replace(header.path, destination);
    await copyFile(join(this.root, source.path), destination, constants.COPYFILE_EXCL);
    this.created.push(destination);
    this.files.push({ ...source, path: relative });
  }

  /** A later entry of the same name wins; a link in the way is removed, never followed. */
  private async replace(entry: string, path: string): Promise<void> {
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined) return;
    if (stat.isDirectory()) throw new EntryRejected(entry, 'a folder of that name is in the way');
    await unlink(path);
  }

  private tooLarge(entry: string): EntryRejected {
    return new EntryRejected(entry, `extracting it exceeds the limit of ${this.limits.maxBytes} bytes`);
  }
}

/**
 * An archive path relative to the target, `/`-separated and normalised, or the problem with it:
 * absolute paths, drive letters, `..` segments and NUL bytes never pass.
 */
export function relativeEntryPath(name: string): { path: string } | { problem: string } {
  if (name.includes('\0')) return { problem: 'path contains a NUL byte' };
  const slashed = name.replaceAll('\\', '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) return { problem: 'absolute path' };
  const segments = slashed.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return { problem: 'path escapes the target folder' };
  return { path: segments.join('/') };
}

/** The entry's own path, or a rejection naming it. */
function entryPath(name: string): string {
  const relative = relativeEntryPath(name);
  if ('problem' in relative) throw new EntryRejected(name, relative.problem);
  return relative.path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return false;
    throw cause;
  }
}
