/**
 * The VictoriaMetrics sink against the real programs (Debian's victoria-metrics 1.79: the single
 * node, vmagent, vmalert; Prometheus' remote-write receiver): what lands, with which labels and
 * times; a failed stick; recall, and not from a namesake; the shipped alert rules; outages with
 * and without a vmagent, as long as a number of runs of a loop on the test ticker; what a stopped
 * loop could not deliver. The slow tests run concurrently, each with programs of its own.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { emptyDir, quickTicks, runCli, startCli } from './helpers/cli.js';
import { repoRoot } from './helpers/paths.js';
import { freePort } from './helpers/process.js';
import { startPrometheus } from './helpers/prometheus.js';
import { startProxy, type Proxy } from './helpers/proxy.js';
import { expectedAtZero } from './helpers/sticks.js';
import { until } from './helpers/until.js';
import { startVictoriaMetrics, startVmagent, startVmalert, type Series } from './helpers/victoriametrics.js';

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
      assert.equal(failed.code, 1);
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

  test('recall takes the last success of the stick with exactly these labels, not a namesake elsewhere', async () => {
    const vm = await startVictoriaMetrics();
    const dir = await emptyDir();
    try {
      // A stick called roof in Hamburg, read a minute ago; ours is roof with no site, never read.
      const seed = `trucki_last_success_timestamp_seconds{job="trucki",instance="roof",site="hamburg"} 1700000000 ${String(Date.now() - 60_000)}\n`;
      assert.equal((await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: seed })).status, 204);
      await vm.waitFor('trucki_last_success_timestamp_seconds');
      const dead = await freePort();
      await writeFile(
        join(dir, 'sticks.json'),
        JSON.stringify([{ targets: [`127.0.0.1:${String(dead)}`], labels: { instance: 'roof' } }]),
      );
      const result = await runCli(['--targets-file', 'sticks.json', '--victoriametrics', vm.url, '--retries', '0'], {
        cwd: dir,
      });
      assert.equal(result.code, 1, result.stderr);
      const ours = await vm.exportSeries('trucki_up{instance="roof",site=""}');
      assert.equal(ours.length, 1);
      const lent = await vm.query('trucki_last_success_timestamp_seconds{instance="roof",site=""}');
      assert.deepEqual(lent, [], "the Hamburg stick's last success was given to ours");
    } finally {
      await finally_([() => vm.stop(), () => rm(dir, { recursive: true, force: true })]);
    }
  });

  test('one-shot with VictoriaMetrics away: exit 1, one line saying what was not delivered, no credential', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      const away = `http://writer:hunter2@127.0.0.1:${await freePort()}`;
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
      const result = await runCli([
        '-t',
        `off=127.0.0.1:${await freePort()}`,
        '--victoriametrics',
        agent.url,
        '--retries',
        '0',
      ]);
      assert.equal(result.code, 1);
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
      assert.equal(failed.code, 1);
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

  test('shipped rules on vmalert: StickDown and StickStale fire for a silent stick, not a healthy one', async () => {
    const shipped = await readFile(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8');
    // Only the `for:` durations are shortened, so that this takes seconds; the expressions are the shipped ones.
    const rules = shipped.replace(/^(\s+)for: \d+m$/gm, '$1for: 3s');
    assert.equal((rules.match(/for: 3s/g) ?? []).length, (shipped.match(/for: \d+m/g) ?? []).length);
    const vm = await startVictoriaMetrics();
    const healthy = await startSimulator({ variant: 'T2SG' });
    const gone = `127.0.0.1:${await freePort()}`;
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
      ['-t', `queued=${stick.url}`, '--victoriametrics', agent.url, '--schedule', everySecond],
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
        (found) => found[0]?.values.length === reads,
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
        (found) => found[0]?.values.length === reads,
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
      const [series] = await vm.exportSeries(
        'trucki_up{instance="small"}',
        (found) => (found[0]?.values.length ?? 0) > 3,
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
    const nowhere = await freePort();
    const loop = await startCli(
      [
        '-t',
        `a=${stick.url}`,
        '--victoriametrics',
        `http://127.0.0.1:${String(nowhere)}`,
        '-s',
        everySecond,
        '--retries',
        '0',
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
