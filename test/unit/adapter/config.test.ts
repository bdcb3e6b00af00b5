import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig, redactUrl } from '../../../adapter/config.ts';

describe('configuration from the environment', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      amqpUrls: ['amqp://guest:guest@127.0.0.1:5672'],
      bundles: 'dist',
      settings: { prefetch: 10, timeoutMs: 300_000, maxAttempts: 3, memoryMb: 512, isolation: 'thread' },
      heartbeatMs: 10_000,
      drainMs: 30_000,
      healthPort: 8080,
      limits: { maxBodyBytes: 1_048_576, maxMessageBytes: 16_777_216 },
      reconnectMaxMs: 5_000,
    });
    expect(config.instanceId).toMatch(/.+-[0-9a-f-]{36}$/);
  });

  it('keeps the contract names', () => {
    expect(CONFIG_VARIABLES).toEqual(
      expect.arrayContaining([
        'AMQP_URL',
        'WORKER_BUNDLES',
        'WORKER_PREFETCH',
        'WORKER_TIMEOUT_SECONDS',
        'WORKER_MAX_ATTEMPTS',
        'WORKER_HEARTBEAT_SECONDS',
        'WORKER_TENANT',
        'WORKER_INSTANCE_ID',
        'WORKER_DRAIN_SECONDS',
        'WORKER_HEALTH_PORT',
      ]),
    );
  });

  it('reads the limits and the reconnect cap, and refuses sizes out of range', () => {
    const config = loadConfig({
      WORKER_MAX_BODY_BYTES: '2048',
      WORKER_MAX_MESSAGE_BYTES: '131072',
      WORKER_RECONNECT_MAX_SECONDS: '1.5',
    });
    expect(config.limits).toEqual({ maxBodyBytes: 2048, maxMessageBytes: 131_072 });
    expect(config.reconnectMaxMs).toBe(1_500);
    expect(() => loadConfig({ WORKER_MAX_MESSAGE_BYTES: '1000' })).toThrow(/WORKER_MAX_MESSAGE_BYTES/);
    expect(() => loadConfig({ WORKER_MAX_BODY_BYTES: '0' })).toThrow(/WORKER_MAX_BODY_BYTES/);
  });

  it('reads every variable, the vhost included in the URL', () => {
    const config = loadConfig({
      AMQP_URL: 'amqps://u:p@rabbit:5671/regards.multitenant.manager',
      WORKER_BUNDLES: '/bundles',
      WORKER_PREFETCH: '50',
      WORKER_TIMEOUT_SECONDS: '1.5',
      WORKER_MAX_ATTEMPTS: '5',
      WORKER_HEARTBEAT_SECONDS: '15',
      WORKER_TENANT: 'PROJECT1',
      WORKER_INSTANCE_ID: 'pod-7',
      WORKER_DRAIN_SECONDS: '0',
      WORKER_HEALTH_PORT: '9000',
    });
    expect(config).toMatchObject({
      amqpUrls: ['amqps://u:p@rabbit:5671/regards.multitenant.manager'],
      bundles: '/bundles',
      settings: { prefetch: 50, timeoutMs: 1500, maxAttempts: 5 },
      heartbeatMs: 15_000,
      tenant: 'PROJECT1',
      instanceId: 'pod-7',
      drainMs: 0,
      healthPort: 9000,
    });
  });

  it.each([
    ['AMQP_URL', 'http://rabbit'],
    ['WORKER_PREFETCH', '0'],
    ['WORKER_PREFETCH', 'ten'],
    ['WORKER_TIMEOUT_SECONDS', '3600'],
    ['WORKER_MAX_ATTEMPTS', '1.5'],
    ['WORKER_HEARTBEAT_SECONDS', '90'],
    ['WORKER_HEALTH_PORT', '70000'],
    ['WORKER_PREFECTH', '10'],
  ])('stops on %s=%s, naming the variable', (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toContain(name);
    }
  });

  it('never shows the password', () => {
    expect(redactUrl('amqp://user:secret@host:5672/vhost')).toBe('amqp://user:***@host:5672/vhost');
  });
});

describe('secrets from files', () => {
  const files: Record<string, string> = {
    '/run/secrets/url': 'amqps://worker:from-file@rabbit:5671/regards.multitenant.manager\n',
    '/run/secrets/password': 'p@ss:word/é\n',
  };
  const read = (path: string) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return content;
  };

  it('reads the URL from AMQP_URL_FILE, without its last line break', () => {
    expect(loadConfig({ AMQP_URL_FILE: '/run/secrets/url' }, read).amqpUrls).toEqual([
      'amqps://worker:from-file@rabbit:5671/regards.multitenant.manager',
    ]);
  });

  it("replaces the URL's password with AMQP_PASSWORD_FILE's, encoded", () => {
    const config = loadConfig(
      { AMQP_URL: 'amqp://worker@rabbit/vhost', AMQP_PASSWORD_FILE: '/run/secrets/password' },
      read,
    );
    const [url = ''] = config.amqpUrls;
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:word/é');
    expect(new URL(url).username).toBe('worker');
  });

  it('reads the nodes of a cluster, the password file applying to each, and refuses a mix of schemes', () => {
    const config = loadConfig(
      {
        AMQP_URL: 'amqp://worker@node-a:5672/v, amqp://worker@node-b:5673/v',
        AMQP_PASSWORD_FILE: '/run/secrets/password',
      },
      read,
    );
    expect(config.amqpUrls.map((url) => new URL(url).host)).toEqual(['node-a:5672', 'node-b:5673']);
    for (const url of config.amqpUrls) expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:word/é');
    expect(() => loadConfig({ AMQP_URL: 'amqp://a:5672,amqps://b:5671' })).toThrow(
      /all amqp:\/\/ or all amqps:\/\//,
    );
    expect(() => loadConfig({ AMQP_URL: 'amqp://a:5672,http://b' })).toThrow(/several separated by commas/);
  });

  it('refuses both forms of one variable, naming them, and names a file it cannot read', () => {
    expect(() => loadConfig({ AMQP_URL: 'amqp://a@b', AMQP_URL_FILE: '/run/secrets/url' }, read)).toThrow(
      /AMQP_URL and AMQP_URL_FILE are both set/,
    );
    expect(() => loadConfig({ AMQP_PASSWORD_FILE: '/run/secrets/missing' }, read)).toThrow(
      /AMQP_PASSWORD_FILE: cannot read \/run\/secrets\/missing \(ENOENT\)/,
    );
  });

  it('refuses a misspelt AMQP_* or WORKER_* name, with the nearest known one; leaves Kubernetes service links alone', () => {
    expect(() => loadConfig({ AMQP_PASSWORD_FIL: '/run/secrets/password' })).toThrow(
      /AMQP_PASSWORD_FIL: unknown variable, did you mean AMQP_PASSWORD_FILE\?/,
    );
    expect(() => loadConfig({ WORKER_PREFECTH: '5' })).toThrow(
      /WORKER_PREFECTH: unknown variable, did you mean WORKER_PREFETCH\?/,
    );
    expect(() =>
      loadConfig({
        AMQP_SERVICE_HOST: '10.0.0.1',
        AMQP_PORT: 'tcp://10.0.0.1:5672',
        AMQP_PORT_5672_TCP: 'x',
      }),
    ).not.toThrow();
  });

  it('refuses an empty AMQP_URL, AMQP_URL_FILE or AMQP_PASSWORD_FILE, and an empty password file', () => {
    expect(() => loadConfig({ AMQP_URL: '' })).toThrow(
      /AMQP_URL: set but empty \(unset it to use amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672\)/,
    );
    expect(() => loadConfig({ AMQP_URL_FILE: '' })).toThrow(/AMQP_URL_FILE: set but empty/);
    expect(() => loadConfig({ AMQP_PASSWORD_FILE: '' })).toThrow(/AMQP_PASSWORD_FILE: set but empty/);
    expect(() => loadConfig({ AMQP_PASSWORD_FILE: '/run/secrets/empty' }, () => '\n')).toThrow(
      /AMQP_PASSWORD_FILE: \/run\/secrets\/empty is empty/,
    );
    // Other variables left empty (as a compose file passes them on) take their defaults.
    expect(loadConfig({ WORKER_TENANT: '' }).settings.prefetch).toBe(10);
  });
});

describe('docs/configuration.md documents the configuration', () => {
  it('lists every variable the host reads, and none it does not read', () => {
    const section = readFileSync(join(import.meta.dirname, '../../../docs/configuration.md'), 'utf8');
    const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map((match) => match[1]);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
