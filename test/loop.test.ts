/** --schedule: the croner loop under a real clock, against the simulator and a real Pushgateway. */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { runCli, startCli } from './helpers/cli.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
before(async () => {
  pushgateway = await startPushgateway();
  stick = await startSimulator({ variant: 'T2SG' });
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close()]);
});

const everySecond = '* * * * * *';
const runLine = /^stick loop-\w+ \(127\.0\.0\.1:\d+\): read \d+ samples in \d+ ms; pushed$/m;
const count = (pattern: RegExp, text: string) => (text.match(new RegExp(pattern.source, 'gm')) ?? []).length;

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
  const loop = await startCli(['-t', `loop-b=${stick.url}`, '-g', pushgateway.url, '-s', everySecond]);
  await loop.waitFor(runLine);
  assert.deepEqual(await loop.stop('SIGINT'), { code: 0, signal: null });
});

test('a stick that never answers does not make runs pile up', async () => {
  // Accepts connections and says nothing: each run waits for its timeout.
  const sockets: Socket[] = [];
  const hung = createServer((socket) => {
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const { port } = hung.address() as { port: number };
  try {
    const loop = await startCli([
      '-t',
      `hung=127.0.0.1:${port}`,
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
    assert.ok(sockets.length <= runs + 1, `${sockets.length} connections for ${runs} finished runs`);
    const group = await pushgateway.group({ job: 'trucki', instance: 'hung' });
    assert.equal(sampleValue(group, 'trucki_up'), 0);
  } finally {
    for (const socket of sockets) socket.destroy();
    hung.close();
  }
});

test("--delete-on-exit removes the sticks' groups when stopped", async () => {
  const loop = await startCli(
    ['-t', `loop-c=${stick.url},loop-d=${stick.url}`, '-g', pushgateway.url, '-s', everySecond],
    { env: { PUSHGATEWAY_DELETE_ON_EXIT: 'true' } },
  );
  await loop.waitFor(/stick loop-c .*pushed[^]*stick loop-d .*pushed|stick loop-d .*pushed[^]*stick loop-c .*pushed/);
  assert.ok(await pushgateway.group({ job: 'trucki', instance: 'loop-c' }), 'group was never pushed');
  assert.deepEqual(await loop.stop(), { code: 0, signal: null });
  assert.equal(await pushgateway.group({ job: 'trucki', instance: 'loop-c' }), undefined);
  assert.equal(await pushgateway.group({ job: 'trucki', instance: 'loop-d' }), undefined);
  assert.match(loop.stderr(), /stick loop-c: deleted its group/);
});

test('an invalid pattern is a usage error that names the option and shows an example', async () => {
  const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--schedule', '*/15 * *']);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /--schedule \/ SCHEDULE "\*\/15 \* \*" is not a cron pattern of 5 or 6 fields.*e\.g\. "\*\/15 \* \* \* \* \*"/,
  );
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
  const loop = await startCli(['-t', stick.url, '-g', pushgateway.url, '-s', '0 7 * * *', '--timezone', 'Asia/Tokyo']);
  await loop.waitFor(/next run/);
  assert.match(loop.stderr(), /next run \d{4}-\d\d-\d\dT22:00:00\.000Z/);
  assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
});

test('--delete-on-exit without a schedule is a usage error', async () => {
  const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--delete-on-exit']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--delete-on-exit applies only to a --schedule loop/);
});

test('in loop mode too, a stick that goes away leaves up 0, no readings and its last success', async () => {
  const leaving = await startSimulator({ variant: 'T2SG' });
  const loop = await startCli([
    '-t',
    `leaving=${leaving.url}`,
    '-g',
    pushgateway.url,
    '-s',
    everySecond,
    '--retries',
    '0',
    '--timeout',
    '500',
  ]);
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
