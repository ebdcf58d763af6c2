/** --textfile: the exposition for node_exporter's textfile collector, written atomically. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { runCli, startCli } from './helpers/cli.js';
import { freePort } from './helpers/process.js';

let dir: string;
let stick: Simulator;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'textfile-'));
  stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
});
after(async () => {
  await stick.close();
  await rm(dir, { recursive: true, force: true });
});

const valueOf = (text: string, series: string) => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('all sticks in one file, told apart by a stick label, read by a real node_exporter', async () => {
  const file = join(dir, 'trucki.prom');
  const result = await runCli(['-t', `a=${stick.url},b=${stick.url}`, '--textfile', file]);
  assert.equal(result.code, 0, result.stderr);
  const text = await readFile(file, 'utf8');
  assert.equal(valueOf(text, 'trucki_up{stick="a"}'), 1);
  assert.equal(valueOf(text, 'trucki_ac_power_watts{stick="b",inverter="sun1"}'), 880.1);
  assert.deepEqual(
    (await readdir(dir)).filter((name) => name !== 'trucki.prom'),
    [],
    'a temp file was left behind',
  );

  const port = await freePort();
  const exporter = spawn(
    'prometheus-node-exporter',
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${dir}`,
    ],
    { stdio: 'ignore' },
  );
  try {
    let scraped = '';
    for (let attempt = 0; attempt < 100 && !scraped; attempt++) {
      scraped = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (!scraped) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(valueOf(scraped, 'node_textfile_scrape_error'), 0, 'node_exporter could not read the file');
    assert.equal(valueOf(scraped, 'trucki_ac_power_watts{inverter="sun1",stick="a"}'), 880.1);
    assert.equal(valueOf(scraped, 'trucki_up{stick="b"}'), 1);
  } finally {
    exporter.kill();
  }
});

test('a stick that went away: up 0, no readings, the last success carried over from the file', async () => {
  const file = join(dir, 'carry.prom');
  assert.equal((await runCli(['-t', `a=${stick.url}`, '--textfile', file])).code, 0);
  const before = valueOf(await readFile(file, 'utf8'), 'trucki_last_success_timestamp_seconds{stick="a"}');
  assert.ok(before !== undefined);
  const down = await runCli(['-t', `a=127.0.0.1:${await freePort()}`, '--textfile', file, '--retries', '0']);
  assert.equal(down.code, 1);
  const text = await readFile(file, 'utf8');
  assert.equal(valueOf(text, 'trucki_up{stick="a"}'), 0);
  assert.equal(valueOf(text, 'trucki_last_success_timestamp_seconds{stick="a"}'), before);
  assert.doesNotMatch(text, /trucki_grid_voltage_volts/);
});

test('a reader never sees half a file while a loop rewrites it', async () => {
  const file = join(dir, 'busy.prom');
  const loop = await startCli(['-t', `a=${stick.url}`, '--textfile', file, '-s', '* * * * * *'], {
    env: { TRUCKI_TEST_TICK_MS: '2' },
  });
  try {
    await loop.waitFor(/read \d+ samples[^]*read \d+ samples/);
    const runs = () => (loop.stderr().match(/read \d+ samples/g) ?? []).length;
    const target = runs() + 30;
    // Read as fast as possible while the loop rewrites the file at least 30 more times.
    for (let reads = 0; runs() < target; reads++) {
      assert.ok(reads < 100_000, `only ${runs()} runs`);
      const text = await readFile(file, 'utf8');
      assert.match(text, /^trucki_up\{stick="a"\} 1$/m, `read ${reads} saw a partial file`);
      assert.match(
        text,
        /^trucki_config_mqtt_read_only_enabled\{stick="a"\} 1\n$/m,
        `read ${reads} saw a partial file`,
      );
    }
  } finally {
    assert.deepEqual(await loop.stop(), { code: 0, signal: null });
  }
});

test('a file that cannot be written: exit 1 with a message naming it', async () => {
  const file = join(dir, 'missing-dir', 'trucki.prom');
  const result = await runCli(['-t', stick.url, '--textfile', file]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`textfile ${file.replace(/[/.]/g, '\\$&')} could not be written \\(ENOENT\\)`),
  );
});

test('--textfile and a Pushgateway exclude each other', async () => {
  const result = await runCli(['-t', stick.url, '--textfile', join(dir, 'x.prom'), '-g', 'http://127.0.0.1:9']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--textfile and --pushgateway exclude each other/);
});
