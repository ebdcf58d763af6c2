/**
 * Secrets from files (issue 9.14): every secret can come from a file (<NAME>_FILE) or a systemd credential
 * ($CREDENTIALS_DIRECTORY/<NAME>), so that none sits on a command line; the secret is used, and
 * appears in no output and not in /proc/<pid>/cmdline of a running loop.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { quickTicks, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const pgUser = 'filer';
const pgPassword = 'pg-file-secret-4d1';
const stickPassword = 'stick-file-secret-9c2';
const token = 'token-file-secret-6b7';
const secrets = [pgPassword, stickPassword, token, encodeURIComponent(stickPassword)];

let dir: string;
let basicPg: RunningPushgateway;
let open: RunningPushgateway;
let tokenProxy: Proxy;
let stick: Simulator;
const file = (name: string) => join(dir, name);
const pgHeader = { authorization: `Basic ${Buffer.from(`${pgUser}:${pgPassword}`).toString('base64')}` };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trucki-secrets-'));
  const hash = execFileSync('htpasswd', ['-nbBC', '4', pgUser, pgPassword], { encoding: 'utf8' }).trim().split(':')[1];
  await writeFile(file('web.yml'), `basic_auth_users:\n  ${pgUser}: "${hash}"\n`);
  [basicPg, open, stick] = await Promise.all([
    startPushgateway([`--web.config.file=${file('web.yml')}`]),
    startPushgateway(),
    startSimulator({ variant: 'T2SG', auth: { username: 'admin', password: stickPassword } }),
  ]);
  // A Pushgateway behind a proxy that wants the bearer token.
  tokenProxy = await startProxy(open.url, {
    fail: ({ headers }) => (headers.authorization === `Bearer ${token}` ? undefined : 401),
  });
  // As an editor leaves them: with a final line break, which is not part of the secret.
  await writeFile(file('pg-password'), `${pgPassword}\n`, { mode: 0o600 });
  await writeFile(file('stick-password'), `${stickPassword}\n`, { mode: 0o600 });
  await writeFile(file('token'), `${token}\n`, { mode: 0o600 });
  await writeFile(
    file('targets'),
    `file-target=${stick.url.replace('//', `//admin:${encodeURIComponent(stickPassword)}@`)}\n`,
    { mode: 0o600 },
  );
  await mkdir(file('credentials'));
  await writeFile(join(file('credentials'), 'PUSHGATEWAY_PASSWORD'), pgPassword, { mode: 0o600 });
});
after(async () => {
  await Promise.all([basicPg.stop(), open.stop(), tokenProxy.close(), stick.close()]);
  await rm(dir, { recursive: true, force: true });
});

function assertNoSecret(text: string, where: string): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" in ${where}`);
}
function assertQuiet(result: CliResult): void {
  assertNoSecret(result.stdout, 'stdout');
  assertNoSecret(result.stderr, 'stderr');
}
async function basicGroup(instance: string) {
  const response = await fetch(`${basicPg.url}/api/v1/metrics`, { headers: pgHeader });
  const { data } = (await response.json()) as { data: { labels: Record<string, string> }[] };
  return data.find((group) => group.labels.instance === instance);
}
const stickWithPassword = () => stick.url.replace('//', `//admin:${encodeURIComponent(stickPassword)}@`);

describe('secrets from files', { concurrency: true }, () => {
  test('PUSHGATEWAY_PASSWORD_FILE', async () => {
    const result = await runCli(['-t', `pw-file=${stickWithPassword()}`, '-g', basicPg.url], {
      env: { PUSHGATEWAY_USERNAME: pgUser, PUSHGATEWAY_PASSWORD_FILE: file('pg-password') },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await basicGroup('pw-file'), 'not pushed');
    assertQuiet(result);
  });

  test('PUSHGATEWAY_PASSWORD as a systemd credential ($CREDENTIALS_DIRECTORY)', async () => {
    const result = await runCli(['-t', `credential=${stickWithPassword()}`, '-g', basicPg.url], {
      env: { PUSHGATEWAY_USERNAME: pgUser, CREDENTIALS_DIRECTORY: file('credentials') },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await basicGroup('credential'), 'not pushed');
    assertQuiet(result);
  });

  test('PUSHGATEWAY_BEARER_TOKEN_FILE', async () => {
    const result = await runCli(['-t', `token-file=${stickWithPassword()}`, '-g', tokenProxy.url], {
      env: { PUSHGATEWAY_BEARER_TOKEN_FILE: file('token') },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue(await open.group({ job: 'trucki', instance: 'token-file' }), 'trucki_up'), 1);
    assertQuiet(result);
  });

  test('TRUCKI_STICK_PASSWORD_FILE', async () => {
    const result = await runCli(['-t', `stick-pw-file=${stick.url}`, '-g', open.url], {
      env: { TRUCKI_STICK_USERNAME: 'admin', TRUCKI_STICK_PASSWORD_FILE: file('stick-password') },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue(await open.group({ job: 'trucki', instance: 'stick-pw-file' }), 'trucki_up'), 1);
    assertQuiet(result);
  });

  test("TRUCKI_TARGET_FILE, with the stick's password in the address", async () => {
    const result = await runCli(['-g', open.url], { env: { TRUCKI_TARGET_FILE: file('targets') } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue(await open.group({ job: 'trucki', instance: 'file-target' }), 'trucki_up'), 1);
    assertQuiet(result);
  });

  test('a loop with every secret from a file: none on its command line or in its log', async () => {
    const loop = await startCli(['-g', basicPg.url, '-s', '* * * * * *'], {
      env: {
        TRUCKI_TARGET: `loop-secrets=${stick.url}`,
        TRUCKI_STICK_USERNAME: 'admin',
        TRUCKI_STICK_PASSWORD_FILE: file('stick-password'),
        PUSHGATEWAY_USERNAME: pgUser,
        PUSHGATEWAY_PASSWORD_FILE: file('pg-password'),
        ...quickTicks,
      },
    });
    try {
      await loop.waitFor(/^stick loop-secrets .*; pushed$/m);
      const cmdline = (await readFile(`/proc/${loop.pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      assert.match(cmdline, /trucki2pushgateway/);
      assertNoSecret(cmdline, `/proc/${loop.pid}/cmdline`);
      assert.ok(await basicGroup('loop-secrets'), 'not pushed');
    } finally {
      await loop.stop();
    }
    assertNoSecret(loop.stderr(), "the loop's log");
  });
});
