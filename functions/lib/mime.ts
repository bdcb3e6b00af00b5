/** The MIME type of a product file: from its first bytes for formats that carry a signature, else its name. */
import { open } from 'node:fs/promises';
import mime from 'mime/lite';

const SIGNATURES: readonly { type: string; offset: number; bytes: readonly number[] }[] = [
  { type: 'application/fits', offset: 0, bytes: [...Buffer.from('SIMPLE  =')] },
  { type: 'application/x-hdf5', offset: 0, bytes: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'application/x-netcdf', offset: 0, bytes: [0x43, 0x44, 0x46] },
  { type: 'image/tiff', offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { type: 'image/png', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47] },
  { type: 'image/jpeg', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: 'application/pdf', offset: 0, bytes: [...Buffer.from('%PDF-')] },
  { type: 'application/gzip', offset: 0, bytes: [0x1f, 0x8b] },
  { type: 'application/zip', offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
];

export async function mimeType(path: string): Promise<string> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const signed = SIGNATURES.find(({ offset, bytes }) => bytes.every((byte, i) => head[offset + i] === byte));
  return signed?.type ?? mime.getType(path) ?? 'application/octet-stream';
}
