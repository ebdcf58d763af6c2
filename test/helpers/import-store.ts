/**
 * A VictoriaMetrics stand-in in this process, on loopback: it takes imports and answers each as a
 * test says, counting what it got.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endlessBody } from './hostile.js';

/** What a store in this process makes of an import: hold it unanswered, or answer it. */
export type StoreAnswer =
  'hold' | 'endless' | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string };

export interface TestStore {
  readonly url: string;
  /** Each import's body, in the order they came. */
  readonly bodies: string[];
  /** The most imports open at once so far. */
  readonly maxOpen: () => number;
  /** Answers the held imports with 204, and every later one as `answer` says. */
  readonly release: () => void;
  readonly close: () => Promise<void>;
}

/**
 * A loopback store that misbehaves as `answer` says for the n-th import (0-based) or its body,
 * counting what it got; it has no query API.
 */
export async function startTestStore(answer: (index: number, body: string) => StoreAnswer): Promise<TestStore> {
  const bodies: string[] = [];
  const held: ServerResponse[] = [];
  let open = 0;
  let maxOpen = 0;
  let released = false;
  const server = createServer((request, response) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    response.on('close', () => open--);
    if (!request.url?.startsWith('/api/v1/import/prometheus')) {
      // No query API here: recall is off, and only imports are counted.
      response.writeHead(404).end('unsupported path requested');
      return;
    }
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const index = bodies.push(body) - 1;
      const what = answer(index, body);
      if (what === 'hold' && !released) held.push(response);
      else if (what === 'hold') response.writeHead(204).end();
      else if (what === 'endless') endlessBody(response.writeHead(200, { 'content-type': 'text/plain' }));
      else response.writeHead(what.status, what.headers).end(what.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    bodies,
    maxOpen: () => maxOpen,
    release: () => {
      released = true;
      for (const response of held.splice(0)) response.writeHead(204).end();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
