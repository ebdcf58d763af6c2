/**
 * What deploy/ and packaging/ ship, read as text: the Grafana dashboard and its provisioning, the
 * units' exit statuses, the compat rules' names against the migration guide, the env file's
 * template. The programs that run these files (promtool, systemd-analyze, Prometheus, vmagent,
 * dpkg) check them in test/e2e/.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCodes } from '../../src/errors.js';
import { compat, oldNames, recordedAs } from '../helpers/compat-guide.js';
import { allPanels, dashboardQueries, loadDashboard } from '../helpers/dashboard.js';
import { repoRoot } from '../helpers/paths.js';

const dashboardPath = join(repoRoot, 'deploy/grafana/trucki-dashboard.json');
const rulesPath = join(repoRoot, 'deploy/prometheus/trucki-rules.yml');
const unitDir = join(repoRoot, 'deploy/systemd');
const packageName = 'trucki2pushgateway';

test('dashboard has datasource and instance variables', () => {
  const variables = loadDashboard(dashboardPath).templating.list;
  const datasource = variables.find((v) => v.name === 'datasource');
  assert.ok(datasource, 'datasource variable missing');
  assert.equal(datasource.type, 'datasource');
  assert.equal(datasource['query'], 'prometheus');

  const instance = variables.find((v) => v.name === 'instance');
  assert.ok(instance, 'instance variable missing');
  assert.equal(instance.type, 'query');
  assert.match(JSON.stringify(instance['query']), /label_values\(trucki_up, ?instance\)/);
  assert.equal(instance['multi'], true);
  assert.equal(instance['includeAll'], true);
  // The substitution used by dashboardQueries() mirrors what "All" sends.
  assert.equal(instance['allValue'], '.*');
});

test('every dashboard panel and target uses the datasource variable', () => {
  const panels = allPanels(loadDashboard(dashboardPath).panels);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids must be unique');

  const queryPanels = panels.filter((p) => p.type !== 'row');
  assert.ok(queryPanels.length > 0);
  const usesVariable = (ds: { uid?: string } | undefined): boolean =>
    ds?.uid === '${datasource}' || ds?.uid === '$datasource';
  for (const panel of queryPanels) {
    assert.ok(usesVariable(panel.datasource), `panel "${panel.title}" does not use $datasource`);
    const targets = panel.targets ?? [];
    assert.ok(targets.length > 0, `panel "${panel.title}" has no targets`);
    for (const target of targets) {
      assert.ok(usesVariable(target.datasource), `a target of "${panel.title}" does not use $datasource`);
      assert.ok(target.expr, `a target of "${panel.title}" has no expr`);
      assert.match(target.expr, /instance=~"\$instance"/, `"${target.expr}" ignores $instance`);
    }
  }
});

test('dashboardQueries() returns every expr, nested rows included, as plain PromQL', () => {
  const queries = dashboardQueries(dashboardPath);
  const exprCount = allPanels(loadDashboard(dashboardPath).panels)
    .flatMap((p) => p.targets ?? [])
    .filter((t) => t.expr).length;
  assert.equal(queries.length, exprCount);
  assert.ok(
    queries.some((q) => q.startsWith('rate(')),
    'collapsed-row panels are collected',
  );
  for (const q of queries) assert.doesNotMatch(q, /\$/, `unsubstituted variable in ${q}`);
  assert.ok(queries.includes('trucki_ac_power_watts{instance=~".*"}'));
});

test('dashboard queries no recording rule, so it works on import alone (the rules stay an option)', async () => {
  const rules = await readFile(rulesPath, 'utf8');
  const recorded = [...rules.matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1]!);
  assert.ok(recorded.length > 0);
  const queries = dashboardQueries(dashboardPath);
  const used = queries.filter(
    (query) => recorded.some((name) => query.includes(name)) || /\b\w+:\w+/.test(query.replace(/\[[^\]]*\]/g, '')),
  );
  assert.deepEqual(used, []);
});

test('the Grafana provisioning files name a Prometheus data source and the directory the README puts the dashboard in', async () => {
  const datasource = await readFile(
    join(repoRoot, 'deploy/grafana/provisioning/datasources/trucki2pushgateway.yml'),
    'utf8',
  );
  assert.match(datasource, /^apiVersion: 1$/m);
  assert.match(datasource, /^ {4}type: prometheus$/m);
  assert.match(datasource, /^ {4}url: http:\/\/localhost:9090$/m);
  const provider = await readFile(
    join(repoRoot, 'deploy/grafana/provisioning/dashboards/trucki2pushgateway.yml'),
    'utf8',
  );
  assert.match(provider, /^apiVersion: 1$/m);
  assert.match(provider, /^ {4}type: file$/m);
  const path = /^ {6}path: (\S+)$/m.exec(provider)?.[1];
  assert.equal(path, '/var/lib/grafana/dashboards/trucki2pushgateway');
  // The dashboard's data source is a variable, which file provisioning resolves (no __inputs).
  assert.equal(loadDashboard(dashboardPath)['__inputs'], undefined);
});

/** The numbers of a unit's SuccessExitStatus= lines (systemd also takes signal names there: none here). */
async function successExitStatuses(service: string): Promise<number[]> {
  const text = await readFile(join(unitDir, service), 'utf8');
  return [...text.matchAll(/^SuccessExitStatus=(.+)$/gm)].flatMap(([, value]) =>
    value!.trim().split(/\s+/).map(Number),
  );
}

test('the one-shot unit counts a dark stick (exit 69) as success, and a failed delivery still as failure', async () => {
  const statuses = await successExitStatuses('trucki2pushgateway.service');
  assert.ok(statuses.includes(exitCodes.sticksDark), `SuccessExitStatus= ${statuses.join(' ')}`);
  for (const failure of [exitCodes.failed, exitCodes.usage, exitCodes.internal]) assert.ok(!statuses.includes(failure));
  // The loop ends only at a stop, whose status never says "dark": nothing to count as success.
  assert.deepEqual(await successExitStatuses('trucki2pushgateway-loop.service'), []);
});

test('the compat rules record every old name of the guide (trucki_wifi_state under its own name)', () => {
  assert.ok(oldNames.size >= 20, `only ${oldNames.size} names in the guide's table`);
  const recorded = [...compat.matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1]!);
  assert.deepEqual(recorded.sort(), [...oldNames.keys()].map(recordedAs).sort());
});

test("the env file's template is a valid configuration, short, and every line it sets is explained in .env.example", async () => {
  const template = join(repoRoot, 'packaging/deb', `${packageName}.env`);
  const { readCommand } = await import('../../src/config/load.js');
  assert.equal((await readCommand(['--env-file', template], {})).kind, 'run');
  const text = await readFile(template, 'utf8');
  const explained = await readFile(join(repoRoot, '.env.example'), 'utf8');
  const variables = [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map(([, variable]) => variable!);
  assert.ok(variables.length > 0 && variables.length <= 8, `the template sets ${variables.join(', ')}`);
  assert.deepEqual(
    variables.filter((variable) => !new RegExp(`^#?${variable}=`, 'm').test(explained)),
    [],
  );
});
