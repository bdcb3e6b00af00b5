/**
 * move-file: moves a file from one storage location to another, across filesystems too,
 * and answers with its new location, MD5 checksum and size.
 */

import { defineWorker, error, success } from 'regards-worker';
import * as z from 'zod';
import { absolutePath, checksum, md5Checksum } from './lib/files.ts';
import { moveFile } from './lib/move.ts';

export default defineWorker({
  type: 'move-file',
  accepts: ['move-file-request'],
  produces: 'file-location',
  input: z.object({
    source: absolutePath,
    destination: absolutePath,
    overwrite: z.boolean().default(false),
  }),
  output: z.object({
    location: absolutePath,
    size: z.number().int().nonnegative(),
    checksum,
  }),
  async handler({ body }, { signal, log }) {
    const moved = await moveFile(body.source, body.destination, { overwrite: body.overwrite, signal });
    if (!moved.ok) return error(moved.reason);
    if (moved.note !== undefined) log.info(moved.note, { location: moved.location });
    return success({
      content: { location: moved.location, size: moved.size, checksum: md5Checksum(moved.md5) },
    });
  },
});
