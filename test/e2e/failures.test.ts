/**
 * What lands on the Pushgateway when things go wrong: never a stale reading, always trucki_up 0,
 * the last success kept, bounded time and memory, and words a user can act on: a redirect is a
 * failure, an https URL for an http server and a URL with /metrics get a hint, not a raw code.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { quickTicks, runCli, startCli } from '../helpers/cli.js';
import { misbehaviours, startHostileStick, type Misbehaviour } from '../helpers/hostile.js';
import { startProxy } from '../helpers/proxy.js';
import { familyNames, sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { freePort } from '../helpers/process.js';

let pushgateway: RunningPushgateway;
before(async () => {
  pushgateway = await startPushgateway();
});
after(() => pushgateway.stop());

const quick = ['--timeout', '1000', '--retries', '1'];
/** Generous room for process start-up and backoff on top of timeout × attempts. */
const slackMs = 4000;

describe('a stick that went away', () => {
  let stick: Simulator;
  before(async () => {
    stick = await startSimulator({ variant: 'T2SG' });
  });
  after(() => stick.close());

  test('its group keeps trucki_up 0 and the old last success, and no reading survives', async () => {
    const first = await runCli(['-t', `night=${stick.url}`, '-g', pushgateway.url]);
    assert.equal(first.code, 0, first.stderr);
    const good = await pushgateway.group({ job: 'trucki', instance: 'night' });
    const lastSuccess = sampleValue(good, 'trucki_last_success_timestamp_seconds');
    assert.ok(
      lastSuccess !== undefined && sampleValue(good, 'trucki_ac_power_watts', { inverter: 'sun1' }) !== undefined,
    );

    await stick.close();
    const second = await runCli(['-t', `night=${stick.url}`, '-g', pushgateway.url, ...quick]);
    assert.equal(second.code, 69);
    assert.match(
      second.stderr,
      /^stick night \(127\.0\.0\.1:\d+\): failed, refused the connection \(2 attempts\); took \d+ ms; pushed trucki_up 0\n$/,
    );
    const down = await pushgateway.group({ job: 'trucki', instance: 'night' });
    assert.equal(sampleValue(down, 'trucki_up'), 0);
    assert.equal(sampleValue(down, 'trucki_last_success_timestamp_seconds'), lastSuccess);
    assert.deepEqual(familyNames(down), [
      'trucki_last_success_timestamp_seconds',
      'trucki_scrape_duration_seconds',
      'trucki_up',
    ]);

    // And a third failed run still carries it over, read back from what the second one pushed.
    const third = await runCli(['-t', `night=${stick.url}`, '-g', pushgateway.url, ...quick]);
    assert.equal(third.code, 69);
    assert.equal(
      sampleValue(
        await pushgateway.group({ job: 'trucki', instance: 'night' }),
        'trucki_last_success_timestamp_seconds',
      ),
      lastSuccess,
    );
  });
});

describe('a hostile stick', () => {
  const expectations: Record<Misbehaviour, { message: RegExp; retried: boolean }> = {
    'status 500': { message: /answered HTTP 500 Internal Server Error \(2 attempts\)/, retried: true },
    'HTML login page with status 200': {
      message: /sent HTML, not JSON \(a login or error page\?\) on \/jsonlive/,
      retried: false,
    },
    'truncated JSON': { message: /sent a body that is not valid JSON on \/jsonlive/, retried: false },
    'connection reset': { message: /closed the connection unexpectedly \(2 attempts\)/, retried: true },
    'never answers': { message: /timed out after 1 s \(2 attempts\)/, retried: true },
    'endless body': { message: /sent more than 1 MiB on \/jsonlive/, retried: false },
    'status 500 with an endless body': { message: /sent more than 1 MiB on \/jsonlive/, retried: false },
    'JSON array': { message: /sent JSON array, not an object on \/jsonlive/, retried: false },
    'JSON string': { message: /sent JSON string, not an object on \/jsonlive/, retried: false },
    'invalid UTF-8': { message: /sent a body that is not valid UTF-8 on \/jsonlive/, retried: false },
    "a smart plug's JSON": {
      message: /answered JSON, but no Trucki key: is this a Trucki stick\? on \/jsonlive;/,
      retried: false,
    },
  };
  for (const kind of Object.keys(misbehaviours) as Misbehaviour[]) {
    test(`${kind}: up 0 pushed, exit 69, one clear line, bounded in time and memory`, async () => {
      const stick = await startHostileStick(kind);
      try {
        const instance = `hostile-${kind.replace(/\W+/g, '-')}`;
        const result = await runCli(['-t', `${instance}=${stick.url}`, '-g', pushgateway.url, ...quick], {
          measure: true,
        });
        assert.equal(result.code, 69, result.stderr);
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0]!, new RegExp(`^stick ${instance} \\(127\\.0\\.0\\.1:\\d+\\): failed, `));
        assert.match(lines[0]!, expectations[kind].message);
        assert.match(lines[0]!, /; pushed trucki_up 0$/);
        assert.doesNotMatch(result.stderr, /at .*\.js:\d+|Error:/, 'no stack trace');
        const group = await pushgateway.group({ job: 'trucki', instance });
        assert.equal(sampleValue(group, 'trucki_up'), 0);
        assert.deepEqual(familyNames(group), ['trucki_scrape_duration_seconds', 'trucki_up']);
        const live = stick.requests.filter((r) => r === 'GET /jsonlive').length;
        assert.equal(live, expectations[kind].retried ? 2 : 1, `GET /jsonlive ${live} times`);
        assert.ok(
          stick.requests.every((r) => r === 'GET /jsonlive' || r === 'GET /jsononce'),
          stick.requests.join(', '),
        );
        assert.ok(result.wallMs < 1000 * 2 + slackMs, `took ${Math.round(result.wallMs)} ms`);
        assert.ok(result.peakRssMiB !== undefined && result.peakRssMiB < 200, `peak RSS ${result.peakRssMiB} MiB`);
      } finally {
        await stick.close();
      }
    });
  }
});

describe('a stick that compresses its answer (gzip, deflate, raw deflate, br)', () => {
  let simulator: Simulator;
  before(async () => {
    simulator = await startSimulator({ variant: 'T2SG' });
  });
  after(() => simulator.close());

  /** The simulator's answers, compressed as `encode` says and sent with that Content-Encoding. */
  async function compressing(encoding: string, encode: (body: Buffer) => Buffer) {
    const server = createServer((request, response) => {
      void fetch(`${simulator.url}${request.url ?? '/'}`)
        .then(async (upstream) => Buffer.from(await upstream.arrayBuffer()))
        .then((body) => response.writeHead(200, { 'content-encoding': encoding }).end(encode(body)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }

  const encodings: Record<string, (body: Buffer) => Buffer> = {
    gzip: (body) => gzipSync(body),
    deflate: (body) => deflateSync(body),
    'deflate, raw': (body) => deflateRawSync(body),
    br: (body) => brotliCompressSync(body),
  };
  for (const [name, encode] of Object.entries(encodings)) {
    test(`${name}: read as if plain, identity included`, async () => {
      const stick = await compressing(name.split(',')[0]!, encode);
      try {
        const result = await runCli(['-t', `packed=${stick.url}`, '--stdout', ...quick]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^trucki_up 1$/m);
        assert.match(result.stdout, /^trucki_stick_info\{.*device="T2SGA55A69"/m);
      } finally {
        await stick.close();
      }
    });
  }

  test('a small gzip body that unpacks past the bound is cut off there, in words', async () => {
    // 8 MiB of spaces in JSON: some 8 KiB compressed, far within the 1 MiB bound as sent.
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"VGRID":'), Buffer.alloc(8 << 20, 0x20), Buffer.from('1}')]));
    const stick = await compressing('gzip', () => bomb);
    try {
      const result = await runCli(['-t', `bomb=${stick.url}`, '--stdout', ...quick], { measure: true });
      assert.equal(result.code, 69, result.stderr);
      assert.match(result.stderr, /^stick bomb \(127\.0\.0\.1:\d+\): failed, sent more than 1 MiB on \/jsonlive; /m);
      assert.ok(result.peakRssMiB !== undefined && result.peakRssMiB < 200, `peak RSS ${result.peakRssMiB} MiB`);
    } finally {
      await stick.close();
    }
  });
});

describe('the Pushgateway side', () => {
  let stick: Simulator;
  before(async () => {
    stick = await startSimulator({ variant: 'T2SG' });
  });
  after(() => stick.close());

  test('unreachable: retried, then a message naming it without its credentials, exit 1', async () => {
    const port = await freePort();
    const result = await runCli(['-t', stick.url, '-g', `http://pushuser:pushpass@127.0.0.1:${port}/prefix`, ...quick]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `not pushed: Pushgateway http://127\\.0\\.0\\.1:${port}/prefix refused the connection \\(2 attempts\\)`,
      ),
    );
    assert.doesNotMatch(result.stderr, /pushpass|pushuser/);
  });

  test('slow: each attempt times out, exit 1', async () => {
    const hung = await startHostileStick('never answers');
    try {
      const result = await runCli(['-t', stick.url, '-g', hung.url, ...quick]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /not pushed: Pushgateway http:\/\/127\.0\.0\.1:\d+\/ timed out after 1 s \(2 attempts\)/,
      );
      assert.equal(hung.requests.filter((r) => r.startsWith('PUT ')).length, 2);
    } finally {
      await hung.close();
    }
  });

  test('a 503 once: retried, and the second attempt lands', async () => {
    const proxy = await startProxy(pushgateway.url, {
      fail: (seen) =>
        seen.method === 'PUT' && !proxy.seen.slice(0, -1).some((r) => r.method === 'PUT') ? 503 : undefined,
    });
    try {
      const result = await runCli(['-t', `retried=${stick.url}`, '-g', proxy.url, ...quick]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(proxy.seen.filter((r) => r.method === 'PUT').length, 2);
      assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'retried' }), 'trucki_up'), 1);
    } finally {
      await proxy.close();
    }
  });

  test('5xx on every attempt: exit 1 naming the status and the attempts', async () => {
    const proxy = await startProxy(pushgateway.url, { fail: (seen) => (seen.method === 'PUT' ? 502 : undefined) });
    try {
      const result = await runCli(['-t', stick.url, '-g', proxy.url, ...quick]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /not pushed: Pushgateway http:\/\/127\.0\.0\.1:\d+\/ answered HTTP 502 Bad Gateway \(2 attempts\)/,
      );
    } finally {
      await proxy.close();
    }
  });

  test("a refused push (400, a type clash with another group) shows the Pushgateway's reason and is not retried", async () => {
    // Another group declares trucki_up a counter; ours is a gauge, which the Pushgateway refuses.
    const fresh = await startPushgateway();
    const proxy = await startProxy(fresh.url);
    try {
      const clash = await fetch(`${fresh.url}/metrics/job/other/instance/x`, {
        method: 'PUT',
        body: '# TYPE trucki_up counter\ntrucki_up 1\n',
      });
      assert.equal(clash.status, 200);
      const result = await runCli(['-t', stick.url, '-g', proxy.url, ...quick]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /not pushed: Pushgateway http:\/\/127\.0\.0\.1:\d+\/ refused the push with HTTP 400: .*trucki_up/,
      );
      assert.equal(proxy.seen.filter((r) => r.method === 'PUT').length, 1);
    } finally {
      await proxy.close();
      await fresh.stop();
    }
  });
});

describe('a redirect from the Pushgateway is a failure, not "pushed"', { concurrency: true }, () => {
  let stick: Simulator;
  before(async () => {
    stick = await startSimulator({ variant: 'T2SG' });
  });
  after(() => stick.close());

  for (const status of [301, 302, 303, 304, 307, 308]) {
    test(`HTTP ${status} to the PUT: exit 1, the log names where it pointed, without credentials`, async () => {
      const proxy = await startProxy(pushgateway.url, {
        fail: ({ method }) =>
          method === 'PUT'
            ? {
                status,
                headers: { location: 'http://user:redirect-secret@moved.example:9091/new/base/metrics/job/trucki' },
              }
            : undefined,
      });
      try {
        const instance = `redirected-${status}`;
        const result = await runCli(['-t', `${instance}=${stick.url}`, '-g', proxy.url]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /redirect/i);
        assert.match(result.stderr, /moved\.example:9091\/new\/base/);
        assert.doesNotMatch(result.stderr, /redirect-secret|user:/);
        assert.doesNotMatch(result.stderr, /; pushed$/m);
        assert.equal(
          await pushgateway.group({ job: 'trucki', instance }),
          undefined,
          'nothing reached the Pushgateway',
        );
      } finally {
        await proxy.close();
      }
    });
  }

  test('a redirect of the DELETE (--delete-on-exit) is reported as a failed deletion', async () => {
    const proxy = await startProxy(pushgateway.url, {
      fail: ({ method }) =>
        method === 'DELETE' ? { status: 308, headers: { location: '/elsewhere/metrics/job/trucki' } } : undefined,
    });
    try {
      const loop = await startCli(
        ['-t', `redirected-delete=${stick.url}`, '-g', proxy.url, '-s', '* * * * * *', '--delete-on-exit'],
        { env: quickTicks },
      );
      await loop.waitFor(/; pushed$/m);
      await loop.stop();
      assert.match(loop.stderr(), /could not delete its group: .*redirect/i);
      assert.doesNotMatch(loop.stderr(), /deleted its group/);
      assert.notEqual(await pushgateway.group({ job: 'trucki', instance: 'redirected-delete' }), undefined);
    } finally {
      await proxy.close();
    }
  });
});

describe('a wrong URL gets a hint, not a raw code', { concurrency: true }, () => {
  let stick: Simulator;
  before(async () => {
    stick = await startSimulator({ variant: 'T2SG' });
  });
  after(() => stick.close());

  test('an https URL for an http stick: a hint, no EPROTO', async () => {
    const result = await runCli([
      '-t',
      `tls-stick=${stick.url.replace('http:', 'https:')}`,
      '--stdout',
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 69, result.stderr);
    assert.doesNotMatch(result.stderr, /EPROTO|ERR_SSL/);
    assert.match(result.stderr, /not https|is it http/);
  });

  test('an https URL for an http Pushgateway: a hint, no EPROTO', async () => {
    const result = await runCli([
      '-t',
      `tls-pg=${stick.url}`,
      '-g',
      pushgateway.url.replace('http:', 'https:'),
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /EPROTO|ERR_SSL/);
    assert.match(result.stderr, /not https|is it http/);
  });

  test('-g http://host:port/metrics: a hint that the URL is the base', async () => {
    const result = await runCli([
      '-t',
      `metrics-suffix=${stick.url}`,
      '-g',
      `${pushgateway.url}/metrics`,
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /base URL/);
  });
});
