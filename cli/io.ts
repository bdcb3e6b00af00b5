import { fileURLToPath } from 'node:url';

/** What a command may touch of its process: passed in, so commands run in tests without spawning. */
export interface Io {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Aborted on SIGINT or SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
  /** Standard input, for a body given as `-`. */
  readonly stdin: AsyncIterable<Uint8Array | string>;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const EXIT = Object.freeze({
  ok: 0,
  failed: 1,
  invalidContent: 2,
  error: 3,
  undetermined: 4,
  usage: 64,
});

/** Run from this repository's TypeScript sources, not from the compiled package (lib/cli.mjs). */
export const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * The command's own entry, to start it again in a child process (`start`): cli/main.ts from the
 * sources; compiled, all of the command is one file, this one.
 */
export const CLI_ENTRY = fileURLToPath(
  FROM_SOURCES ? new URL('./main.ts', import.meta.url) : import.meta.url,
);
