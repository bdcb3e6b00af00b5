/**
 * The baseline: a hand-written amqplib worker doing the same per-message work as the adapter
 * (consume, JSON parse, publish the response on a confirm channel, await the confirm, ack).
 * Usage: node bench/raw-worker.ts <queue> <prefetch>
 */
import * as amqp from 'amqplib';

const [queue, prefetchArg] = process.argv.slice(2);
if (queue === undefined) throw new Error('usage: raw-worker <queue> <prefetch>');
const connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', {
  noDelay: true,
});
const channel = await connection.createConfirmChannel();
await channel.prefetch(Number(prefetchArg ?? 10));
await channel.consume(queue, (message) => {
  if (message === null) return;
  const headers = message.properties.headers ?? {};
  const body = JSON.parse(message.content.toString('utf8')) as { n: number };
  const content = Buffer.from(JSON.stringify({ n: body.n })).toString('base64');
  const response = Buffer.from(JSON.stringify({ status: 'SUCCESS', messages: [], content }));
  channel.publish(
    'regards.worker.manager.response',
    String(headers['regards.request.id']),
    response,
    {
      headers: {
        'regards.tenant': headers['regards.tenant'],
        'regards.request.id': headers['regards.request.id'],
      },
      contentType: 'application/json',
      persistent: true,
      mandatory: true,
    },
    (error: unknown) => {
      if (error) channel.nack(message, false, true);
      else channel.ack(message);
    },
  );
});
process.send?.('ready');
connection.on('error', () => undefined);
process.on('SIGTERM', () => {
  connection.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
});
