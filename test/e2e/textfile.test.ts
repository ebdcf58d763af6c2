/**
 * --textfile: the exposition for node_exporter's textfile collector, written atomically, only
 * over a regular file, with the labels a targets file gives each stick.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { emptyDir, quickTicks, runCli, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/process.js';
import { until } from '../helpers/until.js';

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
    const scraped = await until(
      () =>
        fetch(`http://127.0.0.1:${port}/metrics`).then(
          async (r) => (await r.text()) || undefined,
          () => undefined,
        ),
      { timeoutMs: 10_000, what: 'node_exporter answering' },
    );
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
  const down = await runCli(['-t', 'a=127.0.0.1:9', '--textfile', file, '--retries', '0']);
  assert.equal(down.code, 69);
  const text = await readFile(file, 'utf8');
  assert.equal(valueOf(text, 'trucki_up{stick="a"}'), 0);
  assert.equal(valueOf(text, 'trucki_last_success_timestamp_seconds{stick="a"}'), before);
  assert.doesNotMatch(text, /trucki_grid_voltage_volts/);
});

test('a reader never sees half a file while a loop rewrites it', async () => {
  const file = join(dir, 'busy.prom');
  const loop = await startCli(['-t', `a=${stick.url}`, '--textfile', file, '-s', '* * * * * *', '--verbose'], {
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

test('the textfile keeps the labels a targets file gives a stick', async () => {
  const cwd = await emptyDir();
  try {
    await writeFile(join(cwd, 'sticks.yml'), `- targets: ['${stick.url}']\n  labels: {instance: roof, site: berlin}\n`);
    const result = await runCli(['--targets-file', 'sticks.yml', '--textfile', 'trucki.prom'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const text = await readFile(join(cwd, 'trucki.prom'), 'utf8');
    assert.match(text, /^trucki_up\{(?=[^}]*stick="roof")(?=[^}]*site="berlin")[^}]*\} 1$/m);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

describe('only a regular file is replaced', { concurrency: true }, () => {
  test('a symbolic link: exit 1 naming it, neither the link nor its target replaced', async () => {
    const target = join(dir, 'elsewhere.txt');
    const link = join(dir, 'link.prom');
    await writeFile(target, 'precious\n');
    await symlink(target, link);
    const result = await runCli(['-t', `link=${stick.url}`, '--textfile', link]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /symbolic link/);
    assert.ok((await lstat(link)).isSymbolicLink(), 'the link was replaced');
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
  });

  test('a named pipe: exit 1 naming it, the pipe left in place', async () => {
    const fifo = join(dir, 'fifo.prom');
    execFileSync('mkfifo', [fifo]);
    const result = await runCli(['-t', `fifo=${stick.url}`, '--textfile', fifo]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /named pipe/);
    assert.ok((await lstat(fifo)).isFIFO(), 'the pipe was replaced');
  });

  test('a device (a private copy of /dev/full, made with mknod): exit 1 naming it, the device left', async (t) => {
    const device = join(dir, 'full.prom');
    try {
      execFileSync('mknod', [device, 'c', '1', '7'], { stdio: 'ignore' });
    } catch {
      t.skip('mknod needs root');
      return;
    }
    const result = await runCli(['-t', `device=${stick.url}`, '--textfile', device]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /device/);
    assert.ok((await lstat(device)).isCharacterDevice(), 'the device node was replaced');
  });
});

describe('the last successes read back from the file', { concurrency: true }, () => {
  test('only a stick with the same labels carries one over: site=berlin to site=hamburg does not', async () => {
    const cwd = await emptyDir();
    try {
      const sticks = (address: string, site: string) =>
        writeFile(join(cwd, 'sticks.yml'), `- targets: ['${address}']\n  labels: {instance: roof, site: ${site}}\n`);
      await sticks(stick.url, 'berlin');
      const args = ['--targets-file', 'sticks.yml', '--textfile', 'trucki.prom', '--retries', '0'];
      assert.equal((await runCli(args, { cwd })).code, 0);
      assert.match(await readFile(join(cwd, 'trucki.prom'), 'utf8'), /^trucki_last_success_timestamp_seconds\{/m);
      await sticks('127.0.0.1:9', 'hamburg');
      assert.equal((await runCli(args, { cwd })).code, 69, 'a failed stick, delivered');
      const text = await readFile(join(cwd, 'trucki.prom'), 'utf8');
      assert.match(text, /^trucki_up\{(?=[^}]*site="hamburg")[^}]*\} 0$/m);
      assert.doesNotMatch(text, /^trucki_last_success_timestamp_seconds/m, "berlin's last success was carried over");
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('a value that is no plausible Unix time (1e300, 0, NaN) is not carried over', async () => {
    for (const value of ['1e300', '0', 'NaN', String(Date.now())]) {
      const file = join(dir, `implausible-${value}.prom`);
      await writeFile(file, `trucki_last_success_timestamp_seconds{stick="a"} ${value}\n`);
      const result = await runCli(['-t', 'a=127.0.0.1:9', '--textfile', file, '--retries', '0']);
      assert.equal(result.code, 69, result.stderr);
      const text = await readFile(file, 'utf8');
      assert.equal(valueOf(text, 'trucki_up{stick="a"}'), 0);
      assert.doesNotMatch(text, /^trucki_last_success_timestamp_seconds/m, `${value} was carried over`);
    }
  });

  test('a named pipe there and a stick that fails: exit 1 naming it, not a hang', async () => {
    const fifo = join(dir, 'recall-fifo.prom');
    execFileSync('mkfifo', [fifo]);
    const result = await runCli(['-t', 'a=127.0.0.1:9', '--textfile', fifo, '--retries', '0'], { timeoutMs: 15_000 });
    assert.equal(result.signal, null, 'the job hung on the pipe');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /last success lost: textfile .*recall-fifo\.prom is a named pipe, not a regular file/);
    assert.ok((await lstat(fifo)).isFIFO(), 'the pipe was replaced');
  });

  test('a symbolic link there and a stick that fails: its target is not read', async () => {
    const target = join(dir, 'recall-elsewhere.txt');
    const link = join(dir, 'recall-link.prom');
    await writeFile(target, `trucki_last_success_timestamp_seconds{stick="a"} 1600000000\n`);
    await symlink(target, link);
    const result = await runCli(['-t', 'a=127.0.0.1:9', '--textfile', link, '--retries', '0']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /last success lost: textfile .*recall-link\.prom is a symbolic link/);
  });
});

describe('a loop and its textfile', { concurrency: true }, () => {
  test('the path swapped for a named pipe between ticks: refused on each run, no hang, written again once it is gone', async () => {
    const cwd = await emptyDir();
    const path = join(cwd, 'trucki.prom');
    const sticksFile = (entries: string) => writeFile(join(cwd, 'sticks.yml'), entries);
    const healthy = `- targets: ['${stick.url}']\n  labels: {instance: healthy}\n`;
    await sticksFile(healthy);
    const loop = await startCli(
      ['--targets-file', 'sticks.yml', '--textfile', path, '-s', '* * * * * *', '--retries', '0', '--verbose'],
      { cwd, env: quickTicks },
    );
    try {
      await until(async () => /stick="healthy"/.test(await readFile(path, 'utf8').catch(() => '')), {
        what: 'the first write',
      });
      // Swapped in at once, as a rename does. A write whose check came just before the swap renames
      // its file over the pipe: swapped in again until the loop has seen and refused it.
      await until(
        async () => {
          if (!(await lstat(path)).isFIFO()) {
            execFileSync('mkfifo', [`${path}.fifo`]);
            await rename(`${path}.fifo`, path);
          }
          return /^textfile .* is a named pipe, not a regular file: not replaced$/m.test(loop.stderr());
        },
        { what: 'the loop refusing the named pipe' },
      );
      // A stick that fails from its first run: its last success is looked for in the file.
      await sticksFile(`${healthy}- targets: ['127.0.0.1:9']\n  labels: {instance: dead}\n`);
      await loop.waitFor(/^stick dead .*last success lost: textfile .* is a named pipe, not a regular file/m);
      await rm(path);
      await until(async () => /stick="dead"/.test(await readFile(path, 'utf8').catch(() => '')), {
        what: 'a write with both sticks once the pipe is gone',
      });
    } finally {
      // A run hung on the pipe would hold SIGTERM's stop for ever: killed then, and failed.
      const stopped = await Promise.race([loop.stop(), sleep(10_000)]);
      if (!stopped) await loop.stop('SIGKILL');
      assert.deepEqual(stopped, { code: 0, signal: null }, loop.stderr());
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

test('a named pipe at the name of the temp file does not hang the loop', async () => {
  const cwd = await emptyDir();
  const path = join(cwd, 'trucki.prom');
  const loop = await startCli(['-t', `a=${stick.url}`, '--textfile', path, '-s', '* * * * * *', '--verbose'], {
    cwd,
    env: quickTicks,
  });
  try {
    await until(async () => (await readFile(path, 'utf8').catch(() => '')).includes('stick="a"'), {
      what: 'the first write',
    });
    // Between two writes: while one is under way, its temp file holds the name.
    await until(
      () => {
        try {
          execFileSync('mkfifo', [join(cwd, `.trucki.prom.${loop.pid}.tmp`)], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      },
      { what: 'a named pipe made at the name of the temp file' },
    );
    const runs = () => (loop.stderr().match(/read \d+ samples/g) ?? []).length;
    const seen = runs();
    await until(() => runs() >= seen + 3, { what: 'three more runs', last: loop.stderr });
  } finally {
    const stopped = await Promise.race([loop.stop(), sleep(10_000)]);
    if (!stopped) await loop.stop('SIGKILL');
    assert.deepEqual(stopped, { code: 0, signal: null }, loop.stderr());
    await rm(cwd, { recursive: true, force: true });
  }
});
