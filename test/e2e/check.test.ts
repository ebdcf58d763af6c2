/**
 * `trucki2pushgateway check` against the real programs: a real Pushgateway, real Prometheus servers
 * set up right and set up wrong, the simulator as the stick, and servers that answer badly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as yaml from 'yaml';
import { parseShippedRules } from '../../src/check/rules.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { assertWellFormed, marked } from '../helpers/check.js';
import { emptyDir, quickTicks, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { endlessBody, startScripted } from '../helpers/hostile.js';
import { jobBundle, repoRoot } from '../helpers/paths.js';
import { freePort } from '../helpers/process.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { startPushgateway, type MetricFamilyJson, type RunningPushgateway } from '../helpers/pushgateway.js';
import { startVictoriaMetrics, startVmagent, startVmalert } from '../helpers/victoriametrics.js';

const rulesFile = `${repoRoot}deploy/prometheus/trucki-rules.yml`;
const shipped = parseShippedRules(readFileSync(rulesFile, 'utf8'), yaml);
const shippedRules = shipped.map(({ name }) => name);
/** The shipped rules as Prometheus's /api/v1/rules lists them, each with `more`. */
const asLoaded = (more: Record<string, unknown> = {}) =>
  shipped.map(({ name, type, expr, duration, labels }) => ({
    name,
    type,
    query: expr,
    duration,
    labels,
    health: 'ok',
    lastError: '',
    ...more,
  }));
const deadStick = '127.0.0.1:9';

/** A Prometheus configuration scraping `pushgateway` every second, as the test needs it. */
function prometheusYml(options: {
  pushgateway?: string;
  jobName?: string;
  honorLabels?: boolean;
  rules?: readonly string[];
  /** Scrape jobs of its own, as YAML list items. */
  more?: readonly string[];
  /** The global scrape interval; 1s unless given. */
  interval?: string;
}): string {
  const scrape = options.pushgateway
    ? [
        `  - job_name: ${options.jobName ?? 'pushgateway'}`,
        `    honor_labels: ${String(options.honorLabels ?? true)}`,
        '    static_configs:',
        `      - targets: ['${options.pushgateway}']`,
      ]
    : [];
  return [
    'global:',
    `  scrape_interval: ${options.interval ?? '1s'}`,
    '  evaluation_interval: 1s',
    'rule_files:',
    ...(options.rules ?? []).map((file) => `  - ${file}`),
    'scrape_configs:',
    ...scrape,
    ...(options.more ?? []),
    '',
  ].join('\n');
}

let stick: Simulator;
let pushgateway: RunningPushgateway;
let unscraped: RunningPushgateway;
/** host:port of the Pushgateway, as Prometheus scrapes it: "localhost", where the job pushes to 127.0.0.1. */
let scrapedAs: string;
before(async () => {
  [stick, pushgateway, unscraped] = await Promise.all([
    startSimulator({ variant: 'T2SG' }),
    startPushgateway(),
    startPushgateway(),
  ]);
  scrapedAs = pushgateway.url.replace('http://127.0.0.1', 'localhost');
});
after(() => Promise.all([stick?.close(), pushgateway?.stop(), unscraped?.stop()]));

const checkArgs = (prometheus: RunningPrometheus | string, ...more: string[]) => [
  'check',
  '-t',
  `roof=${stick.url}`,
  '-g',
  pushgateway.url,
  '--prometheus-url',
  typeof prometheus === 'string' ? prometheus : prometheus.url,
  ...more,
];

describe('a Prometheus set up right: honor_labels, the shipped rules', () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    prometheus = await startPrometheus(prometheusYml({ pushgateway: scrapedAs, rules: [rulesFile] }));
    await prometheus.waitFor(`up{job="pushgateway"} == 1`);
  });
  after(() => prometheus?.stop());

  test('every step holds: all ✓, exit 0', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.deepEqual([...marked(result, '✗'), ...marked(result, '?')], [], result.stdout);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const text = result.stdout;
    const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };
    assert.ok(text.startsWith(`✓ trucki2pushgateway ${version}, configuration: 1 stick, to Pushgateway`), text);
    assert.match(
      text,
      /^✓ stick roof \(127\.0\.0\.1:\d+\): a Trucki T2SG, device T2SGA55A69, firmware 1\.16 .*; \d+ known keys$/m,
    );
    assert.match(text, /^✓ Pushgateway .* took the push of 1 stick, as job "trucki"$/m);
    assert.match(
      text,
      /^✓ Prometheus scrapes the Pushgateway 127\.0\.0\.1:\d+ \(scrape job "pushgateway", every 1s\) and it is up$/m,
    );
    assert.match(text, /^✓ the scrape interval 1s .* fits the pushes, every 15 s/m);
    assert.match(
      text,
      /^✓ the sticks' series reach Prometheus with their own job and instance, e.g. trucki_up\{job="trucki", instance="roof"\}$/m,
    );
    assert.match(
      text,
      /^✓ the shipped rules are loaded as shipped \(\d+ rules, groups trucki\.alerts, trucki\.recording\) and healthy$/m,
    );
    assert.match(text, /^✓ no Trucki alert is firing/m);
    // The push was real: the group is in the Pushgateway.
    assert.ok(await pushgateway.group({ job: 'trucki', instance: 'roof' }));
  });

  test('a dead stick is a ✗ line naming it, the rest still checked; exit 1', async () => {
    const result = await runCli([
      ...checkArgs(prometheus, '--timeout', '500', '--retries', '0'),
      '-t',
      `dark=${deadStick}`,
    ]);
    assertWellFormed(result);
    assert.equal(result.code, 1);
    assert.deepEqual(marked(result, '✗'), [
      `✗ stick dark (${deadStick}): refused the connection: is the address right, and the stick on and reachable from here? (a stick that is off shows here too)`,
    ]);
    assert.match(result.stdout, /^✓ stick roof /m);
    assert.match(result.stdout, /^✓ Pushgateway .* took the push of 2 sticks/m);
    // The later scenarios start without it.
    await fetch(`${pushgateway.url}/metrics/job/trucki/instance/dark`, { method: 'DELETE' });
  });

  test('a schedule slower than the scrape interval fits; the cadence is read from the pattern', async () => {
    const result = await runCli(checkArgs(prometheus, '--schedule', '*/30 * * * * *'));
    assert.equal(result.code, 0, result.stdout);
    assert.match(
      result.stdout,
      /^✓ the scrape interval 1s .* fits the pushes, every 30 s \(--schedule "\*\/30 \* \* \* \* \*"\)$/m,
    );
  });

  test('a Pushgateway that Prometheus does not scrape: ✗ no target, with the scrape job to add; exit 1', async () => {
    // The same stick's series from the scraped Pushgateway are there: they are not this push's.
    assert.equal((await runCli(['-t', `roof=${stick.url}`, '-g', pushgateway.url])).code, 0);
    await prometheus.waitFor('trucki_up{job="trucki", instance="roof"}');
    const result = await runCli([
      'check',
      '-t',
      `roof=${stick.url}`,
      '-g',
      unscraped.url,
      '--prometheus-url',
      prometheus.url,
    ]);
    assertWellFormed(result);
    assert.equal(result.code, 1);
    const host = unscraped.url.replace('http://', '');
    assert.deepEqual(marked(result, '✗'), [
      `✗ Prometheus ${prometheus.url}/ has no target for the Pushgateway ${host}: add the scrape job of ` +
        `deploy/prometheus/trucki-scrape.yml to prometheus.yml (targets: ['${host}'], honor_labels: true) and reload it`,
    ]);
  });

  test('a group no stick names any more: named with the one command that forgets it; check deletes nothing', async () => {
    assert.equal((await runCli(['-t', `old=${stick.url}`, '-g', pushgateway.url])).code, 0);
    // A run would forget it (--forget-after 1ms): check only says so.
    const result = await runCli(checkArgs(prometheus, '--forget-after', '1ms'));
    assertWellFormed(result);
    assert.ok(await pushgateway.group({ job: 'trucki', instance: 'old' }), `check deleted the group: ${result.stdout}`);
    const line = result.stdout.split('\n').find((each) => each.includes('group {job="trucki",instance="old"}'));
    assert.match(
      line ?? '',
      /^\? group \{job="trucki",instance="old"\} on the Pushgateway is named by no stick here/,
      result.stdout,
    );
    const command = /forget it(?: now)?: (curl .*)$/.exec(line!)![1]!;
    execFileSync('sh', ['-c', command]);
    assert.equal(await pushgateway.group({ job: 'trucki', instance: 'old' }), undefined);
  });

  test('user info in the URLs never shows', async () => {
    const withSecret = (url: string) => url.replace('http://', 'http://someone:s3cr3t-pw@');
    const result = await runCli([
      'check',
      '-t',
      `roof=${stick.url}`,
      '-g',
      withSecret(pushgateway.url),
      '--prometheus-url',
      withSecret(prometheus.url),
    ]);
    assert.equal(result.code, 0, result.stdout);
    assert.doesNotMatch(result.stdout + result.stderr, /s3cr3t|someone/);
  });
});

describe('a Prometheus scraping the Pushgateway without honor_labels', () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    prometheus = await startPrometheus(
      prometheusYml({ pushgateway: scrapedAs, jobName: 'my-gateway', honorLabels: false, rules: [rulesFile] }),
    );
    await prometheus.waitFor(`up{job="my-gateway"} == 1`);
  });
  after(() => prometheus?.stop());

  test('✗ says to add `honor_labels: true` to that scrape job; exit 1', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 1);
    const host = scrapedAs.replace('localhost', '127.0.0.1');
    assert.ok(
      marked(result, '✗').includes(
        `✗ the sticks' series reach Prometheus as job="my-gateway", instance="${scrapedAs}" (their own moved to ` +
          'exported_job, exported_instance): add `honor_labels: true` to scrape job "my-gateway"',
      ),
      result.stdout,
    );
    assert.match(
      result.stdout,
      new RegExp(`^✓ Prometheus scrapes the Pushgateway ${host} \\(scrape job "my-gateway"`, 'm'),
    );
  });

  test('with two sticks the shipped rules stay healthy (no many-to-many) and the ✗ line names honor_labels', async () => {
    const sticks = ['-t', `roof=${stick.url}`, '-t', `garage=${stick.url}`];
    assert.equal((await runCli([...sticks, '-g', pushgateway.url])).code, 0);
    await prometheus.waitFor('count(push_time_seconds{exported_job="trucki"}) == 2');
    // Every rule evaluated over both sticks' series (the alert for this mistake is there from roof alone).
    await prometheus.evaluatedAfter(Date.now());
    const result = await runCli(['check', ...sticks, '-g', pushgateway.url, '--prometheus-url', prometheus.url]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^✗ .*honor_labels: true/m);
    assert.doesNotMatch(result.stdout, /^✗ rule /m);
    await fetch(`${pushgateway.url}/metrics/job/trucki/instance/garage`, { method: 'DELETE' });
  });
});

describe('a Prometheus whose scrape job drops the instance label (metric_relabel_configs)', () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    const dropping = [
      '  - job_name: dropping',
      '    honor_labels: true',
      '    metric_relabel_configs:',
      '      - action: labeldrop',
      '        regex: instance',
      '    static_configs:',
      `      - targets: ['${scrapedAs}']`,
    ];
    prometheus = await startPrometheus(prometheusYml({ rules: [rulesFile], more: dropping }));
    await prometheus.waitFor(`up{job="dropping"} == 1`);
  });
  after(() => prometheus?.stop());

  test("✗ the sticks' series are not there under their own labels: a relabelling of that scrape job?", async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 1);
    assert.ok(
      marked(result, '✗').some((line) =>
        /^✗ this push's series of roof \(trucki_up\{job="trucki"\}, push_time_seconds\) are not in Prometheus \d+ s after the push: does a relabelling of the scrape job "dropping" drop or rename them\?$/.test(
          line,
        ),
      ),
      result.stdout,
    );
  });
});

describe('a Prometheus scraping the Pushgateway twice, once with and once without honor_labels', () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    const without = ['  - job_name: old-gateway', '    static_configs:', `      - targets: ['${scrapedAs}']`];
    prometheus = await startPrometheus(
      prometheusYml({ pushgateway: scrapedAs, jobName: 'trucki-gateway', rules: [rulesFile], more: without }),
    );
    await prometheus.waitFor(`up{job="old-gateway"} == 1 and on() up{job="trucki-gateway"} == 1`);
    // The Pushgateway holds a group from an earlier run, as it does between timer runs.
    assert.equal((await runCli(['-t', `roof=${stick.url}`, '-g', pushgateway.url])).code, 0);
    await prometheus.waitFor('trucki_up{exported_instance="roof"}');
  });
  after(() => prometheus?.stop());

  test('✗ names the scrape job without honor_labels, though the other brings the series right', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 1, result.stdout);
    assert.ok(
      marked(result, '✗').includes(
        `✗ the sticks' series reach Prometheus as job="old-gateway", instance="${scrapedAs}" (their own moved to ` +
          'exported_job, exported_instance): add `honor_labels: true` to scrape job "old-gateway"',
      ),
      result.stdout,
    );
  });
});

describe('while a loop pushes the same stick more often than Prometheus scrapes', () => {
  let honouring: RunningPrometheus;
  let renaming: RunningPrometheus;
  let loop: RunningCli;
  before(async () => {
    [honouring, renaming] = await Promise.all([
      startPrometheus(prometheusYml({ pushgateway: scrapedAs, rules: [rulesFile], interval: '3s' })),
      startPrometheus(
        prometheusYml({ pushgateway: scrapedAs, jobName: 'my-gateway', honorLabels: false, interval: '3s' }),
      ),
    ]);
    loop = await startCli(
      ['-t', `roof=${stick.url}`, '-g', pushgateway.url, '--schedule', '* * * * * *', '--verbose'],
      {
        env: quickTicks,
      },
    );
    await loop.waitFor(/roof/);
    await honouring.waitFor('trucki_up{job="trucki", instance="roof"}');
  });
  after(() => Promise.all([loop?.stop(), honouring?.stop(), renaming?.stop()]));

  test("set up right: this push's series, or a later push's, arrived: ✓, exit 0", async () => {
    const result = await runCli(checkArgs(honouring));
    assertWellFormed(result);
    assert.deepEqual([...marked(result, '✗'), ...marked(result, '?')], [], result.stdout);
    assert.match(result.stdout, /^✓ the sticks' series reach Prometheus with their own job and instance/m);
    assert.equal(result.code, 0);
  });

  test('without honor_labels: the ✗ names honor_labels, not a relabelling', async () => {
    await renaming.waitFor('trucki_up{exported_instance="roof"}');
    const result = await runCli(checkArgs(renaming));
    assertWellFormed(result);
    assert.ok(
      marked(result, '✗').includes(
        `✗ the sticks' series reach Prometheus as job="my-gateway", instance="${scrapedAs}" (their own moved to ` +
          'exported_job, exported_instance): add `honor_labels: true` to scrape job "my-gateway"',
      ),
      result.stdout,
    );
    assert.doesNotMatch(result.stdout, /relabelling/);
  });
});

describe('a Prometheus with a rewritten copy of the shipped rules and a relabelling that drops readings', () => {
  let prometheus: RunningPrometheus;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trucki-check-'));
    const file = yaml.parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Record<string, string>[] }[] };
    for (const group of file.groups) {
      group.rules = group.rules.filter(
        (rule) => rule.alert !== 'TruckiSeriesStopped' && rule.record !== 'instance:trucki_grid_export:watts',
      );
      for (const rule of group.rules) if (rule.alert === 'TruckiStickDown') rule.expr = 'trucki_up == 42';
    }
    const rewritten = join(dir, 'trucki-rules.yml');
    await writeFile(rewritten, yaml.stringify(file));
    const dropping = [
      '  - job_name: dropping',
      '    honor_labels: true',
      '    metric_relabel_configs:',
      '      - action: drop',
      '        source_labels: [__name__]',
      '        regex: trucki_ac_power_watts',
      '    static_configs:',
      `      - targets: ['${scrapedAs}']`,
    ];
    prometheus = await startPrometheus(prometheusYml({ rules: [rewritten], more: dropping }));
    await prometheus.waitFor(`up{job="dropping"} == 1`);
  });
  after(() => Promise.all([prometheus?.stop(), dir && rm(dir, { recursive: true, force: true })]));

  test('✗ for the rules that are not the shipped ones and for the readings that never arrive', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 1, result.stdout);
    const failures = marked(result, '✗');
    const expr = shipped
      .find(({ name }) => name === 'TruckiStickDown')!
      .expr.trim()
      .replace(/\s+/g, ' ')
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const rules = new RegExp(
      "^✗ Prometheus's rules are not the shipped ones: (TruckiSeriesStopped|instance:trucki_grid_export:watts), " +
        '(TruckiSeriesStopped|instance:trucki_grid_export:watts) missing; TruckiStickDown \\(group trucki\\.alerts\\) ' +
        `has the expression \`trucki_up == 42\`, not \`${expr}\`; `,
    );
    assert.ok(
      failures.some((line) => rules.test(line)),
      result.stdout,
    );
    assert.ok(
      failures.some((line) =>
        /^✗ \d+ series of this push are not in Prometheus: roof trucki_ac_power_watts\{inverter="sun1"\}, .*: does a relabelling of the scrape job "dropping" drop or rename them\?$/.test(
          line,
        ),
      ),
      result.stdout,
    );
  });
});

describe('a second scrape job of the Pushgateway without honor_labels that drops the exported_ labels', () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    const second = [
      '  - job_name: second',
      '    metric_relabel_configs:',
      '      - action: labeldrop',
      '        regex: exported_(job|instance)',
      '    static_configs:',
      `      - targets: ['${scrapedAs}']`,
    ];
    prometheus = await startPrometheus(prometheusYml({ pushgateway: scrapedAs, rules: [rulesFile], more: second }));
    await prometheus.waitFor(`up{job="second"} == 1 and on() up{job="pushgateway"} == 1`);
  });
  after(() => prometheus?.stop());

  test('✗ names that scrape job: every stick collapses into one series there', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 1, result.stdout);
    assert.ok(
      marked(result, '✗').includes(
        `✗ the sticks' series reach Prometheus as job="second", instance="${scrapedAs}" (their own dropped: every ` +
          `stick's series collapse into one): add \`honor_labels: true\` to scrape job "second"`,
      ),
      result.stdout,
    );
  });
});

describe('a Prometheus scraping the Pushgateway under another address (a proxy, a container name)', () => {
  let prometheus: RunningPrometheus;
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(pushgateway.url);
    prometheus = await startPrometheus(
      prometheusYml({ pushgateway: proxy.url.replace('http://', ''), rules: [rulesFile] }),
    );
    await prometheus.waitFor(`up{job="pushgateway"} == 1`);
    assert.equal((await runCli(['-t', `roof=${stick.url}`, '-g', pushgateway.url])).code, 0);
    await prometheus.waitFor('trucki_up{job="trucki", instance="roof"}');
  });
  after(() => Promise.all([prometheus?.stop(), proxy?.close()]));

  test('the series arrive right, so no "no target" ✗: ? says it cannot tell the scrape interval; exit 3', async () => {
    const result = await runCli(checkArgs(prometheus));
    assertWellFormed(result);
    assert.equal(result.code, 3, result.stdout);
    assert.deepEqual(marked(result, '✗'), []);
    assert.deepEqual(marked(result, '?'), [
      `? Prometheus ${prometheus.url}/ has no target at the Pushgateway's address ${pushgateway.url.replace('http://', '')}, ` +
        "yet the sticks' series arrive with their own job and instance: it scrapes the Pushgateway under another name, " +
        'whose scrape interval is not checked',
    ]);
  });
});

describe('a Prometheus without the shipped rules, with another Trucki alert firing', () => {
  let prometheus: RunningPrometheus;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trucki-check-'));
    const firing = join(dir, 'other.yml');
    await writeFile(
      firing,
      'groups:\n  - name: other\n    rules:\n      - alert: TruckiCheckTestAlert\n        expr: trucki_up == 0\n',
    );
    prometheus = await startPrometheus(prometheusYml({ pushgateway: scrapedAs, rules: [firing] }));
    await prometheus.waitFor(`up{job="pushgateway"} == 1`);
  });
  after(() => Promise.all([prometheus?.stop(), dir && rm(dir, { recursive: true, force: true })]));

  test('✗ the shipped rules are not loaded; a firing Trucki alert is a ✗ line; exit 1', async () => {
    // A dead stick pushed as trucki_up 0 sets the test's alert firing.
    const check = () =>
      runCli([
        'check',
        '-t',
        `dark=${deadStick}`,
        '-g',
        pushgateway.url,
        '--prometheus-url',
        prometheus.url,
        '--retries',
        '0',
      ]);
    const result = await check();
    assertWellFormed(result);
    assert.equal(result.code, 1);
    assert.ok(
      marked(result, '✗').includes(
        `✗ the shipped rules are not loaded in Prometheus ${prometheus.url}/: copy deploy/prometheus/trucki-rules.yml ` +
          'beside prometheus.yml, name it under rule_files: and reload Prometheus',
      ),
      result.stdout,
    );
    await prometheus.waitFor('ALERTS{alertname="TruckiCheckTestAlert", alertstate="firing"}');
    const again = await check();
    assert.ok(
      marked(again, '✗').includes(
        '✗ alert TruckiCheckTestAlert is firing for job="trucki", instance="dark": ' +
          'see its description on the Alerts page of Prometheus',
      ),
      again.stdout,
    );
    await fetch(`${pushgateway.url}/metrics/job/trucki/instance/dark`, { method: 'DELETE' });
  });
});

describe('no Prometheus where the check looks', () => {
  test('a closed port: the ? mark says Prometheus was not checked; exit 3, not 0', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(checkArgs(url, '--retries', '0'));
    assertWellFormed(result);
    assert.equal(result.code, 3);
    assert.deepEqual(marked(result, '✗'), []);
    assert.deepEqual(marked(result, '?'), [
      `? no Prometheus at ${url}/ (refused the connection): Prometheus not checked`,
    ]);
  });
});

describe('what check leaves behind', () => {
  test("nothing in the cache directory nor in HOME: no code cache, no /jsononce, no forget stamp (root's cache included)", async () => {
    const prometheus = `http://127.0.0.1:${await freePort()}`;
    const home = await emptyDir();
    const cache = await emptyDir();
    try {
      for (const env of [{ HOME: home }, { CACHE_DIRECTORY: cache }] as Record<string, string>[]) {
        for (let run = 0; run < 2; run++) {
          const result = await runCli(checkArgs(prometheus, '--retries', '0'), { env });
          assertWellFormed(result);
          assert.equal(result.code, 3, result.stdout);
        }
      }
      assert.deepEqual(await readdir(home, { recursive: true }), []);
      assert.deepEqual(await readdir(cache), []);
    } finally {
      await rm(home, { recursive: true, force: true });
      await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('the configuration', () => {
  test('--prometheus-url belongs to check: a run refuses it, and ignores PROMETHEUS_URL', async () => {
    const refused = await runCli(['-t', stick.url, '--stdout', '--prometheus-url', 'http://127.0.0.1:1']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--prometheus-url applies only to the check command/);
    const ignored = await runCli(['-t', stick.url, '--stdout'], { env: { PROMETHEUS_URL: 'http://127.0.0.1:1' } });
    assert.equal(ignored.code, 0, ignored.stderr);
  });
});

const json = (body: unknown) => (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('a Prometheus URL that answers badly: one ✗ line in words, no crash, bounded in time', () => {
  const cases: [string, (request: IncomingMessage, response: ServerResponse) => void, RegExp][] = [
    [
      'an HTML page',
      (_request, response) =>
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html>login</html>'),
      /^✗ Prometheus http:\/\/127\.0\.0\.1:\d+\/ answered \/api\/v1\/targets with HTML: is it the base URL of Prometheus's API\?: Prometheus not checked; is --prometheus-url its base URL\?$/m,
    ],
    [
      'HTTP 500',
      (_request, response) => response.writeHead(500).end('oops'),
      /^✗ Prometheus http:\/\/127\.0\.0\.1:\d+\/ answered HTTP 500 Internal Server Error: Prometheus not checked/m,
    ],
    [
      'a target list of the wrong shape',
      json({ status: 'success', data: { activeTargets: [{ scrapeUrl: 42 }] } }),
      /^✗ Prometheus http:\/\/127\.0\.0\.1:\d+\/ answered \/api\/v1\/targets with JSON of another shape than Prometheus's API/m,
    ],
    [
      'a target list that is not a list',
      json({ status: 'success', data: { activeTargets: 'all of them' } }),
      /answered \/api\/v1\/targets with JSON of another shape than Prometheus's API/,
    ],
    [
      'an endless /api/v1/targets',
      (_request, response) => {
        endlessBody(
          response.writeHead(200, { 'content-type': 'application/json' }),
          '{"status":"success","data":{"activeTargets":[',
        );
      },
      /^✗ Prometheus http:\/\/127\.0\.0\.1:\d+\/ sent more than 4 MiB on \/api\/v1\/targets: Prometheus not checked/m,
    ],
  ];
  for (const [name, answer, expected] of cases) {
    test(name, async () => {
      const server = await startScripted(answer);
      try {
        const result = await runCli(checkArgs(server.url, '--retries', '0'), { timeoutMs: 30_000 });
        assertWellFormed(result);
        assert.equal(result.code, 1, result.stdout + result.stderr);
        assert.match(result.stdout, expected);
      } finally {
        await server.close();
      }
    });
  }

  test('HTTP 401 is a login, not a wrong base URL: ✗ says how to give credentials, or that they were refused', async () => {
    const server = await startScripted((_request, response) =>
      response.writeHead(401, { 'www-authenticate': 'Basic realm="prometheus"' }).end('Unauthorized'),
    );
    try {
      const bare = await runCli(checkArgs(server.url, '--retries', '0'));
      assertWellFormed(bare);
      assert.equal(bare.code, 1);
      assert.deepEqual(marked(bare, '✗'), [
        `✗ Prometheus ${server.url}/ answered HTTP 401 Unauthorized: Prometheus not checked; it wants credentials: ` +
          'give them as user info in --prometheus-url (https://user:password@host:port)',
      ]);
      const withUser = await runCli(
        checkArgs(server.url.replace('http://', 'http://grafana:s3cr3t-pw@'), '--retries', '0'),
      );
      assertWellFormed(withUser);
      assert.equal(withUser.code, 1);
      assert.deepEqual(marked(withUser, '✗'), [
        `✗ Prometheus ${server.url}/ answered HTTP 401 Unauthorized: Prometheus not checked; ` +
          'it does not accept the credentials of --prometheus-url',
      ]);
      assert.doesNotMatch(withUser.stdout + withUser.stderr, /s3cr3t-pw/);
    } finally {
      await server.close();
    }
  });

  test('one that never answers: ? after the timeout, exit 3', async () => {
    const server = await startScripted(() => {
      /* holds the request, says nothing */
    });
    try {
      const result = await runCli(checkArgs(server.url, '--retries', '0', '--timeout', '1000'), { timeoutMs: 30_000 });
      assertWellFormed(result);
      assert.equal(result.code, 3);
      assert.match(
        result.stdout,
        /^\? no Prometheus at http:\/\/127\.0\.0\.1:\d+\/ \(timed out after 1 s\): Prometheus not checked$/m,
      );
    } finally {
      await server.close();
    }
  });
});

/**
 * Answers like a Prometheus that scrapes our Pushgateway, with `rules`, `alerts` and the target as
 * given: its query answers hold the group of stick "roof" as the Pushgateway holds it now.
 */
const fakePrometheus = (rules: unknown, alerts: unknown, target: Record<string, unknown> = {}) =>
  startScripted((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const scraped = {
      scrapePool: 'pg',
      labels: { job: 'pg' },
      scrapeUrl: `${pushgateway.url}/metrics`,
      health: 'up',
      lastError: '',
      scrapeInterval: '1s',
      ...target,
    };
    const answer = async () => {
      if (url.pathname === '/api/v1/targets') return { activeTargets: [scraped] };
      if (url.pathname === '/api/v1/rules') return rules;
      if (url.pathname !== '/api/v1/query') return alerts;
      // Equality matchers only, as check asks; the series of the real group, all of one scrape at 1 s.
      const query = url.searchParams.get('query') ?? '';
      const stamped = query.startsWith('timestamp(');
      const name = stamped ? '' : /^[\w:]*/.exec(query)![0];
      const matchers = [...query.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, label, value]) => [label!, value!]);
      const group = await pushgateway.group({ job: 'trucki', instance: 'roof' });
      const result = Object.entries(group ?? {}).flatMap(([family, value]) => {
        if (family === 'labels' || family === 'last_push_successful' || (name && family !== name)) return [];
        return (value as MetricFamilyJson).metrics.flatMap(({ labels, value: sample }) => {
          const metric: Record<string, string> = { __name__: family, ...labels };
          const matches = matchers.every(([label, want]) => (metric[label!] ?? '') === want);
          if (!matches || sample === undefined) return [];
          return [
            stamped
              ? { metric: { ...labels, trucki_check_name: family }, value: [0, '1'] }
              : { metric, value: [0, sample] },
          ];
        });
      });
      return { resultType: 'vector', result };
    };
    void answer().then((data) => {
      json({ status: 'success', data })(request, response);
    });
  });

describe('the later steps of a Prometheus that answers badly', () => {
  test("a rule's endless error is cut short: the line stays readable", async () => {
    const rules = {
      groups: [
        {
          name: 'trucki.alerts',
          rules: asLoaded({ health: 'err', lastError: `many-to-many ${'x'.repeat(20_000)}` }),
        },
      ],
    };
    const server = await fakePrometheus(rules, { alerts: [] });
    try {
      const result = await runCli(checkArgs(server.url, '--retries', '0'));
      assertWellFormed(result);
      assert.equal(result.code, 1);
      const [line] = marked(result, '✗');
      assert.match(
        line!,
        /^✗ rule instance:trucki_energy_today:kwh \(group trucki\.alerts\) fails: many-to-many x+\.\.\.; /,
      );
      assert.ok(line!.length < 400 * shippedRules.length, `${line!.length} characters`);
      assert.ok(!line!.includes('x'.repeat(400)));
    } finally {
      await server.close();
    }
  });

  test('huge label values, scrape job and group names are cut short: every line stays readable', async () => {
    // Five of them in the alerts: still within check's 4 MiB bound of an answer.
    const huge = 'x'.repeat(500_000);
    const rules = {
      groups: [{ name: `g${huge}`, rules: asLoaded() }],
    };
    const alerts = {
      alerts: [
        { labels: { alertname: `Trucki${huge}`, job: huge, instance: huge, inverter: huge }, state: 'firing' },
        { labels: { alertname: `TruckiPending${huge}` }, state: 'pending' },
      ],
    };
    const server = await fakePrometheus(rules, alerts, { scrapePool: `pg${huge}` });
    try {
      const result = await runCli(checkArgs(server.url, '--retries', '0'));
      assertWellFormed(result);
      assert.equal(result.code, 1);
      const lines = result.stdout.split('\n');
      for (const line of lines)
        assert.ok(line.length < 2000, `a line of ${line.length} characters: ${line.slice(0, 80)}`);
      assert.match(
        result.stdout,
        /^✓ Prometheus scrapes the Pushgateway .* \(scrape job "pgx+\.\.\.", every 1s\) and it is up$/m,
      );
      assert.match(
        result.stdout,
        /^✓ the shipped rules are loaded as shipped \(\d+ rules, groups gx+\.\.\.\) and healthy$/m,
      );
      assert.match(
        result.stdout,
        /^✗ alert Truckix+\.\.\. is firing for job="x+\.\.\.", instance="x+\.\.\.", inverter="x+\.\.\.".*$/m,
      );
    } finally {
      await server.close();
    }
  });

  test('rules and alerts of the wrong shape: ✗ in words, exit 1', async () => {
    const server = await fakePrometheus({ groups: [{ name: 'g', rules: 'none' }] }, { alerts: { firing: true } });
    try {
      const result = await runCli(checkArgs(server.url, '--retries', '0'));
      assertWellFormed(result);
      assert.equal(result.code, 1);
      assert.deepEqual(marked(result, '✗'), [
        `✗ Prometheus ${server.url}/ answered /api/v1/rules with JSON of another shape than Prometheus's API: the rules not checked; is --prometheus-url its base URL?`,
        `✗ Prometheus ${server.url}/ answered /api/v1/alerts with JSON of another shape than Prometheus's API: the Trucki alerts not checked; is --prometheus-url its base URL?`,
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('what Prometheus reports about its target, rules and alerts', () => {
  const stickDownAdvice =
    "the stick does not answer the job: is it on and reachable from the job's host? (its line above says why)";
  const loaded = {
    groups: [{ name: 'trucki.alerts', rules: asLoaded() }],
  };
  const cases: [string, Record<string, unknown>, unknown, string[], string[]][] = [
    [
      'a scrape interval longer than the push period: pushes are lost between scrapes',
      { scrapeInterval: '1m' },
      { alerts: [] },
      [
        '✗ the scrape job "pg" scrapes every 1m, but the job pushes every 15 s (the shipped timer\'s): pushes between ' +
          'two scrapes never reach Prometheus; set scrape_interval: 15s (or less) in the scrape job "pg"',
      ],
      [],
    ],
    [
      'a target that is down, with its error',
      { health: 'down', lastError: 'Get "http://localhost:9091/metrics": dial tcp: connection refused' },
      { alerts: [] },
      [
        '✗ Prometheus\'s scrape job "pg" cannot scrape the Pushgateway 127.0.0.1:PORT: ' +
          'Get "http://localhost:9091/metrics": dial tcp: connection refused',
      ],
      [],
    ],
    [
      'no scrape interval reported (an old Prometheus)',
      { scrapeInterval: undefined },
      { alerts: [] },
      [],
      [
        '? Prometheus does not say the scrape interval of its scrape job "pg": whether it keeps every push is not checked',
      ],
    ],
    [
      'a firing alert whose label holds a line break: one line still',
      {},
      { alerts: [{ labels: { alertname: 'TruckiStickDown', job: 'trucki', instance: 'roof\nx' }, state: 'firing' }] },
      ['✗ alert TruckiStickDown is firing for job="trucki", instance="roof\\x0ax": ' + stickDownAdvice],
      [],
    ],
    [
      "alert labels and a scrape job's error holding terminal controls (ESC, C1 CSI, a bidi override): shown escaped",
      { health: 'down', lastError: 'refused \u001b]0;owned\u0007 \u009b2J \u202egnp.exe' },
      {
        alerts: [
          { labels: { alertname: 'TruckiStickDown', job: 'trucki', instance: 'a\u009b31m\u202eb' }, state: 'firing' },
        ],
      },
      [
        '✗ Prometheus\'s scrape job "pg" cannot scrape the Pushgateway 127.0.0.1:PORT: ' +
          'refused \\x1b]0;owned\\x07 \\x9b2J \\u202egnp.exe',
        '✗ alert TruckiStickDown is firing for job="trucki", instance="a\\x9b31m\\u202eb": ' + stickDownAdvice,
      ],
      [],
    ],
  ];
  for (const [name, target, alerts, failures, uncheckable] of cases) {
    test(name, async () => {
      const fake = await fakePrometheus(loaded, alerts, target);
      try {
        const result = await runCli(checkArgs(fake.url, '--retries', '0'));
        assertWellFormed(result);
        const port = pushgateway.url.replace(/.*:/, '');
        assert.deepEqual(
          marked(result, '✗'),
          failures.map((line) => line.replace('PORT', port)),
          result.stdout,
        );
        assert.deepEqual(marked(result, '?'), uncheckable, result.stdout);
        assert.equal(result.code, failures.length > 0 ? 1 : uncheckable.length > 0 ? 3 : 0);
      } finally {
        await fake.close();
      }
    });
  }
});

describe('standard output that cannot be written', () => {
  test('check > /dev/full: one line on stderr, exit 1, not an internal error', async () => {
    const full = await open('/dev/full', 'w');
    const cwd = await emptyDir();
    try {
      const child = spawn(process.execPath, ['--', jobBundle, 'check', '-t', stick.url, '--stdout'], {
        cwd,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', full.fd, 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 1, stderr);
      assert.equal(stderr, 'trucki2pushgateway: standard output could not be written (ENOSPC); check stopped\n');
    } finally {
      await full.close();
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('VictoriaMetrics: the import, the recall, the rules where a vmalert shows them', () => {
  let vm: Awaited<ReturnType<typeof startVictoriaMetrics>>;
  let vmagent: Awaited<ReturnType<typeof startVmagent>>;
  let vmalert: Awaited<ReturnType<typeof startVmalert>>;
  before(async () => {
    vm = await startVictoriaMetrics();
    [vmagent, vmalert] = await Promise.all([
      startVmagent(`${vm.url}/api/v1/write`),
      startVmalert(await readFile(rulesFile, 'utf8'), vm.url),
    ]);
  });
  after(() => Promise.all([vmalert?.stop(), vmagent?.stop(), vm?.stop()]));
  const checkRoof = (args: readonly string[]) => runCli(['check', '-t', `roof=${stick.url}`, ...args]);

  test('a single node: import and recall ✓; its rules ? (a vmalert runs them); exit 3', async () => {
    const result = await checkRoof(['--victoriametrics', vm.url]);
    assertWellFormed(result);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stdout, new RegExp(`^✓ VictoriaMetrics ${vm.url}/ took the import of 1 stick$`, 'm'));
    assert.match(
      result.stdout,
      new RegExp(
        `^✓ VictoriaMetrics query API ${vm.url}/ answers, holds every series of the import and recalls the last success of every stick read$`,
        'm',
      ),
    );
    assert.deepEqual(marked(result, '?'), [
      `? VictoriaMetrics ${vm.url}/ shows no rules: they run in a vmalert; the rules and alerts are not checked ` +
        '(start VictoriaMetrics with -vmalert.proxyURL to show them, or give the vmalert as --prometheus-url)',
    ]);
  });

  test('with the vmalert as --prometheus-url: every step ✓, exit 0', async () => {
    const result = await checkRoof(['--victoriametrics', vm.url, '--prometheus-url', vmalert.url]);
    assertWellFormed(result);
    assert.equal(result.code, 0, result.stdout);
    assert.match(
      result.stdout,
      /^✓ the shipped rules are loaded as shipped \(\d+ rules, groups trucki\.alerts, trucki\.recording\) and healthy$/m,
    );
    assert.match(result.stdout, /^✓ no Trucki alert is firing/m);
  });

  test('a vmagent without a query URL: the import ✓, recall is off: ?, exit 3', async () => {
    const result = await checkRoof(['--victoriametrics', vmagent.url]);
    assertWellFormed(result);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stdout, /^✓ VictoriaMetrics .* took the import of 1 stick$/m);
    assert.deepEqual(marked(result, '?'), [
      `? VictoriaMetrics query API ${vmagent.url}/ has no /api/v1/query (a vmagent?): recall is off; set --victoriametrics-query-url`,
    ]);
  });

  test('a vmagent that passes on only the last-success series: recall is no ✓, the series lost are named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trucki-vmagent-'));
    const keep = join(dir, 'keep.yml');
    await writeFile(
      keep,
      '- action: keep\n  source_labels: [__name__]\n  regex: trucki_last_success_timestamp_seconds\n',
    );
    const keeping = await startVmagent(`${vm.url}/api/v1/write`, [`-remoteWrite.urlRelabelConfig=${keep}`]);
    try {
      // A stick of its own: the other tests import roof whole into the same store.
      const result = await runCli([
        'check',
        '-t',
        `lastonly=${stick.url}`,
        '--victoriametrics',
        keeping.url,
        '--victoriametrics-query-url',
        vm.url,
      ]);
      assertWellFormed(result);
      assert.equal(result.code, 1, result.stdout);
      assert.match(
        result.stdout,
        new RegExp(`^✗ VictoriaMetrics query API ${vm.url}/ answers, but lacks lastonly trucki_up, `, 'm'),
      );
      assert.doesNotMatch(result.stdout, /^✓ VictoriaMetrics query API/m);
    } finally {
      await Promise.all([keeping.stop(), rm(dir, { recursive: true, force: true })]);
    }
  });

  test('a vmagent with the store as its query URL: the import reaches it and is recalled; ✓', async () => {
    const result = await checkRoof(['--victoriametrics', vmagent.url, '--victoriametrics-query-url', vm.url]);
    assertWellFormed(result);
    assert.match(
      result.stdout,
      new RegExp(
        `^✓ VictoriaMetrics query API ${vm.url}/ answers, holds every series of the import and recalls the last success of every stick read$`,
        'm',
      ),
    );
  });
});
