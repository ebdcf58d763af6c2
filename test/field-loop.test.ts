/**
 * Issue 9, items 6 and 7, in loop mode under a real clock: each stick keeps its own cadence beside
 * one that never answers, and a failed /jsononce read is retried on the next run, not cached.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { livePayload, oncePayload } from '../src/simulator/payload.js';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { startCli } from './helpers/cli.js';
import { startProxy } from './helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
before(async () => {
  [pushgateway, stick] = await Promise.all([startPushgateway(), startSimulator({ variant: 'T2SG' })]);
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('loop mode', { concurrency: true }, () => {
  test('6. a healthy stick is pushed on >= 90 % of the ticks over 30 s beside a stick that never answers', async () => {
    // Accepts connections and says nothing: each of its runs waits for the timeout.
    const sockets: Socket[] = [];
    const hung = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxy(pushgateway.url);
    const healthyPushes = () =>
      proxy.seen.filter(({ method, url }) => method === 'PUT' && url.endsWith('/instance/cadence-healthy')).length;
    try {
      const { port } = hung.address() as AddressInfo;
      const loop = await startCli([
        '-t',
        `cadence-healthy=${stick.url},cadence-hung=127.0.0.1:${port}`,
        '-g',
        proxy.url,
        '-s',
        '* * * * * *',
        '--timeout',
        '5000',
      ]);
      try {
        await loop.waitFor(/^scheduled on/m);
        const before = healthyPushes();
        const seconds = 30;
        await sleep(seconds * 1000);
        const pushed = healthyPushes() - before;
        // A 1 s pattern fires `seconds` times in that window, give or take the one at its edge.
        assert.ok(
          pushed >= Math.floor(0.9 * seconds),
          `the healthy stick was pushed ${pushed} times in ${seconds} s\n${loop.stderr().slice(-3000)}`,
        );
        assert.match(loop.stderr(), /stick cadence-hung .*failed, timed out/);
      } finally {
        assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
      await proxy.close();
    }
  });

  test('7. a stick whose /jsononce failed at first gets trucki_stick_info on the next run', async () => {
    // Fails /jsononce for its first request, then serves the simulator's payloads.
    let onceRequests = 0;
    const late = createHttpServer((request, response) => {
      let body: unknown;
      if (request.url === '/jsonlive') body = livePayload('T2SG', 0);
      else if (request.url === '/jsononce' && ++onceRequests > 1) body = oncePayload('T2SG');
      if (body === undefined) {
        response.writeHead(request.url === '/jsononce' ? 503 : 404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
    const { port } = late.address() as AddressInfo;
    try {
      const loop = await startCli([
        '-t',
        `late-identity=127.0.0.1:${port}`,
        '-g',
        pushgateway.url,
        '-s',
        '* * * * * *',
        '--retries',
        '0',
      ]);
      try {
        await loop.waitFor(/identity not read/);
        // The next runs: within a few ticks the identity must be there.
        const deadline = Date.now() + 6000;
        let info: number | undefined;
        while (Date.now() < deadline && info === undefined) {
          await sleep(500);
          info = sampleValue(
            await pushgateway.group({ job: 'trucki', instance: 'late-identity' }),
            'trucki_stick_info',
            { variant: 'T2SG' },
          );
        }
        assert.equal(
          info,
          1,
          `no trucki_stick_info after the stick came up (/jsononce asked ${onceRequests} times)\n${loop.stderr()}`,
        );
        assert.ok(onceRequests >= 2);
      } finally {
        assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      }
    } finally {
      late.closeAllConnections();
      late.close();
    }
  });
});
