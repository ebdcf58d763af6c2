/**
 * TruckiScrapeWithoutHonorLabels on a real Prometheus scraping real Pushgateways: Debian's
 * prometheus.yml with the README's scrape job and rules (honor_labels: true), plus the same job
 * without honor_labels for a second Pushgateway, once more named like the pushed job ("trucki") for
 * a third, and for a fourth with the exported_* labels dropped by a relabelling. Two sticks on each,
 * so that a join on job and instance alone would be many-to-many.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { debianConfigWithTrucki } from '../helpers/prometheus-config.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { until } from '../helpers/until.js';

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}
interface Rule {
  name: string;
  health: string;
  lastError?: string;
}

const address = (pushgateway: RunningPushgateway) => pushgateway.url.replace('http://', '');

/** trucki-scrape.yml as a user without honor_labels would have it, under another job name. */
async function scrapeJobWithoutHonorLabels(jobName: string, target: string, extra = ''): Promise<string> {
  const shipped = await readFile(`${repoRoot}deploy/prometheus/trucki-scrape.yml`, 'utf8');
  const edits: [RegExp, string][] = [
    [/^ {4}honor_labels: true\n/m, ''],
    [/^( {2}- job_name:) pushgateway$/m, `$1 ${jobName}`],
    [/\['localhost:9091'\]/, `['${target}']`],
  ];
  let job = shipped;
  for (const [pattern, replacement] of edits) {
    assert.match(job, pattern, `trucki-scrape.yml no longer has ${pattern}`);
    job = job.replace(pattern, replacement);
  }
  return job + extra;
}

let sticks: Simulator[];
let right: RunningPushgateway;
let plain: RunningPushgateway;
let sameName: RunningPushgateway;
let relabelled: RunningPushgateway;
let prometheus: RunningPrometheus;
let configDir: string;

before(async () => {
  sticks = [await startSimulator({ variant: 'T2SG' }), await startSimulator({ variant: 'T2MG' })];
  [right, plain, sameName, relabelled] = await Promise.all([
    startPushgateway(),
    startPushgateway(),
    startPushgateway(),
    startPushgateway(),
  ]);
  configDir = await mkdtemp(join(tmpdir(), 'trucki-scrape-job-'));
  let config = await readFile(await debianConfigWithTrucki(configDir), 'utf8');
  const edits: [RegExp, string][] = [
    [/^( +)scrape_interval: +15s/m, '$1scrape_interval: 1s'],
    [/^( +)evaluation_interval: +15s/m, '$1evaluation_interval: 1s'],
    [/^( +)- trucki-rules\.yml$/m, `$1- ${configDir}/trucki-rules.yml`],
    [/^( +)- targets: \['localhost:9091'\]$/m, `$1- targets: ['${address(right)}']`],
  ];
  for (const [pattern, replacement] of edits) {
    assert.match(config, pattern, `the merged prometheus.yml no longer has ${pattern}`);
    config = config.replace(pattern, replacement);
  }
  config += await scrapeJobWithoutHonorLabels('pg-plain', address(plain));
  config += await scrapeJobWithoutHonorLabels('trucki', address(sameName));
  // The stick's own labels thrown away as well: its series now collide, and only the job and
  // instance of the Pushgateway's own metrics tell.
  config += await scrapeJobWithoutHonorLabels(
    'pg-relabelled',
    address(relabelled),
    '    metric_relabel_configs:\n      - action: labeldrop\n        regex: exported_.*\n',
  );
  // The shipped rules with only the `for:` durations shortened, so that this takes seconds.
  const shipped = await readFile(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8');
  const rules = shipped.replace(/^(\s+)for: \d+m$/gm, '$1for: 1s');
  assert.equal((rules.match(/for: 1s/g) ?? []).length, (shipped.match(/for: \d+m/g) ?? []).length);
  await writeFile(join(configDir, 'trucki-rules.yml'), rules);
  prometheus = await startPrometheus(config);
  for (const pushgateway of [right, plain, sameName, relabelled]) {
    const result = await runCli(['-t', `roof=${sticks[0]!.url},garage=${sticks[1]!.url}`, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
  }
});

after(() =>
  Promise.all([
    prometheus?.stop(),
    ...[right, plain, sameName, relabelled].map((pushgateway) => pushgateway?.stop()),
    ...(sticks ?? []).map((stick) => stick.close()),
    configDir && rm(configDir, { recursive: true, force: true }),
  ]),
);

async function alerts(): Promise<Alert[]> {
  const body = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
  return body.data.alerts;
}

async function rules(): Promise<Rule[]> {
  const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
    data: { groups: { rules: Rule[] }[] };
  };
  return body.data.groups.flatMap((group) => group.rules);
}

test('TruckiScrapeWithoutHonorLabels fires for each scrape job without honor_labels, naming it, and not for the right one', async () => {
  // Every stick of every Pushgateway has arrived and the rules have seen them.
  await prometheus.waitFor('count(trucki_up) == 7');
  const name = 'TruckiScrapeWithoutHonorLabels';
  let seen: Alert[] = [];
  const firing = await until(
    async () => {
      seen = await alerts();
      const matching = seen.filter((alert) => alert.labels.alertname === name && alert.state === 'firing');
      return matching.length >= 3 && matching;
    },
    { timeoutMs: 30_000, what: `three ${name} alerts firing`, last: () => JSON.stringify(seen) },
  );
  assert.deepEqual(firing.map((alert) => [alert.labels.job, alert.labels.instance]).sort(), [
    ['pg-plain', address(plain)],
    ['pg-relabelled', address(relabelled)],
    ['trucki', address(sameName)],
  ]);
  for (const alert of firing) {
    assert.match(
      alert.annotations.description!,
      new RegExp(`Add "honor_labels: true" to scrape job ${alert.labels.job} `),
    );
    // Two sticks, collided into one series where the relabelling dropped what told them apart.
    const series = alert.labels.job === 'pg-relabelled' ? 1 : 2;
    assert.match(alert.annotations.description!, new RegExp(`, so ${series} Trucki series arrive as`));
  }
  // Still none for the job scraping with honor_labels, two evaluations later.
  await prometheus.evaluatedAfter(Date.now());
  await prometheus.evaluatedAfter(Date.now());
  assert.deepEqual(
    (await alerts()).filter((alert) => alert.labels.alertname === name && alert.labels.job === 'pushgateway'),
    [],
  );
});

test('without honor_labels no shipped rule fails ("many-to-many matching"), and the recording rules keep the sticks apart', async () => {
  // Two evaluations at least after every stick arrived: the alerts then see what the recording rules made of them.
  await prometheus.waitFor('count(trucki_up) == 7');
  await prometheus.evaluatedAfter(Date.now());
  await prometheus.evaluatedAfter(Date.now());
  const all = await rules();
  assert.ok(all.length >= 15, `only ${all.length} rules loaded`);
  assert.deepEqual(
    all.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError ?? rule.health}`),
    [],
  );
  const selfConsumption = await prometheus.waitFor(`instance:trucki_self_consumption:watts{job="pg-plain"}`);
  assert.equal(selfConsumption.length, 2, JSON.stringify(selfConsumption));
  // No other alert is active: every stick is healthy, every series arrives.
  assert.deepEqual(
    (await alerts()).map((alert) => alert.labels.alertname).filter((name) => name !== 'TruckiScrapeWithoutHonorLabels'),
    [],
  );
});
