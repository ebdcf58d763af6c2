/**
 * deploy/prometheus/trucki2prometheus-compat-rules.yml on a real Prometheus scraping a real
 * Pushgateway that a simulated stick (clock at 0) was pushed to: every trucki2prometheus name holds
 * the number the old exporter showed for that stick, its mistakes included. The expected values
 * come from the documents, not the rules: the stick key of each old name from the migration guide's
 * mapping table, or what it showed instead from the guide's table of panels that showed something
 * else; the value the simulator serves for that key from the API document (in the stick's own
 * unit, kWh and ms, which is what the old exporter showed); the old numbers of the Wi-Fi words from
 * the guide's tables. Beside it, promtool runs the rules' own unit tests (edge cases: a meter
 * unreadable, unknown words, a stick not answering).
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
import { repoRoot } from '../helpers/paths.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { debianConfigWithTrucki } from '../helpers/prometheus-config.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const execFileAsync = promisify(execFile);
const guide = await readFile(`${repoRoot}docs/migrating-from-trucki2prometheus.md`, 'utf8');
const apiDoc = await readFile(`${repoRoot}docs/trucki-stick-api.md`, 'utf8');
const compatPath = `${repoRoot}deploy/prometheus/trucki2prometheus-compat-rules.yml`;
const compat = await readFile(compatPath, 'utf8');

/** The body rows of the first Markdown table from `marker` on (a heading or the header line), as cells. */
function tableAfter(text: string, marker: string): string[][] {
  const start = text.indexOf(marker);
  assert.ok(start >= 0, `no "${marker}"`);
  const lines = text.slice(start).split('\n');
  const header = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  // After the header and its --- line, up to the first line that is not a row.
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** What the simulator's T2SG serves at t = 0, by key, as the API document writes it. */
const served = new Map(
  tableAfter(apiDoc, '### T2SG /jsonlive at t = 0').map(([key, value]) => [
    key!.replace(/`/g, ''),
    value!.replace(/`/g, '').replace(/^"|"$/g, ''),
  ]),
);
/** The old number of each state-set label, from the guide's "before" tables. */
const oldNumber = new Map(
  [
    ...tableAfter(guide, '| `trucki_wifi_state` before |').map((row) => ['state', ...row]),
    ...tableAfter(guide, '| `trucki_wifi_rssi` before |').map((row) => ['quality', ...row]),
  ].map(([kind, number, label]) => [`${kind}:${label!.replace(/`/g, '')}`, Number(number)]),
);
assert.equal(oldNumber.size, 10 + 5, 'the Wi-Fi tables of the guide were not found whole');

/** Old name → stick key, from the guide's mapping table (names and keys pair up in order). */
const oldNames = new Map<string, string>();
for (const [names, keys] of tableAfter(guide, '| trucki2prometheus | stick key | trucki2pushgateway |')) {
  if (keys === '—') continue;
  const nameList = [...names!.matchAll(/`(trucki_\w+)`/g)].map((m) => m[1]!);
  const keyList = keys!.split(/,\s*/);
  assert.equal(nameList.length, keyList.length, `${names} | ${keys}`);
  nameList.forEach((name, i) => oldNames.set(name, keyList[i]!));
}

/**
 * Old names that showed something else than their key, and what: a number, or the key it read
 * instead (the first of the served keys the guide's cell names).
 */
const showedInstead = new Map(
  tableAfter(guide, '| old name | what it showed | what to use instead |').map(([name, showed]) => {
    const number = /^-?\d+(?:\.\d+)?\b/.exec(showed!);
    const key = [...showed!.matchAll(/\b[A-Z][A-Z0-9]+\b/g)].map((m) => m[0]).find((word) => served.has(word));
    assert.ok(number ?? key, `${name}: "${showed}" names neither a number nor a key`);
    return [name!.replace(/`/g, ''), number ? Number(number[0]) : key!];
  }),
);
assert.equal(showedInstead.size, 4, "the guide's table of panels that showed something else was not found whole");

/** The stick's value for `key` as the old exporter showed it: the number it sends, or the state's old number. */
function expectedFor(key: string): number {
  const value = served.get(key);
  assert.ok(value !== undefined, `the API document has no value at t = 0 for ${key}`);
  if (key === 'WIFI' || key === 'RSSI') {
    const label = value.toLowerCase().replace(/ /g, '_');
    const number = oldNumber.get(`${key === 'WIFI' ? 'state' : 'quality'}:${label}`);
    assert.ok(number !== undefined, `no old number for ${key} ${value}`);
    return number;
  }
  const number = Number.parseFloat(value);
  assert.ok(Number.isFinite(number), `${key}: ${value}`);
  return number;
}

/** trucki_wifi_state keeps its name with a new meaning; the old number is recorded under this one. */
const wifiCode = 'instance:trucki_wifi_state:code';
/** Where each old name's value is found: under its own name, but for trucki_wifi_state. */
const recordedAs = (name: string) => (name === 'trucki_wifi_state' ? wifiCode : name);

test('the compat rules record every old name of the guide (trucki_wifi_state under its own name), and promtool accepts them', async () => {
  assert.ok(oldNames.size >= 20, `only ${oldNames.size} names in the guide's table`);
  const recorded = [...compat.matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1]!);
  assert.deepEqual(recorded.sort(), [...oldNames.keys()].map(recordedAs).sort());
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
