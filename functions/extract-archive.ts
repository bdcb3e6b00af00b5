/**
 * extract-archive: extracts a .tar.gz, .tar or .zip archive into a target folder and answers with
 * the list of extracted files. Entries that would escape the target, and archives past the entry
 * or size limits, are refused with INVALID_CONTENT naming the entry.
 */
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defineWorker, error, invalid, success } from 'regards-worker';
import * as z from 'zod';
import { ArchiveFormatError, readArchive, sniffFormat } from './lib/archive.ts';
import { extractedFiles, MAX_FILES } from './lib/extracted-files.ts';
import { EntryRejected, Extraction } from './lib/extraction.ts';
import { absolutePath, errorCode, md5Checksum } from './lib/files.ts';

const GiB = 1024 ** 3;

export default defineWorker({
  type: 'extract-archive',
  accepts: ['archive'],
  produces: 'extracted-files',
  input: z.object({
    archive: absolutePath,
    target: absolutePath,
    limits: z
      .object({
        maxBytes: z
          .number()
          .int()
          .positive()
          .max(64 * GiB)
          .default(GiB),
        maxEntries: z.number().int().positive().max(MAX_FILES).default(MAX_FILES),
      })
      .prefault({}),
    /** Also issue one `product-file` request per extracted file, for extract-metadata (fan-out). */
    metadataRequests: z.boolean().default(false),
  }),
  output: extractedFiles,
  async handler({ body }, { signal }) {
    // Never open what is not a regular file: a FIFO or a device would block a thread of the
    // process's file-system pool for good.
    const archive = await stat(body.archive).catch((cause: unknown) => {
      if (errorCode(cause) === 'ENOENT') return undefined;
      throw cause;
    });
    if (archive === undefined) return error(`archive ${body.archive} does not exist`);
    if (!archive.isFile()) return invalid(`archive ${body.archive} is not a regular file`);
    const format = await sniffFormat(body.archive);
    if (format === undefined) return invalid(`${body.archive} is not a .tar.gz, .tar or .zip archive`);

    // The first folder mkdir makes, if the target did not exist: removed again on failure.
    const madeTarget = await mkdir(body.target, { recursive: true });
    const extraction = new Extraction(await realpath(body.target), body.limits, signal);
    try {
      await readArchive(body.archive, format, (header, data) => extraction.add(header, data));
      await extraction.checkLinks();
    } catch (cause) {
      // Refused, unreadable, or aborted at the time limit: the target is left as it was found.
      await extraction.undo();
      if (madeTarget !== undefined) await rm(madeTarget, { recursive: true, force: true });
      if (cause instanceof EntryRejected) return invalid(cause.message);
      if (cause instanceof ArchiveFormatError)
        return invalid(`archive ${body.archive} is unreadable: ${cause.message}`);
      throw cause;
    }
    const files = extraction.files.map((file) => ({
      path: file.path,
      size: file.size,
      checksum: md5Checksum(file.md5),
    }));
    const requests = body.metadataRequests
      ? files.map((file) => ({
          contentType: 'product-file',
          body: { path: join(body.target, file.path), id: file.path },
        }))
      : [];
    return success({ content: { target: body.target, files }, requests });
  },
});
