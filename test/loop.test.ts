/**
 * --schedule: the loop. In-process under driven timers, the schedule keeps each stick on its own
 * cadence; against the bundle, the simulator and a real Pushgateway: a stick that never answers
 * holds up no other and piles up no runs, signals stop it with status 0, --delete-on-exit, a stick
 * that fails keeps its last success and gets its identity on a later run, and the pattern's errors.
 * Where the cron pattern is not what a test is about, the bundle ticks on its test ticker
 * (`quickTicks`), so that the test waits for runs, not for seconds.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Target } from '../src/config/types.js';
import { startSchedule } from '../src/schedule.js';
import { livePayload, oncePayload } from '../src/simulator/payload.js';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { quickTicks, runCli, startCli } from './helpers/cli.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';
import { until } from './helpers/until.js';

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
  test('a slow stick skips its ticks while a quick one runs on every tick: exactly, over 30 ticks', async (t) => {
    // Croner reads the time from Date and waits with setTimeout: both are driven here, no second passes.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const runs = { quick: 0, slow: 0 };
    const lines: string[] = [];
    const targets = [target('quick'), target('slow')];
    const stopped = startSchedule(
      async (due, onStickDone) => {
        await Promise.all(
          due.map(async (stick) => {
            runs[stick.instance as keyof typeof runs]++;
            if (stick.instance === 'slow') await new Promise((resolve) => setTimeout(resolve, 2500));
            onStickDone?.(stick);
          }),
        );
        return 'ok' as const;
      },
      { pattern: everySecond, log: (line) => lines.push(line), targets: () => targets },
    );
    // In steps of 100 ms, letting the promises of the runs settle after each: one tick() fires every
    // timer it passes before any promise settles, which no real clock does.
    for (let step = 1; step <= 300; step++) {
      t.mock.timers.tick(100);
      await settle();
    }
    process.emit('SIGTERM', 'SIGTERM');
    t.mock.timers.tick(2500);
    await stopped;
    // Ticks at 1, 2, ... 30 s: the quick stick on each; the slow one at 1, 4, ... 28 s (busy 2.5 s each time).
    assert.equal(runs.quick, 30);
    assert.equal(runs.slow, 10);
    const skipped = lines.filter((line) => /^stick \w+: skipped the run due at /.test(line));
    assert.equal(skipped.length, 10, lines.join('\n'));
    for (const line of skipped)
      assert.match(line, /^stick slow: skipped the run due at .* is still busy; skipping until it ends$/);
  });

  test('a stick is busy by its identity: the same instance with other labels runs beside it (issue 15.4)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const at = (site: string): Target => ({
      url: new URL('http://roof.test/'),
      instance: 'roof',
      labels: [['site', site]],
    });
    let targets = [at('berlin')];
    const started: string[] = [];
    const lines: string[] = [];
    const stopped = startSchedule(
      async (due, onStickDone) => {
        await Promise.all(
          due.map(async (stick) => {
            started.push(stick.labels[0]![1]);
            // Berlin's read hangs for 10 s; Hamburg's is quick.
            if (stick.labels[0]![1] === 'berlin') await new Promise((resolve) => setTimeout(resolve, 10_000));
            onStickDone?.(stick);
          }),
        );
        return 'ok' as const;
      },
      { pattern: everySecond, log: (line) => lines.push(line), targets: () => targets },
    );
    for (let step = 1; step <= 50; step++) {
      // Berlin replaced by Hamburg in the targets file after its first run started (at 1 s).
      if (step === 15) targets = [at('hamburg')];
      t.mock.timers.tick(100);
      await settle();
    }
    process.emit('SIGTERM', 'SIGTERM');
    t.mock.timers.tick(10_000);
    await stopped;
    // Ticks at 1 s (Berlin) and 2, 3, 4, 5 s (Hamburg, while Berlin's run still hangs).
    assert.deepEqual(started, ['berlin', 'hamburg', 'hamburg', 'hamburg', 'hamburg'], lines.join('\n'));
    assert.ok(!lines.some((line) => /skipped/.test(line)), lines.join('\n'));
  });

  test('a healthy stick is pushed on every tick while one that never answers waits for its timeout (issue 9.6)', async () => {
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
    const loop = await startCli(['-t', `loop-a=${stick.url}`, '-g', pushgateway.url, '--schedule', everySecond]);
    await loop.waitFor(/(read \d+ samples.*\n[^]*){3}/);
    const ended = await loop.stop('SIGTERM');
    assert.deepEqual(ended, { code: 0, signal: null }, loop.stderr());
    assert.ok(count(runLine, loop.stderr()) >= 3, loop.stderr());
    assert.match(loop.stderr(), /SIGTERM: stopping after the run in flight/);
    const group = await pushgateway.group({ job: 'trucki', instance: 'loop-a' });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
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

  test('a stick whose /jsononce failed at first gets trucki_stick_info on the next run (issue 9.7)', async () => {
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

  test('a pattern that never fires (0 0 30 2 *): exit 2 naming the pattern (issue 9.9)', async () => {
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
