/**
 * The last success of a failed stick, read back from a real Pushgateway: many sticks failing at
 * once beside many groups (issue 9.3) are each replaced by trucki_up 0 with its last success and no
 * reading, in one run, from at most one read-back request; when that read-back fails, floods,
 * redirects or answers HTML, the groups are still replaced and the log says it in words.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { endlessBody } from '../helpers/hostile.js';
import { startProxy } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { healthyExposition, onlyFamilies, putGroup, withLastSuccess } from '../helpers/seed.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
let healthy: string;
before(async () => {
  [pushgateway, stick] = await Promise.all([startPushgateway(), startSimulator({ variant: 'T2SG' })]);
  // A few families of a real healthy push: the Pushgateway checks every push against all it holds,
  // so 600 full groups would make this test slow without making it any stricter.
  healthy = onlyFamilies(await healthyExposition(stick.url), [
    'trucki_up',
    'trucki_grid_voltage_volts',
    'trucki_last_success_timestamp_seconds',
    'trucki_ac_power_watts',
  ]);
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close()]);
});

/** Runs `task` on each item, at most `n` at once. */
async function eachLimited<T>(items: readonly T[], n: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const lastSuccessOf = (index: number) => 1_700_000_000 + index;

test('300 sticks failing at once beside 300 other groups: all trucki_up 0, last success kept, one read-back', async (t) => {
  const started = performance.now();
  const failing = Array.from({ length: 300 }, (_, index) => index);
  // 600 groups: the 300 failing sticks' earlier healthy pushes, and 300 groups of other sticks.
  await eachLimited(
    [
      ...failing.map((index) => ({ name: `load-${index}`, last: lastSuccessOf(index) })),
      ...failing.map((index) => ({ name: `other-${index}`, last: 1_600_000_000 })),
    ],
    8,
    ({ name, last }) =>
      putGroup(pushgateway.url, `/metrics/job/trucki/instance/${name}`, withLastSuccess(healthy, last)),
  );
  assert.equal((await pushgateway.groups()).length, 600);
  t.diagnostic(`seeded 600 groups in ${Math.round(performance.now() - started)} ms`);

  const proxy = await startProxy(pushgateway.url);
  try {
    // Nothing listens there: every stick's connection is refused at once.
    const dead = '127.0.0.1:9';
    const targets = failing.map((index) => `load-${index}=${dead}`).join(',');
    const result = await runCli(['-t', targets, '-g', proxy.url, '--retries', '0'], { timeoutMs: 40_000 });
    t.diagnostic(`the run took ${Math.round(result.wallMs)} ms`);
    assert.equal(result.code, 69, result.stderr.slice(-2000));
    assert.equal(result.signal, null, 'the run did not end in time');
    const gets = proxy.seen.filter(({ method }) => method === 'GET');
    assert.ok(
      gets.filter(({ url }) => url.startsWith('/api/v1/metrics')).length <= 2,
      `${gets.length} GETs of /api/v1/metrics`,
    );
    assert.ok(gets.length <= 1, `${gets.length} read-back requests: ${gets.map(({ url }) => url).join(' ')}`);
    assert.equal(proxy.seen.filter(({ method }) => method === 'PUT').length, 300);
  } finally {
    await proxy.close();
  }

  const groups = new Map((await pushgateway.groups()).map((group) => [group.labels.instance, group]));
  assert.equal(groups.size, 600);
  const wrong = failing.flatMap((index) => {
    const group = groups.get(`load-${index}`);
    const up = sampleValue(group, 'trucki_up');
    const reading = sampleValue(group, 'trucki_grid_voltage_volts');
    const last = sampleValue(group, 'trucki_last_success_timestamp_seconds');
    return up === 0 && reading === undefined && last === lastSuccessOf(index)
      ? []
      : [`load-${index}: up ${up}, reading ${reading}, last ${last}`];
  });
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of 300 groups wrong`);
  // The other sticks' groups were left alone.
  assert.equal(sampleValue(groups.get('other-7'), 'trucki_up'), 1);
});

test('a failed read-back still replaces the groups with trucki_up 0 and says the last success was lost', async () => {
  const names = ['lost-a', 'lost-b', 'lost-c'];
  await Promise.all(
    names.map((name) =>
      putGroup(pushgateway.url, `/metrics/job/trucki/instance/${name}`, withLastSuccess(healthy, 1_650_000_000)),
    ),
  );
  const proxy = await startProxy(pushgateway.url, { fail: ({ method }) => (method === 'GET' ? 500 : undefined) });
  try {
    const dead = '127.0.0.1:9';
    const result = await runCli(
      ['-t', names.map((name) => `${name}=${dead}`).join(','), '-g', proxy.url, '--retries', '0'],
      { timeoutMs: 30_000 },
    );
    assert.equal(result.code, 69, result.stderr);
    assert.equal((result.stderr.match(/last success lost/g) ?? []).length, 3, result.stderr);
    for (const name of names) {
      const group = await pushgateway.group({ job: 'trucki', instance: name });
      assert.equal(sampleValue(group, 'trucki_up'), 0, `${name}: the stale trucki_up 1 survived`);
      assert.equal(sampleValue(group, 'trucki_grid_voltage_volts'), undefined, `${name}: a stale reading survived`);
    }
  } finally {
    await proxy.close();
  }
});

test('a read-back that floods (no line breaks, then endless lines) stays small in memory and ends in one line', async () => {
  for (const lines of [false, true]) {
    const chunk = Buffer.alloc(1 << 20, lines ? 'trucki_other{a="b"} 1\n' : 'x');
    const { createServer } = await import('node:http');
    const flood = createServer((request, response) => {
      if (request.method !== 'GET') {
        request.resume();
        response.writeHead(200).end();
        return;
      }
      endlessBody(response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }), '', chunk);
    });
    await new Promise<void>((resolve) => flood.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = flood.address() as { port: number };
      const result = await runCli(
        ['-t', '127.0.0.1:9', '-g', `http://127.0.0.1:${String(port)}`, '--retries', '0', '--timeout', '20000'],
        {
          measure: true,
        },
      );
      assert.equal(result.code, 69, result.stderr);
      assert.match(
        result.stderr,
        /last success lost: Pushgateway .* sent more than 256 MiB on \/metrics when asked for the last successes; pushed trucki_up 0\n$/,
      );
      // Before the fix the job held the whole answer: 561 MiB at 100 MB/s, 857 MB without line breaks.
      assert.ok(
        result.peakRssMiB !== undefined && result.peakRssMiB < 200,
        `peak RSS ${String(result.peakRssMiB)} MiB`,
      );
    } finally {
      flood.closeAllConnections();
      flood.close();
    }
  }
});

test('a redirect of the read-back is no last success: the group still gets trucki_up 0', async () => {
  const instance = 'redirected-read-back';
  await putGroup(
    pushgateway.url,
    `/metrics/job/trucki/instance/${instance}`,
    withLastSuccess(await healthyExposition(stick.url), 1700000000),
  );
  const proxy = await startProxy(pushgateway.url, {
    fail: ({ method }) =>
      method === 'GET' ? { status: 302, headers: { location: 'http://moved.example/login' } } : undefined,
  });
  try {
    const result = await runCli(['-t', `${instance}=127.0.0.1:9`, '-g', proxy.url, '--retries', '0']);
    assert.equal(result.code, 69, result.stderr);
    assert.match(result.stderr, /redirect/i);
    const group = await pushgateway.group({ job: 'trucki', instance });
    assert.equal(sampleValue(group, 'trucki_up'), 0, 'the stale trucki_up 1 survived');
    assert.equal(sampleValue(group, 'trucki_grid_voltage_volts'), undefined, 'a stale reading survived');
  } finally {
    await proxy.close();
  }
});

test('HTML from the read-back: words, no ERR_BODY_PARSE_FAILURE', async () => {
  const proxy = await startProxy(pushgateway.url, {
    fail: ({ method }) =>
      method === 'GET'
        ? {
            status: 200,
            headers: { 'content-type': 'text/html' },
            body: '<!DOCTYPE html><html><body>Login</body></html>',
          }
        : undefined,
  });
  try {
    const result = await runCli(['-t', 'html-read-back=127.0.0.1:9', '-g', proxy.url, '--retries', '0']);
    assert.equal(result.code, 69, result.stderr);
    assert.doesNotMatch(result.stderr, /ERR_BODY_PARSE_FAILURE|Unexpected token/);
    assert.match(result.stderr, /text\/html.*base URL/);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'html-read-back' }), 'trucki_up'), 0);
  } finally {
    await proxy.close();
  }
});
