/** GET /livez (the process answers) and GET /readyz (connected and consuming) for orchestrators. */
import { createServer, type Server } from 'node:http';

export interface Health {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealth(port: number, isReady: () => boolean): Promise<Health> {
  const server: Server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    const status = path === '/livez' ? 200 : path === '/readyz' ? (isReady() ? 200 : 503) : 404;
    const body = status === 200 ? 'ok\n' : status === 503 ? 'not ready\n' : 'not found\n';
    response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
