/** The simulated stick on HTTP: GET /jsonlive and /jsononce; everything else is 404 and recorded. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { livePayload, oncePayload, type Variant } from './payload.js';

export interface SimulatorOptions {
  readonly variant: Variant;
  readonly clock?: () => number; // seconds since the stick booted; default: the real clock
  readonly delayMs?: number; // to play a slow stick
  readonly auth?: { readonly username: string; readonly password: string }; // basic auth, as some put before a stick
}

export interface Simulator {
  readonly url: string;
  readonly requests: string[]; // "GET /jsonlive" for every request served, in order
  readonly close: () => Promise<void>;
}

export async function startSimulator(options: SimulatorOptions, port = 0, host = '127.0.0.1'): Promise<Simulator> {
  const booted = performance.now();
  const clock = options.clock ?? (() => (performance.now() - booted) / 1000);
  const requests: string[] = [];
  const routes = new Map([
    ['GET /jsonlive', () => livePayload(options.variant, clock())],
    ['GET /jsononce', () => oncePayload(options.variant)],
  ]);

  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const expected =
      options.auth && `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
    if (expected && request.headers.authorization !== expected) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="trucki"' }).end();
      return;
    }
    const respond = () => {
      const body = routes.get(`${request.method} ${request.url}`)?.();
      if (body) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      else response.writeHead(404).end();
    };
    if (options.delayMs) setTimeout(respond, options.delayMs);
    else respond();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    // An IPv6 address goes in brackets in a URL: http://[::1]:8081.
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
