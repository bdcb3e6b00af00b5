/**
 * Reading .tar.gz, .tar and .zip archives as one stream of entries. The formats are parsed by
 * well-kept libraries (tar, yauzl); what may be written where is decided by ./extraction.ts.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface EntryHeader {
  /** The entry's name exactly as the archive spells it. */
  readonly path: string;
  readonly kind: EntryKind;
  /** The archive's own name for the type, for messages. */
  readonly typeName: string;
  /** Declared size of the data in bytes (a hint; the bytes actually read are what count). */
  readonly size: number;
  readonly mode: number | undefined;
  /** Symbolic link target, or the archive path a hard link refers to. */
  readonly linkTarget: string | undefined;
}

export type EntryHandler = (header: EntryHeader, data: AsyncIterable<Buffer>) => Promise<void>;

/** The archive itself is unreadable as its format: corrupt, truncated, or not an archive. */
export class ArchiveFormatError extends Error {
  readonly code = 'ARCHIVE_FORMAT';
}

export type ArchiveFormat = 'tar' | 'zip';

/** Tells the format from the first bytes, never from the file name. */
export async function sniffFormat(path: string): Promise<ArchiveFormat | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5))
      return 'zip';
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return undefined;
  } finally {
    await handle.close();
  }
}

export function readArchive(path: string, format: ArchiveFormat, onEntry: EntryHandler): Promise<void> {
  return format === 'zip' ? readZip(path, onEntry) : readTar(path, onEntry);
}

const TAR_KINDS: Record<string, EntryKind> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};

/** Entries are handled one at a time: the parser waits while an entry's data is not consumed. */
function readTar(path: string, onEntry: EntryHandler): Promise<void> {
  return new Promise((resolve, reject) => {
    const input = createReadStream(path);
    const parser = new Parser({ strict: true });
    let chain = Promise.resolve();
    let settled = false;
    const fail = (cause: unknown) => {
      if (settled) return;
      settled = true;
      input.destroy();
      reject(cause);
    };
    parser.on('entry', (entry: ReadEntry) => {
      chain = chain
        .then(async () => {
          if (settled) return;
          await onEntry(tarHeader(entry), entry);
          entry.resume();
        })
        .catch(fail);
    });
    parser.on('error', (cause: Error) => fail(new ArchiveFormatError(cause.message)));
    parser.on('end', () => {
      chain.then(() => {
        if (settled) return;
        settled = true;
        resolve();
      }, fail);
    });
    input.on('error', fail);
    input.pipe(parser);
  });
}

function tarHeader(entry: ReadEntry): EntryHeader {
  return {
    path: entry.path,
    kind: TAR_KINDS[entry.type] ?? 'other',
    typeName: entry.type,
    size: entry.size,
    mode: entry.mode,
    linkTarget: entry.linkpath,
  };
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const MAX_LINK_TARGET = 4096;

async function readZip(path: string, onEntry: EntryHandler): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { decodeStrings: false, validateEntrySizes: true });
  } catch (cause) {
    throw asFormatError(cause);
  }
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        false,
      );
      if (entry.isEncrypted()) {
        await onEntry(zipHeader(name, 'other', 'encrypted entry', entry), empty());
        continue;
      }
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
      if ((unixMode & S_IFMT) === S_IFLNK) {
        if (entry.uncompressedSize > MAX_LINK_TARGET)
          throw new ArchiveFormatError(`link ${name} is too long`);
        const target = Buffer.concat(await collect(await openEntry(zip, entry))).toString('utf8');
        await onEntry({ ...zipHeader(name, 'symlink', 'symbolic link', entry), linkTarget: target }, empty());
      } else if (name.endsWith('/')) {
        await onEntry(zipHeader(name, 'directory', 'directory', entry), empty());
      } else {
        await onEntry(zipHeader(name, 'file', 'file', entry), await openEntry(zip, entry));
      }
    }
  } catch (cause) {
    throw asFormatError(cause);
  } finally {
    zip.close();
  }
}

/**
 * An entry's data. The size check fails the stream as soon as it inflates past its declared size,
 * which can be before anyone reads it: the error is held by the stream (its reader sees it) instead
 * of reaching the process as an uncaught exception.
 */
async function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<AsyncIterable<Buffer>> {
  const stream = await zip.openReadStreamPromise(entry);
  stream.on('error', () => undefined);
  return stream;
}

function zipHeader(name: string, kind: EntryKind, typeName: string, entry: yauzl.Entry): EntryHeader {
  const mode = (entry.externalFileAttributes >>> 16) & 0o7777;
  return {
    path: name,
    kind,
    typeName,
    size: entry.uncompressedSize,
    mode: mode || undefined,
    linkTarget: undefined,
  };
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function* empty(): AsyncIterable<Buffer> {}

/**
 * I/O errors (they name a syscall) and coded errors of our own pass through; a zlib error or any
 * other error a format library throws means the archive itself is bad.
 */
function asFormatError(cause: unknown): unknown {
  if (!(cause instanceof Error) || cause instanceof ArchiveFormatError || 'syscall' in cause) return cause;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' && !code.startsWith('Z_')) return cause;
  return new ArchiveFormatError(cause.message);
}
