import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import extractArchive from '../../functions/extract-archive.ts';
import extractMetadata from '../../functions/extract-metadata.ts';
import { writeTarGz } from '../helpers/archives.ts';
import { useTempDirs } from '../helpers/files.ts';
import { contentOf, run } from '../helpers/requests.ts';

const tempDir = useTempDirs();

interface Feature {
  id: string;
  geometry: unknown;
  bbox?: number[];
  properties: { file: Record<string, unknown> };
}

const product = {
  type: 'Feature',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [1.5, 43.2],
        [2.5, 43.2],
        [2.5, 44.8],
        [1.5, 44.8],
        [1.5, 43.2],
      ],
    ],
  },
  properties: {
    start_datetime: '2024-05-01T10:00:00Z',
    end_datetime: '2024-05-01T10:05:00Z',
    platform: 'SWOT',
  },
};

describe('extract-metadata', () => {
  it('turns a GeoJSON product into a Feature update with geometry, bbox, dates and file facts', async () => {
    const dir = await tempDir();
    const path = join(dir, 'granule.geojson');
    await writeFile(path, JSON.stringify(product));
    const feature = contentOf(await run(extractMetadata, { path }));
    expect(feature).toEqual({
      type: 'Feature',
      id: 'granule.geojson',
      geometry: product.geometry,
      bbox: [1.5, 43.2, 2.5, 44.8],
      properties: {
        start_datetime: '2024-05-01T10:00:00Z',
        end_datetime: '2024-05-01T10:05:00Z',
        file: {
          name: 'granule.geojson',
          path,
          size: JSON.stringify(product).length,
          checksum: { algorithm: 'MD5', value: expect.stringMatching(/^[0-9a-f]{32}$/) },
          mimeType: 'application/geo+json',
          modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      },
    });
  });

  it("given the product's URN, also sends rs-fem the update of its feature: what it extracted", async () => {
    const dir = await tempDir();
    const path = join(dir, 'granule.geojson');
    await writeFile(path, JSON.stringify(product));
    const urn = 'URN:FEATURE:DATA:PROJECT1:0f4d6d3c-1a2b-4c5d-8e9f-000000000042:V1';
    const outcome = await run(extractMetadata, { path, feature: { urn, model: 'GEODE' } });
    const feature = contentOf(outcome) as { id: string; properties: unknown; geometry: unknown };
    expect(outcome.events.map((event) => event.kind)).toEqual(['feature-update']);
    expect(outcome.events[0]?.body).toEqual({
      feature: {
        id: feature.id,
        urn,
        type: 'Feature',
        entityType: 'DATA',
        model: 'GEODE',
        geometry: feature.geometry,
        properties: feature.properties,
      },
      metadata: { storages: [], priority: 'NORMAL' },
    });
    // Without a URN, no event; a URN that is not a feature's is refused.
    const plain = await run(extractMetadata, { path });
    expect(plain).toMatchObject({ status: 'SUCCESS', events: [] });
    expect((await run(extractMetadata, { path, feature: { urn: 'nope', model: 'M' } })).status).toBe(
      'INVALID_CONTENT',
    );
  });

  it('describes any file without coordinates: null geometry, MIME type from its signature', async () => {
    const dir = await tempDir();
    const path = join(dir, 'image.dat');
    await writeFile(path, Buffer.concat([Buffer.from('SIMPLE  =                    T'), Buffer.alloc(100)]));
    const feature = contentOf(await run(extractMetadata, { path, id: 'urn:product:1' })) as Feature;
    expect(feature.id).toBe('urn:product:1');
    expect(feature.geometry).toBeNull();
    expect(feature.bbox).toBeUndefined();
    expect(feature.properties.file).toMatchObject({ mimeType: 'application/fits', size: 130 });
  });

  it('accepts the output of extract-archive: the two chain', async () => {
    const dir = await tempDir();
    const archive = join(dir, 'products.tar.gz');
    await writeTarGz(archive, [
      { path: 'a.geojson', data: JSON.stringify(product) },
      { path: 'b.txt', data: 'plain' },
    ]);
    const extracted = await run(extractArchive, { archive, target: join(dir, 'out') });
    if (extracted.status !== 'SUCCESS' || extracted.content === undefined)
      throw new Error('extraction failed');
    expect(extractMetadata.accepts).toContain(extractArchive.produces);
    // The next step's body is exactly the previous step's content bytes.
    const collection = contentOf(await run(extractMetadata, extracted.content)) as {
      type: string;
      features: Feature[];
    };
    expect(collection.type).toBe('FeatureCollection');
    expect(collection.features.map((f) => f.id)).toEqual(['a.geojson', 'b.txt']);
    expect(collection.features[0]?.bbox).toEqual([1.5, 43.2, 2.5, 44.8]);
    expect(collection.features[1]?.properties.file.mimeType).toBe('text/plain');
  });

  it('answers ERROR for a missing product file and INVALID_CONTENT for a body of neither shape', async () => {
    const dir = await tempDir();
    expect((await run(extractMetadata, { path: join(dir, 'gone.nc') })).status).toBe('ERROR');
    expect((await run(extractMetadata, { files: 'nope' })).status).toBe('INVALID_CONTENT');
  });
});
