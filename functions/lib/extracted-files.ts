import * as z from 'zod';
import { absolutePath, checksum } from './files.ts';

/** At most this many files pass from one step to the next (what extract-metadata reads in one request). */
export const MAX_FILES = 10_000;

/** The content extract-archive produces and extract-metadata accepts: this schema is the chain's contract. */
export const extractedFiles = z.object({
  target: absolutePath,
  files: z
    .array(
      z.object({
        /** Relative to `target`, `/`-separated. */
        path: z.string().min(1),
        size: z.number().int().nonnegative(),
        checksum,
      }),
    )
    .max(MAX_FILES),
});

export type ExtractedFiles = z.infer<typeof extractedFiles>;
