/**
 * --schedule: the loop against the bundle, the simulator and a real Pushgateway (in-process, under
 * driven timers: test/unit/loop.test.ts): a stick that never answers
 * holds up no other and piles up no runs, signals stop it with status 0, --delete-on-exit, a stick
 * that fails keeps its last success and gets its identity on a later run, and the pattern's errors.
 * Where the cron pattern is not what a test is about, the bundle ticks on its test ticker
 * (`quickTicks`), so that the test waits for runs, not for seconds.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { livePayload, oncePayload } from '../../src/simulator/payload.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { quickTicks, runCli, startCli } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { until } from '../helpers/until.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
before(async () => {
  [pushgateway, stick] = await Promise.all([startPushgateway(), startSimulator({ variant: 'T2SG' })]);
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close()]);
});

const everySecond = '* * * * * *';
const runLine = /^stick loop-\w+ \(127\.0\.0\.1:\d+\): read \d+ samples in (?:\d+ ms|\d+\.\d s); pushed$/m;
const count = (pattern: RegExp, text: string) => (text.match(new RegExp(pattern.source, 'gm')) ?? []).length;

/** A server that accepts connections and says nothing: each run of a stick there waits for its timeout. */
async function startHungStick() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('each stick on its own cadence', () => {
  test('a healthy stick is pushed on every tick while one that never answers waits for its timeout', async () => {
    const hung = await startHungStick();
    try {
      const loop = await startCli([
        '-t',
        `cadence-healthy=${stick.url},cadence-hung=${hung.address}`,
        '-g',
        pushgateway.url,
        '-s',
        everySecond,
        '--timeout',
        '5000',
        '--retries',
        '0',
        '--verbose',
      ]);
      try {
        const hungFailed = /^stick cadence-hung .*failed, timed out after 5 s/m;
        await loop.waitFor(hungFailed, 20_000);
        const untilHungFailed = loop.stderr().slice(0, loop.stderr().search(hungFailed));
        const pushed = count(/^stick cadence-healthy .*; pushed$/, untilHungFailed);
        // The hung stick's first run took 5 s, five ticks of the pattern; had it held up the loop, the
        // healthy stick would have been pushed once in that time.
        assert.ok(
          pushed >= 3,
          `the healthy stick was pushed ${pushed} times while the hung one waited\n${loop.stderr()}`,
        );
      } finally {
        assert.deepEqual(await loop.stop(), { code: 0, signal: null });
      }
    } finally {
      hung.close();
    }
  });
});

describe('stopping', { concurrency: true }, () => {
  test('runs every second, pushes each time, and SIGTERM ends it with status 0', async () => {
    const loop = await startCli([
      '-t',
      `loop-a=${stick.url}`,
      '-g',
      pushgateway.url,
      '--schedule',
      everySecond,
      '--verbose',
    ]);
    await loop.waitFor(/(read \d+ samples.*\n[^]*){3}/);
    const ended = await loop.stop('SIGTERM');
    assert.deepEqual(ended, { code: 0, signal: null }, loop.stderr());
    assert.ok(count(runLine, loop.stderr()) >= 3, loop.stderr());
    assert.match(loop.stderr(), /SIGTERM: stopping after the run in flight/);
    const group = await pushgateway.group({ job: 'trucki', instance: 'loop-a' });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
  });

  test('the first line of a loop names the version, as --version does', async () => {
    const { stdout } = await runCli(['--version']);
    const loop = await startCli(['-t', `loop-v=${stick.url}`, '--stdout', '-s', everySecond], { env: quickTicks });
    try {
      await loop.waitFor(/scheduled on/);
      assert.match(stdout, /^trucki2pushgateway \d+\.\d+\.\d+\S*\n$/);
      assert.equal(loop.stderr().split('\n')[0]!.split(': ')[0], stdout.trim());
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    }
  });

  test('SIGINT also ends it with status 0', async () => {
    const loop = await startCli(['-t', `loop-b=${stick.url}`, '-g', pushgateway.url, '-s', everySecond], {
      env: quickTicks,
    });
    await loop.waitFor(runLine);
    assert.deepEqual(await loop.stop('SIGINT'), { code: 0, signal: null });
  });

  test("--delete-on-exit removes the sticks' groups when stopped", async () => {
    const loop = await startCli(
      ['-t', `loop-c=${stick.url},loop-d=${stick.url}`, '-g', pushgateway.url, '-s', everySecond],
      { env: { PUSHGATEWAY_DELETE_ON_EXIT: 'true', ...quickTicks } },
    );
    await loop.waitFor(/stick loop-c .*pushed[^]*stick loop-d .*pushed|stick loop-d .*pushed[^]*stick loop-c .*pushed/);
    assert.ok(await pushgateway.group({ job: 'trucki', instance: 'loop-c' }), 'group was never pushed');
    assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    assert.equal(await pushgateway.group({ job: 'trucki', instance: 'loop-c' }), undefined);
    assert.equal(await pushgateway.group({ job: 'trucki', instance: 'loop-d' }), undefined);
    assert.match(loop.stderr(), /stick loop-c: deleted its group/);
  });
});

describe('a stick that fails', { concurrency: true }, () => {
  test('a stick that never answers does not make runs pile up', async () => {
    const hung = await startHungStick();
    try {
      const loop = await startCli([
        '-t',
        `hung=${hung.address}`,
        '-g',
        pushgateway.url,
        '-s',
        everySecond,
        '--timeout',
        '2500',
        '--retries',
        '0',
        '--verbose',
      ]);
      await loop.waitFor(/failed, timed out after 2\.5 s[^]*failed, timed out after 2\.5 s/, 20_000);
      const ended = await loop.stop();
      assert.deepEqual(ended, { code: 0, signal: null });
      const skipped = count(/skipped the run due at/, loop.stderr());
      const runs = count(/^stick hung/, loop.stderr());
      // About 5 s went by on a 1 s pattern: without protection there would be ~5 runs at once.
      assert.ok(skipped >= 2, loop.stderr());
      assert.ok(hung.sockets.length <= runs + 1, `${hung.sockets.length} connections for ${runs} finished runs`);
      const group = await pushgateway.group({ job: 'trucki', instance: 'hung' });
      assert.equal(sampleValue(group, 'trucki_up'), 0);
    } finally {
      hung.close();
    }
  });

  test('a stick that goes away leaves up 0, no readings and its last success', async () => {
    const leaving = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      ['-t', `leaving=${leaving.url}`, '-g', pushgateway.url, '-s', everySecond, '--retries', '0', '--timeout', '500'],
      { env: quickTicks },
    );
    try {
      await loop.waitFor(/stick leaving .*pushed$/m);
      await leaving.close();
      const beforeFailure = sampleValue(
        await pushgateway.group({ job: 'trucki', instance: 'leaving' }),
        'trucki_last_success_timestamp_seconds',
      );
      await loop.waitFor(/stick leaving .*failed, refused the connection.*pushed trucki_up 0/);
      const group = await pushgateway.group({ job: 'trucki', instance: 'leaving' });
      assert.equal(sampleValue(group, 'trucki_up'), 0);
      assert.equal(sampleValue(group, 'trucki_grid_voltage_volts'), undefined);
      const last = sampleValue(group, 'trucki_last_success_timestamp_seconds');
      assert.ok(
        beforeFailure !== undefined && last !== undefined && last >= beforeFailure && last < Date.now() / 1000,
        `${beforeFailure} → ${last}`,
      );
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null });
    }
  });

  test('a stick whose /jsononce failed at first gets trucki_stick_info on the next run', async () => {
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
      const loop = await startCli(
        ['-t', `late-identity=127.0.0.1:${port}`, '-g', pushgateway.url, '-s', everySecond, '--retries', '0'],
        { env: quickTicks },
      );
      try {
        await loop.waitFor(/identity not read/);
        // The next runs: within a few ticks the identity must be there.
        const info = await until(
          async () =>
            sampleValue(await pushgateway.group({ job: 'trucki', instance: 'late-identity' }), 'trucki_stick_info', {
              variant: 'T2SG',
            }),
          {
            what: 'trucki_stick_info after the stick came up',
            last: () => `/jsononce asked ${onceRequests} times\n${loop.stderr()}`,
          },
        );
        assert.equal(info, 1);
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

describe('the pattern', { concurrency: true }, () => {
  test('an invalid pattern is a usage error that names the option and shows an example', async () => {
    const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--schedule', '*/15 * *']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--schedule \/ SCHEDULE "\*\/15 \* \*" is not a cron pattern of 5 or 6 fields.*e\.g\. "\*\/15 \* \* \* \* \*"/,
    );
  });

  test('a pattern that never fires (0 0 30 2 *): exit 2 naming the pattern', async () => {
    const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--schedule', '0 0 30 2 *'], {
      timeoutMs: 10_000,
    });
    assert.equal(result.code, 2, `${result.signal ?? ''} ${result.stderr}`);
    assert.match(result.stderr, /"0 0 30 2 \*"/);
    assert.match(result.stderr, /never fires/);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace');
  });

  test('an unknown time zone is a usage error', async () => {
    const result = await runCli([
      '-t',
      stick.url,
      '-g',
      pushgateway.url,
      '-s',
      '0 * * * *',
      '--timezone',
      'Mars/Olympus',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timezone "Mars\/Olympus" is not a time zone name/);
  });

  test('--timezone is honoured for calendar patterns', async () => {
    // 07:00 every day in Tokyo is 22:00 UTC; the log line announces the next run in UTC.
    const loop = await startCli([
      '-t',
      stick.url,
      '-g',
      pushgateway.url,
      '-s',
      '0 7 * * *',
      '--timezone',
      'Asia/Tokyo',
    ]);
    await loop.waitFor(/next run/);
    assert.match(loop.stderr(), /next run \d{4}-\d\d-\d\dT22:00:00\.000Z/);
    assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
  });

  test('--delete-on-exit without a schedule is a usage error', async () => {
    const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--delete-on-exit']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--delete-on-exit applies only to a --schedule loop/);
  });
});

describe('a quiet loop', { concurrency: true }, () => {
  /** A stick that serves the simulator's payloads, or HTTP 503 while `down`. */
  async function startFlakyStick() {
    const state = { down: false };
    const server = createHttpServer((request, response) => {
      const body =
        request.url === '/jsonlive'
          ? livePayload('T2SG', 0)
          : request.url === '/jsononce'
            ? oncePayload('T2SG')
            : undefined;
      if (state.down || body === undefined) {
        response.writeHead(state.down ? 503 : 404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      state,
      address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
  const linesOf = (instance: string, log: string) =>
    log.split('\n').filter((line) => line.startsWith(`stick ${instance} `));

  test('3 sticks over 20 ticks: a line at first read, one when a stick goes down and one when it is back; one per outage of the store', async () => {
    const flaky = await startFlakyStick();
    const store = { failing: false };
    const proxy = await startProxy(pushgateway.url, {
      fail: ({ method }) => (store.failing && method === 'PUT' ? 503 : undefined),
    });
    const puts = (instance: string) =>
      proxy.seen.filter(({ method, url }) => method === 'PUT' && url.endsWith(`/instance/${instance}`)).length;
    const ticks = async (n: number) => {
      const target = puts('quiet-c') + n;
      await until(() => puts('quiet-c') >= target, { what: `${n} more runs`, last: () => loop.stderr() });
    };
    const loop = await startCli(
      ['-t', `quiet-a=${stick.url},quiet-b=${stick.url},quiet-c=${flaky.address}`, '-g', proxy.url, '-s', everySecond],
      { env: { ...quickTicks, TRUCKI_RETRIES: '0' } },
    );
    try {
      await ticks(5);
      flaky.state.down = true;
      await ticks(5);
      flaky.state.down = false;
      await ticks(5);
      store.failing = true;
      await ticks(3);
      store.failing = false;
      await ticks(2);
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      await proxy.close();
      flaky.close();
    }
    const log = loop.stderr();
    assert.ok(puts('quiet-a') >= 20, `${puts('quiet-a')} runs`);
    for (const quiet of ['quiet-a', 'quiet-b']) {
      const lines = linesOf(quiet, log);
      // Its first read; and the store's outage, once for all sticks, may have started with this stick's push.
      assert.ok(lines.length >= 1 && lines.length <= 2, log);
      assert.match(lines[0]!, /: read \d+ samples in .*; pushed$/);
    }
    const flakyLines = linesOf('quiet-c', log);
    const withoutOutage = flakyLines.filter((line) => !/not pushed/.test(line));
    assert.equal(withoutOutage.length, 3, log);
    assert.match(withoutOutage[0]!, /: read \d+ samples in .*; pushed$/);
    assert.match(withoutOutage[1]!, /: failed, answered HTTP 503 .*; pushed trucki_up 0$/);
    assert.match(withoutOutage[2]!, /: read \d+ samples in .*; pushed$/);
    const outage = log.split('\n').filter((line) => /not pushed/.test(line));
    assert.equal(outage.length, 1, log);
    assert.match(outage[0]!, /HTTP 503.*\(further delivery failures are not logged until deliveries succeed again\)$/);
    assert.match(log, /^deliveries succeed again \(\d+ failed since \d{4}-.*Z\)$/m);
  });

  test('--verbose: every stick on every run', async () => {
    const proxy = await startProxy(pushgateway.url);
    const puts = (instance: string) =>
      proxy.seen.filter(({ method, url }) => method === 'PUT' && url.endsWith(`/instance/${instance}`)).length;
    const loop = await startCli(
      [
        '-t',
        `loud-a=${stick.url},loud-b=${stick.url},loud-c=${stick.url}`,
        '-g',
        proxy.url,
        '-s',
        everySecond,
        '--verbose',
      ],
      { env: quickTicks },
    );
    try {
      await until(() => puts('loud-c') >= 20, { what: '20 runs' });
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      await proxy.close();
    }
    for (const loud of ['loud-a', 'loud-b', 'loud-c']) {
      assert.equal(linesOf(loud, loop.stderr()).length, puts(loud), loop.stderr());
    }
  });
});
