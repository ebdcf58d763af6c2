/**
 * readCommand for fleets: --victoriametrics and its credentials, query URL and backlog bounds;
 * --targets-file (one-shot: exit 2 naming the entry; its labels beside --grouping; YAML's nulls);
 * the sinks exclude each other, and a flag chooses among them over the env file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readCommand } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';

let dir: string | undefined;
after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

async function cwd(): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'trucki-fleet-config-'));
  return dir;
}

async function config(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Config> {
  const command = await readCommand(argv, env, await cwd());
  assert.ok(command.kind === 'run');
  return command.config;
}

async function configError(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const caught = await readCommand(argv, env, await cwd()).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(argv)}, got ${String(caught)}`);
  return caught.message;
}

const vm = ['-t', '10.0.0.1', '--victoriametrics', 'http://vm:8428'];

describe('VictoriaMetrics', () => {
  test('URL, job, grouping; defaults: query at the same URL, backlog 32 MiB and a day', async () => {
    const { victoriametrics, pushgateway } = await config([...vm, '--job', 'solar', '--grouping', 'site=home']);
    assert.equal(pushgateway, undefined);
    assert.equal(victoriametrics?.url.href, 'http://vm:8428/');
    assert.equal(victoriametrics.job, 'solar');
    assert.deepEqual(victoriametrics.grouping, [['site', 'home']]);
    assert.equal(victoriametrics.query.url.href, 'http://vm:8428/');
    assert.deepEqual(victoriametrics.backlog, { maxBytes: 33_554_432, maxAgeMs: 86_400_000 });
  });

  test('from the environment: a vminsert with tenant prefix, a query URL sharing the credentials', async () => {
    const { victoriametrics } = await config(['-t', '10.0.0.1'], {
      VICTORIAMETRICS_URL: 'http://vminsert:8480/insert/0/prometheus',
      VICTORIAMETRICS_QUERY_URL: 'http://vmselect:8481/select/0/prometheus',
      VICTORIAMETRICS_USERNAME: 'writer',
      VICTORIAMETRICS_PASSWORD: 's3cret',
      VICTORIAMETRICS_BACKLOG_MAX_BYTES: '1048576',
      VICTORIAMETRICS_BACKLOG_MAX_AGE_SECONDS: '600',
    });
    assert.equal(victoriametrics?.url.href, 'http://vminsert:8480/insert/0/prometheus');
    assert.deepEqual([victoriametrics.username, victoriametrics.password], ['writer', 's3cret']);
    assert.equal(victoriametrics.query.url.href, 'http://vmselect:8481/select/0/prometheus');
    assert.deepEqual([victoriametrics.query.username, victoriametrics.query.password], ['writer', 's3cret']);
    assert.deepEqual(victoriametrics.backlog, { maxBytes: 1_048_576, maxAgeMs: 600_000 });
  });

  test('user info in the query URL is its own; a bearer token from a _FILE', async () => {
    const directory = await cwd();
    await writeFile(join(directory, 'token'), 'tok-123\n');
    const { victoriametrics } = await config([...vm, '--victoriametrics-query-url', 'http://reader:pw@vm:8428'], {
      VICTORIAMETRICS_BEARER_TOKEN_FILE: 'token',
    });
    assert.equal(victoriametrics?.bearerToken, 'tok-123');
    assert.deepEqual(
      [victoriametrics.query.username, victoriametrics.query.password, victoriametrics.query.bearerToken],
      ['reader', 'pw', undefined],
    );
  });

  test('excludes the Pushgateway and the textfile; --stdout still wins; bad bounds are refused', async () => {
    assert.match(
      await configError([...vm, '--pushgateway', 'http://pg:9091']),
      /^--pushgateway and --victoriametrics exclude each other/,
    );
    // A flag chooses over the environment, as for any one setting.
    const flagWins = await config([...vm], { TEXTFILE_PATH: '/tmp/x.prom' });
    assert.equal(flagWins.textfile, undefined);
    assert.equal(flagWins.victoriametrics?.url.host, 'vm:8428');
    assert.match(
      await configError(['-t', 'a'], { TEXTFILE_PATH: '/tmp/x.prom', VICTORIAMETRICS_URL: 'http://vm:8428' }),
      /^TEXTFILE_PATH and VICTORIAMETRICS_URL exclude each other/,
    );
    assert.equal((await config([...vm, '--stdout'])).victoriametrics, undefined);
    assert.match(
      await configError(vm, { VICTORIAMETRICS_BACKLOG_MAX_BYTES: 'lots' }),
      /^VICTORIAMETRICS_BACKLOG_MAX_BYTES must be a whole number/,
    );
    assert.match(
      await configError(['-t', 'a', '--victoriametrics', 'ftp://vm']),
      /^--victoriametrics must be an http or https URL/,
    );
    const secret = await configError(['-t', 'a', '--victoriametrics', 'http://u:hunter2@vm:99999']);
    assert.doesNotMatch(secret, /hunter2/);
  });

  test('a URL with /api/v1/... in it gets the base-URL hint, exit 2', async () => {
    assert.equal(
      await configError(['-t', 'a', '--victoriametrics', 'http://u:hunter2@vm:8428/api/v1/import/prometheus']),
      '--victoriametrics ends in /api/v1/import/prometheus: give the base URL, without /api/v1/... (e.g. http://vm:8428/)',
    );
    assert.match(
      await configError([
        ...vm,
        '--victoriametrics-query-url',
        'http://vmselect:8481/select/0/prometheus/api/v1/query',
      ]),
      /^--victoriametrics-query-url ends in \/api\/v1\/query: give the base URL, without \/api\/v1\/\.\.\. \(e\.g\. http:\/\/vmselect:8481\/select\/0\/prometheus\)$/,
    );
    assert.match(
      await configError(['-t', 'a'], { VICTORIAMETRICS_URL: 'http://vmagent:8429/api/v1/write' }),
      /^VICTORIAMETRICS_URL ends in \/api\/v1\/write: give the base URL/,
    );
  });

  test('a flag chooses the sink and the sticks over the env file, as for any setting', async () => {
    const directory = await cwd();
    await writeFile(join(directory, 'one.json'), JSON.stringify([{ targets: ['127.0.0.1:1'] }]));
    await writeFile(
      join(directory, 'site.env'),
      'TRUCKI_TARGETS_FILE=one.json\nVICTORIAMETRICS_URL=http://127.0.0.1:2\n',
    );
    const flags = ['--env-file', 'site.env', '-t', '127.0.0.1:3', '-g', 'http://127.0.0.1:4'];
    const chosen = await config(flags);
    assert.deepEqual(
      chosen.targets.map(({ instance }) => instance),
      ['127.0.0.1:3'],
    );
    assert.equal(chosen.pushgateway?.url.port, '4');
    assert.equal(chosen.victoriametrics, undefined);
    assert.match(await configError([...flags, '--victoriametrics', 'http://127.0.0.1:5']), /exclude each other/);
  });
});

describe('targets file', () => {
  test('sticks from the file, with labels, and stick credentials where the URL has none', async () => {
    const directory = await cwd();
    await writeFile(
      join(directory, 'sticks.json'),
      JSON.stringify([
        { targets: ['10.0.0.1'], labels: { instance: 'roof', site: 'a' } },
        { targets: ['http://own:pw@10.0.0.2'] },
      ]),
    );
    const { targets, targetsFile } = await config(['--targets-file', 'sticks.json', '--stdout'], {
      TRUCKI_STICK_PASSWORD: 'stickpw',
    });
    assert.ok(targetsFile);
    assert.deepEqual(
      targets.map(({ instance, labels, username, password }) => ({ instance, labels, username, password })),
      [
        { instance: 'roof', labels: [['site', 'a']], username: undefined, password: 'stickpw' },
        { instance: '10.0.0.2', labels: [], username: 'own', password: 'pw' },
      ],
    );
  });

  test('a bad file is a ConfigError naming the option, the file and the entry', async () => {
    const directory = await cwd();
    await writeFile(join(directory, 'bad.yml'), '- targets: [10.0.0.1]\n- targets: [a, b]\n  labels: {instance: x}\n');
    assert.match(
      await configError(['--targets-file', 'bad.yml', '--stdout']),
      /^--targets-file .*bad\.yml: entry 2: labels\.instance names one stick, but the entry lists 2 targets$/,
    );
    await writeFile(join(directory, 'empty.yml'), '');
    assert.match(await configError(['--targets-file', 'empty.yml', '--stdout']), /empty\.yml: names no stick$/);
    assert.match(
      await configError(['--targets-file', 'sticks.txt', '--stdout']),
      /must end in \.json, \.yml or \.yaml/,
    );
    assert.match(
      await configError(['--targets-file', 'missing.json', '--stdout']),
      /missing\.json cannot be read \(ENOENT\)$/,
    );
    assert.match(
      await configError(['--targets-file', 'bad.yml', '-t', 'a', '--stdout']),
      /^--targets-file and --target exclude each other/,
    );
    assert.match(
      await configError(['--targets-file', 'bad.yml', '--instance', 'x', '--stdout']),
      /^--instance applies to --target/,
    );
  });

  test('a label set by --grouping and by the targets file is a ConfigError (exit 2), naming both', async () => {
    await writeFile(
      join(await cwd(), 'grouped.yml'),
      "- targets: ['127.0.0.1:1']\n  labels: {instance: g1, site: berlin}\n",
    );
    assert.match(
      await configError(['--targets-file', 'grouped.yml', '--grouping', 'site=hamburg', '--stdout']),
      /entry 1: label "site" is also set by --grouping/,
    );
  });

  test('YAML ~ and null are empty, so no label, as Prometheus reads them; a byte order mark is fine', async () => {
    await writeFile(
      join(await cwd(), 'nulls.yml'),
      "\uFEFF- targets: ['127.0.0.1:1']\n  labels: {instance: g1, site: ~, floor: null}\n",
    );
    const { targets } = await config(['--targets-file', 'nulls.yml', '--stdout']);
    assert.deepEqual(targets[0]?.labels, []);
  });
});
