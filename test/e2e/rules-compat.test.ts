/**
 * deploy/prometheus/trucki2prometheus-compat-rules.yml on a real Prometheus scraping a real
 * Pushgateway that a simulated stick (clock at 0) was pushed to: every trucki2prometheus name holds
 * the number the old exporter showed for that stick, its mistakes included. The expected values
 * come from the documents, not the rules: the stick key of each old name from the migration guide's
 * mapping table, or what it showed instead from the guide's table of panels that showed something
 * else; the value the simulator serves for that key from the API document (in the stick's own
 * unit, kWh and ms, which is what the old exporter showed); the old numbers of the Wi-Fi words from
 * the guide's tables. Beside it, promtool runs the rules' own unit tests (edge cases: a meter
 * unreadable, unknown words, a stick not answering). That the rules record every old name of the
 * guide is read in-process, in test/unit/shipped-files.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import {
  compat,
  compatPath,
  expectedFor,
  guide,
  oldNames,
  recordedAs,
  showedInstead,
} from '../helpers/compat-guide.js';
import { repoRoot } from '../helpers/paths.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { debianConfigWithTrucki } from '../helpers/prometheus-config.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const execFileAsync = promisify(execFile);

test('promtool check rules accepts the compat rules, every one of them', async () => {
  const recorded = [...compat.matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1]!);
  const { stdout } = await execFileAsync(process.env['PROMTOOL'] ?? 'promtool', ['check', 'rules', compatPath]);
  assert.match(stdout, new RegExp(`SUCCESS: ${recorded.length} rules found`));
});

test("promtool test rules: each old name shows the old exporter's number for what the job pushes", async () => {
  const testFile = `${repoRoot}deploy/prometheus/trucki2prometheus-compat-rules.test.yml`;
  // promtool reports a failed case on stdout and exits 1: the report is the message.
  const output = await execFileAsync(process.env['PROMTOOL'] ?? 'promtool', ['test', 'rules', testFile]).then(
    ({ stdout }) => stdout,
    (error: unknown) => {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      return stdout + stderr;
    },
  );
  assert.match(output, /SUCCESS/, output);
});

let stick: Simulator;
let pushgateway: RunningPushgateway;
let prometheus: RunningPrometheus;
let configDir: string;

before(async () => {
  stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
  pushgateway = await startPushgateway();
  configDir = await mkdtemp(join(tmpdir(), 'trucki-compat-'));
  const config = await debianConfigWithTrucki(configDir);
  // The guide's line adding the compat rules, run on this copy.
  const line =
    /^sudo (sed -i '\/\^rule_files:\/a\\ {2}- trucki2prometheus-compat-rules\.yml') \/etc\/prometheus\/prometheus\.yml$/m.exec(
      guide,
    );
  assert.ok(line, 'the guide has no line adding the compat rules to rule_files:');
  await execFileAsync('sh', ['-ec', `${line[1]!} ${config}`]);
  let text = await readFile(config, 'utf8');
  const edits: [RegExp, string][] = [
    [/^( +)scrape_interval: +15s/m, '$1scrape_interval: 1s'],
    [/^( +)evaluation_interval: +15s/m, '$1evaluation_interval: 1s'],
    [/^( +)- trucki2prometheus-compat-rules\.yml$/m, `$1- ${compatPath}`],
    [/^( +)- targets: \['localhost:9091'\]$/m, `$1- targets: ['${pushgateway.url.replace('http://', '')}']`],
  ];
  for (const [pattern, replacement] of edits) {
    assert.match(text, pattern, `the merged prometheus.yml no longer has ${pattern}`);
    text = text.replace(pattern, replacement);
  }
  // The trucki-rules.yml line stays as copied: Prometheus resolves it beside its own config file,
  // where there is none, so only the compat rules are loaded.
  prometheus = await startPrometheus(text.replace(/^ +- trucki-rules\.yml\n/m, ''));
  const result = await runCli(['-t', `roof=${stick.url}`, '-g', pushgateway.url]);
  assert.equal(result.code, 0, result.stderr);
});

after(() =>
  Promise.all([
    prometheus?.stop(),
    pushgateway?.stop(),
    stick?.close(),
    configDir && rm(configDir, { recursive: true, force: true }),
  ]),
);

test("each old name on a real Prometheus holds the number the old exporter showed for the stick, with the stick's job and instance", async () => {
  const wrong: string[] = [];
  for (const [name, key] of oldNames) {
    const instead = showedInstead.get(name);
    const expected = typeof instead === 'number' ? instead : expectedFor(instead ?? key);
    const result = await prometheus.waitFor(`${recordedAs(name)}{instance="roof"}`);
    assert.equal(result.length, 1, `${name}: ${JSON.stringify(result)}`);
    const [{ metric, value }] = result as [(typeof result)[number]];
    assert.deepEqual(metric, { __name__: recordedAs(name), job: 'trucki', instance: 'roof' });
    const got = Number(value[1]);
    if (Math.abs(got - expected) > 1e-9 * Math.max(1, Math.abs(expected)))
      wrong.push(`${name} (${key}): ${got}, expected ${expected}`);
  }
  assert.deepEqual(wrong, []);
});
