/**
 * GET /livez (the process answers and can still do file I/O), GET /readyz (connected and consuming)
 * for orchestrators, and GET /metrics for Prometheus.
 */
import { createServer, type Server } from 'node:http';

export interface Health {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthChecks {
  readonly isReady: () => boolean;
  /** Why the process is no longer alive, or undefined. */
  readonly notAlive: () => string | undefined;
  /** GET /metrics, when metrics are on. */
  readonly metrics: { readonly contentType: string; scrape(): Promise<string> } | undefined;
}

export async function startHealth(port: number, checks: HealthChecks): Promise<Health> {
  const server: Server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    const answer = (status: number, body: string) =>
      response.writeHead(status, { 'content-type': 'text/plain' }).end(`${body}\n`);
    if (path === '/livez') {
      const problem = checks.notAlive();
      return problem === undefined ? answer(200, 'ok') : answer(503, problem);
    }
    if (path === '/readyz') return checks.isReady() ? answer(200, 'ok') : answer(503, 'not ready');
    const { metrics } = checks;
    if (path === '/metrics' && metrics !== undefined) {
      return void metrics.scrape().then(
        (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => answer(500, 'metrics unavailable'),
      );
    }
    return answer(404, 'not found');
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
