// Checks the Prometheus config, alerting/recording rules and the Grafana dashboard's queries under
// deploy/ with promtool (installed separately, e.g. the Debian "prometheus" package; override the
// binary with $PROMTOOL). The dashboard and provisioning files read as text: test/unit/shipped-files.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { errnoCode } from '../../src/errors.js';
import { dashboardQueries } from '../helpers/dashboard.js';
import { addToPrometheusCommands, debianConfigWithTrucki, debianPrometheusYml } from '../helpers/prometheus-config.js';

const execFileAsync = promisify(execFile);

// Compiled to build/test/e2e/, so the repository root is three levels up.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dashboardPath = join(repoRoot, 'deploy/grafana/trucki-dashboard.json');
const promtool = process.env['PROMTOOL'] ?? 'promtool';

interface RunResult {
  code: number;
  output: string;
}

async function runPromtool(args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(promtool, args, { cwd: repoRoot });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw err;
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function promtoolMissing(): Promise<string | false> {
  try {
    await execFileAsync(promtool, ['--version']);
    return false;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return `${promtool} not found on PATH`;
    return false;
  }
}

const skip = await promtoolMissing();

test(
  "promtool check config accepts Debian's prometheus.yml with the scrape job and rules added as the README says",
  { skip },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trucki-prometheus-'));
    try {
      const config = await debianConfigWithTrucki(dir);
      const text = await readFile(config, 'utf8');
      assert.match(text, /^rule_files:\n {2}- trucki-rules\.yml$/m);
      assert.match(text, /^ {2}- job_name: pushgateway$/m);
      const { code, output } = await runPromtool(['check', 'config', config]);
      assert.equal(code, 0, output);
      // The rule file is found and checked too: "SUCCESS: 1 rule files found" and its rules.
      assert.match(output, /SUCCESS: 1 rule files found/, output);
      assert.match(output, /trucki-rules\.yml/, output);
      assert.doesNotMatch(output, /FAILED/, output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'promtool check config rejects the snippet merged into a file that does not end with scrape_configs (the check is live)',
  { skip },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trucki-prometheus-'));
    try {
      const config = await debianConfigWithTrucki(dir);
      await writeFile(
        config,
        `${await readFile(config, 'utf8')}remote_write: []\n${await readFile(join(repoRoot, 'deploy/prometheus/trucki-scrape.yml'), 'utf8')}`,
      );
      const { code } = await runPromtool(['check', 'config', config]);
      assert.notEqual(code, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "a prometheus.yml that already has a job named pushgateway: the README's append is refused, docs/deploy.md's renamed append is accepted",
  { skip },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trucki-prometheus-'));
    try {
      const config = join(dir, 'prometheus.yml');
      const existing = "\n  - job_name: 'pushgateway'\n    static_configs:\n      - targets: ['pg.lan:9091']\n";
      const withExisting = `${await readFile(debianPrometheusYml, 'utf8')}${existing}`;
      const [copyRules, addRuleFile, appendJob] = addToPrometheusCommands(dir);
      await writeFile(config, withExisting);
      for (const command of [copyRules!, addRuleFile!, appendJob!]) await execFileAsync('sh', ['-ec', command]);
      const refused = await runPromtool(['check', 'config', config]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.output, /multiple scrape configs with job name "pushgateway"/);

      const deployDoc = await readFile(join(repoRoot, 'docs/deploy.md'), 'utf8');
      const renamed =
        /^ *(sed '[^']+') \S+\/trucki-scrape\.yml \| sudo tee -a \/etc\/prometheus\/prometheus\.yml >\/dev\/null$/m.exec(
          deployDoc,
        );
      assert.ok(renamed, 'docs/deploy.md has no renamed append');
      await writeFile(config, withExisting);
      await execFileAsync('sh', ['-ec', addRuleFile!]);
      await execFileAsync('sh', [
        '-ec',
        `${renamed[1]!} ${join(repoRoot, 'deploy/prometheus/trucki-scrape.yml')} >> ${config}`,
      ]);
      const accepted = await runPromtool(['check', 'config', config]);
      assert.equal(accepted.code, 0, accepted.output);
      const text = await readFile(config, 'utf8');
      assert.match(text, /^ {2}- job_name: 'pushgateway'$/m);
      assert.match(text, /^ {2}- job_name: trucki-pushgateway\n(?: {4}#.*\n)* {4}honor_labels: true$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('promtool check rules accepts deploy/prometheus/trucki-rules.yml', { skip }, async () => {
  const { code, output } = await runPromtool(['check', 'rules', 'deploy/prometheus/trucki-rules.yml']);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS/, output);
  assert.doesNotMatch(output, /FAILED/, output);
});

test('promtool test rules passes deploy/prometheus/trucki-rules.test.yml', { skip }, async () => {
  const { code, output } = await runPromtool(['test', 'rules', 'deploy/prometheus/trucki-rules.test.yml']);
  assert.equal(code, 0, output);
  assert.match(output, /SUCCESS/, output);
});

test('every dashboard query parses as PromQL (promtool check rules)', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trucki-dashboard-'));
  try {
    const rules = dashboardQueries(dashboardPath).map((expr, i) => ({ record: `dashboard:query_${i}:check`, expr }));
    const file = join(dir, 'dashboard-queries.yml');
    // JSON is valid YAML, so no YAML library is needed.
    await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }, null, 2));
    const { code, output } = await runPromtool(['check', 'rules', file]);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`), output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
