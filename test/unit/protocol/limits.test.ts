import { describe, expect, it } from 'vitest';
import {
  capMessages,
  fitHeaders,
  HEADER_TABLE_MAX_BYTES,
  type HeaderValue,
  headerTableBytes,
  MESSAGES_MAX_COUNT,
  MESSAGES_MAX_TOTAL_BYTES,
  shortString,
  truncateUtf8,
  utf8Bytes,
} from '../../../protocol/index.ts';
import { encodeTable } from '../../helpers/amqp-codec.ts';

const clientBytes = (headers: Record<string, HeaderValue>) => encodeTable(Buffer.alloc(1 << 20), headers, 0);

describe('truncateUtf8', () => {
  it.each([
    ['short', 10, '', 'short'],
    ['abcdef', 3, '', 'abc'],
    ['abcdef', 4, '…', 'a…'],
    ['ééé', 5, '', 'éé'], // never half a character
    ['€€', 4, '', '€'],
    ['abc', 0, '…', ''],
  ])('%j in %i bytes (marker %j) → %j', (text, max, marker, expected) => {
    const cut = truncateUtf8(text, max, marker);
    expect(cut).toBe(expected);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(max);
  });

  it('cuts a routing key to 255 bytes', () => {
    expect(utf8Bytes(shortString('é'.repeat(200)))).toBe(254);
    expect(shortString('id-1')).toBe('id-1');
  });
});

describe('headerTableBytes', () => {
  it.each<Record<string, HeaderValue>>([
    {},
    { a: 'b' },
    { 'regards.request.id': 'é'.repeat(300), n: 1, big: 2 ** 40, f: 1.5, t: true },
  ])('is never below what the client encodes: %#', (headers) => {
    expect(headerTableBytes(headers)).toBeGreaterThanOrEqual(clientBytes(headers));
  });
});

describe('fitHeaders', () => {
  const keep = ['regards.request.id'];

  it('leaves a table that fits as it is', () => {
    expect(fitHeaders({ a: 'b', 'regards.request.id': 'r' }, keep)).toEqual({
      headers: { a: 'b', 'regards.request.id': 'r' },
      dropped: [],
    });
  });

  it('drops the largest foreign headers first and names them', () => {
    const headers = {
      'regards.request.id': 'r',
      big: 'x'.repeat(70_000),
      bigger: 'y'.repeat(80_000),
      s: 's',
    };
    const fitted = fitHeaders(headers, keep);
    expect(fitted?.dropped).toEqual(['bigger', 'big']);
    expect(fitted?.headers).toEqual({
      'regards.request.id': 'r',
      s: 's',
      'x-regards-worker-dropped-headers': 'bigger, big',
    });
    expect(clientBytes(fitted?.headers ?? {})).toBeLessThanOrEqual(HEADER_TABLE_MAX_BYTES);
  });

  it('gives up when the headers it must keep do not fit alone', () => {
    expect(fitHeaders({ 'regards.request.id': 'x'.repeat(70_000), a: 'b' }, keep)).toBeUndefined();
  });
});

describe('capMessages', () => {
  it.each([
    [0, 0],
    [3, 3],
    [MESSAGES_MAX_COUNT, MESSAGES_MAX_COUNT],
    [MESSAGES_MAX_COUNT + 1, MESSAGES_MAX_COUNT],
    [1_000_000, MESSAGES_MAX_COUNT],
  ])('%i short messages → %i, the last one counting those left out', (count, kept) => {
    const capped = capMessages(Array.from({ length: count }, (_, i) => `m${i}`));
    expect(capped).toHaveLength(kept);
    if (count > kept) expect(capped.at(-1)).toBe(`… and ${count - kept + 1} more`);
  });

  it('bounds each message and the total bytes', () => {
    const capped = capMessages(Array(100).fill('é'.repeat(10_000)));
    expect(capped.slice(0, -1).every((m) => utf8Bytes(m) <= 2_048 && m.endsWith('…'))).toBe(true);
    expect(capped.reduce((sum, m) => sum + utf8Bytes(m), 0)).toBeLessThanOrEqual(
      MESSAGES_MAX_TOTAL_BYTES + 100,
    );
    expect(capped.at(-1)).toMatch(/^… and \d+ more$/);
  });
});
