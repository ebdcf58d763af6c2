/**
 * Issue 9, item 4: grouping values that URL path normalisation could change ("." "..", their
 * percent-encoded forms, "%", "?", "#", ";", spaces, unicode, a line break, 10 kB) each land in
 * exactly their own group on a real Pushgateway, and a neighbour group is left as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { runCli } from './helpers/cli.js';
import { healthyExposition, putGroup, withLastSuccess } from './helpers/seed.js';
import { sampleValue, startPushgateway, type GroupJson, type RunningPushgateway } from './helpers/pushgateway.js';

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

test('nothing landed anywhere else, and the neighbour {b=x, instance=vic} is untouched', async () => {
  const expected = new Set([
    labelSet(neighbour),
    ...values.map(([, value]) => labelSet({ job: 'trucki', instance: value })),
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
