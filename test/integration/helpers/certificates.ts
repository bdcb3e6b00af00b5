/**
 * Certificates made for a test: a CA, a server certificate for 127.0.0.1 and localhost, a client
 * certificate it signed, and a second CA that signed nothing the broker shows. Made with the openssl
 * command (Node has no API to issue certificates).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openssl = (dir: string, ...args: string[]) =>
  promisify(execFile)('openssl', args, { cwd: dir, timeout: 30_000 });

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface Certificates {
  /** Absolute paths, by role. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly otherCa: string;
  readonly otherKey: string;
}

export async function makeCertificates(dir: string): Promise<Certificates> {
  const path = (name: string) => join(dir, name);
  const selfSigned = (name: string) =>
    openssl(
      dir,
      'req',
      '-x509',
      ...KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    );
  const signed = async (name: string, extensions: string) => {
    await openssl(
      dir,
      'req',
      ...KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    await writeFile(path(`${name}.ext`), `${extensions}\n`);
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  await Promise.all([selfSigned('ca'), selfSigned('other-ca')]);
  await signed('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  await signed('client', 'extendedKeyUsage=clientAuth');
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
    otherCa: path('other-ca.pem'),
    otherKey: path('other-ca.key'),
  };
}
