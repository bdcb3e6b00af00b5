/** The nodes of a cluster as amqplib reads them: each connection attempt (a read of `protocol`) moves to the next. */
import { describe, expect, it } from 'vitest';
import { clusterNodes } from '../../../adapter/broker/nodes.ts';

/** Reads the fields as amqplib's connect does, protocol first. */
const attempt = (url: Record<string, unknown>) => {
  const protocol = url.protocol;
  return {
    protocol,
    hostname: url.hostname,
    port: url.port,
    username: url.username,
    password: url.password,
    vhost: url.vhost,
    heartbeat: url.heartbeat,
  };
};

describe('clusterNodes', () => {
  it('gives one URL as is', () => {
    const nodes = clusterNodes(['amqp://u:p@a:5672/v']);
    expect(nodes.url).toBe('amqp://u:p@a:5672/v');
    expect(nodes.current()).toBe('amqp://u:p@a:5672/v');
  });

  it('gives each attempt the next node, round and round, with its fields decoded as amqplib expects', () => {
    const urls = [
      'amqp://w%40x:p%3Aw@a:5672/regards%2Fvhost?heartbeat=30',
      'amqp://w%40x:p%3Aw@b:5673/regards%2Fvhost',
    ];
    const nodes = clusterNodes(urls);
    const url = nodes.url as Record<string, unknown>;
    expect(attempt(url)).toEqual({
      protocol: 'amqp',
      hostname: 'a',
      port: 5672,
      username: 'w@x',
      password: 'p:w',
      vhost: 'regards%2Fvhost', // amqplib unescapes the vhost itself
      heartbeat: 30,
    });
    expect(nodes.current()).toBe(urls[0]);
    expect(attempt(url)).toMatchObject({ hostname: 'b', port: 5673, heartbeat: undefined });
    expect(nodes.current()).toBe(urls[1]);
    expect(attempt(url)).toMatchObject({ hostname: 'a' });
  });
});
