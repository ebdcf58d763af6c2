/**
 * readCommand: flags beat the environment, which beats the env file; every error is a ConfigError
 * naming the option and its source, and never echoes a password.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { readCommand } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trucki-config-test-'));
  dirs.push(dir);
  return dir;
}

/** A temp cwd, with a .env holding `envFile` when given. */
async function cwdWith(envFile?: string): Promise<string> {
  const dir = await tempDir();
  if (envFile !== undefined) await writeFile(join(dir, '.env'), envFile);
  return dir;
}

let emptyCwd: Promise<string> | undefined;
function empty(): Promise<string> {
  emptyCwd ??= cwdWith();
  return emptyCwd;
}

async function config(argv: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Config> {
  const command = await readCommand(argv, env, cwd ?? (await empty()));
  assert.equal(command.kind, 'run');
  return command.config;
}

/** Rejects with a ConfigError whose message holds every fragment; returns the message. */
async function configError(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  ...fragments: string[]
): Promise<string> {
  let caught: unknown;
  try {
    await readCommand(argv, env, cwd ?? (await empty()));
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${JSON.stringify(argv)} ${JSON.stringify(env)} was accepted`);
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${inspect(caught)}`);
  assert.equal(caught.name, 'ConfigError');
  for (const fragment of fragments)
    assert.ok(caught.message.includes(fragment), `"${caught.message}" does not mention ${fragment}`);
  return caught.message;
}

const stdout = ['--stdout'];
const pg = ['--pushgateway', 'http://localhost:9091'];

describe('required settings', () => {
  test('without a target: a ConfigError naming --target and TRUCKI_TARGET', async () => {
    await configError([], {}, undefined, '--target', 'TRUCKI_TARGET');
    await configError([...pg], {}, undefined, '--target', 'TRUCKI_TARGET');
  });

  test('without a Pushgateway (and no --stdout): a ConfigError naming --pushgateway and PUSHGATEWAY_URL', async () => {
    await configError(['--target', '192.168.1.5'], {}, undefined, '--pushgateway', 'PUSHGATEWAY_URL');
  });

  test('an empty TRUCKI_TARGET counts as missing', async () => {
    await configError([...stdout], { TRUCKI_TARGET: '' }, undefined, '--target');
  });

  test('a target that names no stick is an error', async () => {
    await configError(['--target', ' , ', ...stdout], {}, undefined, '--target');
  });

  test('--stdout needs no Pushgateway, and then there is none', async () => {
    const result = await config(['--target', '192.168.1.5', ...stdout]);
    assert.equal(result.pushgateway, undefined);
    assert.equal(result.targets.length, 1);
  });

  test('both from the environment', async () => {
    const result = await config([], { TRUCKI_TARGET: '192.168.1.5', PUSHGATEWAY_URL: 'http://pg.lan:9091' });
    assert.equal(result.targets[0]?.url.href, 'http://192.168.1.5/');
    assert.equal(result.pushgateway?.url.href, 'http://pg.lan:9091/');
  });
});

describe('flags, environment, env file', () => {
  const fileText = 'TRUCKI_TARGET=file-host\nPUSHGATEWAY_URL=http://file-pg:9091\nTRUCKI_TIMEOUT_MS=111\n';

  test('a flag beats the environment and the env file', async () => {
    const cwd = await cwdWith(fileText);
    const result = await config(
      ['--target', 'flag-host', '--pushgateway', 'http://flag-pg:9091', '--timeout', '333'],
      { TRUCKI_TARGET: 'env-host', PUSHGATEWAY_URL: 'http://env-pg:9091', TRUCKI_TIMEOUT_MS: '222' },
      cwd,
    );
    assert.equal(result.targets[0]?.instance, 'flag-host');
    assert.equal(result.pushgateway?.url.host, 'flag-pg:9091');
    assert.equal(result.timeoutMs, 333);
  });

  test('the environment beats the env file', async () => {
    const cwd = await cwdWith(fileText);
    const result = await config(
      [],
      { TRUCKI_TARGET: 'env-host', PUSHGATEWAY_URL: 'http://env-pg:9091', TRUCKI_TIMEOUT_MS: '222' },
      cwd,
    );
    assert.equal(result.targets[0]?.instance, 'env-host');
    assert.equal(result.pushgateway?.url.host, 'env-pg:9091');
    assert.equal(result.timeoutMs, 222);
  });

  test('the env file (.env in cwd) is read when nothing else sets a value', async () => {
    const cwd = await cwdWith(fileText);
    const result = await config([], {}, cwd);
    assert.equal(result.targets[0]?.instance, 'file-host');
    assert.equal(result.pushgateway?.url.host, 'file-pg:9091');
    assert.equal(result.timeoutMs, 111);
  });

  test('mixed: each setting from the highest source that has it', async () => {
    const cwd = await cwdWith(fileText);
    const result = await config(['-t', 'flag-host'], { PUSHGATEWAY_URL: 'http://env-pg:9091' }, cwd);
    assert.equal(result.targets[0]?.instance, 'flag-host');
    assert.equal(result.pushgateway?.url.host, 'env-pg:9091');
    assert.equal(result.timeoutMs, 111);
  });

  test("the env file is read from the given cwd, not the process's", async () => {
    const cwd = await cwdWith('TRUCKI_TARGET=from-temp-cwd\n');
    const result = await config([...stdout], {}, cwd);
    assert.equal(result.targets[0]?.instance, 'from-temp-cwd');
  });

  test('readCommand reads the env it is given, not process.env', async () => {
    const before = process.env['TRUCKI_TARGET'];
    process.env['TRUCKI_TARGET'] = 'process-env-host';
    try {
      await configError([...stdout], {}, undefined, '--target');
    } finally {
      if (before === undefined) delete process.env['TRUCKI_TARGET'];
      else process.env['TRUCKI_TARGET'] = before;
    }
  });

  test('--env-file <path> is read instead of .env in cwd', async () => {
    const cwd = await cwdWith('TRUCKI_TIMEOUT_MS=111\nTRUCKI_TARGET=dotenv-host\n');
    const other = await tempDir();
    const path = join(other, 'trucki.env');
    await writeFile(path, 'TRUCKI_TARGET=custom-host\nTRUCKI_RETRIES=7\n');
    const result = await config(['--env-file', path, ...stdout], {}, cwd);
    assert.equal(result.targets[0]?.instance, 'custom-host');
    assert.equal(result.retries, 7);
    assert.equal(result.timeoutMs, 5000, '.env in cwd must not be read when --env-file is given');
  });

  test('a missing --env-file is a ConfigError naming --env-file', async () => {
    const dir = await tempDir();
    await configError(['--env-file', join(dir, 'nope.env'), '-t', 'h', ...stdout], {}, undefined, '--env-file');
  });

  test('a missing default .env is fine', async () => {
    const result = await config(['-t', 'h', ...stdout], {}, await cwdWith());
    assert.equal(result.targets[0]?.instance, 'h');
  });

  test("the env file's quoting and comments are understood (dotenv)", async () => {
    const cwd = await cwdWith(
      '# a comment\nTRUCKI_TARGET="garage=10.0.0.2,roof=10.0.0.3"\nPUSHGATEWAY_GROUPING=\'site=home\'\n',
    );
    const result = await config([...pg], {}, cwd);
    assert.deepEqual(
      result.targets.map((target) => target.instance),
      ['garage', 'roof'],
    );
    assert.deepEqual(result.pushgateway?.grouping, [['site', 'home']]);
  });
});

describe('flags', () => {
  test('-t and -g are --target and --pushgateway', async () => {
    const result = await config(['-t', '192.168.1.5', '-g', 'http://pg:9091']);
    assert.equal(result.targets[0]?.instance, '192.168.1.5');
    assert.equal(result.pushgateway?.url.href, 'http://pg:9091/');
  });

  for (const argv of [['-h'], ['--help'], ['-t', 'h', '-h']]) {
    test(`${argv.join(' ')} → help, even without required settings`, async () => {
      assert.deepEqual(await readCommand(argv, {}, await empty()), { kind: 'help' });
    });
  }

  for (const argv of [['-V'], ['--version']]) {
    test(`${argv.join(' ')} → version`, async () => {
      assert.deepEqual(await readCommand(argv, {}, await empty()), { kind: 'version' });
    });
  }

  test('an unknown flag is a ConfigError naming it', async () => {
    await configError(['-t', 'h', ...stdout, '--bogus'], {}, undefined, '--bogus');
    await configError(['-t', 'h', ...stdout, '-x'], {}, undefined, '-x');
  });

  test('a stray positional argument is a ConfigError', async () => {
    await configError(['-t', 'h', ...stdout, 'extra'], {}, undefined, 'extra');
  });

  test('a flag without its value is a ConfigError', async () => {
    await configError([...stdout, '--target'], {}, undefined, '--target');
  });
});

describe('targets', () => {
  test('"192.168.1.5" → http://192.168.1.5/, instance "192.168.1.5"', async () => {
    const [target, ...rest] = (await config(['-t', '192.168.1.5', ...stdout])).targets;
    assert.equal(rest.length, 0);
    assert.equal(target?.url.href, 'http://192.168.1.5/');
    assert.equal(target.instance, '192.168.1.5');
    assert.equal(target.username, undefined);
    assert.equal(target.password, undefined);
  });

  test('"host:8081" → instance "host:8081"', async () => {
    const [target] = (await config(['-t', 'host:8081', ...stdout])).targets;
    assert.equal(target?.url.href, 'http://host:8081/');
    assert.equal(target.instance, 'host:8081');
  });

  test('"192.168.178.59:8081" → instance with port', async () => {
    const [target] = (await config(['-t', '192.168.178.59:8081', ...stdout])).targets;
    assert.equal(target?.instance, '192.168.178.59:8081');
  });

  test('"https://stick.lan/" stays https', async () => {
    const [target] = (await config(['-t', 'https://stick.lan/', ...stdout])).targets;
    assert.equal(target?.url.protocol, 'https:');
    assert.equal(target.url.href, 'https://stick.lan/');
    assert.equal(target.instance, 'stick.lan');
  });

  test('"garage=10.0.0.2,roof=10.0.0.3" → two targets named garage and roof', async () => {
    const { targets } = await config(['-t', 'garage=10.0.0.2,roof=10.0.0.3', ...stdout]);
    assert.deepEqual(
      targets.map((target) => [target.instance, target.url.href]),
      [
        ['garage', 'http://10.0.0.2/'],
        ['roof', 'http://10.0.0.3/'],
      ],
    );
  });

  test('several unnamed targets take their host as instance', async () => {
    const { targets } = await config(['-t', '10.0.0.2, 10.0.0.3:8081', ...stdout]);
    assert.deepEqual(
      targets.map((target) => target.instance),
      ['10.0.0.2', '10.0.0.3:8081'],
    );
  });

  test('a duplicate instance is an error', async () => {
    await configError(['-t', 'garage=10.0.0.2,garage=10.0.0.3', ...stdout], {}, undefined, '--target', 'garage');
    await configError(['-t', '10.0.0.2,10.0.0.2', ...stdout], {}, undefined, '--target');
    await configError(['-t', '10.0.0.2,10.0.0.2=10.0.0.3', ...stdout], {}, undefined, '--target');
  });

  test('--instance overrides the instance of a single target', async () => {
    const [target] = (await config(['-t', '192.168.1.5', '--instance', 'garage', ...stdout])).targets;
    assert.equal(target?.instance, 'garage');
    assert.equal(target.url.href, 'http://192.168.1.5/');
  });

  test('PUSHGATEWAY_INSTANCE overrides the instance of a single target', async () => {
    const [target] = (await config(['-t', '192.168.1.5', ...stdout], { PUSHGATEWAY_INSTANCE: 'roof' })).targets;
    assert.equal(target?.instance, 'roof');
  });

  test('--instance with several targets is an error', async () => {
    await configError(
      ['-t', 'garage=10.0.0.2,roof=10.0.0.3', '--instance', 'x', ...stdout],
      {},
      undefined,
      '--instance',
    );
    await configError(
      ['-t', '10.0.0.2,10.0.0.3', ...stdout],
      { PUSHGATEWAY_INSTANCE: 'x' },
      undefined,
      'PUSHGATEWAY_INSTANCE',
    );
  });

  test('user info becomes username/password and leaves the URL', async () => {
    const [target] = (await config(['-t', 'http://admin:s3cret@10.0.0.2', ...stdout])).targets;
    assert.equal(target?.username, 'admin');
    assert.equal(target.password, 's3cret');
    assert.equal(target.url.href, 'http://10.0.0.2/');
    assert.ok(!target.url.href.includes('s3cret'));
    assert.ok(!target.url.href.includes('admin'));
    assert.equal(target.url.username, '');
    assert.equal(target.url.password, '');
    assert.equal(target.instance, '10.0.0.2');
  });

  test('percent-encoded user info is decoded', async () => {
    const [target] = (await config(['-t', 'http://ad%20min:p%40ss%3Aw0rd@10.0.0.2', ...stdout])).targets;
    assert.equal(target?.username, 'ad min');
    assert.equal(target.password, 'p@ss:w0rd');
  });

  test('a named target may carry user info', async () => {
    const [target] = (await config(['-t', 'garage=http://admin:s3cret@10.0.0.2:8081', ...stdout])).targets;
    assert.equal(target?.instance, 'garage');
    assert.equal(target.password, 's3cret');
    assert.equal(target.url.href, 'http://10.0.0.2:8081/');
  });

  test('a non-http scheme is an error', async () => {
    for (const value of ['ftp://10.0.0.2', 'file:///etc/passwd', 'ws://10.0.0.2']) {
      await configError(['-t', value, ...stdout], {}, undefined, '--target');
    }
    await configError(['-t', 'h', '-g', 'ftp://pg:9091'], {}, undefined, '--pushgateway');
  });

  test('a query or fragment is an error', async () => {
    await configError(['-t', 'http://10.0.0.2/?reboot=true', ...stdout], {}, undefined, '--target');
    await configError(['-t', 'http://10.0.0.2/#x', ...stdout], {}, undefined, '--target');
  });

  test('an invalid address is an error naming where it came from', async () => {
    await configError(['-t', 'http://[bad', ...stdout], {}, undefined, '--target');
    await configError([...stdout], { TRUCKI_TARGET: 'http://[bad' }, undefined, 'TRUCKI_TARGET');
    await configError([...stdout], {}, await cwdWith('TRUCKI_TARGET=http://[bad\n'), 'TRUCKI_TARGET in .env');
  });
});

describe('an empty target says "empty address"', () => {
  const cases: [what: string, argv: string[], fragment: string][] = [
    ["--target ''", ['--target', ''], '--target is an empty address'],
    ['--target of spaces', ['--target', '   '], '--target is an empty address'],
    ["' , '", ['--target', ' , '], '--target is an empty address'],
    ['-t a,,b', ['-t', 'a,,b'], '--target (stick 2) is an empty address: an extra comma?'],
    ['-t a, ,b', ['-t', 'a, ,b'], '--target (stick 2) is an empty address'],
    ['a trailing comma', ['-t', 'a,b,'], '--target (stick 3) is an empty address'],
    ["a repeated flag, one ''", ['-t', 'a', '-t', ''], '--target (stick 2) is an empty address'],
    ['name=', ['-t', 'name='], '--target is an empty address after its name='],
    ['name= of spaces, in a list', ['-t', 'a=h, b=  '], '--target (stick 2) is an empty address after its name='],
    ['=host', ['-t', '=host'], '--target has an empty name before ='],
    ['user info and no host', ['-t', 'admin:pw@'], '--target is an empty stick address'],
    ['http:// and user info only', ['-t', 'http://admin:pw@'], '--target is an empty stick address'],
    ['http:// alone', ['-t', 'http://'], '--target is an empty stick address'],
    ['a port only', ['-t', ':8080'], '--target is an empty stick address (a port only)'],
    ['a named stick with user info and no host', ['-t', 'roof=http://u:pw@'], '--target is an empty stick address'],
  ];
  for (const [what, argv, fragment] of cases) {
    test(`${what}: "${fragment}", no percent-encoding hint`, async () => {
      const message = await configError([...argv, ...stdout], {}, undefined, fragment);
      assert.doesNotMatch(message, /percent|%2C/);
      assert.doesNotMatch(message, /pw/);
    });
  }

  test('TRUCKI_TARGET with an extra comma, from the env file: the same words, naming the file', async () => {
    await configError(
      [...stdout],
      {},
      await cwdWith('TRUCKI_TARGET=10.0.0.2,,10.0.0.3\n'),
      'TRUCKI_TARGET in .env (stick 2) is an empty address',
    );
  });

  test('spaces around a name and its address are not part of either', async () => {
    const { targets } = await config(['-t', ' roof =  10.0.0.2 , garage= 10.0.0.3', ...stdout]);
    assert.deepEqual(
      targets.map((target) => [target.instance, target.url.href]),
      [
        ['roof', 'http://10.0.0.2/'],
        ['garage', 'http://10.0.0.3/'],
      ],
    );
  });

  test('-g http:// is an empty Pushgateway address', async () => {
    await configError(['-t', 'h', '-g', 'http://'], {}, undefined, '--pushgateway is an empty Pushgateway address');
  });
});

describe('--grouping with --textfile is refused, never dropped', () => {
  test('--grouping and --textfile: exit 2 naming both, and where per-stick labels go', async () => {
    await configError(
      ['-t', 'h', '--textfile', 'trucki.prom', '--grouping', 'site=home'],
      {},
      undefined,
      '--grouping does not apply to --textfile',
      '--targets-file',
    );
  });

  test('PUSHGATEWAY_GROUPING from the env file with TEXTFILE_PATH: refused the same way', async () => {
    await configError(
      [],
      {},
      await cwdWith('TRUCKI_TARGET=h\nTEXTFILE_PATH=trucki.prom\nPUSHGATEWAY_GROUPING=site=home\n'),
      'PUSHGATEWAY_GROUPING in .env does not apply to TEXTFILE_PATH in .env',
    );
  });

  test('an empty PUSHGATEWAY_GROUPING (as in .env.example) is no grouping: the textfile is fine', async () => {
    const result = await config(['-t', 'h', '--textfile', 'trucki.prom'], { PUSHGATEWAY_GROUPING: '' });
    assert.ok(result.textfile?.endsWith('trucki.prom'));
  });

  test('--grouping with --stdout (a first look with the same env file) is still accepted', async () => {
    await config(['-t', 'h', '--stdout', '--grouping', 'site=home', '--textfile', 'trucki.prom']);
  });
});

describe('no ConfigError message contains a password', () => {
  const secret = 's3cret';
  const badTargets = [
    'http://admin:s3cret@[bad',
    'admin:s3cret@[bad',
    'http://admin:s3cret@10.0.0.2:99999',
    'ftp://admin:s3cret@10.0.0.2',
    'http://admin:s3cret@10.0.0.2/?q=1',
    'http://admin:s3cret@10.0.0.2/#frag',
    'garage=http://admin:s3cret@[bad',
    'http://admin:s3cret@10.0.0.2,http://admin:s3cret@10.0.0.2',
    'a=http://admin:s3cret@10.0.0.2,b=http://admin:s3cret@[bad',
  ];
  for (const value of badTargets) {
    test(`target ${JSON.stringify(value)} (flag, env, env file)`, async () => {
      for (const message of [
        await configError(['-t', value, ...stdout]),
        await configError([...stdout], { TRUCKI_TARGET: value }),
        await configError([...stdout], {}, await cwdWith(`TRUCKI_TARGET="${value}"\n`)),
      ])
        assert.ok(!message.includes(secret), `password in: ${message}`);
    });
  }
  // Only single URLs: name=address lists are target syntax.
  for (const value of badTargets.filter((value) => !value.includes(',') && !value.includes('='))) {
    test(`pushgateway ${JSON.stringify(value)} (flag, env)`, async () => {
      for (const message of [
        await configError(['-t', 'h', '-g', value]),
        await configError(['-t', 'h'], { PUSHGATEWAY_URL: value }),
      ])
        assert.ok(!message.includes(secret), `password in: ${message}`);
    });
  }

  test('--instance with several user-info targets does not echo them', async () => {
    const message = await configError([
      '-t',
      'a=http://admin:s3cret@10.0.0.2,b=http://admin:s3cret@10.0.0.3',
      '--instance',
      'x',
      ...stdout,
    ]);
    assert.ok(!message.includes(secret), message);
  });

  test('a password holding a comma is not echoed (the target list is split on commas)', async () => {
    // "http://admin:hunter2,x@10.0.0.2" splits into "http://admin:hunter2" (no "@" left, so it is shown) and "x@10.0.0.2".
    for (const value of [
      'http://admin:hunter2,x@10.0.0.2',
      'admin:hunter2,x@10.0.0.2',
      'garage=http://admin:hunter2,x@10.0.0.2',
    ]) {
      for (const message of [
        await configError(['-t', value, ...stdout], {}, undefined, '--target'),
        await configError([...stdout], { TRUCKI_TARGET: value }, undefined, 'TRUCKI_TARGET'),
      ])
        assert.ok(!message.includes('hunter2'), `password in: ${message}`);
    }
  });

  test('a malformed percent escape in the password is a ConfigError, not a crash', async () => {
    // new URL() accepts "%ZZ" in user info; decodeURIComponent then throws URIError.
    for (const value of ['http://admin:s3cret%ZZ@10.0.0.2', 'http://admin%E0%A4%A:s3cret@10.0.0.2']) {
      const message = await configError(['-t', value, ...stdout], {}, undefined, '--target');
      assert.ok(!message.includes(secret), message);
      const pgMessage = await configError(['-t', 'h', '-g', value], {}, undefined, '--pushgateway');
      assert.ok(!pgMessage.includes(secret), pgMessage);
    }
  });
});

describe('Pushgateway', () => {
  test('a path prefix and user info are kept apart', async () => {
    const result = await config(['-t', 'h', '-g', 'https://push:pw0rd@metrics.example/pushgateway/']);
    assert.equal(result.pushgateway?.url.href, 'https://metrics.example/pushgateway/');
    assert.equal(result.pushgateway.username, 'push');
    assert.equal(result.pushgateway.password, 'pw0rd');
  });

  test('PUSHGATEWAY_JOB defaults to "trucki"', async () => {
    assert.equal((await config(['-t', 'h', ...pg])).pushgateway?.job, 'trucki');
  });

  test('--job and PUSHGATEWAY_JOB set the job; the flag wins', async () => {
    assert.equal((await config(['-t', 'h', ...pg], { PUSHGATEWAY_JOB: 'solar' })).pushgateway?.job, 'solar');
    assert.equal(
      (await config(['-t', 'h', ...pg, '--job', 'flagjob'], { PUSHGATEWAY_JOB: 'solar' })).pushgateway?.job,
      'flagjob',
    );
  });

  test('a push URL (…/metrics/job/trucki) gets the base-URL hint at once, exit 2, no password shown', async () => {
    assert.equal(
      await configError(['-t', 'h', '-g', 'http://u:hunter2@pg:9091/metrics/job/trucki']),
      "--pushgateway holds /metrics/job/trucki: give the Pushgateway's base URL, without /metrics/job/... " +
        '(e.g. http://pg:9091/); set the job with --job',
    );
    assert.match(
      await configError(['-t', 'h'], { PUSHGATEWAY_URL: 'https://pg.example/prefix/metrics/job/' }),
      /^PUSHGATEWAY_URL holds \/metrics\/job\/: .*\(e\.g\. https:\/\/pg\.example\/prefix\)/,
    );
    // A route prefix that merely contains "metrics" stays a prefix.
    const kept = await config(['-t', 'h', '-g', 'http://pg:9091/metrics-gw/']);
    assert.equal(kept.pushgateway?.url.href, 'http://pg:9091/metrics-gw/');
  });

  test('a CA file holding no PEM certificate (a key, DER, any text) is refused naming it, exit 2', async () => {
    const dir = await tempDir();
    const file = join(dir, 'ca.der');
    await writeFile(file, 'hunter2 -----BEGIN PRIVATE KEY-----\nMIIB\n');
    for (const env of [{ PUSHGATEWAY_CA_FILE: file }, { VICTORIAMETRICS_CA_FILE: file }]) {
      const [name] = Object.keys(env);
      const sink = name!.startsWith('PUSH') ? ['-g', 'https://pg:9091'] : ['--victoriametrics', 'https://vm:8428'];
      const message = await configError(['-t', 'h', ...sink], env);
      assert.equal(message, `${name!} "${file}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
  });

  test("a store's credential options are checked even where the URL's user info wins over them", async () => {
    const dir = await tempDir();
    const file = join(dir, 'password');
    await writeFile(file, 'from-file\n');
    for (const [store, flag, url] of [
      ['PUSHGATEWAY', '-g', 'http://u:pw@pg:9091'],
      ['VICTORIAMETRICS', '--victoriametrics', 'http://u:pw@vm:8428'],
    ] as const) {
      for (const part of ['USERNAME', 'PASSWORD']) {
        const env = { [`${store}_${part}`]: 'set', [`${store}_${part}_FILE`]: file };
        assert.equal(
          await configError(['-t', 'h', flag, url], env),
          `${store}_${part} and ${store}_${part}_FILE are both set; keep one`,
        );
      }
    }
  });

  test('an empty job is an error', async () => {
    await configError(['-t', 'h', ...pg, '--job='], {}, undefined, '--job');
    await configError(['-t', 'h', ...pg, '--job', '  '], {}, undefined, '--job');
    await configError(['-t', 'h', ...pg], { PUSHGATEWAY_JOB: '   ' }, undefined, 'PUSHGATEWAY_JOB');
  });
});

describe('grouping', () => {
  async function grouping(value: string) {
    return (await config(['-t', 'h', ...pg, '--grouping', value])).pushgateway?.grouping;
  }

  test('no grouping → none', async () => {
    assert.deepEqual((await config(['-t', 'h', ...pg])).pushgateway?.grouping, []);
  });

  test('"site=home,room=" → [["site","home"],["room",""]]', async () => {
    assert.deepEqual(await grouping('site=home,room='), [
      ['site', 'home'],
      ['room', ''],
    ]);
  });

  test('"path=/a/b" keeps the slash', async () => {
    assert.deepEqual(await grouping('path=/a/b'), [['path', '/a/b']]);
  });

  test('from PUSHGATEWAY_GROUPING', async () => {
    assert.deepEqual((await config(['-t', 'h', ...pg], { PUSHGATEWAY_GROUPING: 'site=home' })).pushgateway?.grouping, [
      ['site', 'home'],
    ]);
  });

  for (const pair of ['1abc=x', 'a-b=x', 'a b=x', '=x', 'novalue', '__name=x', 'ä=x']) {
    test(`bad label name "${pair}" is an error`, async () => {
      await configError(['-t', 'h', ...pg, '--grouping', pair], {}, undefined, '--grouping');
    });
  }

  for (const name of ['job', 'instance', 'inverter', 'state', 'quality']) {
    test(`reserved label "${name}" is an error`, async () => {
      await configError(['-t', 'h', ...pg, '--grouping', `${name}=x`], {}, undefined, '--grouping', name);
    });
  }

  test('a duplicate label is an error', async () => {
    await configError(['-t', 'h', ...pg, '--grouping', 'site=a,site=b'], {}, undefined, '--grouping', 'site');
  });

  test('an error from the environment names the variable', async () => {
    await configError(['-t', 'h', ...pg], { PUSHGATEWAY_GROUPING: 'job=x' }, undefined, 'PUSHGATEWAY_GROUPING');
  });
});

describe('numbers: timeout, retries, body limit', () => {
  test('defaults: 5000 ms, 2 retries, 1048576 bytes', async () => {
    const result = await config(['-t', 'h', ...stdout]);
    assert.equal(result.timeoutMs, 5000);
    assert.equal(result.retries, 2);
    assert.equal(result.maxBodyBytes, 1048576);
  });

  test('from flags', async () => {
    const result = await config(['-t', 'h', ...stdout, '--timeout', '1500', '--retries', '0']);
    assert.equal(result.timeoutMs, 1500);
    assert.equal(result.retries, 0);
  });

  test('from the environment', async () => {
    const result = await config(['-t', 'h', ...stdout], {
      TRUCKI_TIMEOUT_MS: '2500',
      TRUCKI_RETRIES: '4',
      TRUCKI_MAX_BODY_BYTES: '65536',
    });
    assert.equal(result.timeoutMs, 2500);
    assert.equal(result.retries, 4);
    assert.equal(result.maxBodyBytes, 65536);
  });

  test('from the env file', async () => {
    const cwd = await cwdWith('TRUCKI_TIMEOUT_MS=2600\nTRUCKI_RETRIES=5\nTRUCKI_MAX_BODY_BYTES=4096\n');
    const result = await config(['-t', 'h', ...stdout], {}, cwd);
    assert.equal(result.timeoutMs, 2600);
    assert.equal(result.retries, 5);
    assert.equal(result.maxBodyBytes, 4096);
  });

  const settings = [
    { flag: '--timeout', env: 'TRUCKI_TIMEOUT_MS', bad: ['abc', '-1', '1.5', '0', '1e3', ''] },
    { flag: '--retries', env: 'TRUCKI_RETRIES', bad: ['abc', '-1', '1.5', 'two'] },
    { flag: undefined, env: 'TRUCKI_MAX_BODY_BYTES', bad: ['abc', '-1', '1.5', '0'] },
  ];
  for (const { flag, env, bad } of settings) {
    for (const value of bad) {
      if (flag) {
        test(`${flag}=${JSON.stringify(value)} is a ConfigError naming ${flag}`, async () => {
          if (value === '') {
            // An empty flag value is not "unset": it must not silently fall back to the default.
            await configError(['-t', 'h', ...stdout, `${flag}=`], {}, undefined, flag);
            return;
          }
          const message = await configError(['-t', 'h', ...stdout, `${flag}=${value}`], {}, undefined, flag, value);
          assert.ok(!message.includes(env), `a flag's error should not blame ${env}: ${message}`);
        });
      }
      if (value === '') continue; // an empty variable counts as unset
      test(`${env}=${JSON.stringify(value)} is a ConfigError naming ${env}`, async () => {
        await configError(['-t', 'h', ...stdout], { [env]: value }, undefined, env, value);
      });
      test(`${env}=${JSON.stringify(value)} in .env is a ConfigError naming ${env} in .env`, async () => {
        await configError(['-t', 'h', ...stdout], {}, await cwdWith(`${env}=${value}\n`), `${env} in .env`);
      });
    }
  }

  test('0 retries is allowed, 0 timeout is not', async () => {
    assert.equal((await config(['-t', 'h', ...stdout], { TRUCKI_RETRIES: '0' })).retries, 0);
    await configError(['-t', 'h', ...stdout], { TRUCKI_TIMEOUT_MS: '0' }, undefined, 'TRUCKI_TIMEOUT_MS');
  });

  test('an error from --env-file <path> names that file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'custom.env');
    await writeFile(path, 'TRUCKI_RETRIES=many\n');
    await configError(['-t', 'h', ...stdout, '--env-file', path], {}, undefined, 'TRUCKI_RETRIES', path);
  });
});

describe('schedule and switches', () => {
  test('SCHEDULE from the env file makes a loop; an empty SCHEDULE in the environment overrides it', async () => {
    const cwd = await cwdWith('TRUCKI_TARGET=10.0.0.2\nSCHEDULE=*/15 * * * * *\n');
    assert.deepEqual((await config(stdout, {}, cwd)).schedule, { pattern: '*/15 * * * * *' });
    assert.equal((await config(stdout, { SCHEDULE: '' }, cwd)).schedule, undefined);
  });

  test('--timezone / TZ reaches the schedule; a C-library TZ like ":/etc/localtime" is left to the OS', async () => {
    assert.deepEqual((await config([...stdout, '-t', 'x', '-s', '0 7 * * *'], { TZ: 'Europe/Berlin' })).schedule, {
      pattern: '0 7 * * *',
      timezone: 'Europe/Berlin',
    });
    assert.deepEqual((await config([...stdout, '-t', 'x', '-s', '0 7 * * *'], { TZ: ':/etc/localtime' })).schedule, {
      pattern: '0 7 * * *',
    });
    await configError(
      ['-t', 'x', ...stdout, '-s', '0 7 * * *', '--timezone', 'Nowhere/Land'],
      {},
      undefined,
      '--timezone',
      'Nowhere/Land',
    );
  });

  test('switches from the environment accept true/false words and refuse others', async () => {
    const loop = ['-t', 'x', ...pg, '-s', '* * * * * *'];
    assert.equal((await config(loop, { PUSHGATEWAY_DELETE_ON_EXIT: 'yes' })).deleteOnExit, true);
    assert.equal((await config(loop, { PUSHGATEWAY_DELETE_ON_EXIT: 'false' })).deleteOnExit, false);
    await configError(
      loop,
      { PUSHGATEWAY_DELETE_ON_EXIT: 'sometimes' },
      undefined,
      'PUSHGATEWAY_DELETE_ON_EXIT',
      'true or false',
    );
  });
});
