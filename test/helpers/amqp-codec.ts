/** The AMQP client's own field-table encoder: what it refuses to write, the real edge refuses to send. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export const { encodeTable } = require(join(dirname(require.resolve('amqplib')), 'lib/codec.js')) as {
  encodeTable: (buffer: Buffer, value: unknown, offset: number) => number;
};
