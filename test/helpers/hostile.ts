/**
 * Sticks that misbehave, served by the tests: each answers every request in one bad way and
 * counts the requests, so that a test can tell retried failures from final ones.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const misbehaviours = {
  'status 500': (_request, response) => {
    response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
  },
  'HTML login page with status 200': (_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!DOCTYPE html><html><body><form>Password: <input type="password"></form></body></html>');
  },
  'truncated JSON': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"VGRID": 234.2, "ACPOWER": "880.');
  },
  'connection reset': (request) => {
    request.socket.resetAndDestroy();
  },
  'never answers': () => {
    /* holds the connection open, says nothing */
  },
  'endless body': (_request, response) => {
    endlessBody(response.writeHead(200, { 'content-type': 'application/json' }), '{"VGRID":');
  },
  // got reads a failing answer's body for its error: the bound holds there too.
  'status 500 with an endless body': (_request, response) => {
    endlessBody(response.writeHead(500, { 'content-type': 'text/plain' }));
  },
  'JSON array': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('[{"VGRID": 234.2}]');
  },
  'JSON string': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('"VGRID 234.2"');
  },
  // Another device at the stick's address, e.g. after a DHCP change: valid JSON, no Trucki key.
  "a smart plug's JSON": (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ison":true,"apower":12.5}');
  },
  'invalid UTF-8': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      Buffer.concat([
        Buffer.from('{"WIFI": "CONN'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('ECTED", "VGRID": 234.2}'),
      ]),
    );
  },
} satisfies Record<string, (request: IncomingMessage, response: ServerResponse) => void>;

/**
 * `start`, then `chunk` (64 KiB of spaces) again and again for as long as the client reads; or until
 * `cutAfter` bytes, when the connection is cut (a client without a bound then fails, not hangs).
 */
export function endlessBody(
  response: ServerResponse,
  start = '',
  chunk = Buffer.alloc(64 * 1024, 0x20),
  cutAfter = Infinity,
): void {
  let sent = 0;
  const pump = () => {
    while (!response.destroyed && response.write(chunk)) {
      sent += chunk.length;
      if (sent > cutAfter) response.destroy();
    }
  };
  response.on('drain', pump);
  response.write(start);
  pump();
}

export type Misbehaviour = keyof typeof misbehaviours;

export interface HostileStick {
  readonly url: string;
  /** "GET /jsonlive" per request received. */
  readonly requests: string[];
  readonly close: () => Promise<void>;
}

export async function startHostileStick(kind: Misbehaviour): Promise<HostileStick> {
  return startScripted((request, response) => {
    misbehaviours[kind](request, response);
  });
}

export interface Scripted extends HostileStick {
  /** The bytes it has sent so far, on every connection. */
  readonly sent: () => number;
}

/** A server that answers each request (the `index`th, from 0) as `answer` does. */
export async function startScripted(
  answer: (request: IncomingMessage, response: ServerResponse, index: number) => void,
): Promise<Scripted> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let closedSent = 0;
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    answer(request, response, requests.length - 1);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      closedSent += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent: () => [...sockets].reduce((sum, socket) => sum + socket.bytesWritten, closedSent),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
