import * as z from 'zod';
import { absolutePath, checksum } from './files.ts';

/** The content extract-archive produces and extract-metadata accepts: this schema is the chain's contract. */
export const extractedFiles = z.object({
  target: absolutePath,
  files: z.array(
    z.object({
      /** Relative to `target`, `/`-separated. */
      path: z.string().min(1),
      size: z.number().int().nonnegative(),
      checksum,
    }),
  ),
});

export type ExtractedFiles = z.infer<typeof extractedFiles>;
