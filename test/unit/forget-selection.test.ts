/**
 * --forget-after in-process, against a fake Pushgateway at the HTTP seam: which groups may ever be
 * forgotten (exactly the job's grouping key), by whose clock (the Pushgateway's Date, never the
 * job's), which push times are read (Prometheus' number grammar, whole lines only), and what a read
 * keeps in memory (a bounded number of groups; beyond it, nothing is forgotten and reading stops).
 */
import assert from 'node:assert/strict';
import { readCommand } from '../../src/config/load.js';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Grouping, Target } from '../../src/config/types.js';
import { createForgetter } from '../../src/forget.js';
import { createAgents, createHttp, destroyAgents, type Agents } from '../../src/http.js';
import { pushgatewaySink } from '../../src/sinks/pushgateway.js';

const day = 86_400;
const realNow = () => Date.now() / 1000;

interface Answer {
  /** The /metrics body, or a writer for an endless one. */
  readonly body: string | ((response: ServerResponse) => void);
  /** The Date header: a text, none at all (null), or the real one (undefined). */
  readonly date?: string | null;
}

let answer: Answer = { body: '' };
const deleted: string[] = [];
let sentBytes = 0;
const server = createServer((request, response) => {
  request.resume();
  if (request.method === 'DELETE') deleted.push(request.url ?? '');
  if (request.method !== 'GET') return void response.writeHead(202).end();
  const { body, date } = answer;
  if (date === null) response.sendDate = false;
  else if (date !== undefined) response.setHeader('date', date);
  response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  if (typeof body === 'string') response.end(body);
  else body(response);
});
let agents: Agents;
let base: URL;
before(async () => {
  agents = await createAgents(false);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${String((server.address() as { port: number }).port)}/`);
});
after(() => {
  destroyAgents(agents);
  server.closeAllConnections();
  server.close();
});

const target = (instance: string): Target => ({ url: new URL('http://127.0.0.1:9/'), instance, labels: [] });

/** One look by a job with `grouping` naming `named`, its own clock `jobClock` (Unix s): what it deleted and logged. */
async function look(
  served: Answer,
  {
    grouping = [],
    named = ['live'],
    jobClock = realNow(),
  }: { grouping?: Grouping; named?: string[]; jobClock?: number },
) {
  answer = served;
  deleted.length = 0;
  sentBytes = 0;
  const http = createHttp({ timeoutMs: 10_000, retries: 0 }, agents);
  const sink = pushgatewaySink({ url: base, job: 'trucki', grouping, forgetAfterMs: 7 * day * 1000 }, http);
  const lines: string[] = [];
  const forgetter = createForgetter(
    sink.forgetting,
    (line) => lines.push(line),
    undefined,
    () => jobClock * 1000,
  );
  const sticks = named.map(target);
  const found = forgetter(sticks, sticks);
  assert.ok(found, 'the first run looks');
  await found.done;
  return {
    deleted: [...deleted],
    lines,
    lastSuccesses: await found.found.then(
      ({ lastSuccesses }) => lastSuccesses,
      () => undefined,
    ),
  };
}

/**
 * Groups as the Pushgateway shows them: their push times and trucki_up, each family in its place,
 * after the job's own stick, pushed by its last run a second ago (the newest push it holds).
 */
function groups(...given: { labels: string; pushed: string; failed?: string }[]): string {
  const each = [{ labels: 'instance="live",job="trucki"', pushed: ago(1 / day) }, ...given];
  const family = (name: string, value: (group: (typeof each)[number]) => string) =>
    each.map((group) => `${name}{${group.labels}} ${value(group)}\n`).join('');
  return (
    family('push_failure_time_seconds', ({ failed }) => failed ?? '0') +
    family('push_time_seconds', ({ pushed }) => pushed) +
    family('trucki_up', () => '1')
  );
}
const ago = (days: number) => String(realNow() - days * day);

describe('which groups are candidates', () => {
  test('without --grouping: a group with any other label is another host’s, however old', async () => {
    const { deleted } = await look(
      {
        body: groups(
          { labels: 'instance="gone",job="trucki"', pushed: ago(30) },
          { labels: 'instance="b1",job="trucki",site="b"', pushed: ago(30) },
          { labels: 'host="d",instance="b2",job="trucki"', pushed: ago(30) },
        ),
      },
      {},
    );
    assert.deepEqual(deleted, ['/metrics/job/trucki/instance/gone']);
  });

  test('with site=home: only job, one instance and site=home exactly; not site=home,host=d nor another site', async () => {
    const { deleted } = await look(
      {
        body: groups(
          { labels: 'instance="gone",job="trucki",site="home"', pushed: ago(30) },
          { labels: 'host="d",instance="d1",job="trucki",site="home"', pushed: ago(30) },
          { labels: 'instance="b1",job="trucki",site="b"', pushed: ago(30) },
          { labels: 'instance="none",job="trucki"', pushed: ago(30) },
          { labels: 'instance="empty",job="trucki",site=""', pushed: ago(30) },
          { labels: 'instance="twice",instance="again",job="trucki",site="home"', pushed: ago(30) },
          { labels: 'instance="",job="trucki",site="home"', pushed: ago(30) },
          { labels: 'job="trucki",site="home"', pushed: ago(30) },
          { labels: 'instance="x",job="other",site="home"', pushed: ago(30) },
        ),
      },
      { grouping: [['site', 'home']] },
    );
    assert.deepEqual(deleted, ['/metrics/job/trucki/instance/gone/site/home']);
  });

  test('an empty grouping value is a label of its own: site="" only, never a group without site', async () => {
    const { deleted } = await look(
      {
        body: groups(
          { labels: 'instance="mine",job="trucki",site=""', pushed: ago(30) },
          { labels: 'instance="theirs",job="trucki"', pushed: ago(30) },
        ),
      },
      { grouping: [['site', '']] },
    );
    assert.deepEqual(deleted, ['/metrics/job/trucki/instance/mine/site@base64/=']);
  });
});

describe('whose clock', () => {
  const served = () => ({
    body: groups(
      { labels: 'instance="recent",job="trucki"', pushed: ago(0.1 / day) },
      { labels: 'instance="week",job="trucki"', pushed: ago(6.9) },
      { labels: 'instance="month",job="trucki"', pushed: ago(30) },
    ),
  });

  test('the job’s clock 8 days ahead: only what the Pushgateway’s clock calls old goes', async () => {
    const { deleted, lines } = await look(served(), { jobClock: realNow() + 8 * day });
    assert.deepEqual(deleted, ['/metrics/job/trucki/instance/month']);
    assert.match(lines.join('\n'), /^forgot group \{job="trucki",instance="month"\}: .*\(30 days ago\)$/m);
  });

  test('the job’s clock 8 days behind: the same', async () => {
    const { deleted } = await look(served(), { jobClock: realNow() - 8 * day });
    assert.deepEqual(deleted, ['/metrics/job/trucki/instance/month']);
  });

  test('the Pushgateway’s Date is its clock: a day ahead of the job’s, with its pushes, the week-old group goes too', async () => {
    const ahead = realNow() + day;
    const date = new Date(ahead * 1000).toUTCString();
    const body = groups(
      { labels: 'instance="recent",job="trucki"', pushed: String(ahead - 1) },
      { labels: 'instance="week",job="trucki"', pushed: ago(6.9) },
      { labels: 'instance="month",job="trucki"', pushed: ago(30) },
    );
    const { deleted } = await look({ body, date }, {});
    assert.deepEqual(deleted.sort(), ['/metrics/job/trucki/instance/month', '/metrics/job/trucki/instance/week']);
  });

  test('a Date ahead of every push it holds (a proxy’s clock, a lie) is not believed past its newest push', async () => {
    for (const ahead of [1, 8, 3_000_000]) {
      const date = new Date(Date.now() + ahead * day * 1000).toUTCString();
      const { deleted } = await look({ ...served(), date }, { named: ['live'] });
      assert.deepEqual(deleted, ['/metrics/job/trucki/instance/month'], `${String(ahead)} days ahead`);
    }
  });

  test('no Date, or one that is no HTTP date: the clock is unknown, nothing is forgotten, said once', async () => {
    for (const date of [
      null,
      '',
      'tomorrow',
      '1796581466',
      'Sun, 06 Dec 2026 18:24:26',
      'Sun, 36 Dec 2026 18:24:26 GMT',
    ]) {
      const { deleted, lines } = await look({ ...served(), date }, {});
      assert.deepEqual(deleted, [], String(date));
      assert.equal(lines.length, 1, `${String(date)}: ${lines.join(' | ')}`);
      assert.match(lines[0]!, /^could not look for groups to forget: Pushgateway http:\/\/127\.0\.0\.1:\d+\/ .*Date/);
    }
  });

  test('a Date behind every push time (a clock set back): nothing is old by it, nothing goes', async () => {
    const { deleted } = await look({ ...served(), date: 'Thu, 01 Jan 1970 00:00:00 GMT' }, {});
    assert.deepEqual(deleted, []);
  });
});

describe('what is read as a push time', () => {
  test('only Prometheus numbers: empty, hex, junk, a value with a tail are no push time', async () => {
    const bad = [
      '',
      '0x10',
      '0X1p4',
      '1_000',
      '16abc',
      '1e',
      '.',
      '+-1',
      '16 17 18',
      '16 junk',
      'Inf',
      'nan',
      '+NaN',
      '1e400',
      '-1e400',
      '0',
      '-5',
    ];
    const { deleted } = await look(
      {
        body:
          groups(...bad.map((pushed, index) => ({ labels: `instance="bad${String(index)}",job="trucki"`, pushed }))) +
          groups(
            { labels: 'instance="plain",job="trucki"', pushed: '1600000000' },
            { labels: 'instance="exp",job="trucki"', pushed: '1.6e+09' },
            { labels: 'instance="stamped",job="trucki"', pushed: '16e8 1600000000000' },
          ),
      },
      {},
    );
    assert.deepEqual(deleted.sort(), [
      '/metrics/job/trucki/instance/exp',
      '/metrics/job/trucki/instance/plain',
      '/metrics/job/trucki/instance/stamped',
    ]);
  });

  test('a failed push with a time that is no number counts as a push since: the group stays', async () => {
    const { deleted } = await look(
      { body: groups({ labels: 'instance="tried",job="trucki"', pushed: ago(30), failed: '0x10' }) },
      {},
    );
    assert.deepEqual(deleted, []);
  });

  test('a last line cut before its line break is not read: not a group of the job, not a last success', async () => {
    const cut = groups({ labels: 'instance="cut",job="trucki"', pushed: ago(30) }).replace(/\n$/, '');
    const { deleted } = await look({ body: cut }, {});
    assert.deepEqual(deleted, []);
    const recall = 'trucki_last_success_timestamp_seconds{instance="live",job="trucki"} 17';
    const { lastSuccesses } = await look({ body: recall }, {});
    assert.equal(lastSuccesses?.get('live'), undefined);
    const { lastSuccesses: whole } = await look({ body: `${recall}\n` }, {});
    assert.equal(whole?.get('live'), 17);
  });
});

describe('what a read keeps', () => {
  test('endless groups of the job to forget: reading stops at the bound, one line, nothing deleted', async () => {
    // Bounded: at most 64 MiB, however long the reader keeps reading.
    const endless = (response: ServerResponse) => {
      let index = 0;
      const pump = () => {
        while (!response.destroyed && sentBytes < 64 * 1024 * 1024) {
          let chunk = '';
          for (let line = 0; line < 1000; line++, index++) {
            const labels = `instance="gone-${String(index)}",job="trucki"`;
            chunk += `push_time_seconds{${labels}} 1600000000\ntrucki_up{${labels}} 1\n`;
          }
          sentBytes += chunk.length;
          if (!response.write(chunk)) return;
        }
        response.end();
      };
      response.on('drain', pump);
      pump();
    };
    const { deleted, lines } = await look({ body: endless }, {});
    assert.deepEqual(deleted, []);
    assert.equal(lines.length, 1, lines.join(' | '));
    assert.match(
      lines[0]!,
      /^could not look for groups to forget: Pushgateway .* was read no further, forgetting none: more than 10000 groups/,
    );
    assert.ok(sentBytes < 16 * 1024 * 1024, `read ${String(sentBytes)} bytes before stopping`);
  });
});

describe('the setting', () => {
  const read = async (value: string) => {
    const command = await readCommand(['-t', 'a', '-g', 'http://pg.test', `--forget-after=${value}`], {});
    return command.kind === 'run' ? command.config.pushgateway?.forgetAfterMs : 'not a run';
  };
  test('takes Prometheus durations, 0 and off; the default is 7 days', async () => {
    assert.equal(await read('7d'), 7 * 86_400_000);
    assert.equal(await read('1h30m'), 5_400_000);
    assert.equal(await read('36h'), 36 * 3_600_000);
    assert.equal(await read('1y2w'), (365 + 14) * 86_400_000);
    assert.equal(await read('1500ms'), 1500);
    assert.equal(await read('0'), undefined);
    assert.equal(await read('off'), undefined);
    assert.equal(await read('0s'), undefined);
    const command = await readCommand(['-t', 'a', '-g', 'http://pg.test'], {});
    assert.equal(command.kind === 'run' && command.config.pushgateway?.forgetAfterMs, 7 * 86_400_000);
  });
  test('refuses what is not one, naming the option', async () => {
    for (const bad of ['7', '7 d', '1m1h', 'd', '', '-1d', '1.5h', '999999999y', '1h 30m']) {
      await assert.rejects(read(bad), /--forget-after must be a duration such as 7d/, bad);
    }
  });
});
