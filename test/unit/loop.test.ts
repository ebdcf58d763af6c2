/**
 * The loop in-process: the schedule under driven timers keeps each stick on its own cadence, and a
 * quiet loop's log says a stick's changes, an outage once and a summary now and then. Against the
 * bundle and the real programs: test/e2e/loop.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Target } from '../../src/config/types.js';
import { createLoopLog } from '../../src/loop-log.js';
import { startSchedule } from '../../src/schedule.js';

const everySecond = '* * * * * *';

/**
 * Drives a schedule under mock.timers for `seconds` in steps of 100 ms, letting the promises of the
 * runs settle after each (one tick() fires every timer it passes before any promise settles, which no
 * real clock does); then SIGTERM, and `drainMs` more for the runs in flight.
 */
async function drive(t: TestContext, stopped: Promise<boolean>, seconds: number, drainMs: number): Promise<void> {
  for (let step = 1; step <= seconds * 10; step++) {
    t.mock.timers.tick(100);
    await new Promise((resolve) => setImmediate(resolve));
  }
  process.emit('SIGTERM', 'SIGTERM');
  t.mock.timers.tick(drainMs);
  await stopped;
}
describe('each stick on its own cadence', () => {
  test('a slow stick skips its ticks while a quick one runs on every tick: exactly, over 30 ticks', async (t) => {
    // Croner reads the time from Date and waits with setTimeout: both are driven here, no second passes.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const runs = { quick: 0, slow: 0 };
    const lines: string[] = [];
    const targets = [target('quick'), target('slow')];
    const namedSeen = new Set<string>();
    const stopped = startSchedule(
      async (due, onStickDone, named) => {
        namedSeen.add((named ?? []).map(({ instance }) => instance).join(','));
        await Promise.all(
          due.map(async (stick) => {
            runs[stick.instance as keyof typeof runs]++;
            if (stick.instance === 'slow') await new Promise((resolve) => setTimeout(resolve, 2500));
            onStickDone?.(stick);
          }),
        );
        return 'ok' as const;
      },
      { pattern: everySecond, log: (line) => lines.push(line), targets: () => targets },
    );
    await drive(t, stopped, 30, 2500);
    // Ticks at 1, 2, ... 30 s: the quick stick on each; the slow one at 1, 4, ... 28 s (busy 2.5 s each time).
    assert.equal(runs.quick, 30);
    assert.equal(runs.slow, 10);
    // Every run hears of every stick named, busy or not: what is not named may be forgotten (issue 16.3).
    assert.deepEqual([...namedSeen], ['quick,slow']);
    const skipped = lines.filter((line) => /^stick \w+: skipped the run due at /.test(line));
    assert.equal(skipped.length, 10, lines.join('\n'));
    for (const line of skipped)
      assert.match(line, /^stick slow: skipped the run due at .* is still busy; skipping until it ends$/);
  });

  test('a quiet loop says once that a slow stick is being skipped and once, with the count, that it keeps time again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const lines: string[] = [];
    const targets = [target('quick'), target('slow'), target('hung')];
    // The slow stick takes 2.5 s (a store that hangs, a stick slower than its timeout) until 20 s, then
    // answers at once; the hung one takes an hour.
    const run = async (due: readonly Target[], onStickDone?: (stick: Target) => void) => {
      await Promise.all(
        due.map(async (stick) => {
          if (stick.instance === 'hung') await new Promise((resolve) => setTimeout(resolve, 3_600_000));
          if (stick.instance === 'slow' && Date.now() < Date.parse('2026-01-01T00:00:20Z'))
            await new Promise((resolve) => setTimeout(resolve, 2500));
          onStickDone?.(stick);
        }),
      );
      return 'ok' as const;
    };
    const options = {
      pattern: everySecond,
      log: (line: string) => lines.push(line),
      targets: () => targets,
      quiet: true,
    };
    await drive(t, startSchedule(run, options), 30, 3_600_000);
    // Slow runs at 1, 4, ... 19 s skip the ticks at 2, 3, 5, 6, ... 20, 21 s (14); the run at 22 s ends
    // before the tick at 23 s, which says so. The hung one skips every tick from 2 s on, said once.
    const skipping = (instance: string) =>
      `stick ${instance}: skipped the run due at 2026-01-01T00:00:02.000Z: the run started 2026-01-01T00:00:01.000Z ` +
      'is still busy (further skipped runs are not logged until it keeps time again)';
    assert.deepEqual(
      lines.filter((line) => /^stick /.test(line)),
      [
        skipping('slow'),
        skipping('hung'),
        'stick slow: keeps time again (14 runs skipped since 2026-01-01T00:00:02.000Z)',
      ],
      lines.join('\n'),
    );
  });

  test("a stick's later run stays busy when an earlier run it was part of ends", async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const targets = [target('quick'), target('slow')];
    let quickRuns = 0;
    let reading = 0;
    let most = 0;
    const stopped = startSchedule(
      async (due, onStickDone) => {
        await Promise.all(
          due.map(async (stick) => {
            // The slow stick holds its first run (with the quick one's first read) open until 3.2 s; the
            // quick one's later reads take 2.5 s, the one started at 2 s still going at 4 s.
            if (stick.instance === 'slow') await new Promise((resolve) => setTimeout(resolve, 2200));
            else if (quickRuns++ > 0) {
              most = Math.max(most, ++reading);
              await new Promise((resolve) => setTimeout(resolve, 2500));
              reading--;
            }
            onStickDone?.(stick);
          }),
        );
        return 'ok' as const;
      },
      { pattern: everySecond, log: () => {}, targets: () => targets },
    );
    await drive(t, stopped, 8, 3000);
    assert.equal(most, 1, 'two reads of the quick stick at once');
  });

  test('a stick is busy by its identity: the same instance with other labels runs beside it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00.500Z') });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const at = (site: string): Target => ({
      url: new URL('http://roof.test/'),
      instance: 'roof',
      labels: [['site', site]],
    });
    let targets = [at('berlin')];
    const started: string[] = [];
    const lines: string[] = [];
    const stopped = startSchedule(
      async (due, onStickDone) => {
        await Promise.all(
          due.map(async (stick) => {
            started.push(stick.labels[0]![1]);
            // Berlin's read hangs for 10 s; Hamburg's is quick.
            if (stick.labels[0]![1] === 'berlin') await new Promise((resolve) => setTimeout(resolve, 10_000));
            onStickDone?.(stick);
          }),
        );
        return 'ok' as const;
      },
      { pattern: everySecond, log: (line) => lines.push(line), targets: () => targets },
    );
    for (let step = 1; step <= 50; step++) {
      // Berlin replaced by Hamburg in the targets file after its first run started (at 1 s).
      if (step === 15) targets = [at('hamburg')];
      t.mock.timers.tick(100);
      await settle();
    }
    process.emit('SIGTERM', 'SIGTERM');
    t.mock.timers.tick(10_000);
    await stopped;
    // Ticks at 1 s (Berlin) and 2, 3, 4, 5 s (Hamburg, while Berlin's run still hangs).
    assert.deepEqual(started, ['berlin', 'hamburg', 'hamburg', 'hamburg', 'hamburg'], lines.join('\n'));
    assert.ok(!lines.some((line) => /skipped/.test(line)), lines.join('\n'));
  });
});

/** A quiet loop log that writes into `lines`, on `clock` (the real one if none). */
function quietLog(clock?: () => number) {
  const lines: string[] = [];
  return { lines, loopLog: createLoopLog((line) => lines.push(line), { quiet: true }, clock) };
}

describe('a quiet loop', { concurrency: true }, () => {
  test('a stick the targets file drops and adds again is logged again at its first read', () => {
    const { lines, loopLog } = quietLog();
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const reading = { samples: 0, unreadable: [], seconds: 0.01 };
    const run = (named: Target[]) => {
      const report = loopLog.begin();
      for (const stick of named) report.stick({ target: stick, reading, deliveredAs: 'pushed' }, 1);
      report.end(named);
    };
    const [a, b] = [target('a'), target('b')];
    run([a, b]);
    run([a, b]);
    run([a]);
    run([a, b]);
    assert.deepEqual(
      lines.map((line) => line.split(':')[0]),
      ['stick a (a.test)', 'stick b (b.test)', 'stick b (b.test)'],
    );
  });

  test('two sticks with one instance and other labels are two sticks: each logged at its first read and its changes, counted apart', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { lines, loopLog } = quietLog(() => now);
    const site = (name: string): Target => ({
      url: new URL(`http://${name}.test/`),
      instance: 'twin',
      labels: [['site', name]],
    });
    const [north, south] = [site('north'), site('south')];
    const up = { samples: 0, unreadable: [], seconds: 0.01 };
    const down = { ...up, failure: 'timed out' };
    for (let minute = 1; minute <= 11; minute++) {
      now += 60_000;
      const report = loopLog.begin();
      report.stick({ target: north, reading: up, deliveredAs: 'pushed' }, 10);
      report.stick({ target: south, reading: down, deliveredAs: 'pushed' }, 3);
      report.end([north, south]);
    }
    // Each one's first read, and nothing more: neither changed.
    assert.equal(lines.filter((line) => line.startsWith('stick ')).length, 2, lines.join('\n'));
    assert.deepEqual(
      lines.filter((line) => line.startsWith('since ')),
      ['since 2026-01-01T00:00:00.000Z: 1 stick up, 1 down; 130 samples delivered, 0 deliveries failed'],
    );
  });

  test("'deliveries succeed again' counts every failure since the outage began, those of its first run too", () => {
    const { lines, loopLog } = quietLog();
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const reading = { samples: 0, unreadable: [], seconds: 0.01 };
    const [a, b] = [target('a'), target('b')];
    // A flush that failed for both sticks; then a stick's own delivery failure; then both delivered.
    let report = loopLog.begin();
    report.stick({ target: a, reading, deliveredAs: 'sent', deliveryFailure: '' }, 0);
    report.stick({ target: b, reading, deliveredAs: 'sent', deliveryFailure: '' }, 0);
    report.sinkFailure('the store is away');
    report.end([a, b]);
    report = loopLog.begin();
    report.stick({ target: a, reading, deliveredAs: 'sent', deliveryFailure: 'refused' }, 0);
    report.stick({ target: b, reading, deliveredAs: 'sent' }, 5);
    report.end([a, b]);
    report = loopLog.begin();
    report.stick({ target: a, reading, deliveredAs: 'sent' }, 5);
    report.end([a, b]);
    assert.match(lines.at(-1)!, /^deliveries succeed again \(3 failed since /, lines.join('\n'));
  });

  test("the summary counts in words that agree with the number: '1 stick up', '1 sample', '1 delivery failed'", () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { lines, loopLog } = quietLog(() => now);
    const one: Target = { url: new URL('http://one.test/'), instance: 'one', labels: [] };
    const reading = { samples: 1, unreadable: [], seconds: 0.01 };
    let report = loopLog.begin();
    report.stick({ target: one, reading, deliveredAs: 'pushed' }, 1);
    report.end([one]);
    now += 600_000;
    report = loopLog.begin();
    report.stick({ target: one, reading, deliveredAs: 'pushed', deliveryFailure: 'refused' }, 0);
    report.end([one]);
    assert.equal(
      lines.at(-1),
      'since 2026-01-01T00:00:00.000Z: 1 stick up, 0 down; 1 sample delivered, 1 delivery failed',
      lines.join('\n'),
    );
  });

  test('a summary every 10 minutes of the loop clock: sticks up and down, samples and failures since', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const { lines, loopLog } = quietLog(() => now);
    const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
    const sticks = [target('s1'), target('s2')];
    const reading = (failure?: string) => ({ samples: 0, unreadable: [], seconds: 0.01, ...(failure && { failure }) });
    for (let minute = 1; minute <= 25; minute++) {
      now += 60_000;
      const report = loopLog.begin();
      report.stick({ target: sticks[0]!, reading: reading(), deliveredAs: 'pushed' }, 10);
      report.stick(
        {
          target: sticks[1]!,
          reading: reading(minute > 5 && minute <= 12 ? 'timed out' : undefined),
          deliveredAs: 'pushed',
        },
        3,
      );
      report.end(sticks);
    }
    const summaries = lines.filter((line) => line.startsWith('since '));
    assert.deepEqual(summaries, [
      'since 2026-01-01T00:00:00.000Z: 1 stick up, 1 down; 130 samples delivered, 0 deliveries failed',
      'since 2026-01-01T00:10:00.000Z: 2 sticks up, 0 down; 130 samples delivered, 0 deliveries failed',
    ]);
    // s1's first read; s2's first read, its going down and its coming back.
    assert.deepEqual(
      lines.filter((line) => !line.startsWith('since ')).map((line) => line.split(':')[0]),
      ['stick s1 (s1.test)', 'stick s2 (s2.test)', 'stick s2 (s2.test)', 'stick s2 (s2.test)'],
    );
  });
});
