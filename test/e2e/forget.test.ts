/**
 * --forget-after against a real Pushgateway (issue 16.3): a run deletes the groups of its own job
 * and grouping key that name no stick it names and that nobody pushed for that long, and keeps every
 * other group (of another job, pushed recently by another host, another host's with other labels, its
 * own sticks', another program's); it logs each group forgotten, and reads the Pushgateway once per
 * run, sharing that read with the recall. The groups' push times are the Pushgateway's own: a short
 * forget-after, and the test waits until the seeded groups are older than that, as the Pushgateway's
 * push_time_seconds says (and a second more: its Date, the clock the job judges by, is in seconds).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, lstat, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { emptyDir, quickTicks, runCli, startCli } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type GroupJson, type RunningPushgateway } from '../helpers/pushgateway.js';
import { healthyExposition, onlyFamilies, putGroup, withLastSuccess } from '../helpers/seed.js';
import { until } from '../helpers/until.js';

let stick: Simulator;
let healthy: string;
before(async () => {
  stick = await startSimulator({ variant: 'T2SG' });
  healthy = onlyFamilies(await healthyExposition(stick.url), [
    'trucki_up',
    'trucki_grid_voltage_volts',
    'trucki_last_success_timestamp_seconds',
  ]);
});
after(async () => {
  await stick.close();
});

const pushTime = (group: GroupJson | undefined) => sampleValue(group, 'push_time_seconds');
const b64 = (value: string) => Buffer.from(value).toString('base64url');
/** Until every group with these labels was pushed more than `seconds` ago, by the Pushgateway's clock. */
async function olderThan(pushgateway: RunningPushgateway, labels: Record<string, string>[], seconds: number) {
  await until(
    async () => {
      for (const each of labels) {
        const pushed = pushTime(await pushgateway.group(each));
        if (pushed === undefined || Date.now() / 1000 - pushed <= seconds) return false;
      }
      return true;
    },
    { what: `groups older than ${seconds} s`, timeoutMs: 30_000 },
  );
}

describe('a one-shot run', () => {
  let pushgateway: RunningPushgateway;
  before(async () => {
    pushgateway = await startPushgateway();
  });
  after(async () => {
    await pushgateway.stop();
  });

  test('forgets old groups of its job and grouping key that it does not name, keeps all others, one GET', async () => {
    const odd = 'attic "west"\\roof/ä%';
    const old = {
      gone: { path: '/metrics/job/trucki/instance/gone', labels: { job: 'trucki', instance: 'gone' } },
      odd: { path: `/metrics/job/trucki/instance@base64/${b64(odd)}`, labels: { job: 'trucki', instance: odd } },
      // Another host's, old too: its grouping key has a label this run's has not.
      extra: {
        path: '/metrics/job/trucki/instance/moved/room/attic',
        labels: { job: 'trucki', instance: 'moved', room: 'attic' },
      },
      otherSite: {
        path: '/metrics/job/trucki/instance/gone/site/b',
        labels: { job: 'trucki', instance: 'gone', site: 'b' },
      },
      otherJob: { path: '/metrics/job/other/instance/gone', labels: { job: 'other', instance: 'gone' } },
      named: { path: '/metrics/job/trucki/instance/named', labels: { job: 'trucki', instance: 'named' } },
      notOurs: { path: '/metrics/job/trucki/instance/not-ours', labels: { job: 'trucki', instance: 'not-ours' } },
    };
    for (const { path } of Object.values(old)) {
      const body = path.includes('not-ours') ? 'some_other_gauge 1\n' : withLastSuccess(healthy, 1_700_000_000);
      await putGroup(pushgateway.url, path, body);
    }
    await olderThan(
      pushgateway,
      Object.values(old).map(({ labels }) => labels),
      5,
    );
    // Another host pushes under the same job, just now: its stick is not ours to forget.
    await putGroup(pushgateway.url, '/metrics/job/trucki/instance/elsewhere', healthy);

    const proxy = await startProxy(pushgateway.url);
    try {
      // "named" is named, and dead: its last success is recalled from the very same read.
      const result = await runCli(
        ['-t', `named=127.0.0.1:9,live=${stick.url}`, '-g', proxy.url, '--forget-after', '4s', '--retries', '0'],
        { timeoutMs: 30_000 },
      );
      assert.equal(result.code, 69, result.stderr);
      const gets = proxy.seen.filter(({ method }) => method === 'GET');
      assert.deepEqual(
        gets.map(({ url }) => url),
        ['/metrics'],
        'one read of the Pushgateway',
      );
      const forgotten = result.stderr.split('\n').filter((line) => line.startsWith('forgot '));
      assert.equal(forgotten.length, 2, result.stderr);
      assert.match(result.stderr, /^forgot group \{job="trucki",instance="gone"\}: no stick named here, last pushed /m);
      assert.ok(
        forgotten.some((line) => line.includes(`instance="attic \\"west\\"\\\\roof/ä%"`)),
        result.stderr,
      );
    } finally {
      await proxy.close();
    }
    assert.equal(await pushgateway.group(old.gone.labels), undefined, 'the old group of the job is still there');
    assert.equal(await pushgateway.group(old.odd.labels), undefined, 'the old group with an odd name is still there');
    assert.ok(await pushgateway.group(old.extra.labels), "another host's group with another label was deleted");
    assert.ok(await pushgateway.group(old.otherSite.labels), "another host's group of another site was deleted");
    assert.ok(await pushgateway.group(old.otherJob.labels), "another job's group was deleted");
    assert.ok(await pushgateway.group(old.notOurs.labels), "another program's group of the job was deleted");
    assert.ok(
      await pushgateway.group({ job: 'trucki', instance: 'elsewhere' }),
      "another host's recent group was deleted",
    );
    const named = await pushgateway.group(old.named.labels);
    assert.equal(sampleValue(named, 'trucki_up'), 0);
    assert.equal(sampleValue(named, 'trucki_last_success_timestamp_seconds'), 1_700_000_000, 'recall lost');
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'live' }), 'trucki_up'), 1);
  });

  test('under systemd (CACHE_DIRECTORY) a one-shot run looks at most once an hour, not on every run', async () => {
    const cache = await emptyDir();
    const proxy = await startProxy(pushgateway.url);
    const gets = () => proxy.seen.filter(({ method }) => method === 'GET').length;
    // With credentials in the URL: the stamp must not hold them.
    const withSecret = proxy.url.replace('http://', 'http://stamp-user:stamp-secret@');
    const run = async () => {
      const result = await runCli(['-t', `hourly=${stick.url}`, '-g', withSecret], { env: { CACHE_DIRECTORY: cache } });
      assert.equal(result.code, 0, result.stderr);
    };
    try {
      await run();
      assert.equal(gets(), 1, 'the first run looks');
      await run();
      await run();
      assert.equal(gets(), 1, 'the next runs of the hour do not');
      // An hour later, by the stamp: the next run looks again.
      const stamp = join(cache, 'forget-looked-at');
      const [key] = (await readFile(stamp, 'utf8')).split('\n');
      assert.doesNotMatch(key!, /hourly/, 'the stamp names the store and job, not the sticks');
      assert.doesNotMatch(await readFile(stamp, 'utf8'), /stamp-user|stamp-secret/);
      await writeFile(stamp, `${key!}\n${String(Date.now() - 3_601_000)}\n`);
      await run();
      assert.equal(gets(), 2);
      // Another store or job's stamp is no stamp.
      await writeFile(stamp, `["http://elsewhere:9091/","trucki",[]]\n${String(Date.now())}\n`);
      await run();
      assert.equal(gets(), 3);
    } finally {
      await proxy.close();
      await rm(cache, { recursive: true, force: true });
    }
  });

  test('two configurations sharing the cache directory (two crontab lines) each look once an hour, not every run', async () => {
    const cache = await emptyDir();
    const proxy = await startProxy(pushgateway.url);
    const gets = () => proxy.seen.filter(({ method }) => method === 'GET').length;
    const run = async (job: string) => {
      const result = await runCli(['-t', `shared=${stick.url}`, '-g', proxy.url, '--job', job], {
        env: { CACHE_DIRECTORY: cache },
      });
      assert.equal(result.code, 0, result.stderr);
    };
    try {
      for (let round = 0; round < 3; round++) for (const job of ['trucki', 'trucki-two']) await run(job);
      assert.equal(gets(), 2, 'each configuration looks once');
    } finally {
      await proxy.close();
      await rm(cache, { recursive: true, force: true });
    }
  });

  test("the stamp is read and written only as this user's own regular file: a link, a pipe, /dev/zero or another user's stamp is none", async () => {
    const cache = await emptyDir();
    const stamp = join(cache, 'forget-looked-at');
    const proxy = await startProxy(pushgateway.url);
    const gets = () => proxy.seen.filter(({ method }) => method === 'GET').length;
    const run = async (what: string) => {
      const result = await runCli(['-t', `stamped=${stick.url}`, '-g', proxy.url], {
        env: { CACHE_DIRECTORY: cache },
        timeoutMs: 15_000,
      });
      assert.equal(result.code, 0, `${what}: exit ${String(result.code ?? result.signal)}: ${result.stderr}`);
      assert.ok((await lstat(stamp)).isFile(), `${what}: no stamp of its own written`);
    };
    // A file only root may read or write, which a link at the stamp's name leads to.
    const elsewhere = await emptyDir();
    const rootOnly = join(elsewhere, 'shadow');
    await writeFile(rootOnly, 'root:only\n', { mode: 0o600 });
    try {
      await run('first');
      const sound = await readFile(stamp, 'utf8');
      const planted: Record<string, () => Promise<void>> = {
        "a link to root's file": () => symlink(rootOnly, stamp),
        'a named pipe (would hang the run)': () => {
          execFileSync('mkfifo', [stamp]);
          return Promise.resolve();
        },
        'a link to /dev/zero (would exhaust memory)': () => symlink('/dev/zero', stamp),
        // Says it looked just now; a stamp anyone else could have written is not believed.
        "another user's": async () => {
          await writeFile(stamp, sound);
          await chown(stamp, 65534, 65534);
        },
        'writable by its group': async () => {
          await writeFile(stamp, sound);
          await chmod(stamp, 0o660);
        },
      };
      for (const [what, plant] of Object.entries(planted)) {
        await rm(stamp);
        await plant();
        const before = gets();
        await run(what);
        assert.equal(gets(), before + 1, `${what}: taken as a stamp`);
      }
      assert.equal(await readFile(rootOnly, 'utf8'), 'root:only\n', 'written through the link');
      // Its own stamp, as written: believed.
      const before = gets();
      await run('sound');
      assert.equal(gets(), before);
    } finally {
      await proxy.close();
      await rm(cache, { recursive: true, force: true });
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  test('0 and off forget nothing and read nothing while the sticks are well', async () => {
    for (const off of ['0', 'off']) {
      const proxy = await startProxy(pushgateway.url);
      try {
        const result = await runCli(['-t', `well=${stick.url}`, '-g', proxy.url], {
          env: { PUSHGATEWAY_FORGET_AFTER: off },
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(proxy.seen.filter(({ method }) => method === 'GET').length, 0, off);
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('a loop', () => {
  let pushgateway: RunningPushgateway;
  let dir: string;
  before(async () => {
    pushgateway = await startPushgateway();
    dir = await emptyDir();
  });
  after(async () => {
    await Promise.all([pushgateway.stop(), rm(dir, { recursive: true, force: true })]);
  });

  test('a stick the targets file drops is forgotten once unpushed for forget-after; re-added, it is back', async () => {
    const file = join(dir, 'sticks.json');
    const entries = (names: string[]) =>
      JSON.stringify(names.map((instance) => ({ targets: [stick.url], labels: { instance } })));
    await writeFile(file, entries(['stays', 'dropped']));
    const proxy = await startProxy(pushgateway.url);
    const started = Date.now();
    const loop = await startCli(
      ['--targets-file', 'sticks.json', '-g', proxy.url, '-s', '* * * * * *', '--forget-after', '2s'],
      { cwd: dir, env: quickTicks },
    );
    try {
      await until(async () => await pushgateway.group({ job: 'trucki', instance: 'dropped' }), {
        what: 'group dropped',
      });
      await writeFile(file, entries(['stays']));
      await loop.waitFor(/^forgot group \{job="trucki",instance="dropped"\}: no stick named here/m, 30_000);
      assert.equal(await pushgateway.group({ job: 'trucki', instance: 'dropped' }), undefined);
      assert.ok(await pushgateway.group({ job: 'trucki', instance: 'stays' }), 'the named stick was forgotten');
      await writeFile(file, entries(['stays', 'dropped']));
      await until(async () => await pushgateway.group({ job: 'trucki', instance: 'dropped' }), {
        what: 'group dropped again',
      });
      const runs = proxy.seen.filter(({ method }) => method === 'PUT').length / 2;
      const gets = proxy.seen.filter(({ method }) => method === 'GET').length;
      // Once per forget-after (2 s) at most, however fast the ticks (50 ms apart here): by the clock, not
      // by the runs, whose pace depends on the machine's load.
      const seconds = (Date.now() - started) / 1000;
      assert.ok(gets <= 1 + seconds / 2, `${gets} reads in ${seconds} s, about ${runs} runs`);
    } finally {
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      await proxy.close();
    }
  });
});

describe('a hostile Pushgateway (a server that answers as one would, or worse)', () => {
  /** Serves `metrics` on GET /metrics (or answers `get` instead), 200 to any PUT and DELETE, and records them. */
  async function startFakePushgateway(metrics: string, get?: 'hang' | 500) {
    const { createServer } = await import('node:http');
    const seen: { method: string; url: string }[] = [];
    const server = createServer((request, response) => {
      seen.push({ method: request.method ?? '', url: request.url ?? '' });
      request.resume();
      if (request.method !== 'GET') response.writeHead(200).end();
      else if (get === 'hang') return;
      else if (get === 500) response.writeHead(500).end('boom');
      else response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      seen,
      deleted: () => seen.filter(({ method }) => method === 'DELETE').map(({ url }) => url),
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
  const old = 1_600_000_000;
  const group = (labels: string, pushed: string, failed = '0') =>
    `push_failure_time_seconds{${labels}} ${failed}\npush_time_seconds{${labels}} ${pushed}\ntrucki_up{${labels}} 1\n`;

  test('10,000 groups of the job and 10,000 of another: exactly its own old ones go, in one read', async () => {
    // The job's own stick, pushed by its last run: the newest push the Pushgateway holds.
    const lines = ['# TYPE push_time_seconds gauge', group('instance="live",job="trucki"', String(Date.now() / 1000))];
    for (let index = 0; index < 10_000; index++) {
      lines.push(group(`instance="gone-${index}",job="trucki"`, String(old)));
      lines.push(group(`instance="gone-${index}",job="other"`, String(old)));
    }
    const fake = await startFakePushgateway(lines.join('\n'));
    try {
      const result = await runCli(['-t', `live=${stick.url}`, '-g', fake.url], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr.slice(-2000));
      assert.equal(fake.seen.filter(({ method }) => method === 'GET').length, 1);
      const deleted = fake.deleted();
      assert.equal(deleted.length, 10_000);
      assert.equal(new Set(deleted).size, 10_000);
      assert.ok(
        deleted.every((path) => /^\/metrics\/job\/trucki\/instance\/gone-\d+$/.test(path)),
        deleted[0],
      );
      assert.equal((result.stderr.match(/^forgot group /gm) ?? []).length, 10_000);
    } finally {
      fake.close();
    }
  });

  test('garbage or missing push times, a failed push since, no trucki_up, other grouping labels: all kept', async () => {
    const now = Date.now() / 1000;
    const metrics = [
      group('instance="nan",job="trucki",site="a"', 'NaN'),
      group('instance="word",job="trucki",site="a"', 'soon'),
      group('instance="inf",job="trucki",site="a"', '+Inf'),
      group('instance="future",job="trucki",site="a"', String(now + 86_400)),
      group('instance="tried",job="trucki",site="a"', String(old), String(now - 1)),
      group('instance="site-b",job="trucki",site="b"', String(old)),
      group('instance="no-site",job="trucki"', String(old)),
      'trucki_up{instance="no-push-time",job="trucki",site="a"} 1',
      `push_time_seconds{instance="not-ours",job="trucki",site="a"} ${old}`,
      `push_time_seconds{instance="torn",job="trucki",site="a" ${old}`,
      group('job="trucki",site="a"', String(old)),
      group('instance="live",job="trucki",room="attic",site="a"', String(old)),
      group('instance="empty",job="trucki",site="a"', ''),
      group('instance="hex",job="trucki",site="a"', '0x10'),
      // The only one to go: old, of the job, with exactly its grouping key.
      group('instance="gone",job="trucki",site="a"', String(old)),
    ].join('\n');
    const fake = await startFakePushgateway(metrics);
    try {
      const result = await runCli(['-t', `live=${stick.url}`, '-g', fake.url, '--grouping', 'site=a']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(fake.deleted(), ['/metrics/job/trucki/instance/gone/site/a']);
      assert.match(result.stderr, /^forgot group \{job="trucki",instance="gone",site="a"\}: /m);
    } finally {
      fake.close();
    }
  });

  test('a read answered with 500, or never: said once, the sticks still pushed, the run still ends well', async () => {
    for (const get of [500, 'hang'] as const) {
      const fake = await startFakePushgateway('', get);
      try {
        const result = await runCli(['-t', `live=${stick.url}`, '-g', fake.url, '--timeout', '1000'], {
          timeoutMs: 30_000,
        });
        assert.equal(result.code, 0, `${get}: ${result.stderr}`);
        assert.match(
          result.stderr,
          get === 500
            ? /^could not look for groups to forget: Pushgateway .* answered HTTP 500/m
            : /^could not look for groups to forget: Pushgateway .* timed out after 1 s/m,
        );
        assert.match(result.stderr, /^stick live .*; pushed$/m);
        assert.equal(fake.deleted().length, 0);
        assert.ok(fake.seen.filter(({ method }) => method === 'GET').length <= 2, 'retried once at most');
      } finally {
        fake.close();
      }
    }
  });

  test('a read refused (403, a proxy that lets only pushes through): one try an hour, not one per run', async () => {
    const { createServer } = await import('node:http');
    let gets = 0;
    const server = createServer((request, response) => {
      request.resume();
      if (request.method === 'GET') gets++;
      response.writeHead(request.method === 'GET' ? 403 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cache = await emptyDir();
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      for (let run = 0; run < 3; run++) {
        const result = await runCli(['-t', `live=${stick.url}`, '-g', url], { env: { CACHE_DIRECTORY: cache } });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(
          (result.stderr.match(/could not look for groups to forget/g) ?? []).length,
          run === 0 ? 1 : 0,
          result.stderr,
        );
      }
      assert.equal(gets, 1);
    } finally {
      server.closeAllConnections();
      server.close();
      await rm(cache, { recursive: true, force: true });
    }
  });
});
