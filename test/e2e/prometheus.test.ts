/**
 * The Prometheus side, against the real programs: promtool on what the job pushes, and the shipped
 * scrape config, rules and dashboard on a real Prometheus scraping a real Pushgateway.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import {
  allPanels,
  dashboardQueries,
  loadDashboard,
  substituteTemplateVariables,
  TEMPLATE_VALUES,
  type DashboardPanel,
} from '../helpers/dashboard.js';
import { repoRoot } from '../helpers/paths.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { debianConfigWithTrucki } from '../helpers/prometheus-config.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr });
    });
    child.stdin!.end(text);
  });
}

let sticks: Simulator[];
before(async () => {
  sticks = [await startSimulator({ variant: 'T2SG' }), await startSimulator({ variant: 'T2MG' })];
});
after(() => Promise.all(sticks.map((stick) => stick.close())));

describe('promtool check metrics', () => {
  for (const [index, variant] of ['T2SG', 'T2MG'].entries()) {
    test(`${variant}: what the job would push passes without a complaint`, async () => {
      const result = await runCli(['-t', sticks[index]!.url, '--stdout']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /trucki_stick_info/);
      const lint = await promtoolCheckMetrics(result.stdout);
      assert.deepEqual(lint, { code: 0, output: '' });
    });
  }

  test('and it does complain about a bad exposition (the check is live)', async () => {
    const lint = await promtoolCheckMetrics('# HELP trucki_power power\n# TYPE trucki_power counter\ntrucki_power 1\n');
    assert.notEqual(lint.output, '');
  });
});

describe('a real Prometheus scraping a real Pushgateway, with the shipped config, rules and dashboard', () => {
  let pushgateway: RunningPushgateway;
  let prometheus: RunningPrometheus;
  let configDir: string;
  before(async () => {
    pushgateway = await startPushgateway();
    configDir = await mkdtemp(join(tmpdir(), 'trucki-prometheus-'));
    // Debian's prometheus.yml with the scrape job and rules added as the README says, pointed at
    // this test's Pushgateway and sped up; each edit must apply.
    const edits: [RegExp, string][] = [
      [/^( +)scrape_interval: +15s/m, '$1scrape_interval: 1s'],
      [/^( +)evaluation_interval: +15s/m, '$1evaluation_interval: 1s'],
      [/^( +)- trucki-rules\.yml$/m, `$1- ${configDir}/trucki-rules.yml`],
      [/^( +)- targets: \['localhost:9091'\]$/m, `$1- targets: ['${pushgateway.url.replace('http://', '')}']`],
    ];
    let config = await readFile(await debianConfigWithTrucki(configDir), 'utf8');
    for (const [pattern, replacement] of edits) {
      assert.match(config, pattern, `the merged prometheus.yml no longer has ${pattern}`);
      config = config.replace(pattern, replacement);
    }
    prometheus = await startPrometheus(config);
    const result = await runCli(['-t', `roof=${sticks[0]!.url},garage=${sticks[1]!.url}`, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
  });
  after(() =>
    Promise.all([
      prometheus?.stop(),
      pushgateway?.stop(),
      configDir && rm(configDir, { recursive: true, force: true }),
    ]),
  );

  test("a stick's reading arrives with the stick's own job and instance labels", async () => {
    const [sample] = await prometheus.waitFor('trucki_ac_power_watts{inverter="sun1", instance="roof"}');
    assert.equal(sample!.metric.job, 'trucki');
    assert.ok(Number(sample!.value[1]) > 0);
    const [mg] = await prometheus.waitFor('trucki_battery_current_amperes{instance="garage"}');
    assert.equal(mg!.metric.job, 'trucki');
  });

  test('the recording rules produce values for the sticks', async () => {
    for (const rule of [
      'instance:trucki_energy_today:kwh',
      'instance:trucki_energy_total:kwh',
      'instance:trucki_ac_power:sum_watts',
    ]) {
      const result = await prometheus.waitFor(`${rule}{instance="roof"}`);
      assert.ok(Number.isFinite(Number(result[0]!.value[1])), rule);
    }
    const [energy] = await prometheus.query('instance:trucki_energy_today:kwh{instance="roof"}');
    const [joules] = await prometheus.query('trucki_energy_today_joules{instance="roof"}');
    assert.ok(Math.abs(Number(energy!.value[1]) - Number(joules!.value[1]) / 3.6e6) < 1e-6);
  });

  test('every panel query of the dashboard runs without error and, but for rates, shows data from the raw series', async () => {
    await prometheus.waitFor('trucki_up');
    const queries = dashboardQueries(`${repoRoot}deploy/grafana/trucki-dashboard.json`);
    assert.ok(queries.length >= 10, `only ${queries.length} queries`);
    const failures: string[] = [];
    const empty: string[] = [];
    for (const expr of queries) {
      const result = await prometheus.query(expr).catch((error: unknown) => {
        failures.push((error as Error).message);
        return undefined;
      });
      // A rate needs two samples of a counter that moved; the rest must show the sticks' data now.
      if (result?.length === 0 && !/\b(rate|increase|delta|deriv)\(/.test(expr)) empty.push(expr);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(empty, []);
  });

  test('a dashboard query that shows nothing for a T2SG stick is on a panel that says so', async () => {
    await prometheus.waitFor('trucki_up{instance="roof"}');
    const only = 'T2MG and T2HG only';
    const { panels } = loadDashboard(`${repoRoot}deploy/grafana/trucki-dashboard.json`);
    const rowOf = (panel: DashboardPanel) => panels.find((row) => row.panels?.includes(panel));
    const t2sg = { ...TEMPLATE_VALUES, instance: 'roof' };
    const unsaid: string[] = [];
    let emptyQueries = 0;
    for (const panel of allPanels(panels)) {
      const exprs = (panel.targets ?? []).flatMap(({ expr }) => (typeof expr === 'string' ? [expr] : []));
      const empty: string[] = [];
      for (const expr of exprs) {
        // A rate needs two samples; the stick was pushed once.
        if (/\b(rate|increase|delta|deriv)\(/.test(expr)) continue;
        if ((await prometheus.query(substituteTemplateVariables(expr, t2sg))).length === 0) empty.push(expr);
      }
      emptyQueries += empty.length;
      if (empty.length === 0) continue;
      const { description } = panel;
      if (typeof description !== 'string' || !description.includes(only))
        unsaid.push(`${panel.title}: ${empty.join(', ')}`);
      // Nothing at all for a T2SG: hidden until opened, and saying why instead of "No data".
      const { noValue } = (panel['fieldConfig'] as { defaults?: { noValue?: unknown } } | undefined)?.defaults ?? {};
      if (empty.length === exprs.length && (rowOf(panel)?.['collapsed'] !== true || noValue !== only))
        unsaid.push(`${panel.title}: open, or "No data" without a reason`);
    }
    assert.ok(emptyQueries > 0, 'every query shows data for a T2SG: the check checked nothing');
    assert.deepEqual(unsaid, []);
  });

  test('a healthy stick sets off none of the alerts', async () => {
    await prometheus.waitFor('instance:trucki_ac_power:sum_watts');
    // The recording rules' output is there: the alert rules evaluated since saw it (unevaluated, they are inactive too).
    await prometheus.evaluatedAfter(Date.now());
    const response = await fetch(`${prometheus.url}/api/v1/rules?type=alert`);
    const { data } = (await response.json()) as {
      data: { groups: { rules: { name: string; health: string; state: string }[] }[] };
    };
    const rules = data.groups.flatMap((group) => group.rules);
    assert.ok(rules.length >= 4, 'the alert rules were loaded');
    assert.deepEqual(
      rules.filter((rule) => rule.health === 'err').map((rule) => rule.name),
      [],
    );
    assert.deepEqual(
      rules
        .filter((rule) => rule.state !== 'inactive' && rule.name !== 'TruckiPushgatewayDown')
        .map((rule) => rule.name),
      [],
    );
  });
});
