/** Grouping keys as the Pushgateway's URL paths, in-process (against a real Pushgateway: test/e2e/grouping.test.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupPath } from '../../src/sinks/pushgateway-api.js';

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
