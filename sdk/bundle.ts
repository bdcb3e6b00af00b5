/**
 * The bundle contract between build/ (writer) and adapter/ (reader): the manifest written beside the
 * bundles, and what a bundle must export. Host-side only: not imported by functions, so not bundled.
 */
import * as z from 'zod';
import { settingsShape } from './settings.ts';

export { definitionOf } from './definition-of.ts';

export const MANIFEST_FILE = 'manifest.json';
/** The folder of the bundles beside the manifest. */
export const BUNDLES_DIR = 'bundles';

/**
 * The bundles as one artifact (`regards-worker build --pack`): a gzipped tar of the manifest and the
 * bundles folder, which the host accepts in place of the folder.
 */
export const isBundleArchive = (path: string): boolean => /\.(tar\.gz|tgz)$/.test(path);
/** What a bundles archive may hold: anything else in it is not unpacked. */
export const BUNDLE_ARCHIVE_ENTRY = /^(manifest\.json|bundles\/[^/]+)$/;
export const MANIFEST_VERSION = 1;

export const manifestEntry = z.object({
  type: z.string().min(1),
  accepts: z.array(z.string().min(1)).min(1),
  produces: z.string().min(1).optional(),
  /** Relative to the manifest's folder, `/`-separated. */
  bundle: z.string().regex(/^bundles\/[^/]+\.mjs$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  source: z.string(),
  sdkVersion: z.string(),
  ...settingsShape,
  /** The kinds of event it sends to other REGARDS services (which services a bundle writes to). */
  emits: z.array(z.string()).optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  /** The JSON Schema of its success content, when the definition declares `output`. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  /** The JSON Schema of the properties its feature updates set, when it emits feature-update. */
  featurePropertiesSchema: z.record(z.string(), z.unknown()).optional(),
});

export const manifest = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  /** When SOURCE_DATE_EPOCH was set at build time: the manifest is otherwise the same bytes for the same sources. */
  builtAt: z.string().optional(),
  esbuildVersion: z.string(),
  workers: z.array(manifestEntry),
});

export type ManifestEntry = z.infer<typeof manifestEntry>;
export type Manifest = z.infer<typeof manifest>;
