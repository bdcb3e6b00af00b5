/**
 * Whether a version's thread-isolated bundles load, checked in a short-lived process of their own
 * (load-check-process.ts) rather than in a first thread per type: a thread that has run keeps some
 * 15 MB of the host's memory after it ends, and a host that checked four bundles so held 50 MB more
 * while idle. Handler threads start on demand afterwards; each checks its bundle again as it loads.
 */
import { execFile } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { HANDLER_THREAD_NICE } from '../execution/thread-messages.ts';

/** A bundle to check: its file, the sha256 verified, the type its manifest entry names. */
export interface LoadCheck {
  readonly path: string;
  readonly sha256: string;
  readonly type: string;
}

/** What the check process prints for each bundle. */
export interface LoadChecked {
  readonly path: string;
  readonly problem: string | undefined;
}

/**
 * How much lower than the host the check runs: below the handler threads too. Importing a large bundle
 * (the 7.5 MB of extract-metadata) at the host's priority took the CPU from the first requests' handler
 * threads, which then looked held, so the pool grew for the rest of a burst: measured at prefetch 10 on
 * two cores, 14-16 OS threads, ~700 µs a message and a 190 MB peak against 12-13, ~620 µs and 145 MB.
 */
const LOAD_CHECK_NICE = HANDLER_THREAD_NICE + 5;

/** How long the check may take in all (a bundle's import that never settles is refused). */
export const LOAD_CHECK_MS = 60_000;

/** The entry beside this file: TypeScript in the sources, JavaScript in the compiled host. */
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './load-check-process.ts' : './load-check.mjs',
  import.meta.url,
);

/** Resolves once every bundle loads; rejects with the first problem found. */
export async function checkBundlesLoad(
  bundles: readonly LoadCheck[],
  timeoutMs = LOAD_CHECK_MS,
): Promise<void> {
  if (bundles.length === 0) return;
  const printed = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--enable-source-maps', fileURLToPath(ENTRY), JSON.stringify(bundles)],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const why = error.killed
          ? `it took over ${timeoutMs} ms`
          : stderr.trim().split('\n').at(-1) || error.message;
        reject(new Error(`the bundles could not be checked: ${why}`));
      },
    );
    try {
      if (child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority() + LOAD_CHECK_NICE));
    } catch {
      // Where priorities cannot be set, the check runs at the host's.
    }
  });
  const checked = printed
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LoadChecked);
  for (const bundle of bundles) {
    const found = checked.find((entry) => entry.path === bundle.path);
    if (found === undefined) throw new Error(`${bundle.path} was not checked: the check ended before it`);
    if (found.problem !== undefined) throw new Error(found.problem);
  }
}
