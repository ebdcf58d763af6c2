/**
 * The bundled command, end to end: simulator sticks in, a real Pushgateway out; repeated flags,
 * exit statuses, standard streams that are closed or full, where a setting comes from.
 */
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { liveCatalogue, onceCatalogue } from '../../src/catalogue.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { emptyDir, runCli } from '../helpers/cli.js';
import { jobBundle } from '../helpers/paths.js';
import { familyNames, sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { freePort } from '../helpers/process.js';
import { expectedAtZero } from '../helpers/sticks.js';

/** How the log says a duration: ms under a second, else seconds (a loaded machine can take one). */
const took = String.raw`(?:\d+ ms|\d+\.\d s)`;
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

let pushgateway: RunningPushgateway;
const sticks: Partial<Record<'T2SG' | 'T2MG', Simulator>> = {};
before(async () => {
  pushgateway = await startPushgateway();
  sticks.T2SG = await startSimulator({ variant: 'T2SG', clock: () => 0 });
  sticks.T2MG = await startSimulator({ variant: 'T2MG', clock: () => 0 });
});
after(async () => {
  await Promise.all([pushgateway.stop(), sticks.T2SG?.close(), sticks.T2MG?.close()]);
});

describe('a run against each simulated variant', () => {
  for (const variant of ['T2SG', 'T2MG'] as const) {
    test(`${variant}: every reading lands with its value and labels, and nothing else`, async () => {
      const stick = sticks[variant]!;
      const result = await runCli([
        '--target',
        `${variant.toLowerCase()}=${stick.url}`,
        '--pushgateway',
        pushgateway.url,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const group = await pushgateway.group({ job: 'trucki', instance: variant.toLowerCase() });
      assert.ok(group, 'group not found on the Pushgateway');
      for (const { family, labels, value } of expectedAtZero[variant]) {
        const landed = sampleValue(group, family, labels);
        assert.ok(
          landed !== undefined && close(landed, value),
          `${family}${JSON.stringify(labels ?? {})}: expected ${value}, got ${landed}`,
        );
      }
      const expectedFamilies = new Set([
        ...expectedAtZero[variant].map((e) => e.family),
        'trucki_scrape_duration_seconds',
        'trucki_last_success_timestamp_seconds',
      ]);
      assert.deepEqual(familyNames(group), [...expectedFamilies].sort());
      const duration = sampleValue(group, 'trucki_scrape_duration_seconds')!;
      assert.ok(duration > 0 && duration < 5, `scrape duration ${duration}`);
      const lastSuccess = sampleValue(group, 'trucki_last_success_timestamp_seconds')!;
      assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 60, `last success ${lastSuccess}`);
      assert.deepEqual(new Set(stick.requests), new Set(['GET /jsonlive', 'GET /jsononce']));
      assert.match(
        result.stderr,
        new RegExp(
          `^stick ${variant.toLowerCase()} \\(127\\.0\\.0\\.1:\\d+\\): read \\d+ samples in ${took}; pushed\\n$`,
        ),
      );
    });
  }

  test('the two variants together cover every family of the catalogue', () => {
    const covered = new Set([...expectedAtZero.T2SG, ...expectedAtZero.T2MG].map((e) => e.family));
    const missing = [...new Set([...liveCatalogue, ...onceCatalogue].map((row) => row.family.name))].filter(
      (name) => !covered.has(name),
    );
    assert.deepEqual(missing, []);
  });
});

describe('several sticks in one run', () => {
  test('one stick down: the other is pushed in full, the down one gets up 0 and no readings, exit 69', async () => {
    const deadPort = await freePort();
    const result = await runCli([
      '-t',
      `good=${sticks.T2SG!.url},dead=127.0.0.1:${deadPort}`,
      '-g',
      pushgateway.url,
      '--job',
      'several',
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 69, result.stderr);
    const good = await pushgateway.group({ job: 'several', instance: 'good' });
    const dead = await pushgateway.group({ job: 'several', instance: 'dead' });
    assert.equal(sampleValue(good, 'trucki_up'), 1);
    assert.equal(sampleValue(good, 'trucki_ac_power_watts', { inverter: 'sun1' }), 880.1);
    assert.equal(sampleValue(dead, 'trucki_up'), 0);
    assert.deepEqual(familyNames(dead), ['trucki_scrape_duration_seconds', 'trucki_up']);
    assert.match(result.stderr, /stick good \(127\.0\.0\.1:\d+\): read \d+ samples/);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.ok(
      lines.some((line) => /^stick good .*pushed$/.test(line)),
      result.stderr,
    );
    assert.ok(
      lines.some((line) =>
        /^stick dead \(127\.0\.0\.1:\d+\): failed, refused the connection; took \d+ ms; pushed trucki_up 0$/.test(line),
      ),
      result.stderr,
    );
  });

  test('grouping labels with a slash and an empty value, from the command line', async () => {
    const result = await runCli([
      '-t',
      `roof/south=${sticks.T2SG!.url}`,
      '-g',
      pushgateway.url,
      '--job',
      'grouped',
      '--grouping',
      'site=,path=/var/x',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const group = await pushgateway.group({ job: 'grouped', instance: 'roof/south', site: '', path: '/var/x' });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
  });

  test('a Pushgateway behind a path prefix is addressed under that prefix', async () => {
    // The real Pushgateway serves under a prefix when started with --web.route-prefix.
    const prefixed = await startPushgateway(['--web.route-prefix=/pg']);
    try {
      const result = await runCli(['-t', sticks.T2SG!.url, '-g', `${prefixed.url}/pg/`]);
      assert.equal(result.code, 0, result.stderr);
      const response = await fetch(`${prefixed.url}/pg/api/v1/metrics`);
      const body = await response.text();
      assert.match(body, /"instance":"127\.0\.0\.1:\d+"/);
      assert.match(body, /trucki_grid_voltage_volts/);
    } finally {
      await prefixed.stop();
    }
  });
});

describe('repeated -t and --grouping accumulate', { concurrency: true }, () => {
  test('-t one=… -t two=… reads and pushes both', async () => {
    const stick = sticks.T2SG!;
    const result = await runCli(['-t', `rep-one=${stick.url}`, '-t', `rep-two=${stick.url}`, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'rep-one' }), 'trucki_up'), 1);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'rep-two' }), 'trucki_up'), 1);
  });

  test('--grouping a=1 --grouping b=2 gives both labels', async () => {
    const result = await runCli([
      '-t',
      `rep-grouping=${sticks.T2SG!.url}`,
      '-g',
      pushgateway.url,
      '--grouping',
      'site=home',
      '--grouping',
      'rack=r2',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const group = await pushgateway.group({ job: 'trucki', instance: 'rep-grouping', site: 'home', rack: 'r2' });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
  });

  test('the same instance in two -t flags is exit 2', async () => {
    const stick = sticks.T2SG!;
    const result = await runCli([
      '-t',
      `rep-twice=${stick.url}`,
      '-t',
      `rep-twice=${stick.url}`,
      '-g',
      pushgateway.url,
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /twice/);
    assert.equal(await pushgateway.group({ job: 'trucki', instance: 'rep-twice' }), undefined);
  });
});

describe('--stdout', () => {
  test('prints the exposition and pushes nothing', async () => {
    const before = (await pushgateway.groups()).length;
    const result = await runCli(['-t', `x=${sticks.T2MG!.url}`, '--stdout']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^# stick x\n/);
    assert.match(result.stdout, /^# TYPE trucki_energy_joules_total counter$/m);
    assert.match(result.stdout, /^trucki_battery_current_amperes 12\.47$/m);
    assert.match(result.stdout, /^trucki_up 1$/m);
    assert.doesNotMatch(result.stderr, /pushed/);
    assert.equal((await pushgateway.groups()).length, before);
  });
});

describe('exit status', () => {
  test('0 when all is well; --help and --version also 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--target <\[name=\]address,…>  \|  TRUCKI_TARGET/);
    const version = await runCli(['-V']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^trucki2pushgateway \d+\.\d+\.\d+\n$/);
  });

  test('69 when every push was made but a stick is dark: its trucki_up 0 pushed', async () => {
    const result = await runCli([
      '-t',
      `dark-healthy=${sticks.T2SG!.url},dark-dead=127.0.0.1:9`,
      '-g',
      pushgateway.url,
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 69, result.stderr);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'dark-dead' }), 'trucki_up'), 0);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'dark-healthy' }), 'trucki_up'), 1);
    assert.match(result.stderr, /^stick dark-dead \(127\.0\.0\.1:9\): failed, .*; pushed trucki_up 0$/m);
    // The same sticks, all well: 0.
    const well = await runCli(['-t', `dark-healthy=${sticks.T2SG!.url}`, '-g', pushgateway.url]);
    assert.equal(well.code, 0, well.stderr);
  });

  test('1, not 69, when a stick is dark and the Pushgateway is down: something was not delivered', async () => {
    const port = await freePort();
    const result = await runCli([
      '-t',
      `up=${sticks.T2SG!.url},down=127.0.0.1:9`,
      '-g',
      `http://127.0.0.1:${port}`,
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^stick down .*; not pushed: Pushgateway/m);
  });

  test('--help: the usage and -g name --victoriametrics as another way; --grouping says what --textfile does', async () => {
    const { stdout } = await runCli(['--help']);
    assert.match(stdout, /^Usage: .*\n {7}trucki2pushgateway .*--victoriametrics <url>/);
    const pushgateway = /-g, --pushgateway <url>.*\n((?: {8}.*\n)+)/.exec(stdout)?.[1]?.replace(/\s+/g, ' ');
    assert.match(pushgateway ?? '', /required unless --victoriametrics, --textfile or --stdout/, stdout);
    const grouping = /--grouping <k=v,…>.*\n((?: {8}.*\n)+)/.exec(stdout)?.[1]?.replace(/\s+/g, ' ');
    assert.match(grouping ?? '', /refused with --textfile/, stdout);
  });

  test('--help names every exit status the command can end with', async () => {
    const help = await runCli(['--help']);
    for (const status of [0, 1, 2, 69, 70]) assert.match(help.stdout, new RegExp(`\\b${status} [a-z]`), String(status));
  });

  test('1 when the Pushgateway cannot be reached, naming it', async () => {
    const port = await freePort();
    const result = await runCli(['-t', sticks.T2SG!.url, '-g', `http://127.0.0.1:${port}`, '--retries', '0']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`not pushed: Pushgateway http://127\\.0\\.0\\.1:${port}/ refused the connection`),
    );
  });

  test('2 for --timeout 3000000000, with the allowed range and no Node warning', async () => {
    const result = await runCli(['-t', sticks.T2SG!.url, '--stdout', '--timeout', '3000000000'], { timeoutMs: 20_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--timeout must be a whole number from 1 to \d+/);
    assert.doesNotMatch(result.stderr, /Warning|TimeoutOverflow/);
  });

  const usage: [string, string[], RegExp][] = [
    ['no target', ['-g', 'http://127.0.0.1:9'], /--target \/ TRUCKI_TARGET is required/],
    ['no Pushgateway', ['-t', '127.0.0.1:9'], /--pushgateway \/ PUSHGATEWAY_URL is required/],
    ['unknown flag', ['-t', '127.0.0.1:9', '--stdot'], /Unknown option '--stdot'/],
    ['bad timeout', ['-t', '127.0.0.1:9', '--stdout', '--timeout', 'soon'], /--timeout must be a whole number/],
    [
      'bad grouping',
      ['-t', '127.0.0.1:9', '-g', 'http://127.0.0.1:9', '--grouping', 'instance=x'],
      /--grouping: label "instance" is used by the job itself/,
    ],
    [
      'missing env file',
      ['-t', '127.0.0.1:9', '--stdout', '--env-file', 'nope.env'],
      /--env-file nope\.env cannot be read/,
    ],
  ];
  for (const [name, args, message] of usage) {
    test(`2 for a usage error: ${name}, in one line naming the option`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^trucki2pushgateway: [^\n]+\n$/);
      assert.match(result.stderr, message);
    });
  }
});

/** Runs the job with its own stdio, e.g. a closed pipe or a device, as a shell would hand it over. */
async function spawnJob(
  args: readonly string[],
  stdio: StdioOptions,
  prepare?: (child: ReturnType<typeof spawn>) => void,
) {
  const cwd = await emptyDir();
  try {
    const child = spawn(process.execPath, ['--', jobBundle, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio,
    });
    prepare?.(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (status) => {
        resolve(status);
      }),
    );
    clearTimeout(timer);
    return { code, stderr };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}
const noStack = (text: string) => {
  assert.doesNotMatch(text, /^\s+at /m, `a stack trace:\n${text}`);
};

describe('a closed or full stdout, a closed stderr', { concurrency: true }, () => {
  test('--stdout into a closed pipe (`| true`): one line, exit 1, no stack trace', async () => {
    const result = await spawnJob(['-t', `pipe=${sticks.T2SG!.url}`, '--stdout'], ['ignore', 'pipe', 'pipe'], (child) =>
      child.stdout!.destroy(),
    );
    assert.equal(result.code, 1, result.stderr);
    noStack(result.stderr);
    assert.match(result.stderr, /standard output|stdout/);
  });

  test('--stdout > /dev/full: one line naming it, exit 1, no stack trace', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const result = await spawnJob(['-t', `full=${sticks.T2SG!.url}`, '--stdout'], ['ignore', full.fd, 'pipe']);
      assert.equal(result.code, 1, result.stderr);
      noStack(result.stderr);
      assert.match(result.stderr, /standard output.*no space left/);
    } finally {
      await full.close();
    }
  });

  test('a dark stick with --stdout into a closed pipe or /dev/full: 1 (not delivered), not 69', async () => {
    const piped = await spawnJob(
      ['-t', 'dark-pipe=127.0.0.1:9', '--stdout', '--retries', '0'],
      ['ignore', 'pipe', 'pipe'],
      (child) => child.stdout!.destroy(),
    );
    assert.equal(piped.code, 1, piped.stderr);
    const full = await open('/dev/full', 'w');
    try {
      const result = await spawnJob(
        ['-t', 'dark-full=127.0.0.1:9', '--stdout', '--retries', '0'],
        ['ignore', full.fd, 'pipe'],
      );
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /standard output.*no space left/);
    } finally {
      await full.close();
    }
  });

  test('a closed stderr does not change the status of a run with a dark stick: 69', async () => {
    const result = await spawnJob(
      ['-t', 'dark-quiet=127.0.0.1:9', '-g', pushgateway.url, '--retries', '0'],
      ['ignore', 'ignore', 'pipe'],
      (child) => child.stderr!.destroy(),
    );
    assert.equal(result.code, 69);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'dark-quiet' }), 'trucki_up'), 0);
  });

  test('a closed stderr does not change the status of a good run', async () => {
    const result = await spawnJob(
      ['-t', `closed-stderr=${sticks.T2SG!.url}`, '-g', pushgateway.url],
      ['ignore', 'ignore', 'pipe'],
      (child) => child.stderr!.destroy(),
    );
    assert.equal(result.code, 0);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'closed-stderr' }), 'trucki_up'), 1);
  });
});

describe('configuration precedence', () => {
  test('flags beat the environment, which beats the env file', async () => {
    const cwd = await emptyDir();
    await writeFile(
      join(cwd, '.env'),
      `TRUCKI_TARGET=${sticks.T2SG!.url}\nPUSHGATEWAY_URL=${pushgateway.url}\nPUSHGATEWAY_JOB=from-file\n`,
    );
    const fileOnly = await runCli([], { cwd });
    const envBeatsFile = await runCli([], { cwd, env: { PUSHGATEWAY_JOB: 'from-env' } });
    const flagBeatsEnv = await runCli(['--job', 'from-flag'], { cwd, env: { PUSHGATEWAY_JOB: 'from-env' } });
    for (const result of [fileOnly, envBeatsFile, flagBeatsEnv]) assert.equal(result.code, 0, result.stderr);
    const jobs = new Set((await pushgateway.groups()).map((group) => group.labels.job));
    for (const job of ['from-file', 'from-env', 'from-flag']) assert.ok(jobs.has(job), `no group for job ${job}`);
  });

  test('--env-file reads another file, and its errors name where the value came from', async () => {
    const cwd = await emptyDir();
    await writeFile(join(cwd, 'custom.env'), `TRUCKI_TARGET=${sticks.T2SG!.url}\nTRUCKI_TIMEOUT_MS=later\n`);
    const result = await runCli(['--env-file', 'custom.env', '--stdout'], { cwd });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /TRUCKI_TIMEOUT_MS in custom\.env must be a whole number/);
  });
});
