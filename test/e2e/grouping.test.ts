/**
 * Grouping keys: the Pushgateway path a group is pushed to (`groupPath`), and instance names and
 * grouping values that URL path normalisation could change ("." "..", their percent-encoded forms,
 * "%", "?", "#", ";", spaces, unicode, a line break, 10 kB), each landing in exactly its own group
 * on a real Pushgateway, a neighbour group left as it was; a line break in a name stays escaped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { groupPath } from '../../src/sinks/pushgateway-api.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { healthyExposition, putGroup, withLastSuccess } from '../helpers/seed.js';
import { sampleValue, startPushgateway, type GroupJson, type RunningPushgateway } from '../helpers/pushgateway.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
const neighbour = { job: 'trucki', instance: 'vic', b: 'x' };
before(async () => {
  [pushgateway, stick] = await Promise.all([startPushgateway(), startSimulator({ variant: 'T2SG' })]);
  // An earlier healthy push of the stick "vic" with the label b=x, plus a marker of its own.
  const text = withLastSuccess(await healthyExposition(stick.url), 1700000000);
  await putGroup(
    pushgateway.url,
    '/metrics/job/trucki/instance/vic/b/x',
    `${text}\n# TYPE neighbour_marker gauge\nneighbour_marker 42\n`,
  );
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close()]);
});

/** Name in the test title, value as given. A name (before "=") cannot hold "=", ":" or "@", nor be blank. */
const values: [string, string][] = [
  ['.', '.'],
  ['..', '..'],
  ['%2e%2e', '%2e%2e'],
  ['%2E.', '%2E.'],
  ['%', '%'],
  ['?', '?'],
  ['#', '#'],
  [';', ';'],
  ['a space', 'a b'],
  ['unicode', 'Zähler ☀ 東'],
  ['a line break', 'line\nbreak'],
  ['10 kB', 'v'.repeat(10_240)],
];
/** As a --grouping value a blank value is fine too. */
const groupingValues: [string, string][] = [...values, ['a lone space', ' '], ['../..', '../..'], ['./', './']];

const labelSet = (labels: Record<string, string>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
const short = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

async function assertOwnGroup(labels: Record<string, string>, stderr: string): Promise<void> {
  const group = await pushgateway.group(labels);
  assert.ok(
    group,
    `no group ${short(labelSet(labels))}; groups: ${(await pushgateway.groups()).map((g) => short(labelSet(g.labels))).join(' ')}\n${stderr}`,
  );
  assert.equal(sampleValue(group, 'trucki_up'), 1);
  assert.equal(sampleValue(group, 'trucki_grid_voltage_volts') !== undefined, true);
}

describe('groupPath on a real Pushgateway', () => {
  let own: RunningPushgateway;
  before(async () => {
    own = await startPushgateway();
  });
  after(() => own.stop());

  for (const [name, value] of [
    ['slash', 'roof/south'],
    ['empty', ''],
    ['colon and space', 'garage 1:8081'],
    ['unicode', 'Dach Süd'],
    ['base64 lookalike', 'a+b=c'],
  ] as const) {
    test(`${name}: "${value}" lands as the same label value`, async () => {
      const grouping = [
        ['job', 'grouping-test'],
        ['instance', `i-${name}`],
        ['place', value],
      ] as const;
      const response = await fetch(own.url + groupPath(grouping), { method: 'PUT', body: 'probe_value 1\n' });
      assert.equal(response.status, 200, await response.text());
      const group = await own.group(Object.fromEntries(grouping));
      assert.ok(group, `no group with place="${value}"`);
    });
  }
});

describe('as an instance name', { concurrency: true }, () => {
  for (const [title, value] of values) {
    test(`-t ${title}=host lands in {job, instance=${title}}`, async () => {
      const result = await runCli(['-t', `${value}=${stick.url}`, '-g', pushgateway.url]);
      assert.equal(result.code, 0, result.stderr);
      await assertOwnGroup({ job: 'trucki', instance: value }, result.stderr);
    });
  }
  test('--instance .. lands in {job, instance=..}', async () => {
    const result = await runCli(['-t', stick.url, '--instance', '../..', '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
    await assertOwnGroup({ job: 'trucki', instance: '../..' }, result.stderr);
  });
});

describe('as a --grouping value', { concurrency: true }, () => {
  for (const [title, value] of groupingValues) {
    test(`--grouping a=${title},b=x lands in {job, instance=vic, a=${title}, b=x}`, async () => {
      const result = await runCli(['-t', `vic=${stick.url}`, '-g', pushgateway.url, '--grouping', `a=${value},b=x`]);
      assert.equal(result.code, 0, result.stderr);
      await assertOwnGroup({ job: 'trucki', instance: 'vic', a: value, b: 'x' }, result.stderr);
    });
  }
});

/** Could end a line of the exposition or the log, and start a forged one. */
const lineBreakName = 'nl\nforged_metric 1';

describe('a line break in an instance name stays escaped', { concurrency: true }, () => {
  test('in --stdout output and the log line, as -t name=', async () => {
    const result = await runCli(['-t', `${lineBreakName}=${stick.url}`, '--stdout']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /^forged_metric/m, 'a line injected into the exposition');
    assert.doesNotMatch(result.stderr, /^forged_metric/m, 'the log line split');
    assert.match(result.stdout, /^# stick nl\\nforged_metric 1$/m);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });

  test("a C1 control (U+009B, a terminal's CSI) and a bidi override stay escaped in the log line", async () => {
    const result = await runCli(['-t', `a\u009b2J\u202eb\u2066=${stick.url}`, '--stdout']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^stick a\\x9b2J\\u202eb\\u2066 \(/);
    assert.doesNotMatch(result.stderr, /[\u0080-\u009f\u202e\u2066]/, 'obeyed by a terminal');
  });

  test('in the log line, as --instance, when pushing', async () => {
    const result = await runCli(['-t', stick.url, '--instance', lineBreakName, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /^forged_metric/m, 'the log line split');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
});

test('nothing landed anywhere else, and the neighbour {b=x, instance=vic} is untouched', async () => {
  const expected = new Set([
    labelSet(neighbour),
    ...values.map(([, value]) => labelSet({ job: 'trucki', instance: value })),
    labelSet({ job: 'trucki', instance: lineBreakName }),
    labelSet({ job: 'trucki', instance: '../..' }),
    ...groupingValues.map(([, value]) => labelSet({ job: 'trucki', instance: 'vic', a: value, b: 'x' })),
  ]);
  const groups: GroupJson[] = await pushgateway.groups();
  const unexpected = groups.map((group) => labelSet(group.labels)).filter((set) => !expected.has(set));
  assert.deepEqual(unexpected.map(short), [], 'groups that no run should have made');
  assert.equal(groups.length, expected.size);
  const group = await pushgateway.group(neighbour);
  assert.equal(sampleValue(group, 'neighbour_marker'), 42, 'the neighbour group was replaced');
  assert.equal(sampleValue(group, 'trucki_last_success_timestamp_seconds'), 1700000000);
});
