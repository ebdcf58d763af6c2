/**
 * The VictoriaMetrics outbox in-process, against a scripted store on loopback: its one sender, one
 * import at a time; what each run's log says of readings kept for later and then lost; what `check`
 * says of a store that fails.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { liveCatalogue } from '../../src/catalogue.js';
import type { Config, Target, VictoriaMetrics } from '../../src/config/types.js';
import { SinkFailure } from '../../src/errors.js';
import { createAgents, createHttp, destroyAgents, type Agents, type Http } from '../../src/http.js';
import { createJob } from '../../src/run.js';
import { sinkWords } from '../../src/log-line.js';
import { victoriaMetricsSink } from '../../src/sinks/victoriametrics.js';
import type { StickReading } from '../../src/stick.js';
import { connect } from '../../src/wiring.js';
import { startScripted } from '../helpers/hostile.js';
import { startTestStore, type TestStore } from '../helpers/import-store.js';
import { until } from '../helpers/until.js';

let agents: Agents;
before(async () => {
  agents = await createAgents(false);
});
after(() => {
  destroyAgents(agents);
});

const http = (): Http => createHttp({ timeoutMs: 5000, retries: 0 }, agents);
const target = (instance: string): Target => ({ url: new URL(`http://${instance}.test/`), instance, labels: [] });
const reading = (readAt: number): StickReading => ({
  live: { samples: [{ family: liveCatalogue[0]!.family, labels: {}, value: 234.5 }], problems: [] },
  once: { samples: [], problems: [] },
  seconds: 0.01,
  readAt,
});
const bodyOf = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      resolve(body);
    });
  });

function store(url: string): VictoriaMetrics {
  const base = new URL(`${url}/`);
  return {
    url: base,
    job: 'trucki',
    grouping: [],
    query: { url: base },
    backlog: { maxBytes: 1 << 20, maxAgeMs: 600_000 },
  };
}

function loopConfig(targets: Target[], vm: VictoriaMetrics): Config {
  return {
    targets,
    timeoutMs: 1000,
    retries: 0,
    maxBodyBytes: 1024,
    concurrency: 4,
    deleteOnExit: false,
    verbose: true,
    victoriametrics: vm,
    schedule: { pattern: '* * * * * *' },
  };
}

describe('readings kept for later', () => {
  test('a kept reading the store later refuses is said lost in the run that sent it', async () => {
    const firstReadAt = Date.now() - 1000;
    let down = true;
    const vm = await startScripted((request, response) => {
      void bodyOf(request).then((body) => {
        if (down) response.writeHead(503).end('down for the test');
        else if (body.includes(` ${firstReadAt}\n`)) response.writeHead(400).end('refused for the test');
        else response.writeHead(204).end();
      });
    });
    try {
      const sink = victoriaMetricsSink(store(vm.url), http(), http(), true);
      const lines: string[] = [];
      const targets = [target('a')];
      let reads = 0;
      const job = createJob(loopConfig(targets, store(vm.url)), (line) => lines.push(line), {
        readStick: () => Promise.resolve(reading(reads++ === 0 ? firstReadAt : Date.now())),
        sink,
        words: sinkWords('VictoriaMetrics', loopConfig(targets, store(vm.url))),
        close: () => {},
        oneShot: false,
      });
      assert.equal(await job.run(targets), 'undelivered');
      assert.match(lines.join('\n'), /samples kept for the next runs/);
      down = false;
      lines.length = 0;
      await job.run(targets);
      assert.equal(vm.requests.length, 3, "the kept batch, then the run's own");
      assert.match(
        lines.join('\n'),
        /refused 1 of 2 import requests with HTTP 400: refused for the test; \d+ samples not delivered/,
      );
    } finally {
      await vm.close();
    }
  });
});

describe("check's delivery", () => {
  test("with a loop's schedule, an import that failed is said not delivered: check keeps nothing for later", async () => {
    const vm = await startScripted((request, response) => {
      void bodyOf(request).then(() => response.writeHead(503).end('down for the test'));
    });
    const targets = [target('a')];
    const connections = await connect(loopConfig(targets, store(vm.url)), () => Promise.resolve(), undefined, true);
    try {
      const handed = await connections.sink.deliver({
        target: targets[0]!,
        samples: reading(Date.now()).live.samples,
        readAt: Date.now(),
      });
      // check runs once: its sink tells what it could not deliver as it closes.
      await connections.sink.close?.().catch(() => {});
      const failure = await handed.outcome.then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(failure instanceof Error);
      assert.match(failure.message, /answered HTTP 503.*; 1 samples not delivered$/);
      assert.doesNotMatch(failure.message, /kept/);
    } finally {
      connections.close();
      await vm.close();
    }
  });
});

describe('each reading its own outcome', () => {
  test('a reading is told it was delivered once its request is answered, while a later request still hangs', async () => {
    const held: { release?: () => void } = {};
    const vm = await startScripted((request, response, index) => {
      void bodyOf(request).then(() => {
        if (index === 0) response.writeHead(204).end();
        else held.release = () => response.writeHead(204).end();
      });
    });
    try {
      const sink = victoriaMetricsSink(store(vm.url), http(), http(), true);
      // Each reading over half a request: the first is sent as the second is handed over.
      const samples = Array.from({ length: 9000 }, (_, index) => ({
        family: liveCatalogue[0]!.family,
        labels: { n: String(index) },
        value: index,
      }));
      const first = await sink.deliver({ target: target('a'), samples, readAt: Date.now() });
      const second = await sink.deliver({ target: target('b'), samples, readAt: Date.now() });
      let firstTold = false;
      void first.outcome.then(() => (firstTold = true));
      const release = await until(() => held.release, { timeoutMs: 5000, what: 'the second request' });
      await until(() => firstTold, { timeoutMs: 2000, what: "the first reading's outcome" });
      release();
      await second.outcome;
    } finally {
      await vm.close();
    }
  });
});

describe('a quiet loop through an outage', () => {
  test("the samples dropped over the backlog's bounds during an outage are counted once the store takes imports again", async () => {
    let down = true;
    const vm = await startScripted((request, response) => {
      void bodyOf(request).then(() => {
        if (down) response.writeHead(503).end('down for the test');
        else response.writeHead(204).end();
      });
    });
    try {
      const tiny = { ...store(vm.url), backlog: { maxBytes: 0, maxAgeMs: 600_000 } };
      const sink = victoriaMetricsSink(tiny, http(), http(), true);
      const lines: string[] = [];
      const targets = [target('a')];
      const job = createJob({ ...loopConfig(targets, tiny), verbose: false }, (line) => lines.push(line), {
        readStick: () => Promise.resolve(reading(Date.now())),
        sink,
        words: sinkWords('VictoriaMetrics', loopConfig(targets, store(vm.url))),
        close: () => {},
        oneShot: false,
      });
      for (let run = 0; run < 3; run++) assert.equal(await job.run(targets), 'undelivered');
      const perRun = Number(/, (\d+) dropped so far/.exec(lines.join('\n'))?.[1]);
      assert.ok(perRun > 0, lines.join('\n'));
      down = false;
      await job.run(targets);
      assert.match(lines.join('\n'), new RegExp(`; ${String(3 * perRun)} samples were dropped meanwhile`));
    } finally {
      await vm.close();
    }
  });
});

/**
 * A loop's (`keep`) or a one-shot run's VictoriaMetrics sink in this process, sending to `store`, and
 * the delivery of a stick with a long label on each of its 20 lines: 400 kB a stick, two of them a request.
 */
function loopSink(
  store: TestStore,
  agents: Awaited<ReturnType<typeof createAgents>>,
  backlogBytes: number,
  keep = true,
  maxAgeMs = 3_600_000,
) {
  const url = new URL(`${store.url}/`);
  const backlog = { maxBytes: backlogBytes, maxAgeMs };
  const vm: VictoriaMetrics = { url, job: 'trucki', grouping: [], query: { url }, backlog };
  const http = createHttp({ timeoutMs: 60_000, retries: 0 }, agents);
  const sink = victoriaMetricsSink(vm, http, http, keep);
  const samples = liveCatalogue.slice(0, 20).map(({ family }) => ({ family, labels: {}, value: 1 }));
  const labels: Target['labels'] = [['note', 'x'.repeat(20_000)]];
  const target = (instance: string): Target => ({ url: new URL('http://127.0.0.1:9/'), instance, labels });
  return {
    sink,
    deliver: (instance: string, readAt = Date.now()) => sink.deliver({ target: target(instance), samples, readAt }),
  };
}

/** What a reading's outcome told: 'delivered', or the SinkFailure's words. */
const told = (outcome: Promise<unknown>) =>
  outcome.then(
    () => 'delivered',
    (error: unknown) => (error instanceof SinkFailure ? error.message : String(error)),
  );

describe('one sender, one import at a time', () => {
  test('readings handed over together share requests, one import at a time, each told of its own request', async () => {
    const store = await startTestStore((_index, body) =>
      body.includes('instance="b3"') ? { status: 400, body: 'refused for the test\n' } : { status: 204 },
    );
    const agents = await createAgents(false);
    const { deliver } = loopSink(store, agents, 1 << 26);
    try {
      // Handed over in one turn: the sender takes them all, two to a request. Each reading is told of
      // its own request.
      const handed = [];
      for (const instance of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']) handed.push(await deliver(instance));
      const said = await Promise.all(handed.map(({ outcome }) => told(outcome)));
      assert.deepEqual(said.slice(0, 4), Array<string>(4).fill('delivered'));
      for (const each of said.slice(4)) {
        assert.doesNotMatch(each, /still busy/);
        assert.match(
          each,
          /refused 1 of 3 import requests with HTTP 400: refused for the test; \d+ samples not delivered(, \d+ dropped so far)?$/,
        );
      }
      const instances = (body: string) => [
        ...new Set(Array.from(body.matchAll(/instance="(\w+)"/g), ([, name]) => name)),
      ];
      assert.deepEqual(store.bodies.map(instances), [
        ['a1', 'a2'],
        ['a3', 'b1'],
        ['b2', 'b3'],
      ]);
      assert.equal(store.maxOpen(), 1);
    } finally {
      destroyAgents(agents);
      await store.close();
    }
  });

  test('readings that come while an import is held wait for it and go after it, full requests too: none is called busy', async () => {
    const store = await startTestStore((index) => (index === 0 ? 'hold' : { status: 204 }));
    const agents = await createAgents(false);
    const { deliver } = loopSink(store, agents, 1 << 26);
    try {
      const fast = await deliver('fast');
      await until(() => store.bodies.length === 1, { what: "the fast stick's import, held by the store" });
      // Six sticks of 400 kB: three full requests while the first is out, and a small one.
      const later = [];
      for (let index = 0; index < 6; index++) later.push(await deliver(`s${String(index)}`));
      later.push(await deliver('slow'));
      store.release();
      const said = await Promise.all([fast, ...later].map(({ outcome }) => told(outcome)));
      assert.deepEqual(said, Array(8).fill('delivered'));
      assert.equal(store.maxOpen(), 1, 'one import open at a time');
    } finally {
      destroyAgents(agents);
      await store.close();
    }
  });

  test('full requests handed over while the store holds an import wait in the bounded backlog: those over its bounds are told lost at once, the rest go once it answers', async () => {
    const store = await startTestStore(() => 'hold');
    const agents = await createAgents(false);
    // Room for one request of two sticks: what does not fit is dropped, oldest first.
    const { deliver } = loopSink(store, agents, 900_000);
    try {
      const first = await deliver('first');
      await until(() => store.bodies.length === 1, { what: 'the first import, held by the store' });
      // Ten sticks of 400 kB: four full requests while the first is unanswered, and one filling.
      const later = [];
      for (let index = 0; index < 10; index++) later.push(await deliver(`s${String(index)}`));
      const dropped = await Promise.all(later.slice(0, 6).map(({ outcome }) => told(outcome)));
      for (const said of dropped)
        assert.match(
          said,
          /is still busy with the delivery before; \d+ samples not delivered \(over the backlog's bounds\)$/,
        );
      assert.equal(store.bodies.length, 1, 'one import open at a time');
      store.release();
      const sent = await Promise.all([first, ...later.slice(6)].map(({ outcome }) => told(outcome)));
      assert.deepEqual(sent, Array(5).fill('delivered'));
      assert.equal(store.maxOpen(), 1, 'one import open at a time');
    } finally {
      destroyAgents(agents);
      await store.close();
    }
  });
});

describe('a store that answers', () => {
  test("a one-shot run's readings handed over in turns apart share requests: only full ones go before close", async () => {
    const store = await startTestStore(() => ({ status: 204 }));
    const agents = await createAgents(false);
    const { sink, deliver } = loopSink(store, agents, 1 << 26, false);
    try {
      // 400 kB a stick, two to a request: three sticks handed over in turns apart are two requests.
      const handed = [];
      for (const instance of ['a', 'b', 'c']) {
        handed.push(await deliver(instance));
        for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      }
      await sink.close();
      assert.deepEqual(await Promise.all(handed.map(({ outcome }) => told(outcome))), Array(3).fill('delivered'));
      const instances = (body: string) => [
        ...new Set(Array.from(body.matchAll(/instance="(\w+)"/g), ([, name]) => name)),
      ];
      assert.deepEqual(store.bodies.map(instances), [['a', 'b'], ['c']], 'as few requests as the size cap allows');
    } finally {
      destroyAgents(agents);
      await store.close();
    }
  });
});

describe('Retry-After', () => {
  test('a store that asks to wait 0 s is not sent to again on its own: only by the next reading or the stop', async (t) => {
    // The sender's own timers only: no time passes but what is ticked here.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const store = await startTestStore(() => ({ status: 429, headers: { 'retry-after': '0' }, body: 'slow down' }));
    const agents = await createAgents(false);
    try {
      const { sink, deliver } = loopSink(store, agents, 1 << 26);
      const first = await deliver('first');
      assert.match(await told(first.outcome), /429.*samples kept for the next runs/);
      t.mock.timers.tick(60_000);
      await sink.close().catch(() => {});
      assert.equal(store.bodies.length, 2, "the reading's import, then the stop's last try");
    } finally {
      destroyAgents(agents);
      await store.close();
    }
  });
});

describe('readings that come while an import is out', () => {
  test('full requests handed over while an import is out that then fails are told kept with it', async () => {
    const store = await startTestStore(() => 'hold');
    const agents = await createAgents(false);
    const { deliver } = loopSink(store, agents, 1 << 26);
    try {
      const first = await deliver('first');
      await until(() => store.bodies.length === 1, { what: 'the first import, held by the store' });
      const later = [];
      for (let index = 0; index < 4; index++) later.push(await deliver(`s${String(index)}`));
      await store.close();
      for (const said of await Promise.all([first, ...later].map(({ outcome }) => told(outcome))))
        assert.match(said, /closed the connection unexpectedly; \d+ samples kept for the next runs$/);
    } finally {
      destroyAgents(agents);
    }
  });
});

test('readings held while an import is out that grow older than the backlog keeps are told lost once it is answered', async () => {
  const store = await startTestStore((index) => (index === 0 ? 'hold' : { status: 204 }));
  const agents = await createAgents(false);
  const { deliver } = loopSink(store, agents, 1 << 26, true, 60_000);
  try {
    const first = await deliver('first');
    await until(() => store.bodies.length === 1, { what: 'the first import, held by the store' });
    // Read 59.9 s ago: within the backlog's age while held, too old once the import is answered.
    const readAt = Date.now() - 59_900;
    const later = [];
    for (let index = 0; index < 4; index++) later.push(await deliver(`s${String(index)}`, readAt));
    await until(() => Date.now() > readAt + 60_000, { what: 'the held readings to grow too old' });
    store.release();
    let said: string[] | undefined;
    void Promise.all([first, ...later].map(({ outcome }) => told(outcome))).then((all) => (said = all));
    await until(() => said, { timeoutMs: 5000, what: 'every reading told' });
    // s0 and s1 filled a request, held in the backlog; s2 and s3 were still filling the next.
    const [firstSaid, s0, s1, ...filling] = said!;
    assert.deepEqual([firstSaid, ...filling], ['delivered', 'delivered', 'delivered']);
    for (const each of [s0, s1]) assert.match(each!, /samples not delivered \(over the backlog's bounds\)$/);
  } finally {
    destroyAgents(agents);
    await store.close();
  }
});
