/**
 * Archives for tests, hostile ones included. tar headers come from the tar package; zip files from
 * yazl, with names it refuses (absolute, `..`) patched in afterwards (names are not checksummed).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import yazl from 'yazl';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';
  data?: Buffer | string;
  linkpath?: string;
}

export async function writeTarGz(path: string, entries: readonly TarEntry[]): Promise<void> {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    const header = new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      size: entry.type === undefined || entry.type === 'File' ? data.length : 0,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date('2024-01-01T00:00:00Z'),
      linkpath: entry.linkpath ?? '',
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block);
    blocks.push(block);
    if (data.length > 0 && (entry.type ?? 'File') === 'File') {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  await writeFile(path, gzipSync(Buffer.concat(blocks)));
}

export interface ZipEntry {
  path: string;
  data?: Buffer | string;
  symlinkTo?: string;
  directory?: boolean;
}

const PLACEHOLDER = 'Z';

export async function writeZip(path: string, entries: readonly ZipEntry[]): Promise<void> {
  const zip = new yazl.ZipFile();
  const patches: [string, string][] = [];
  for (const entry of entries) {
    // A name yazl refuses goes in as a same-length placeholder, patched after.
    const unsafe = entry.path.startsWith('/') || entry.path.split('/').includes('..');
    const name = unsafe ? entry.path.replace(/[./]/g, PLACEHOLDER) : entry.path;
    if (unsafe) patches.push([name, entry.path]);
    if (entry.directory) zip.addEmptyDirectory(name);
    else if (entry.symlinkTo !== undefined)
      zip.addBuffer(Buffer.from(entry.symlinkTo), name, { mode: 0o120777 });
    else zip.addBuffer(Buffer.from(entry.data ?? ''), name);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let bytes = Buffer.concat(chunks);
  for (const [placeholder, real] of patches) {
    bytes = Buffer.from(bytes.toString('latin1').replaceAll(placeholder, real), 'latin1');
  }
  await writeFile(path, bytes);
}

/**
 * Rewrites the declared uncompressed size of every entry of a zip (central directory and local
 * headers): an entry then inflates past what it declares, as a hostile archive's would.
 */
export async function understateZipSizes(path: string, declared: number): Promise<void> {
  const bytes = await readFile(path);
  for (let at = 0; at + 4 <= bytes.length; at += 1) {
    const signature = bytes.readUInt32LE(at);
    if (signature === 0x02014b50) bytes.writeUInt32LE(declared, at + 24);
    else if (signature === 0x04034b50) bytes.writeUInt32LE(declared, at + 22);
  }
  await writeFile(path, bytes);
}
