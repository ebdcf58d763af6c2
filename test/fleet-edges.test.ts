/**
 * Fleet edge cases a hostile probe found in the VictoriaMetrics sink and the targets file: a
 * stick of the same name elsewhere lending its last success, labels set twice, an emptied file
 * emptying a loop, samples kept for later lost without a word on stop, the textfile dropping a
 * stick's labels, YAML's `~`, and a flag losing to the env file in choosing the sink.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { readCommand } from '../src/config/load.js';
import { startSimulator } from '../src/simulator/server.js';
import { emptyDir, runCli, startCli } from './helpers/cli.js';
import { freePort } from './helpers/process.js';
import { startVictoriaMetrics } from './helpers/victoriametrics.js';

describe('fleet edges', { concurrency: true }, () => {
  test('recall takes the last success of the stick with exactly these labels, not a namesake elsewhere', async () => {
    const vm = await startVictoriaMetrics();
    const dir = await emptyDir();
    try {
      // A stick called roof in Hamburg, read a minute ago; ours is roof with no site, never read.
      const seed = `trucki_last_success_timestamp_seconds{job="trucki",instance="roof",site="hamburg"} 1700000000 ${String(Date.now() - 60_000)}\n`;
      assert.equal((await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: seed })).status, 204);
      await vm.waitFor('trucki_last_success_timestamp_seconds');
      const dead = await freePort();
      await writeFile(
        join(dir, 'sticks.json'),
        JSON.stringify([{ targets: [`127.0.0.1:${String(dead)}`], labels: { instance: 'roof' } }]),
      );
      const result = await runCli(['--targets-file', 'sticks.json', '--victoriametrics', vm.url, '--retries', '0'], {
        cwd: dir,
      });
      assert.equal(result.code, 1, result.stderr);
      const ours = await vm.exportSeries('trucki_up{instance="roof",site=""}');
      assert.equal(ours.length, 1);
      const lent = await vm.query('trucki_last_success_timestamp_seconds{instance="roof",site=""}');
      assert.deepEqual(lent, [], "the Hamburg stick's last success was given to ours");
    } finally {
      await vm.stop();
    }
  });

  test('a label set by --grouping and by the targets file is exit 2, naming both', async () => {
    const dir = await emptyDir();
    await writeFile(join(dir, 'sticks.yml'), "- targets: ['127.0.0.1:1']\n  labels: {instance: g1, site: berlin}\n");
    await assert.rejects(
      readCommand(['--targets-file', 'sticks.yml', '--grouping', 'site=hamburg', '--stdout'], {}, dir),
      /entry 1: label "site" is also set by --grouping/,
    );
  });

  test('YAML ~ and null are empty, so no label, as Prometheus reads them', async () => {
    const dir = await emptyDir();
    await writeFile(
      join(dir, 'sticks.yml'),
      "\uFEFF- targets: ['127.0.0.1:1']\n  labels: {instance: g1, site: ~, floor: null}\n",
    );
    const command = await readCommand(['--targets-file', 'sticks.yml', '--stdout'], {}, dir);
    assert.ok(command.kind === 'run');
    assert.deepEqual(command.config.targets[0]?.labels, []);
  });

  test('a flag chooses the sink and the sticks over the env file, as for any setting', async () => {
    const dir = await emptyDir();
    await writeFile(join(dir, 'sticks.json'), JSON.stringify([{ targets: ['127.0.0.1:1'] }]));
    await writeFile(join(dir, 'site.env'), 'TRUCKI_TARGETS_FILE=sticks.json\nVICTORIAMETRICS_URL=http://127.0.0.1:2\n');
    const command = await readCommand(
      ['--env-file', 'site.env', '-t', '127.0.0.1:3', '-g', 'http://127.0.0.1:4'],
      {},
      dir,
    );
    assert.ok(command.kind === 'run');
    assert.deepEqual(
      command.config.targets.map(({ instance }) => instance),
      ['127.0.0.1:3'],
    );
    assert.equal(command.config.pushgateway?.url.port, '4');
    assert.equal(command.config.victoriametrics, undefined);
    await assert.rejects(
      readCommand(
        [
          '--env-file',
          'site.env',
          '-t',
          '127.0.0.1:3',
          '-g',
          'http://127.0.0.1:4',
          '--victoriametrics',
          'http://127.0.0.1:5',
        ],
        {},
        dir,
      ),
      /exclude each other/,
    );
  });

  test('a targets file that is not a regular file (a FIFO) is exit 2, not a hang', async () => {
    const dir = await emptyDir();
    await promisify(execFile)('mkfifo', [join(dir, 'sticks.json')]);
    const result = await runCli(['--targets-file', 'sticks.json', '--stdout'], { cwd: dir, timeoutMs: 10_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /sticks\.json is not a regular file/);
  });

  test("an emptied targets file keeps a loop's sticks instead of removing them all", async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    const dir = await emptyDir();
    await writeFile(join(dir, 'sticks.yml'), `- targets: ['${stick.url}']\n  labels: {instance: w1}\n`);
    const loop = await startCli(['--targets-file', 'sticks.yml', '--stdout', '-s', '* * * * * *'], { cwd: dir });
    try {
      await loop.waitFor(/stick w1 .*read \d+ samples/);
      await writeFile(join(dir, 'sticks.yml'), '');
      await loop.waitFor(/sticks\.yml: names no stick; keeping the 1 sticks read before/, 10_000);
      const reads = stick.requests.length;
      await sleep(2500);
      assert.ok(stick.requests.length > reads, 'the loop stopped reading the stick');
      assert.doesNotMatch(loop.stderr(), /removed w1/);
    } finally {
      await loop.stop();
      await stick.close();
    }
  });

  test('a loop stopped with samples kept for later tries once more, and says what it could not deliver', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    const nowhere = await freePort();
    const loop = await startCli([
      '-t',
      `a=${stick.url}`,
      '--victoriametrics',
      `http://127.0.0.1:${String(nowhere)}`,
      '-s',
      '* * * * * *',
      '--retries',
      '0',
    ]);
    try {
      await loop.waitFor(/samples kept for the next runs/);
      const ended = await loop.stop();
      assert.equal(ended.code, 1, loop.stderr());
      assert.match(loop.stderr(), /samples not delivered \(stopping\)\n/);
    } finally {
      await stick.close();
    }
  });

  test('the textfile keeps the labels a targets file gives a stick', async () => {
    const stick = await startSimulator({ variant: 'T2SG' });
    const dir = await emptyDir();
    try {
      await writeFile(
        join(dir, 'sticks.yml'),
        `- targets: ['${stick.url}']\n  labels: {instance: roof, site: berlin}\n`,
      );
      const result = await runCli(['--targets-file', 'sticks.yml', '--textfile', 'trucki.prom'], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      const text = await readFile(join(dir, 'trucki.prom'), 'utf8');
      assert.match(text, /^trucki_up\{(?=[^}]*stick="roof")(?=[^}]*site="berlin")[^}]*\} 1$/m);
    } finally {
      await stick.close();
    }
  });
});
