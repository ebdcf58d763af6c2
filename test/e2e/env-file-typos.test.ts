/**
 * A variable in the env file that looks like one of ours but is not (PUSHGATEWAY_ULR) would
 * silently not apply: the job says so in a line naming the line and what was meant, and runs on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-typos-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a near miss of a setting gets a "did you mean" line; the run goes on', async () => {
  const file = join(dir, 'typos.env');
  await writeFile(
    file,
    [
      'TRUCKI_TARGET=127.0.0.1:9',
      'PUSHGATEWAY_ULR=http://127.0.0.1:9',
      'pushgateway_job=lower',
      '# PUSHGATEWAY_UR=commented out',
      'PUSHGATEWAY_PASSWORD_FLIE=/nonexistent',
      'TRUCKI_STICK_PASWORD=s3cret-typo',
      'TRUCKI_SOMETHING=1',
      'NODE_OPTIONS=--max-old-space-size=64',
      'LANG=C.UTF-8',
      '',
    ].join('\n'),
  );
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0']);
  assert.equal(result.code, 69, result.stderr); // the stick 127.0.0.1:9 is dark: delivered, not read
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('trucki2pushgateway: '));
  assert.deepEqual(lines, [
    `trucki2pushgateway: --env-file ${file} line 2: PUSHGATEWAY_ULR is not a setting of trucki2pushgateway; did you mean PUSHGATEWAY_URL?`,
    `trucki2pushgateway: --env-file ${file} line 3: pushgateway_job is not a setting of trucki2pushgateway; did you mean PUSHGATEWAY_JOB?`,
    `trucki2pushgateway: --env-file ${file} line 5: PUSHGATEWAY_PASSWORD_FLIE is not a setting of trucki2pushgateway; did you mean PUSHGATEWAY_PASSWORD_FILE?`,
    `trucki2pushgateway: --env-file ${file} line 6: TRUCKI_STICK_PASWORD is not a setting of trucki2pushgateway; did you mean TRUCKI_STICK_PASSWORD?`,
    `trucki2pushgateway: --env-file ${file} line 7: TRUCKI_SOMETHING is not a setting of trucki2pushgateway; see --help for the settings`,
  ]);
  assert.doesNotMatch(result.stderr, /s3cret-typo/);
  // The run itself went on with what the file does set.
  assert.match(result.stderr, /^stick 127\.0\.0\.1:9: failed/m);
});

test('the shipped .env.example and a file of only our settings give no such line', async () => {
  const file = join(dir, 'clean.env');
  await writeFile(file, 'TRUCKI_TARGET=127.0.0.1:9\nPUSHGATEWAY_PASSWORD_FILE=\nSCHEDULE=\nTZ=Europe/Berlin\n');
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0']);
  assert.doesNotMatch(result.stderr, /not a setting/);
  const example = await runCli(['--env-file', '.env.example', '--stdout', '--retries', '0', '-t', '127.0.0.1:9'], {
    cwd: repoRoot,
  });
  assert.doesNotMatch(example.stderr, /not a setting/);
});

test('a 1 MiB env file of stray variables gets five lines and one more, and the run goes on', async () => {
  const file = join(dir, 'many.env');
  const lines: string[] = ['TRUCKI_TARGET=127.0.0.1:9'];
  for (let i = 0, size = 0; size < 1000 * 1024; i++) {
    lines.push(`TRUCKI_X${i}=1`);
    size += lines.at(-1)!.length + 1;
  }
  await writeFile(file, `${lines.join('\n')}\n`);
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0'], { timeoutMs: 30_000 });
  assert.equal(result.code, 69, result.stderr.slice(0, 2000));
  const said = result.stderr.split('\n').filter((line) => line.startsWith('trucki2pushgateway: '));
  assert.equal(said.length, 6, said.join('\n'));
  assert.match(said[5]!, /more variables that are not settings; only the first 5 are named$/);
});

test('a short name is not taken for a typo of a short setting (X is not TZ)', async () => {
  const file = join(dir, 'short.env');
  await writeFile(file, 'TRUCKI_TARGET=127.0.0.1:9\nX=1\nTA=2\ntz=Europe/Berlin\n');
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0']);
  const said = result.stderr.split('\n').filter((line) => line.startsWith('trucki2pushgateway: '));
  assert.deepEqual(said, [
    `trucki2pushgateway: --env-file ${file} line 4: tz is not a setting of trucki2pushgateway; did you mean TZ?`,
  ]);
});

test('two letters swapped (SCHEDUEL, PUSHGATEWAY_JBO) is one slip: a "did you mean" line too', async () => {
  const file = join(dir, 'swapped.env');
  await writeFile(file, ['TRUCKI_TARGET=127.0.0.1:9', 'SCHEDUEL=* * * * *', 'PUSHGATEWAY_JBO=x', ''].join('\n'));
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0']);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('trucki2pushgateway: '));
  assert.deepEqual(lines, [
    `trucki2pushgateway: --env-file ${file} line 2: SCHEDUEL is not a setting of trucki2pushgateway; did you mean SCHEDULE?`,
    `trucki2pushgateway: --env-file ${file} line 3: PUSHGATEWAY_JBO is not a setting of trucki2pushgateway; did you mean PUSHGATEWAY_JOB?`,
  ]);
});

test("a PROMETHEUS_ variable that is not PROMETHEUS_URL is named: check's Prometheus has no other setting", async () => {
  const file = join(dir, 'prometheus.env');
  await writeFile(
    file,
    ['TRUCKI_TARGET=127.0.0.1:9', 'PROMETHEUS_USERNAME=grafana', 'PROMETHEUS_URL=http://127.0.0.1:9', ''].join('\n'),
  );
  const result = await runCli(['--env-file', file, '--stdout', '--retries', '0']);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('trucki2pushgateway: '));
  assert.deepEqual(lines, [
    `trucki2pushgateway: --env-file ${file} line 2: PROMETHEUS_USERNAME is not a setting of trucki2pushgateway; see --help for the settings`,
  ]);
});
