/**
 * The concurrency limit: at most n tasks at once, in order; and with `perTurn`, at most that many
 * started in one turn of the event loop (issue 18.1: a fleet's first request leaves at once, not
 * after all 1,000 have been made). Turns are driven with setImmediate, as the limit counts them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLimit } from '../../src/concurrency-limit.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** Lets the microtasks of this turn run (a started task's first line). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('createLimit', () => {
  test('at most n tasks run at once, and the waiting ones start in order', async () => {
    const limit = createLimit(2);
    const started: number[] = [];
    const release: (() => void)[] = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      limit(async () => {
        started.push(i);
        await new Promise<void>((resolve) => release.push(resolve));
        return i;
      }),
    );
    await settle();
    assert.deepEqual(started, [0, 1]);
    release[1]!();
    await settle();
    assert.deepEqual(started, [0, 1, 2]);
    release[0]!();
    release[2]!();
    await settle();
    release[3]!();
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3]);
  });

  test('a task that throws frees its slot', async () => {
    const limit = createLimit(1);
    await assert.rejects(
      limit(() => Promise.reject(new Error('no'))),
      /no/,
    );
    assert.equal(await limit(() => Promise.resolve('next')), 'next');
  });

  test('perTurn: a slice of the tasks starts in each turn of the event loop, in order', async () => {
    const limit = createLimit(100, 3);
    const started: number[] = [];
    const tasks = Array.from({ length: 8 }, (_, i) =>
      limit(() => {
        started.push(i);
        return Promise.resolve(i);
      }),
    );
    await settle();
    assert.deepEqual(started, [0, 1, 2], 'the first turn');
    await nextTurn();
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5], 'the second turn');
    await nextTurn();
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7], 'the third turn');
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5, 6, 7]);
    // A later burst gets a fresh slice at once.
    const later = [limit(() => Promise.resolve('a')), limit(() => Promise.resolve('b'))];
    assert.deepEqual(await Promise.all(later), ['a', 'b']);
  });
});
