import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { groupPath } from '../src/sinks/pushgateway-api.js';
import { startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';

describe('groupPath', () => {
  test('plain values are path segments as they are', () => {
    assert.equal(
      groupPath([
        ['job', 'trucki'],
        ['instance', '192.168.1.5:8081'],
      ]),
      '/metrics/job/trucki/instance/192.168.1.5:8081',
    );
  });
  test('a value with a slash uses base64url', () => {
    assert.equal(groupPath([['job', 'a/b']]), `/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}`);
  });
  test('an empty value is base64 "="', () => {
    assert.equal(
      groupPath([
        ['job', 'x'],
        ['site', ''],
      ]),
      '/metrics/job/x/site@base64/=',
    );
  });
});

describe('grouping keys on a real Pushgateway', () => {
  let pushgateway: RunningPushgateway;
  before(async () => {
    pushgateway = await startPushgateway();
  });
  after(() => pushgateway.stop());

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
      const response = await fetch(pushgateway.url + groupPath(grouping), { method: 'PUT', body: 'probe_value 1\n' });
      assert.equal(response.status, 200, await response.text());
      const group = await pushgateway.group(Object.fromEntries(grouping));
      assert.ok(group, `no group with place="${value}"`);
    });
  }
});
