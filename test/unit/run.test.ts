/**
 * A run in-process, with a fake sink and fake sticks: what is delivered for read and failed sticks,
 * how often the sink is asked for last successes, and how many sticks are read at once. The loop's
 * cadence, in-process too, is in loop.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobFamilies, liveCatalogue } from '../../src/catalogue.js';
import type { Config, Target } from '../../src/config/types.js';
import { SinkFailure } from '../../src/errors.js';
import { createJob } from '../../src/run.js';
import { delivered as taken, outcomeToCome, type AnySink, type Delivery, type Sink } from '../../src/sinks/sink.js';
import type { Connections } from '../../src/wiring.js';
import type { StickReading } from '../../src/stick.js';

const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
const config = (targets: Target[], concurrency = 64): Config => ({
  targets,
  timeoutMs: 1000,
  retries: 0,
  maxBodyBytes: 1024,
  concurrency,
  deleteOnExit: false,
  verbose: false,
  pushgateway: { url: new URL('http://pg.test/'), job: 'trucki', grouping: [] },
});
const reading = (failure?: string): StickReading => ({
  live: failure
    ? { samples: [], problems: [], failure }
    : {
        samples: [{ family: liveCatalogue[0]!.family, labels: {}, value: 234.5 }],
        problems: [],
      },
  once: { samples: [], problems: [] },
  seconds: 0.01,
  readAt: 1_700_000_000_000,
});

type FakeSink = AnySink & {
  readonly delivered: Delivery[];
  readonly asked: string[][];
};

function fakeSink(held: Record<string, number>, recallFails = false): FakeSink {
  const delivered: Delivery[] = [];
  const asked: string[][] = [];
  return {
    delivered,
    asked,
    lastSuccesses: (targets) => {
      asked.push(targets.map(({ instance }) => instance));
      if (recallFails) return Promise.reject(new SinkFailure('Pushgateway http://pg.test/ timed out after 1 s'));
      return Promise.resolve(
        new Map(Object.entries(held).filter(([instance]) => targets.some((t) => t.instance === instance))),
      );
    },
    deliver: (delivery) => {
      delivered.push(delivery);
      return Promise.resolve(taken);
    },
  };
}

function connections(sink: AnySink, read: (target: Target) => Promise<StickReading>): Connections {
  // The fake sink stands for a Pushgateway: it says so in the log.
  return { readStick: read, sink, words: { delivered: 'pushed' }, close: () => {}, oneShot: true };
}

/** A job over `targets`, every one of them dark (its read refused). */
const darkJob = (sink: AnySink, targets: Target[], log: (line: string) => void = () => {}) =>
  createJob(
    config(targets),
    log,
    connections(sink, () => Promise.resolve(reading('refused the connection'))),
  );
const familiesOf = (delivery: Delivery | undefined) => delivery?.samples.map((sample) => sample.family.name).sort();
const valueOf = (delivery: Delivery | undefined, family: string) =>
  delivery?.samples.find((sample) => sample.family.name === family)?.value;

describe('one run', () => {
  test('a read stick delivers its readings; a failed one only up 0, its duration and its last success', async () => {
    const sink = fakeSink({ dead: 1_600_000_000 });
    const lines: string[] = [];
    const targets = [target('alive'), target('dead')];
    const job = createJob(
      config(targets),
      (line) => lines.push(line),
      connections(sink, ({ instance }) =>
        Promise.resolve(reading(instance === 'dead' ? 'refused the connection' : undefined)),
      ),
    );
    assert.equal(await job.run(targets), 'dark');
    const alive = sink.delivered.find(({ target: t }) => t.instance === 'alive');
    const dead = sink.delivered.find(({ target: t }) => t.instance === 'dead');
    assert.equal(valueOf(alive, jobFamilies.up.name), 1);
    assert.equal(valueOf(alive, liveCatalogue[0]!.family.name), 234.5);
    assert.equal(valueOf(alive, jobFamilies.lastSuccess.name), 1_700_000_000);
    assert.deepEqual(
      familiesOf(dead),
      [jobFamilies.lastSuccess.name, jobFamilies.scrapeDuration.name, jobFamilies.up.name].sort(),
    );
    assert.equal(valueOf(dead, jobFamilies.up.name), 0);
    assert.equal(valueOf(dead, jobFamilies.lastSuccess.name), 1_600_000_000);
    assert.equal(lines.length, 2);
    assert.ok(
      lines.some((line) =>
        /^stick dead \(dead\.test\): failed, refused the connection; took 10 ms; pushed trucki_up 0$/.test(line),
      ),
      lines.join('\n'),
    );
  });

  test('300 failed sticks ask the sink for last successes once', async () => {
    const targets = Array.from({ length: 300 }, (_, index) => target(`s${index}`));
    const sink = fakeSink(Object.fromEntries(targets.map(({ instance }, index) => [instance, 1_600_000_000 + index])));
    const job = createJob(
      config(targets),
      () => {},
      connections(sink, () => Promise.resolve(reading('timed out after 1 s'))),
    );
    assert.equal(await job.run(targets), 'dark');
    assert.equal(sink.asked.length, 1);
    assert.equal(sink.delivered.length, 300);
    for (const [index, delivery] of targets.map((t, i) => [i, sink.delivered.find((d) => d.target === t)] as const)) {
      assert.equal(valueOf(delivery, jobFamilies.lastSuccess.name), 1_600_000_000 + index);
    }
  });

  test('when the last success cannot be recalled the stick still gets up 0, and the log says it was lost', async () => {
    const sink = fakeSink({}, true);
    const lines: string[] = [];
    const targets = [target('dead')];
    const job = darkJob(sink, targets, (line) => lines.push(line));
    assert.equal(await job.run(targets), 'dark');
    assert.deepEqual(familiesOf(sink.delivered[0]), [jobFamilies.scrapeDuration.name, jobFamilies.up.name].sort());
    assert.match(
      lines[0]!,
      /last success lost: Pushgateway http:\/\/pg\.test\/ timed out after 1 s; pushed trucki_up 0$/,
    );
  });

  test('a loop remembers last successes: the sink is asked once for a stick, not every run', async () => {
    const sink = fakeSink({ dead: 1_600_000_000 });
    const targets = [target('dead')];
    const job = darkJob(sink, targets);
    for (let run = 0; run < 3; run++) await job.run(targets);
    assert.equal(sink.asked.length, 1);
    assert.deepEqual(
      sink.delivered.map((delivery) => valueOf(delivery, jobFamilies.lastSuccess.name)),
      [1_600_000_000, 1_600_000_000, 1_600_000_000],
    );
  });

  test('no more sticks are read at once than --concurrency allows', async () => {
    let reading_ = 0;
    let most = 0;
    const targets = Array.from({ length: 20 }, (_, index) => target(`s${index}`));
    const job = createJob(
      config(targets, 3),
      () => {},
      connections(fakeSink({}), async () => {
        most = Math.max(most, ++reading_);
        // Held past the turn of the event loop in which the limit lets the next ones start.
        await new Promise((resolve) => setImmediate(resolve));
        reading_--;
        return reading();
      }),
    );
    assert.equal(await job.run(targets), 'ok');
    assert.equal(most, 3);
  });

  test('a dark stick beside a refused delivery: the run is undelivered, not dark', async () => {
    const sink: Sink = {
      deliver: ({ target: { instance } }) =>
        instance === 'alive'
          ? Promise.reject(new SinkFailure('Pushgateway http://pg.test/ answered HTTP 503'))
          : Promise.resolve(taken),
    };
    const targets = [target('alive'), target('dead')];
    const job = createJob(
      config(targets),
      () => {},
      connections(sink, ({ instance }) =>
        Promise.resolve(reading(instance === 'dead' ? 'refused the connection' : undefined)),
      ),
    );
    assert.equal(await job.run(targets), 'undelivered');
  });

  test('a dark stick and a write that fails: undelivered', async () => {
    const failed = Promise.reject(new SinkFailure('VictoriaMetrics http://vm.test/ refused the connection'));
    const sink: Sink = { deliver: () => Promise.resolve({ outcome: failed }) };
    const lines: string[] = [];
    const targets = [target('dead')];
    const job = darkJob(sink, targets, (line) => lines.push(line));
    assert.equal(await job.run(targets), 'undelivered');
    // The stick's line says it was not delivered; why, once, on the line after it.
    assert.match(lines[0]!, /; not pushed$/);
    assert.deepEqual(lines.slice(1), ['VictoriaMetrics http://vm.test/ refused the connection']);
  });

  test("a refused delivery fails the run and names the sink in the stick's line", async () => {
    const sink: Sink = {
      deliver: () => Promise.reject(new SinkFailure('Pushgateway http://pg.test/ answered HTTP 503')),
    };
    const lines: string[] = [];
    const targets = [target('alive')];
    const job = createJob(
      config(targets),
      (line) => lines.push(line),
      connections(sink, () => Promise.resolve(reading())),
    );
    assert.equal(await job.run(targets), 'undelivered');
    assert.match(lines[0]!, /; not pushed: Pushgateway http:\/\/pg\.test\/ answered HTTP 503$/);
  });
});

describe('each reading handed over gets its own outcome', () => {
  test('a stick is free for its next read once its reading is taken; its line and the run wait for its outcome', async () => {
    const { outcome, tell } = outcomeToCome();
    let closed = 0;
    const sink: Sink = {
      deliver: () => Promise.resolve({ outcome }),
      close: () => {
        closed++;
        return Promise.resolve();
      },
    };
    const lines: string[] = [];
    const freed: string[] = [];
    const targets = [target('alive')];
    const job = createJob(
      config(targets),
      (line) => lines.push(line),
      connections(sink, () => Promise.resolve(reading())),
    );
    let ended = false;
    const run = job.run(targets, ({ instance }) => freed.push(instance)).finally(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(freed, ['alive']);
    assert.equal(closed, 1, 'a one-shot run closes its sink once every reading is handed over');
    assert.equal(lines.length, 0, 'no line before the outcome');
    assert.equal(ended, false);
    tell(new SinkFailure('VictoriaMetrics http://vm.test/ is still busy with the delivery before; 3 samples kept'));
    assert.equal(await run, 'undelivered');
    assert.match(lines[0]!, /^stick alive \(alive\.test\): read 1 samples in 10 ms; not pushed$/);
    assert.deepEqual(lines.slice(1), [
      'VictoriaMetrics http://vm.test/ is still busy with the delivery before; 3 samples kept',
    ]);
  });
});

describe('a loss no outcome told', () => {
  test('news of an earlier loss on a delivered reading is said once after the lines, even by a quiet loop', async () => {
    const news = new SinkFailure(
      'VictoriaMetrics http://vm.test/ refused 1 of 2 import requests; 5 samples not delivered',
    );
    const sink: Sink = { deliver: () => Promise.resolve({ outcome: Promise.resolve(news) }) };
    const lines: string[] = [];
    const targets = [target('a'), target('b')];
    const job = createJob({ ...config(targets), schedule: { pattern: '* * * * * *' } }, (line) => lines.push(line), {
      ...connections(sink, () => Promise.resolve(reading())),
      oneShot: false,
    });
    assert.equal(await job.run(targets), 'ok');
    assert.deepEqual(
      lines.filter((line) => !line.startsWith('stick ')),
      [news.message],
    );
  });
});

describe("a loop's memory of its sticks", () => {
  const at = (site: string): Target => ({ ...target('roof'), labels: [['site', site]] });

  test('a stick replaced by another with the same instance and other labels does not inherit its last success', async () => {
    const sink = fakeSink({});
    const job = createJob(
      config([at('berlin')]),
      () => {},
      connections(sink, (stick) =>
        Promise.resolve(reading(stick.labels[0]?.[1] === 'hamburg' ? 'refused the connection' : undefined)),
      ),
    );
    assert.equal(await job.run([at('berlin')]), 'ok');
    assert.equal(await job.run([at('hamburg')]), 'dark');
    const hamburg = sink.delivered.at(-1);
    assert.deepEqual(hamburg?.target.labels, [['site', 'hamburg']]);
    assert.equal(valueOf(hamburg, jobFamilies.up.name), 0);
    assert.equal(valueOf(hamburg, jobFamilies.lastSuccess.name), undefined, "berlin's last success");
    assert.deepEqual(sink.asked, [['roof']], 'the sink was not asked for the new stick');
  });

  test('a recalled last success that is no plausible Unix time in seconds is not delivered', async () => {
    const now = Date.now() / 1000;
    const held = { zero: 0, huge: 1e300, millis: now * 1000, ahead: now + 86_400, fine: 1_600_000_000 };
    const targets = Object.keys(held).map(target);
    const sink = fakeSink(held);
    const job = darkJob(sink, targets);
    assert.equal(await job.run(targets), 'dark');
    const recalled = Object.fromEntries(
      sink.delivered.map((delivery) => [delivery.target.instance, valueOf(delivery, jobFamilies.lastSuccess.name)]),
    );
    assert.deepEqual(recalled, {
      zero: undefined,
      huge: undefined,
      millis: undefined,
      ahead: undefined,
      fine: 1_600_000_000,
    });
  });
});

describe('a stick dropped from a loop', () => {
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  test('dropped while read: not delivered, removed after that read; added again, delivered after the removal', async () => {
    const events: string[] = [];
    let endRead!: () => void;
    let endRemoval!: () => void;
    const sink: AnySink = {
      deliver: ({ target: { instance } }) => {
        events.push(`deliver ${instance}`);
        return Promise.resolve(taken);
      },
      remove: async ({ instance }) => {
        events.push(`remove ${instance}`);
        await new Promise<void>((resolve) => (endRemoval = resolve));
        events.push(`removed ${instance}`);
      },
    };
    const targets = [target('gone')];
    const lines: string[] = [];
    let reads = 0;
    const loop = { ...config(targets), deleteOnExit: true, schedule: { pattern: '* * * * * *' } };
    const job = createJob(loop, (line) => lines.push(line), {
      ...connections(sink, async () => {
        if (reads++ === 0) await new Promise<void>((resolve) => (endRead = resolve));
        return reading();
      }),
      oneShot: false,
    });
    const first = job.run(targets);
    await turn();
    job.drop(targets);
    await turn();
    assert.deepEqual(events, [], 'no removal while its read is in flight');
    endRead();
    assert.equal(await first, 'ok');
    await turn();
    assert.deepEqual(events, ['remove gone']);
    assert.match(lines.join('\n'), /^stick gone \(gone\.test\): .*; not pushed: removed from the targets file$/m);
    const second = job.run(targets);
    await turn();
    assert.deepEqual(events, ['remove gone'], 'its delivery waits for the removal');
    endRemoval();
    assert.equal(await second, 'ok');
    assert.deepEqual(events, ['remove gone', 'removed gone', 'deliver gone']);
    assert.equal(await job.finish(), true);
  });
});
