/**
 * The textfile sink in-process: its one writer, one write at a time, and when it writes: in a loop
 * as readings come, once at close in a one-shot run. Against node_exporter: test/e2e/textfile.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { liveCatalogue } from '../../src/catalogue.js';
import { textfileSink } from '../../src/sinks/textfile.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'textfile-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const delivery = (index: number) => ({
  target: { url: new URL('http://127.0.0.1:9/'), instance: `s${index}`, labels: [] },
  samples: liveCatalogue.slice(0, 20).map(({ family }) => ({ family, labels: {}, value: index })),
  readAt: 0,
});

describe('a loop and its textfile', () => {
  test('readings that come while the file is being written are written after it: each write whole, none refused', async () => {
    // In-process: when a loop's readings come is chance; here a write begins every 60 of them.
    const path = join(dir, 'together.prom');
    const sink = textfileSink(path, true);
    const outcomes = [];
    for (let index = 0; index < 300; index++) {
      const target = { url: new URL('http://127.0.0.1:9/'), instance: `s${index}`, labels: [] };
      const samples = liveCatalogue.slice(0, 20).map(({ family }) => ({ family, labels: {}, value: index }));
      outcomes.push((await sink.deliver({ target, samples, readAt: 0 })).outcome);
      if (index % 60 === 59) await new Promise((resolve) => setImmediate(resolve));
    }
    const told = await Promise.allSettled(outcomes);
    assert.deepEqual(
      told.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : [])),
      [],
    );
    const text = await readFile(path, 'utf8');
    const linesOf = (stick: string) => text.split('\n').filter((line) => line.includes(`stick="${stick}"`)).length;
    assert.ok(linesOf('s0') > 0);
    assert.equal(linesOf('s299'), linesOf('s0'), 'the last stick is not all there');
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('.together')),
      [],
      'a temp file was left behind',
    );
  });
});

describe('a one-shot run and its textfile', () => {
  test('written once, at close, with every stick; each reading told of that write', async () => {
    const path = join(dir, 'once.prom');
    const sink = textfileSink(path, false);
    const outcomes = [];
    for (let index = 0; index < 3; index++) outcomes.push((await sink.deliver(delivery(index))).outcome);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await readdir(dir).then((names) => names.filter((name) => name.startsWith('once'))), []);
    await sink.close!();
    assert.deepEqual(await Promise.all(outcomes), [undefined, undefined, undefined]);
    const text = await readFile(path, 'utf8');
    for (const stick of ['s0', 's1', 's2']) assert.match(text, new RegExp(`stick="${stick}"`));
  });

  test('a write that fails: close throws its failure, and each reading is told it', async () => {
    const path = join(dir, 'no-such-dir', 'once.prom');
    const sink = textfileSink(path, false);
    const { outcome } = await sink.deliver(delivery(0));
    await assert.rejects(sink.close!(), /textfile .*once\.prom could not be written \(ENOENT\)$/);
    await assert.rejects(outcome, /could not be written \(ENOENT\)$/);
  });
});
