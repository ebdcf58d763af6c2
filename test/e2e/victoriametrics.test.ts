/**
 * The VictoriaMetrics sink against the real programs (Debian's victoria-metrics 1.79: the single
 * node, vmagent, vmalert; Prometheus' remote-write receiver): what lands, with which labels and
 * times; a failed stick; recall, and not from a namesake; the shipped alert rules; outages with
 * and without a vmagent, as long as a number of runs of a loop on the test ticker; what a stopped
 * loop could not deliver. The slow tests run concurrently, each with programs of its own.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { emptyDir, quickTicks, runCli, startCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { startHostileStick } from '../helpers/hostile.js';
import { startTestStore } from '../helpers/import-store.js';
import { startProxy, type Injected, type Proxy } from '../helpers/proxy.js';
import { expectedAtZero } from '../helpers/sticks.js';
import { until } from '../helpers/until.js';
import { startVictoriaMetrics, startVmagent, startVmalert, type Series } from '../helpers/victoriametrics.js';

const everySecond = '* * * * * *';
const liveReads = (stick: Simulator) => stick.requests.filter((line) => line === 'GET /jsonlive').length;
/** Labels a sample itself carries, besides the ones the job and the targets file give each stick. */
const sampleLabelNames = new Set(['__name__', 'inverter', 'state', 'quality', 'device', 'firmware', 'variant']);
const named = (series: Series[], name: string) => series.filter(({ metric }) => metric.__name__ === name);

/** How many /api/v1/query requests went through `proxy`: counted as they arrive, nothing to wait for. */
const queriesThrough = (proxy: Proxy) => proxy.seen.filter(({ url }) => url.split('?')[0] === '/api/v1/query').length;
/** Reads of `stick` from now on, for an outage as long as a number of runs. */
const readsFrom = (stick: Simulator) => {
  const start = liveReads(stick);
  return () => liveReads(stick) - start;
};

/** Sample lines of `family` in import text. */
const linesOf = (text: string, family: string) => text.split('\n').filter((line) => line.startsWith(`${family}{`));

async function finally_(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
}

describe('VictoriaMetrics sink against the real programs', { concurrency: true }, () => {
  test("samples land with job, instance and the file's labels, stamped with the read time", async () => {
    const vm = await startVictoriaMetrics();
    const sticks = {
      T2SG: await startSimulator({ variant: 'T2SG', clock: () => 0 }),
      T2MG: await startSimulator({ variant: 'T2MG', clock: () => 0 }),
    };
    const dir = await emptyDir();
    try {
      await writeFile(
        join(dir, 'sticks.yml'),
        [
          `- targets: ['${sticks.T2SG.url}']`,
          '  labels: {instance: roof, site: berlin}',
          `- targets: ['${sticks.T2MG.url}']`,
          '  labels: {instance: barn, site: hamburg, owner: co-op}',
        ].join('\n'),
      );
      const started = Date.now();
      const result = await runCli(
        ['--targets-file', 'sticks.yml', '--victoriametrics', vm.url, '--grouping', 'fleet=eu'],
        { cwd: dir },
      );
      const ended = Date.now();
      assert.equal(result.code, 0, result.stderr);
      const cases = [
        { instance: 'roof', variant: 'T2SG', labels: { site: 'berlin' } },
        { instance: 'barn', variant: 'T2MG', labels: { site: 'hamburg', owner: 'co-op' } },
      ] as const;
      for (const { instance, variant, labels } of cases) {
        const expected = expectedAtZero[variant];
        const families = new Set(expected.map(({ family }) => family)).size + 2;
        const series = await vm.exportSeries(
          `{job="trucki",instance="${instance}"}`,
          (found) => new Set(found.map(({ metric }) => metric.__name__)).size >= families,
        );
        const wanted: Record<string, string> = { job: 'trucki', instance, fleet: 'eu', ...labels };
        for (const { metric, timestamps } of series) {
          const targetLabels = Object.fromEntries(
            Object.entries(metric).filter(([name]) => !sampleLabelNames.has(name)),
          );
          assert.deepEqual(targetLabels, wanted, `labels of ${JSON.stringify(metric)}`);
          assert.equal(timestamps.length, 1);
          assert.equal(timestamps[0], series[0]!.timestamps[0], 'one read time for every sample of a stick');
        }
        const readAt = series[0]!.timestamps[0]!;
        assert.ok(readAt >= started && readAt <= ended, `read at ${readAt}, run from ${started} to ${ended}`);
        for (const { family, labels: sampleLabels = {}, value } of expected) {
          const match = series.find(
            ({ metric }) =>
              metric.__name__ === family && Object.entries(sampleLabels).every(([k, v]) => metric[k] === v),
          );
          assert.ok(match, `${instance}: ${family}${JSON.stringify(sampleLabels)} missing`);
          assert.ok(
            Math.abs(match.values[0]! - value) <= Math.abs(value) * 1e-9,
            `${family}: ${match.values[0]} != ${value}`,
          );
        }
        const [success] = named(series, 'trucki_last_success_timestamp_seconds');
        assert.equal(success!.values[0], readAt / 1000, 'the last success is the read time');
      }
    } finally {
      await finally_([
        () => vm.stop(),
        () => sticks.T2SG.close(),
        () => sticks.T2MG.close(),
        () => rm(dir, { recursive: true, force: true }),
      ]);
    }
  });

  test('a stick that stops answering: up 0, duration, last success recalled in one query; no reading', async () => {
    // VictoriaMetrics' own -search.latencyOffset (30 s): a plain instant query would not see the previous run.
    const vm = await startVictoriaMetrics({ latencyOffset: 'default' });
    const proxy = await startProxy(vm.url);
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      // The default timeout: the proxy runs in this busy test process, and the stick going away is refused at once.
      const args = ['-t', `gone=${stick.url}`, '--victoriametrics', proxy.url, '--retries', '0'];
      const read = await runCli(args);
      assert.equal(read.code, 0, read.stderr);
      const [first] = await vm.exportSeries('trucki_last_success_timestamp_seconds{instance="gone"}');
      await stick.close();
      const queries = queriesThrough(proxy);
      const failed = await runCli(args);
      assert.equal(failed.code, 69);
      assert.match(
        failed.stderr,
        /^stick gone \(127\.0\.0\.1:\d+\): failed, refused the connection; took \d+ ms; sent to VictoriaMetrics trucki_up 0\n$/,
      );
      assert.equal(queriesThrough(proxy) - queries, 1, 'one query for the run');
      const series = await vm.exportSeries(
        '{instance="gone"}',
        (found) => named(found, 'trucki_up')[0]?.values.length === 2,
      );
      assert.deepEqual(named(series, 'trucki_up')[0]!.values, [1, 0]);
      assert.deepEqual(named(series, 'trucki_last_success_timestamp_seconds')[0]!.values, [
        first!.values[0],
        first!.values[0],
      ]);
      assert.equal(named(series, 'trucki_scrape_duration_seconds')[0]!.values.length, 2);
      const own = new Set(['trucki_up', 'trucki_last_success_timestamp_seconds', 'trucki_scrape_duration_seconds']);
      const readings = series.filter(({ metric }) => !own.has(metric.__name__!));
      assert.ok(readings.length > 50);
      for (const reading of readings)
        assert.deepEqual(reading.timestamps, first!.timestamps, `${reading.metric.__name__} only from the good read`);
    } finally {
      await finally_([() => proxy.close(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('recall is not from a namesake under other values of our labels, and says it found none', async () => {
    const vm = await startVictoriaMetrics();
    const dir = await emptyDir();
    try {
      // Sticks called roof and shed in Hamburg, read a minute ago. Ours: roof in Berlin, and shed
      // without a site beside it (site is a label of ours, so a shed with site="hamburg" is another).
      const at = String(Date.now() - 60_000);
      const seed = ['roof', 'shed']
        .map(
          (name) =>
            `trucki_last_success_timestamp_seconds{job="trucki",instance="${name}",site="hamburg"} 1700000000 ${at}\n`,
        )
        .join('');
      assert.equal((await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: seed })).status, 204);
      await vm.waitFor('trucki_last_success_timestamp_seconds', (found) => found.length === 2);
      const dead = '127.0.0.1:9';
      await writeFile(
        join(dir, 'sticks.json'),
        JSON.stringify([
          { targets: [dead], labels: { instance: 'roof', site: 'berlin' } },
          { targets: [dead], labels: { instance: 'shed' } },
        ]),
      );
      const result = await runCli(['--targets-file', 'sticks.json', '--victoriametrics', vm.url, '--retries', '0'], {
        cwd: dir,
      });
      assert.equal(result.code, 69, result.stderr);
      for (const [name, site] of [
        ['roof', 'berlin'],
        ['shed', ''],
      ] as const) {
        assert.match(
          result.stderr,
          new RegExp(
            `^stick ${name} .*; last success lost: no series in VictoriaMetrics has its job, instance and labels`,
            'm',
          ),
        );
        const ours = await vm.exportSeries(`trucki_up{instance="${name}",site="${site}"}`);
        assert.equal(ours.length, 1);
        const lent = await vm.query(`trucki_last_success_timestamp_seconds{instance="${name}",site="${site}"}`);
        assert.deepEqual(lent, [], "the Hamburg stick's last success was given to ours");
      }
    } finally {
      await finally_([() => vm.stop(), () => rm(dir, { recursive: true, force: true })]);
    }
  });

  test('an endless recall answer is cut at 4 MiB, in words; the stick still gets up 0', async () => {
    const vm = await startVictoriaMetrics();
    const endless = await startHostileStick('endless body');
    try {
      const dead = 'gone=127.0.0.1:9';
      const args = ['-t', dead, '--victoriametrics', vm.url, '--victoriametrics-query-url', endless.url];
      const result = await runCli([...args, '--retries', '0', '--timeout', '30000'], { measure: true });
      assert.equal(result.code, 69, result.stderr);
      assert.match(
        result.stderr,
        /last success lost: VictoriaMetrics query API \S+ sent more than 4 MiB on \/api\/v1\/query when asked for the last successes; sent to VictoriaMetrics trucki_up 0$/m,
      );
      // A bound against memory growing with the body, not a target: the cap is 4 MiB.
      assert.ok(result.peakRssMiB! < 512, `peak RSS ${String(result.peakRssMiB)} MiB`);
      const [up] = await vm.exportSeries('trucki_up{instance="gone"}');
      assert.deepEqual(up!.values, [0]);
    } finally {
      await finally_([() => vm.stop(), () => endless.close()]);
    }
  });

  test('a recall query that is never answered ends with the timeout, and the stick still gets up 0', async () => {
    const vm = await startVictoriaMetrics();
    const silent = await startHostileStick('never answers');
    try {
      const args = ['-t', 'mute=127.0.0.1:9', '--victoriametrics', vm.url, '--victoriametrics-query-url', silent.url];
      const result = await runCli([...args, '--retries', '0', '--timeout', '1000']);
      assert.equal(result.code, 69);
      assert.match(
        result.stderr,
        /last success lost: VictoriaMetrics query API \S+ timed out after 1 s when asked for the last successes; sent to VictoriaMetrics trucki_up 0$/m,
      );
      const [up] = await vm.exportSeries('trucki_up{instance="mute"}');
      assert.deepEqual(up!.values, [0]);
    } finally {
      await finally_([() => vm.stop(), () => silent.close()]);
    }
  });

  test('a recall answer of the wrong shape or an error says so; implausible times are no last success', async () => {
    const vm = await startVictoriaMetrics();
    let answer: Injected = 200;
    const query = await startProxy(vm.url, { fail: () => answer });
    const json = (status: number, body: unknown): Injected => ({
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const run = (instance: string) =>
      runCli([
        '-t',
        `${instance}=127.0.0.1:9`,
        '--victoriametrics',
        vm.url,
        '--victoriametrics-query-url',
        query.url,
        '--retries',
        '0',
      ]);
    try {
      const refused = { status: 'error', errorType: 'bad_data', error: 'unknown func "last_over_time"\nmore' };
      const cases: [Injected, RegExp][] = [
        [json(200, refused), /answered the query with an error: unknown func "last_over_time" when/],
        [json(422, refused), /answered HTTP 422: unknown func "last_over_time" when/],
        [json(200, [1, 2]), /answered with JSON that is not the result of a query: is the query URL right\? when/],
        [json(200, { status: 'success', data: { result: 'none' } }), /JSON that is not the result of a query/],
        [{ status: 200, body: '<html>login</html>' }, /answered with something that is not JSON/],
        [
          { status: 302, headers: { location: '/login?next=vmui' }, body: '' },
          /answered HTTP 302 Found, redirecting to 127\.0\.0\.1:\d+\/login; redirects are not followed: use that URL when/,
        ],
      ];
      for (const [index, [injected, said]] of cases.entries()) {
        answer = injected;
        const result = await run(`shape${String(index)}`);
        assert.equal(result.code, 69);
        assert.match(result.stderr, said);
        assert.match(result.stderr, /last success lost: VictoriaMetrics query API/);
      }
      const now = Date.now() / 1000;
      for (const [index, value] of ['', null, '1e300', '-5', 'NaN', 12, String(now + 7 * 86_400)].entries()) {
        const instance = `odd${String(index)}`;
        const metric = { __name__: 'trucki_last_success_timestamp_seconds', job: 'trucki', instance };
        answer = json(200, {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric, value: [now, value] }] },
        });
        const result = await run(instance);
        assert.match(result.stderr, /last success lost: no series in VictoriaMetrics has its job, instance and labels/);
        const series = await vm.exportSeries(
          `{instance="${instance}"}`,
          (found) => named(found, 'trucki_up').length > 0,
        );
        assert.deepEqual(named(series, 'trucki_last_success_timestamp_seconds'), [], `${JSON.stringify(value)} taken`);
      }
      // And a plausible one is taken, so that the above is not passed over for another reason.
      const metric = { __name__: 'trucki_last_success_timestamp_seconds', job: 'trucki', instance: 'fine' };
      answer = json(200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric, value: [now, '1700000000.5'] }] },
      });
      assert.doesNotMatch((await run('fine')).stderr, /last success lost/);
      const [fine] = await vm.exportSeries('trucki_last_success_timestamp_seconds{instance="fine"}');
      assert.deepEqual(fine!.values, [1700000000.5]);
    } finally {
      await finally_([() => query.close(), () => vm.stop()]);
    }
  });

  test('one-shot with VictoriaMetrics away: exit 1, one line saying what was not delivered, no credential', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      const away = 'http://writer:hunter2@127.0.0.1:9';
      const result = await runCli(['-t', `alone=${stick.url}`, '--victoriametrics', away, '--retries', '1']);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^VictoriaMetrics http:\/\/127\.0\.0\.1:\d+\/ refused the connection \(2 attempts\); \d+ samples not delivered$/m,
      );
      assert.doesNotMatch(result.stderr, /hunter2|writer/);
    } finally {
      await stick.close();
    }
  });

  test('through a vmagent (no query API): delivered, recall off with the reason in the log', async () => {
    const vm = await startVictoriaMetrics();
    const agent = await startVmagent(`${vm.url}/api/v1/write`);
    try {
      const result = await runCli(['-t', 'off=127.0.0.1:9', '--victoriametrics', agent.url, '--retries', '0']);
      assert.equal(result.code, 69);
      assert.match(
        result.stderr,
        /last success lost: VictoriaMetrics query API \S+ has no \/api\/v1\/query \(a vmagent\?\): recall is off/,
      );
      const [up] = await vm.exportSeries('trucki_up{instance="off"}');
      assert.deepEqual(up!.values, [0]);
    } finally {
      await finally_([() => agent.stop(), () => vm.stop()]);
    }
  });

  test('a loop through a vmagent (no query API) says once that recall is off, not that nothing was found', async () => {
    const vm = await startVictoriaMetrics();
    const agent = await startVmagent(`${vm.url}/api/v1/write`);
    const loop = await startCli(
      ['-t', 'off=127.0.0.1:9', '--victoriametrics', agent.url, '-s', everySecond, '--retries', '0', '--verbose'],
      { env: quickTicks },
    );
    try {
      await until(() => (loop.stderr().match(/^stick off /gm) ?? []).length >= 3, { what: '3 runs' });
      assert.equal((loop.stderr().match(/recall is off/g) ?? []).length, 1, loop.stderr());
      assert.doesNotMatch(loop.stderr(), /no series in VictoriaMetrics/);
    } finally {
      await finally_([() => loop.stop(), () => agent.stop(), () => vm.stop()]);
    }
  });

  test('the recommended setup: posts to a vmagent, recall from the store behind it with --victoriametrics-query-url', async () => {
    const vm = await startVictoriaMetrics({ latencyOffset: 'default' });
    const agent = await startVmagent(`${vm.url}/api/v1/write`);
    const stick = await startSimulator({ variant: 'T2MG' });
    try {
      const args = ['-t', `via=${stick.url}`, '--victoriametrics', agent.url, '--victoriametrics-query-url', vm.url];
      assert.equal((await runCli([...args, '--retries', '0'])).code, 0);
      const [first] = await vm.exportSeries('trucki_last_success_timestamp_seconds{instance="via"}');
      await stick.close();
      const failed = await runCli([...args, '--retries', '0']);
      assert.equal(failed.code, 69);
      assert.doesNotMatch(failed.stderr, /last success lost/);
      const [success] = await vm.exportSeries(
        'trucki_last_success_timestamp_seconds{instance="via"}',
        (found) => found[0]?.values.length === 2,
      );
      assert.deepEqual(success!.values, [first!.values[0], first!.values[0]]);
    } finally {
      await finally_([() => agent.stop(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('recall through a vmagent that adds labels (-remoteWrite.label=host=pi) carries the last success over', async () => {
    const vm = await startVictoriaMetrics();
    const agent = await startVmagent(`${vm.url}/api/v1/write`, ['-remoteWrite.label=host=pi']);
    const stick = await startSimulator({ variant: 'T2SG' });
    const dir = await emptyDir();
    try {
      await writeFile(
        join(dir, 'sticks.yml'),
        `- targets: ['${stick.url}']\n  labels: {instance: roof, site: berlin}\n`,
      );
      const args = ['--targets-file', 'sticks.yml', '--victoriametrics', agent.url, '--victoriametrics-query-url'];
      const run = () => runCli([...args, vm.url, '--grouping', 'fleet=eu', '--retries', '0'], { cwd: dir });
      assert.equal((await run()).code, 0);
      const [first] = await vm.exportSeries('trucki_last_success_timestamp_seconds{instance="roof"}');
      assert.deepEqual(first!.metric, {
        __name__: 'trucki_last_success_timestamp_seconds',
        job: 'trucki',
        instance: 'roof',
        fleet: 'eu',
        site: 'berlin',
        host: 'pi',
      });
      await stick.close();
      const failed = await run();
      assert.equal(failed.code, 69);
      assert.doesNotMatch(failed.stderr, /last success lost/);
      const [success] = await vm.exportSeries(
        'trucki_last_success_timestamp_seconds{instance="roof"}',
        (found) => found[0]?.values.length === 2,
      );
      assert.deepEqual(success!.values, [first!.values[0], first!.values[0]]);
    } finally {
      await finally_([
        () => agent.stop(),
        () => vm.stop(),
        () => stick.close(),
        () => rm(dir, { recursive: true, force: true }),
      ]);
    }
  });

  test('shipped rules on vmalert: StickDown and StickStale fire for a silent stick, not a healthy one', async () => {
    const shipped = await readFile(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8');
    // Only the `for:` durations are shortened, so that this takes seconds; the expressions are the shipped ones.
    const rules = shipped.replace(/^(\s+)for: \d+m$/gm, '$1for: 3s');
    assert.equal((rules.match(/for: 3s/g) ?? []).length, (shipped.match(/for: \d+m/g) ?? []).length);
    const vm = await startVictoriaMetrics();
    const healthy = await startSimulator({ variant: 'T2SG' });
    const gone = '127.0.0.1:9';
    // What the job wrote six minutes ago, when the stick last answered: TruckiStickStale needs a last
    // success older than 300 s, and the job cannot be run in the past.
    const then = Date.now() - 360_000;
    const seed =
      `trucki_up{job="trucki",instance="gone"} 1 ${then}\n` +
      `trucki_last_success_timestamp_seconds{job="trucki",instance="gone"} ${then / 1000} ${then}\n`;
    assert.equal((await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: seed })).status, 204);
    await vm.exportSeries('trucki_last_success_timestamp_seconds{instance="gone"}');
    const vmalert = await startVmalert(rules, vm.url);
    const loop = await startCli([
      '-t',
      `healthy=${healthy.url},gone=${gone}`,
      '--victoriametrics',
      vm.url,
      '--schedule',
      everySecond,
      '--retries',
      '0',
      '--timeout',
      '500',
      '--verbose',
    ]);
    try {
      let alerts = await vmalert.alerts();
      const firing = (name: string) =>
        alerts.some((alert) => alert.name === name && alert.state === 'firing' && alert.labels.instance === 'gone');
      await until(
        async () => {
          alerts = await vmalert.alerts();
          return firing('TruckiStickDown') && firing('TruckiStickStale');
        },
        {
          timeoutMs: 45_000,
          intervalMs: 500,
          what: 'TruckiStickDown and TruckiStickStale firing',
          last: () => `${JSON.stringify(alerts)}\n${loop.stderr()}`,
        },
      );
      assert.deepEqual(
        alerts.filter((alert) => alert.labels.instance !== 'gone'),
        [],
      );
      // Quiet because it is healthy, not because nothing of it arrived.
      const [up] = await vm.query('trucki_up{instance="healthy"}');
      assert.equal(up?.value[1], '1');
      const [stale] = await vm.query('time() - trucki_last_success_timestamp_seconds{instance="gone"}');
      assert.ok(Number(stale!.value[1]) > 300, 'the job carried the old last success over');
    } finally {
      await finally_([() => loop.stop(), () => vmalert.stop(), () => vm.stop(), () => healthy.close()]);
    }
  });

  test('an outage of VictoriaMetrics behind a local vmagent, 30 runs of a loop long, loses no sample', async () => {
    const vm = await startVictoriaMetrics();
    const agent = await startVmagent(`${vm.url}/api/v1/write`);
    const stick = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      ['-t', `queued=${stick.url}`, '--victoriametrics', agent.url, '--schedule', everySecond, '--verbose'],
      {
        env: quickTicks,
      },
    );
    try {
      await vm.exportSeries('trucki_up{instance="queued"}');
      await vm.pause();
      const down = Date.now();
      const readsInOutage = readsFrom(stick);
      await until(() => readsInOutage() >= 30, { what: '30 reads during the outage' });
      await vm.resume();
      // The outage ends when the store is back: the loop went on reading while it started.
      const back = Date.now();
      const readsSinceBack = readsFrom(stick);
      await until(() => readsSinceBack() >= 5, { what: '5 reads after the outage' });
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      const reads = liveReads(stick);
      const [up] = await vm.exportSeries(
        'trucki_up{instance="queued"}',
        // A batch the store took just as it went down may come again from vmagent's queue: a duplicate, not a loss.
        (found) => new Set(found[0]?.timestamps).size === reads,
        90_000,
      );
      assert.equal(new Set(up!.timestamps).size, reads);
      assert.ok(up!.values.every((value) => value === 1));
      // Every read of the outage but the one in flight at each end of it.
      const duringOutage = up!.timestamps.filter((at) => at > down && at < back).length;
      assert.ok(duringOutage >= 28, `${duringOutage} samples read during the outage`);
      assert.doesNotMatch(loop.stderr(), /^VictoriaMetrics |not sent to VictoriaMetrics/m, 'vmagent took every batch');
    } finally {
      await finally_([() => loop.stop(), () => agent.stop(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('a vmagent stopped mid-run and started again: the loop keeps what it could not send, and loses nothing', async () => {
    const vm = await startVictoriaMetrics();
    const agent = await startVmagent(`${vm.url}/api/v1/write`);
    const stick = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      ['-t', `hop=${stick.url}`, '--victoriametrics', agent.url, '-s', everySecond, '--verbose'],
      {
        env: quickTicks,
      },
    );
    try {
      await vm.exportSeries('trucki_up{instance="hop"}');
      await agent.pause();
      const readsInOutage = readsFrom(stick);
      await until(() => readsInOutage() >= 10, { what: '10 reads while the vmagent is down' });
      await loop.waitFor(
        /^VictoriaMetrics \S+ refused the connection \(3 attempts\); \d+ samples kept for the next runs$/m,
      );
      await agent.resume();
      const readsSinceBack = readsFrom(stick);
      await until(() => readsSinceBack() >= 5, { what: '5 reads after the vmagent is back' });
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      const reads = liveReads(stick);
      const [up] = await vm.exportSeries(
        'trucki_up{instance="hop"}',
        // A delivery cut off by the stop after vmagent took it is sent again: a duplicate, not a loss.
        (found) => new Set(found[0]?.timestamps).size === reads,
        60_000,
      );
      assert.equal(new Set(up!.timestamps).size, reads);
    } finally {
      await finally_([() => loop.stop(), () => agent.stop(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('loop straight to VictoriaMetrics: 0 samples lost across an outage of 20 runs, kept batches sent later', async () => {
    const vm = await startVictoriaMetrics();
    const stick = await startSimulator({ variant: 'T2SG' });
    // --verbose: every run's line, the failures of the outage included.
    const loop = await startCli(
      ['-t', `kept=${stick.url}`, '--victoriametrics', vm.url, '--schedule', everySecond, '--verbose'],
      { env: quickTicks },
    );
    try {
      await vm.exportSeries('trucki_up{instance="kept"}');
      await vm.pause();
      const down = Date.now();
      const readsInOutage = readsFrom(stick);
      await until(() => readsInOutage() >= 20, { timeoutMs: 60_000, what: '20 reads during the outage' });
      assert.match(
        loop.stderr(),
        /^VictoriaMetrics \S+ refused the connection \(3 attempts\); \d+ samples kept for the next runs$/m,
      );
      await vm.resume();
      // The outage ends when the store is back: the loop went on reading while it started.
      const back = Date.now();
      const readsSinceBack = readsFrom(stick);
      await until(() => readsSinceBack() >= 5, { what: '5 reads after the outage' });
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      const reads = liveReads(stick);
      const [up] = await vm.exportSeries(
        'trucki_up{instance="kept"}',
        // A delivery cut off by the outage after the store took it is sent again: the same sample at the
        // same time, a duplicate, not a loss. What counts is that every read is there.
        (found) => new Set(found[0]?.timestamps).size === reads,
        30_000,
      );
      assert.equal(new Set(up!.timestamps).size, reads);
      // Every read of the outage but the one in flight at each end of it.
      const duringOutage = up!.timestamps.filter((at) => at > down && at < back).length;
      assert.ok(duringOutage >= 18, `${duringOutage} samples read during the outage`);
      assert.doesNotMatch(loop.stderr(), /dropped/);
    } finally {
      await finally_([() => loop.stop(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('loop straight to VictoriaMetrics with a small backlog: the oldest kept batches dropped first, and counted', async () => {
    const vm = await startVictoriaMetrics();
    const stick = await startSimulator({ variant: 'T2SG' });
    // About three runs' worth of import text (one run of this stick is about 6.7 kB).
    const loop = await startCli(
      [
        '-t',
        `small=${stick.url}`,
        '--victoriametrics',
        vm.url,
        '--schedule',
        everySecond,
        '--retries',
        '0',
        '--verbose',
      ],
      { env: { VICTORIAMETRICS_BACKLOG_MAX_BYTES: '20000', ...quickTicks } },
    );
    try {
      await vm.exportSeries('trucki_up{instance="small"}');
      await vm.pause();
      const down = Date.now();
      const readsInOutage = readsFrom(stick);
      await until(() => readsInOutage() >= 20, { what: '20 reads during the outage' });
      await vm.resume();
      // The outage ends when the store is back: the loop went on reading while it started.
      const back = Date.now();
      const readsSinceBack = readsFrom(stick);
      await until(() => readsSinceBack() >= 5, { what: '5 reads after the outage' });
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      const dropped = [...loop.stderr().matchAll(/samples kept for the next runs, (\d+) dropped so far$/gm)].map((m) =>
        Number(m[1]),
      );
      assert.ok(dropped.length > 0 && dropped.at(-1)! > 0, loop.stderr());
      // A restarted store shows new samples only after a few seconds: wait for the five reads since it came
      // back, which were sent after the kept batches.
      const [series] = await vm.exportSeries(
        'trucki_up{instance="small"}',
        (found) => (found[0]?.timestamps.filter((at) => at >= back).length ?? 0) >= 5,
      );
      const during = series!.timestamps.filter((at) => at > down && at < back);
      // Kept: the newest runs of the outage; dropped: the oldest, which leaves a gap at its start.
      assert.ok(during.length >= 1 && during.length <= 4, `${during.length} samples of the outage kept`);
      assert.ok(
        during[0]! - down > (back - down) / 2,
        'the oldest samples of the outage were the ones dropped: the first kept is in its second half',
      );
      assert.ok(liveReads(stick) > series!.values.length, 'some reads were dropped');
    } finally {
      await finally_([() => loop.stop(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('a loop stopped with samples kept for later tries once more, and says what it could not deliver', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      [
        '-t',
        `a=${stick.url}`,
        '--victoriametrics',
        'http://127.0.0.1:9',
        '-s',
        everySecond,
        '--retries',
        '0',
        '--verbose',
      ],
      { env: quickTicks },
    );
    try {
      await loop.waitFor(/samples kept for the next runs/);
      const ended = await loop.stop();
      assert.equal(ended.code, 1, loop.stderr());
      assert.match(loop.stderr(), /samples not delivered \(stopping\)\n/);
    } finally {
      await stick.close();
    }
  });

  test('a store that takes imports and does not answer: one import open at a time, the runs meanwhile wait for it, nothing lost', async () => {
    const store = await startTestStore(() => 'hold');
    const stick = await startSimulator({ variant: 'T2SG' });
    // On the cron pattern, not the test ticker: that one waits for a run to end, its outcomes included.
    // A quiet loop: one line when deliveries start failing, one when they succeed again.
    const loop = await startCli([
      '-t',
      `held=${stick.url}`,
      '--victoriametrics',
      store.url,
      '-s',
      everySecond,
      '--retries',
      '0',
      '--timeout',
      '60000',
    ]);
    try {
      const reads = readsFrom(stick);
      await until(() => reads() >= 4, { what: '4 reads while the store holds the first import' });
      assert.equal(store.maxOpen(), 1, `${String(store.maxOpen())} imports open at once`);
      assert.equal(store.bodies.length, 1);
      // The later runs wait for the import in flight: an answer still to come is no outage.
      // A read slowed by a loaded machine may skip a tick ("still busy"): that is the stick, not the store.
      const deliveries = () => loop.stderr().replace(/^stick held: (skipped|keeps time) .*\n/gm, '');
      assert.doesNotMatch(deliveries(), /busy|kept|not delivered|failed/);
      store.release();
      await until(() => store.bodies.length >= 2, { what: 'the waiting runs sent once the store answers' });
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      assert.doesNotMatch(deliveries(), /busy|kept|not delivered|failed/);
      assert.equal(store.maxOpen(), 1);
      const sent = store.bodies.flatMap((body) => linesOf(body, 'trucki_up'));
      assert.equal(sent.length, liveReads(stick), 'every read delivered once');
    } finally {
      await finally_([() => loop.stop('SIGKILL'), () => store.close(), () => stick.close()]);
    }
  });

  test("overlapping runs of a loop (a stick still read while the others run on): each stick's line says what became of its own samples", async () => {
    // Every import holding the fast stick is refused; one holding only the slow stick is taken.
    const store = await startTestStore((_index, body) =>
      body.includes('instance="fast"') ? { status: 400, body: 'refused for the test\n' } : { status: 204 },
    );
    const fast = await startSimulator({ variant: 'T2SG' });
    const slow = await startHostileStick('never answers');
    // On the cron pattern: the fast stick runs on the ticks while the first run still reads the slow one.
    const loop = await startCli([
      '-t',
      `fast=${fast.url}`,
      '-t',
      `slow=${slow.url}`,
      '--victoriametrics',
      store.url,
      '-s',
      everySecond,
      '--retries',
      '0',
      '--timeout',
      '5000',
      '--verbose',
    ]);
    try {
      // Five seconds of the slow stick's read: four ticks or more of the fast one, even on a loaded machine.
      await loop.waitFor(/^stick slow \(/m, 30_000);
      const said = loop.stderr();
      assert.ok(liveReads(fast) >= 2, 'the fast stick ran on a tick while the slow one was read');
      assert.doesNotMatch(
        said,
        /^stick fast .*; sent to VictoriaMetrics$/m,
        'no import holding the fast stick was taken',
      );
      const slowTaken = store.bodies.some(
        (body) => body.includes('instance="slow"') && !body.includes('instance="fast"'),
      );
      assert.equal(/^stick slow .*; sent to VictoriaMetrics trucki_up 0$/m.test(said), slowTaken, said);
    } finally {
      await finally_([() => loop.stop('SIGKILL'), () => store.close(), () => fast.close(), () => slow.close()]);
    }
  });

  test('one-shot: an import refused with 400 holds up none of the others, and exit 1 says how much was lost', async () => {
    const store = await startTestStore((index) =>
      index === 0 ? { status: 400, body: 'cannot parse line 7\n' } : { status: 204 },
    );
    const stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
    const dir = await emptyDir();
    try {
      // About 6.7 kB of import text each: three requests of at most 1 MiB.
      const sticks = Array.from({ length: 400 }, (_, index) => ({
        targets: [stick.url.replace('http://', '')],
        labels: { instance: `s${String(index)}` },
      }));
      await writeFile(join(dir, 'sticks.json'), JSON.stringify(sticks));
      // A generous timeout: the one simulator in this busy test process answers all 400.
      const result = await runCli(
        ['--targets-file', 'sticks.json', '--victoriametrics', store.url, '--retries', '0', '--timeout', '60000'],
        { cwd: dir, timeoutMs: 120_000 },
      );
      assert.equal(result.code, 1, result.stderr);
      // Three when every stick answers in time; a stick read as failed makes a shorter text.
      assert.ok(store.bodies.length >= 2, `${String(store.bodies.length)} imports`);
      const [refused, ...accepted] = store.bodies.map((body) => body.split('\n').filter(Boolean).length);
      const said =
        /^VictoriaMetrics \S+ refused 1 of (\d+) import requests with HTTP 400: cannot parse line 7; (\d+) samples not delivered$/m.exec(
          result.stderr,
        );
      assert.ok(said, result.stderr);
      assert.equal(Number(said[1]), store.bodies.length);
      assert.equal(Number(said[2]), refused);
      const up = store.bodies.slice(1).flatMap((body) => linesOf(body, 'trucki_up'));
      assert.equal(up.length + linesOf(store.bodies[0]!, 'trucki_up').length, 400, 'every stick sent once');
      assert.ok(accepted.every((lines) => lines > 0));
      // Each stick's line says what became of its own request.
      const instances = (body: string) => linesOf(body, 'trucki_up').map((line) => /instance="(\w+)"/.exec(line)![1]!);
      const lineOf = (instance: string) => new RegExp(`^stick ${instance} \\(.*; (not )?sent to VictoriaMetrics$`, 'm');
      for (const instance of instances(store.bodies[0]!))
        assert.equal(lineOf(instance).exec(result.stderr)?.[1], 'not ');
      for (const instance of store.bodies.slice(1).flatMap(instances))
        assert.equal(lineOf(instance).exec(result.stderr)?.[1], undefined, `stick ${instance} was sent`);
    } finally {
      await finally_([() => store.close(), () => stick.close(), () => rm(dir, { recursive: true, force: true })]);
    }
  });

  test('a fleet: each import request goes as soon as it is full, while the run still waits for a slow stick', async () => {
    const store = await startTestStore(() => ({ status: 204 }));
    const stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
    // A stick that answers nothing until released, then 503: the run cannot end before that.
    let released = false;
    const held: ServerResponse[] = [];
    const slow = createServer((_request, response) => {
      if (released) response.writeHead(503).end();
      else held.push(response);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const release = () => {
      released = true;
      for (const response of held.splice(0)) response.writeHead(503).end();
    };
    const dir = await emptyDir();
    try {
      // About 6.7 kB of import text each: 400 sticks fill two requests of 1 MiB and start a third.
      // The slow one first: it is being read before any other, and holds up the run's end.
      const sticks = [
        { targets: [`127.0.0.1:${String((slow.address() as AddressInfo).port)}`], labels: { instance: 'slow' } },
        ...Array.from({ length: 400 }, (_, index) => ({
          targets: [stick.url.replace('http://', '')],
          labels: { instance: `s${String(index)}` },
        })),
      ];
      await writeFile(join(dir, 'sticks.json'), JSON.stringify(sticks));
      const run = runCli(
        ['--targets-file', 'sticks.json', '--victoriametrics', store.url, '--retries', '0', '--timeout', '60000'],
        { cwd: dir, timeoutMs: 120_000 },
      );
      await until(() => store.bodies.length >= 2, {
        what: 'two full import requests while a stick is still being read',
        timeoutMs: 40_000,
        last: () => `${String(store.bodies.length)} imports, ${String(held.length)} requests held`,
      });
      assert.ok(held.length > 0, 'the slow stick was not being read');
      release();
      const result = await run;
      assert.equal(result.code, 69, result.stderr);
      assert.ok(store.bodies.length >= 3, `${String(store.bodies.length)} imports`);
      assert.ok(store.bodies.every((body) => Buffer.byteLength(body) <= 1 << 20));
      const up = store.bodies.flatMap((body) => linesOf(body, 'trucki_up'));
      assert.equal(up.length, 401, 'every stick sent once');
      assert.equal(up.filter((line) => / 0 \d+$/.test(line)).length, 1, 'the slow stick, and only it, sent as down');
    } finally {
      release();
      await finally_([
        () => store.close(),
        () => stick.close(),
        () => new Promise((resolve) => slow.close(resolve)),
        () => rm(dir, { recursive: true, force: true }),
      ]);
    }
  });

  test('429 with --retries 0 in a loop: kept, not dropped, and nothing sent before its Retry-After', async () => {
    const vm = await startVictoriaMetrics();
    const imports: number[] = [];
    const proxy = await startProxy(vm.url, {
      fail: ({ url }) => {
        if (!url.startsWith('/api/v1/import')) return undefined;
        imports.push(Date.now());
        return imports.length === 1 ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down\n' } : undefined;
      },
    });
    const stick = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      ['-t', `later=${stick.url}`, '--victoriametrics', proxy.url, '-s', everySecond, '--retries', '0', '--verbose'],
      { env: quickTicks },
    );
    try {
      await until(() => imports.length >= 3, { what: 'imports after the 429' });
      assert.match(
        loop.stderr(),
        /^VictoriaMetrics \S+ answered HTTP 429 Too Many Requests, asking to wait 2 s; \d+ samples kept for the next runs$/m,
      );
      assert.ok(imports[1]! - imports[0]! >= 1900, `sent again ${String(imports[1]! - imports[0]!)} ms after the 429`);
      assert.deepEqual(await loop.stop(), { code: 0, signal: null }, loop.stderr());
      const reads = liveReads(stick);
      const [up] = await vm.exportSeries('trucki_up{instance="later"}', (found) => found[0]?.values.length === reads);
      assert.equal(new Set(up!.timestamps).size, reads);
    } finally {
      await finally_([() => loop.stop(), () => proxy.close(), () => vm.stop(), () => stick.close()]);
    }
  });

  test('Retry-After in the retries: honoured up to the timeout, in seconds or as a date; a bad one ignored', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      const cases = [
        { retryAfter: '2', timeout: '5000', least: 1900 },
        { retryAfter: '999999999', timeout: '1000', least: 900 },
        { retryAfter: 'date', timeout: '5000', least: 900 },
        { retryAfter: '-3', timeout: '5000', least: 0 },
        { retryAfter: 'soon', timeout: '5000', least: 0 },
      ];
      for (const { retryAfter, timeout, least } of cases) {
        const times: number[] = [];
        const store = await startTestStore((index) => {
          times.push(Date.now());
          // An HTTP date 3 s ahead, made as it is sent: to the second, so 2 to 3 s.
          const header = retryAfter === 'date' ? new Date(Date.now() + 3000).toUTCString() : retryAfter;
          return index === 0 ? { status: 503, headers: { 'retry-after': header } } : { status: 204 };
        });
        try {
          const args = ['-t', `a=${stick.url}`, '--victoriametrics', store.url, '--retries', '1', '--timeout', timeout];
          const result = await runCli(args);
          assert.equal(result.code, 0, `${retryAfter}: ${result.stderr}`);
          assert.equal(times.length, 2);
          const waited = times[1]! - times[0]!;
          assert.ok(waited >= least, `Retry-After ${retryAfter}: retried after ${String(waited)} ms`);
          assert.ok(waited < Number(timeout) + 2000, `Retry-After ${retryAfter}: retried after ${String(waited)} ms`);
        } finally {
          await store.close();
        }
      }
    } finally {
      await stick.close();
    }
  });

  test('hostile store: an endless answer to an import is cut off in words, memory bounded', async () => {
    const store = await startTestStore(() => 'endless');
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      const args = ['-t', `a=${stick.url}`, '--victoriametrics', store.url, '--retries', '0', '--timeout', '20000'];
      const result = await runCli(args, { measure: true });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /^VictoriaMetrics \S+ sent more than 1 MiB answering the import; \d+ samples not delivered$/m,
      );
      assert.ok(result.peakRssMiB! < 512, `peak RSS ${String(result.peakRssMiB)} MiB`);
    } finally {
      await finally_([() => store.close(), () => stick.close()]);
    }
  });

  test('hostile store: a refusal with no body is named by its status', async () => {
    const store = await startTestStore(() => ({ status: 400 }));
    try {
      const result = await runCli(['-t', 'a=127.0.0.1:9', '--victoriametrics', store.url, '--retries', '0']);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^VictoriaMetrics \S+ refused 1 of 1 import requests with HTTP 400: Bad Request; \d+ samples not delivered$/m,
      );
    } finally {
      await store.close();
    }
  });

  test('hostile store: 429 with an hour-long Retry-After in a loop: not sent to again, and the stop says what was kept', async () => {
    const store = await startTestStore(() => ({ status: 429, headers: { 'retry-after': '999999999' } }));
    const stick = await startSimulator({ variant: 'T2SG' });
    const loop = await startCli(
      ['-t', `a=${stick.url}`, '--victoriametrics', store.url, '-s', everySecond, '--retries', '0', '--verbose'],
      { env: quickTicks },
    );
    try {
      const reads = readsFrom(stick);
      await until(() => reads() >= 10, { timeoutMs: 60_000, what: '10 reads after the 429' });
      const stickLines = () => loop.stderr().match(/^stick a .*$/gm) ?? [];
      await until(() => stickLines().length >= 5, { what: '5 runs ended' });
      assert.equal(store.bodies.length, 1, 'sent again before the Retry-After');
      const said = loop.stderr();
      assert.match(said, /asking to wait 3600 s; \d+ samples kept for the next runs$/m);
      // Every run kept its batch, and its stick's line says so: none was sent.
      assert.ok(
        stickLines().every((line) => line.endsWith('; not sent to VictoriaMetrics')),
        said,
      );
      // Each run after the 429 says why, on the line after its sticks' (a flush logs both at once).
      assert.equal(
        (said.match(/asked to be sent nothing before \S+ \(Retry-After\); \d+ samples kept/g) ?? []).length,
        (said.match(/^stick a .*$/gm) ?? []).length - 1,
      );
      assert.equal((await loop.stop()).code, 1);
      assert.match(
        loop.stderr(),
        /^VictoriaMetrics \S+ asked to be sent nothing before \S+ \(Retry-After\); \d+ samples not delivered \(stopping\)$/m,
      );
      assert.equal(store.bodies.length, 1);
    } finally {
      await finally_([() => loop.stop(), () => store.close(), () => stick.close()]);
    }
  });

  test("any remote-write store: Prometheus' receiver behind a vmagent gets the samples", async () => {
    const prometheus = await startPrometheus('global:\n  scrape_interval: 1m\n', [
      '--web.enable-remote-write-receiver',
    ]);
    const agent = await startVmagent(`${prometheus.url}/api/v1/write`);
    const stick = await startSimulator({ variant: 'T2MG', clock: () => 0 });
    try {
      const result = await runCli(['-t', `remote=${stick.url}`, '--victoriametrics', agent.url]);
      assert.equal(result.code, 0, result.stderr);
      const [up] = await prometheus.waitFor('trucki_up{job="trucki",instance="remote"}');
      assert.equal(up!.value[1], '1');
      const [current] = await prometheus.waitFor('trucki_battery_current_amperes{instance="remote"}');
      assert.equal(current!.value[1], '12.47');
    } finally {
      await finally_([() => agent.stop(), () => prometheus.stop(), () => stick.close()]);
    }
  });
});
