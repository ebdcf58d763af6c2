/**
 * A pass-through in front of a real Pushgateway that can fail requests on purpose (5xx, a missing
 * bearer token) and records what it saw. The Pushgateway behind it is the real program.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** An answer the proxy gives itself instead of forwarding: a status, or a status with headers and body. */
export type Injected =
  number | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string };

export interface ProxyOptions {
  /** Answer this instead of forwarding the n-th request (0-based), if it returns one. */
  readonly fail?: (seen: SeenRequest, index: number) => Injected | undefined;
}

export interface Proxy {
  readonly url: string;
  readonly seen: SeenRequest[];
  readonly close: () => Promise<void>;
}

export async function startProxy(upstream: string, options: ProxyOptions = {}): Promise<Proxy> {
  const seen: SeenRequest[] = [];
  const target = new URL(upstream);
  const server = createServer((incoming, outgoing) => {
    const request = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers };
    seen.push(request);
    const injected = options.fail?.(request, seen.length - 1);
    if (injected !== undefined) {
      const {
        status,
        headers = {},
        body = `injected ${status}\n`,
      } = typeof injected === 'number' ? { status: injected } : injected;
      incoming.resume();
      outgoing.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
      return;
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forward);
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
