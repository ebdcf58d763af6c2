/** What a loop keeps while VictoriaMetrics is away: oldest first, bounded by bytes and by age, drops counted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backlog, type Batch } from '../../src/sinks/backlog.js';

const batch = (name: string, bytes: number, samples: number, oldestAt: number): Batch => ({
  text: name,
  bytes,
  samples,
  oldestAt,
  told: [],
});

test('kept batches come back oldest first, and nothing is dropped within the bounds', () => {
  const backlog = new Backlog({ maxBytes: 100, maxAgeMs: 60_000 });
  backlog.keep([batch('a', 10, 1, 1000), batch('b', 10, 2, 2000)], 3000);
  backlog.keep([batch('c', 10, 3, 3000)], 4000);
  assert.deepEqual([backlog.bytes, backlog.samples, backlog.size], [30, 6, 3]);
  assert.deepEqual(
    backlog.takeAll(5000).map(({ text }) => text),
    ['a', 'b', 'c'],
  );
  assert.deepEqual([backlog.bytes, backlog.size, backlog.droppedSamples], [0, 0, 0]);
});

test('over the byte bound the oldest go first, and their samples are counted', () => {
  const backlog = new Backlog({ maxBytes: 25, maxAgeMs: 60_000 });
  backlog.keep([batch('a', 10, 1, 1000), batch('b', 10, 2, 2000), batch('c', 10, 4, 3000)], 3000);
  assert.deepEqual(
    backlog.takeAll(3000).map(({ text }) => text),
    ['b', 'c'],
  );
  assert.equal(backlog.droppedSamples, 1);
});

test('past the age bound batches are dropped when kept and when taken', () => {
  const backlog = new Backlog({ maxBytes: 1000, maxAgeMs: 10_000 });
  backlog.keep([batch('old', 10, 5, 0), batch('new', 10, 7, 15_000)], 15_000);
  assert.equal(backlog.droppedSamples, 5);
  assert.deepEqual(
    backlog.takeAll(30_000).map(({ text }) => text),
    [],
  );
  assert.equal(backlog.droppedSamples, 12);
});

test('a batch the store refused outright is counted as dropped', () => {
  const backlog = new Backlog({ maxBytes: 1000, maxAgeMs: 10_000 });
  backlog.drop(batch('refused', 10, 9, 0));
  assert.equal(backlog.droppedSamples, 9);
});

test('batches older than those held (a late failed delivery) go before them, and are dropped first', () => {
  const backlog = new Backlog({ maxBytes: 25, maxAgeMs: 60_000 });
  backlog.keep([batch('newer', 10, 1, 3000)], 3000);
  backlog.keep([batch('oldest', 10, 2, 1000), batch('older', 10, 4, 2000)], 4000);
  assert.equal(backlog.droppedSamples, 2);
  assert.deepEqual(
    backlog.takeAll(4000).map(({ text }) => text),
    ['older', 'newer'],
  );
});

test('the drops are told once each: takeUnsaid counts those since it was last asked', () => {
  const backlog = new Backlog({ maxBytes: 1000, maxAgeMs: 10_000 });
  backlog.keep([batch('old', 10, 5, 0)], 15_000);
  backlog.drop(batch('refused', 10, 2, 15_000));
  assert.equal(backlog.takeUnsaid(), 7);
  assert.equal(backlog.takeUnsaid(), 0);
  backlog.keep([batch('older', 10, 3, 1000)], 20_000);
  assert.deepEqual([backlog.takeUnsaid(), backlog.droppedSamples], [3, 10]);
});
