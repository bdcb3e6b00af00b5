/**
 * The broker socket's writes of one turn leave together: corked from the turn's first write, uncorked
 * at its end, every byte delivered in order.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../../adapter/broker/writes.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A client socket connected to a local server, and the chunks the server reads. */
async function pair(): Promise<{ client: Socket; chunks: string[] }> {
  const chunks: string[] = [];
  const server = createServer((peer) => peer.on('data', (chunk) => chunks.push(chunk.toString())));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(client, 'connect');
  cleanups.push(() => {
    client.destroy();
    server.close();
  });
  return { client, chunks };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function received(chunks: string[], length: number): Promise<string> {
  for (let i = 0; i < 200 && chunks.join('').length < length; i += 1) await nextTurn();
  return chunks.join('');
}

describe('coalesced writes', () => {
  it('are corked within a turn and sent at its end, in order', async () => {
    const { client, chunks } = await pair();
    coalesceWrites(client);
    client.write('a');
    client.write('b');
    expect(client.writableCorked).toBe(1);
    expect(client.writableLength).toBe(2); // held, not sent
    await Promise.resolve().then(() => client.write('c'));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(client.writableCorked).toBe(0);
    expect(await received(chunks, 3)).toBe('abc');
    client.write('d');
    expect(client.writableCorked).toBe(1);
    await nextTurn();
    expect(await received(chunks, 4)).toBe('abcd');
  });

  it('tell a full buffer, and drain it', async () => {
    const { client, chunks } = await pair();
    coalesceWrites(client);
    const big = 'x'.repeat(client.writableHighWaterMark);
    expect(client.write(big)).toBe(false);
    await once(client, 'drain');
    expect((await received(chunks, big.length)).length).toBe(big.length);
  });

  it('leave a write callback called once it is sent', async () => {
    const { client } = await pair();
    coalesceWrites(client);
    const written = new Promise<Error | null | undefined>((resolve) => client.write('e', resolve));
    expect(await written).toBeFalsy();
  });
});
