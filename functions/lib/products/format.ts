/**
 * What a product file is, by its first bytes (never its name): NetCDF classic (`CDF` 1, 2 or 5),
 * HDF5 (NetCDF-4 included: its signature at 0, 512, 1024... bytes) or TIFF (GeoTIFF, BigTIFF, COG).
 */
import { open } from 'node:fs/promises';

export type ProductFormat = 'netcdf-classic' | 'hdf5' | 'geotiff';

/** A product that cannot be read as what it claims to be: answered INVALID_CONTENT, naming the problem. */
export class ProductError extends Error {
  readonly code = 'PRODUCT_INVALID';
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Where an HDF5 superblock may start (a user block before it is 512 bytes or a power of two above). */
const HDF5_OFFSETS = [0, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

export async function productFormat(path: string): Promise<ProductFormat | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    if (bytesRead < 4) return undefined;
    if (head.subarray(0, 3).toString('latin1') === 'CDF' && [1, 2, 5].includes(head[3] ?? 0))
      return 'netcdf-classic';
    const tiff = head.subarray(0, 4).toString('hex');
    if (['49492a00', '4d4d002a', '49492b00', '4d4d002b'].includes(tiff)) return 'geotiff';
    for (const offset of HDF5_OFFSETS) {
      const read = offset === 0 ? { bytesRead, buffer: head } : await readAt(file, offset);
      if (read.bytesRead === 8 && read.buffer.equals(HDF5_SIGNATURE)) return 'hdf5';
      if (read.bytesRead < 8) break;
    }
    return undefined;
  } finally {
    await file.close();
  }
}

async function readAt(file: Awaited<ReturnType<typeof open>>, offset: number) {
  const buffer = Buffer.alloc(8);
  const { bytesRead } = await file.read(buffer, 0, 8, offset);
  return { bytesRead, buffer };
}
