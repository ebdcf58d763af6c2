/**
 * A new sink is its own module plus one registration (and its words beside the log line): this file
 * adds one, in-process, with a real configuration and a simulated stick, and the run delivers through
 * it and logs its words; neither the run nor the wiring had to learn its name.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCommand } from '../../src/config/load.js';
import type { Target } from '../../src/config/types.js';
import { sinkWords } from '../../src/log-line.js';
import { createJob } from '../../src/run.js';
import { sinkKinds } from '../../src/sinks/registry.js';
import { delivered as taken, type Delivery, type SinkKind } from '../../src/sinks/sink.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { connect } from '../../src/wiring.js';

// --- The sink: everything a new sink has to say about itself ------------------------------------
const delivered: Delivery[] = [];
const forgotten: Target[] = [];
const memory: SinkKind = {
  name: 'memory',
  choose: () => ({
    endpoints: [],
    create: () => ({
      deliver: (delivery) => {
        delivered.push(delivery);
        return Promise.resolve(taken);
      },
      remove: (target) => {
        forgotten.push(target);
        return Promise.resolve();
      },
    }),
  }),
};
// --- Its registration: in src/sinks/registry.ts this is one entry of sinkKinds -------------------
const registered = [memory, ...sinkKinds];
// --- Its words: in src/log-line.ts this is one entry of the words by kind -------------------------
const words = { delivered: 'kept in memory', removed: { done: 'forgot it', failed: 'could not forget it' } };

let stick: Simulator;
before(async () => {
  stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
});
after(async () => {
  await stick.close();
});

test('a sink added by its module and one registration: the run delivers through it and logs its words', async () => {
  const command = await readCommand(['--target', stick.url, '--instance', 'roof', '--stdout'], {});
  assert.equal(command.kind, 'run');
  const { config } = command;
  const lines: string[] = [];
  const printed: string[] = [];
  const connections = await connect(config, (text) => Promise.resolve(void printed.push(text)), registered);
  const job = createJob(config, (line) => lines.push(line), { ...connections, words });
  try {
    assert.equal(await job.run(config.targets), 'ok');
    assert.equal(await job.remove(config.targets), true);
  } finally {
    job.close();
  }
  assert.deepEqual(
    delivered.map(({ target }) => target.instance),
    ['roof'],
  );
  assert.ok(delivered[0]!.samples.some(({ family, value }) => family.name === 'trucki_up' && value === 1));
  assert.deepEqual(
    forgotten.map(({ instance }) => instance),
    ['roof'],
  );
  assert.match(lines[0]!, /^stick roof \(127\.0\.0\.1:\d+\): read \d+ samples in \d+ ms; kept in memory$/);
  assert.deepEqual(lines.slice(1), ['stick roof: forgot it']);
  // Chosen ahead of standard output, which the configuration would otherwise have used.
  assert.deepEqual(printed, []);
});

test('without the registration, the same configuration gets the registry’s own sink', async () => {
  const command = await readCommand(['--target', stick.url, '--stdout'], {});
  assert.equal(command.kind, 'run');
  const printed: string[] = [];
  const connections = await connect(command.config, (text) => Promise.resolve(void printed.push(text)));
  const job = createJob(command.config, () => {}, connections);
  try {
    assert.equal(await job.run(command.config.targets), 'ok');
  } finally {
    job.close();
  }
  assert.match(printed.join(''), /^# stick 127\.0\.0\.1:\d+\n/);
});

test('every sink of the registry says where the samples went, in each stick’s line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trucki-words-'));
  const file = join(dir, 'trucki.prom');
  const lineOf = async (args: string[]) => {
    const command = await readCommand(['--target', `roof=${stick.url}`, '--retries', '0', ...args], {});
    assert.equal(command.kind, 'run');
    const lines: string[] = [];
    const job = createJob(command.config, (line) => lines.push(line), await connect(command.config, async () => {}));
    try {
      await job.run(command.config.targets);
    } finally {
      job.close();
    }
    return lines;
  };
  try {
    const said = {
      stdout: await lineOf(['--stdout']),
      textfile: await lineOf(['--textfile', file]),
      unwritable: await lineOf(['--textfile', join(dir, 'no-such-dir', 'trucki.prom')]),
      victoriametrics: await lineOf(['--victoriametrics', 'http://127.0.0.1:9']),
      pushgateway: await lineOf(['--pushgateway', 'http://127.0.0.1:9', '--forget-after', 'off']),
    };
    const suffix = (lines: string[]) =>
      lines[0]!.replace(/^stick roof \(127\.0\.0\.1:\d+\): read \d+ samples in \d+ ms/, '');
    assert.equal(suffix(said.stdout), '; printed');
    assert.equal(suffix(said.textfile), `; written to ${file}`);
    assert.equal(suffix(said.unwritable), `; not written to ${join(dir, 'no-such-dir', 'trucki.prom')}`);
    assert.match(said.unwritable[1]!, /could not be written \(ENOENT\)$/);
    assert.equal(suffix(said.victoriametrics), '; not sent to VictoriaMetrics');
    assert.match(said.victoriametrics[1]!, /^VictoriaMetrics http:\/\/127\.0\.0\.1:9\/ refused the connection/);
    assert.match(
      suffix(said.pushgateway),
      /^; not pushed: Pushgateway http:\/\/127\.0\.0\.1:9\/ refused the connection/,
    );
    // Every sink has its word: none is left unsaid.
    const command = await readCommand(['--target', `roof=${stick.url}`, '--textfile', file], {});
    assert.equal(command.kind, 'run');
    for (const kind of sinkKinds)
      assert.ok(sinkWords(kind.name, command.config).delivered, `${kind.name} has no word for a delivery`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
