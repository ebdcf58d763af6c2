/**
 * Authentication towards the Pushgateway and the stick, against the real Pushgateway (basic auth
 * and TLS from --web.config.file), and proof that no secret reaches any output.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { freePort } from '../helpers/process.js';
import { makeCertificates, type Certificates } from '../helpers/tls.js';

const pgUser = 'pguser';
const pgPassword = 'pg-test-password';
/** bcrypt of pgPassword (cost 4, test only), as the Pushgateway's web config wants it. */
const pgPasswordHash = '$2b$04$tB7.xbfKuVizqyIHW6fh3O5asN7/h8vOjTT9rGD8D.1LWJrKAjqrG';
const stickUser = 'admin';
const stickPassword = 'stick-pa:ss@word,1';
const bearerToken = 'bearer-test-token-7f3a';
const simulatorSecrets = /sim-[a-z]+-secret-\d/;
const allSecrets = [
  pgPassword,
  stickPassword,
  encodeURIComponent(stickPassword),
  bearerToken,
  Buffer.from(`${pgUser}:${pgPassword}`).toString('base64'),
];

function assertNoSecret(text: string, where: string): void {
  assert.doesNotMatch(text, simulatorSecrets, `a /jsononce secret in ${where}`);
  for (const secret of allSecrets) assert.ok(!text.includes(secret), `"${secret}" in ${where}`);
}
function assertQuiet(result: CliResult, where: string): void {
  assertNoSecret(result.stdout, `${where}: stdout`);
  assertNoSecret(result.stderr, `${where}: stderr`);
}

const authHeader = { authorization: `Basic ${Buffer.from(`${pgUser}:${pgPassword}`).toString('base64')}` };
const stickUrl = (stick: Simulator, password = stickPassword) =>
  stick.url.replace('//', `//${stickUser}:${encodeURIComponent(password)}@`);

let certificates: Certificates;
let basicPg: RunningPushgateway;
let tlsPg: RunningPushgateway;
let stick: Simulator;
before(async () => {
  certificates = await makeCertificates();
  const basicConfig = join(certificates.dir, 'basic.yml');
  await writeFile(basicConfig, `basic_auth_users:\n  ${pgUser}: ${pgPasswordHash}\n`);
  const tlsConfig = join(certificates.dir, 'tls.yml');
  await writeFile(
    tlsConfig,
    `tls_server_config:\n  cert_file: ${certificates.certFile}\n  key_file: ${certificates.keyFile}\n`,
  );
  basicPg = await startPushgateway([`--web.config.file=${basicConfig}`]);
  tlsPg = await startPushgateway([`--web.config.file=${tlsConfig}`], 'https');
  stick = await startSimulator({ variant: 'T2SG', auth: { username: stickUser, password: stickPassword } });
});
after(async () => {
  await Promise.all([basicPg.stop(), tlsPg.stop(), stick.close()]);
  await rm(certificates.dir, { recursive: true, force: true });
});

async function basicGroup(instance: string) {
  const response = await fetch(`${basicPg.url}/api/v1/metrics`, { headers: authHeader });
  assert.equal(response.status, 200);
  const { data } = (await response.json()) as { data: { labels: Record<string, string> }[] };
  return data.find((group) => group.labels.instance === instance);
}

describe('basic auth on the Pushgateway (--web.config.file)', () => {
  test('the Pushgateway really requires it', async () => {
    assert.equal((await fetch(`${basicPg.url}/api/v1/metrics`)).status, 401);
  });

  test("from the URL's user info", async () => {
    const result = await runCli([
      '-t',
      `url-auth=${stickUrl(stick)}`,
      '-g',
      basicPg.url.replace('//', `//${pgUser}:${pgPassword}@`),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue((await basicGroup('url-auth')) as never, 'trucki_up'), 1);
    assertQuiet(result, 'basic auth from URL');
  });

  test('from PUSHGATEWAY_USERNAME / PUSHGATEWAY_PASSWORD', async () => {
    const result = await runCli(['-t', `env-auth=${stickUrl(stick)}`, '-g', basicPg.url], {
      env: { PUSHGATEWAY_USERNAME: pgUser, PUSHGATEWAY_PASSWORD: pgPassword },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue((await basicGroup('env-auth')) as never, 'trucki_up'), 1);
    assertQuiet(result, 'basic auth from env');
  });

  test('a wrong password: 401, not retried, exit 1, and no password in the message', async () => {
    const result = await runCli(['-t', stickUrl(stick), '-g', basicPg.url, '--retries', '2'], {
      env: { PUSHGATEWAY_USERNAME: pgUser, PUSHGATEWAY_PASSWORD: `${pgPassword}-wrong` },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not pushed: Pushgateway http:\/\/127\.0\.0\.1:\d+\/ refused the push with HTTP 401/);
    assert.doesNotMatch(result.stderr, /attempts/);
    assert.ok(!result.stderr.includes(`${pgPassword}-wrong`));
  });

  test('the last success is read back with the same credentials when the stick is down', async () => {
    const pg = basicPg.url.replace('//', `//${pgUser}:${pgPassword}@`);
    assert.equal((await runCli(['-t', `recall=${stickUrl(stick)}`, '-g', pg])).code, 0);
    const before = sampleValue(await basicGroup('recall'), 'trucki_last_success_timestamp_seconds');
    const down = await runCli(['-t', `recall=127.0.0.1:${await freePort()}`, '-g', pg, '--retries', '0']);
    assert.equal(down.code, 69);
    assert.match(down.stderr, /pushed trucki_up 0/);
    assert.equal(sampleValue((await basicGroup('recall')) as never, 'trucki_last_success_timestamp_seconds'), before);
    assertQuiet(down, 'stick down with auth');
  });
});

describe('https Pushgateway with a custom CA', () => {
  test('PUSHGATEWAY_CA_FILE makes its certificate trusted', async () => {
    const result = await runCli(['-t', `tls=${stickUrl(stick)}`, '-g', tlsPg.url], {
      env: { PUSHGATEWAY_CA_FILE: certificates.caFile },
    });
    assert.equal(result.code, 0, result.stderr);
    // Read back over TLS with the same CA, from this process.
    const { Agent } = await import('node:https');
    const { readFile } = await import('node:fs/promises');
    const agent = new Agent({ ca: await readFile(certificates.caFile) });
    const body = await new Promise<string>((resolve, reject) => {
      import('node:https')
        .then(({ get }) =>
          get(`${tlsPg.url}/api/v1/metrics`, { agent }, (response) => {
            let text = '';
            response
              .on('data', (chunk: Buffer) => {
                text += chunk.toString();
              })
              .on('end', () => {
                resolve(text);
              });
          }).on('error', reject),
        )
        .catch(reject);
    });
    assert.match(body, /"instance":"tls"/);
  });

  test('without the CA: exit 1 naming the untrusted certificate', async () => {
    const result = await runCli(['-t', stickUrl(stick), '-g', tlsPg.url, '--retries', '0']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /not pushed: Pushgateway https:\/\/127\.0\.0\.1:\d+\/ has a TLS certificate that cannot be trusted \(\w+\)/,
    );
  });

  test('an unreadable CA file is a usage error naming the variable', async () => {
    const result = await runCli(['-t', stickUrl(stick), '-g', tlsPg.url], {
      env: { PUSHGATEWAY_CA_FILE: '/nonexistent/ca.pem' },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PUSHGATEWAY_CA_FILE "\/nonexistent\/ca\.pem" cannot be read \(ENOENT\)/);
  });
});

describe('bearer token', () => {
  test('PUSHGATEWAY_BEARER_TOKEN is sent as Authorization: Bearer', async () => {
    // The Pushgateway checks no bearer tokens itself; a gate in front of it does, as a proxy would.
    const plain = await startPushgateway();
    const gate = await startProxy(plain.url, {
      fail: (seen) => (seen.headers.authorization === `Bearer ${bearerToken}` ? undefined : 401),
    });
    try {
      const result = await runCli(['-t', `bearer=${stickUrl(stick)}`, '-g', gate.url], {
        env: { PUSHGATEWAY_BEARER_TOKEN: bearerToken },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(sampleValue(await plain.group({ job: 'trucki', instance: 'bearer' }), 'trucki_up'), 1);
      assertQuiet(result, 'bearer');
      const denied = await runCli(['-t', stickUrl(stick), '-g', gate.url]);
      assert.equal(denied.code, 1);
    } finally {
      await gate.close();
      await plain.stop();
    }
  });

  test('a line break in PUSHGATEWAY_BEARER_TOKEN: exit 2 in words, no ERR_INVALID_CHAR', async () => {
    const result = await runCli(['-t', `token-nl=${stickUrl(stick)}`, '-g', basicPg.url], {
      env: { PUSHGATEWAY_BEARER_TOKEN: 'abc\ndef-token-secret' },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.doesNotMatch(result.stderr, /ERR_INVALID_CHAR/);
    assert.match(result.stderr, /PUSHGATEWAY_BEARER_TOKEN.*line break/);
    assert.doesNotMatch(result.stderr, /def-token-secret/);
  });
});

describe('basic auth towards the stick', () => {
  test('a wrong stick password: exit 69, up 0, and the password appears nowhere', async () => {
    const pg = basicPg.url.replace('//', `//${pgUser}:${pgPassword}@`);
    const result = await runCli(['-t', `wrong=${stickUrl(stick, 'nope-not-it')}`, '-g', pg]);
    assert.equal(result.code, 69);
    assert.match(result.stderr, /stick wrong \(127\.0\.0\.1:\d+\): failed, answered HTTP 401/);
    assert.ok(!result.stderr.includes('nope-not-it'));
    assert.equal(sampleValue((await basicGroup('wrong')) as never, 'trucki_up'), 0);
  });
});

describe('no secret on any output path', () => {
  test("push: nothing of /jsononce's secrets or any credential lands on the Pushgateway", async () => {
    const pg = basicPg.url.replace('//', `//${pgUser}:${pgPassword}@`);
    const result = await runCli(['-t', `secrets=${stickUrl(stick)}`, '-g', pg]);
    assert.equal(result.code, 0, result.stderr);
    const exposition = await (await fetch(`${basicPg.url}/metrics`, { headers: authHeader })).text();
    assert.match(exposition, /trucki_stick_info\{device="T2SGA55A69"/, 'the run did push /jsononce data');
    assertNoSecret(exposition, 'the Pushgateway');
    assertQuiet(result, 'push');
  });

  test('--stdout: exposition and log', async () => {
    const result = await runCli(['-t', stickUrl(stick), '--stdout']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /trucki_config_max_power_watts 1000/);
    assertQuiet(result, '--stdout');
  });

  test('errors: unreachable Pushgateway with credentials in its URL, stick down with credentials', async () => {
    const port = await freePort();
    const result = await runCli(
      [
        '-t',
        `http://${stickUser}:${encodeURIComponent(stickPassword)}@127.0.0.1:${await freePort()}`,
        '-g',
        `http://${pgUser}:${pgPassword}@127.0.0.1:${port}`,
        '--retries',
        '0',
      ],
      { env: { PUSHGATEWAY_BEARER_TOKEN: '' } },
    );
    assert.equal(result.code, 1);
    assertQuiet(result, 'errors');
  });

  test('configuration errors never echo a credential', async () => {
    for (const args of [
      ['-t', `http://${stickUser}:${encodeURIComponent(stickPassword)}@[bad`, '--stdout'],
      ['-t', stickUrl(stick), '-g', `ftp://${pgUser}:${pgPassword}@127.0.0.1:1`],
      ['-t', stickUrl(stick), '-g', `http://${pgUser}:${pgPassword}@127.0.0.1:1`],
    ]) {
      const result = await runCli(args, { env: { PUSHGATEWAY_BEARER_TOKEN: bearerToken } });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assertQuiet(result, 'configuration error');
    }
  });

  test('check: its lines, the run it makes, a Prometheus with credentials, a configuration error', async () => {
    const pg = basicPg.url.replace('//', `//${pgUser}:${pgPassword}@`);
    const prometheus = `http://${pgUser}:${pgPassword}@127.0.0.1:${await freePort()}`;
    const args = [
      'check',
      '-t',
      `secrets=${stickUrl(stick)}`,
      '-g',
      pg,
      '--prometheus-url',
      prometheus,
      '--retries',
      '0',
    ];
    const result = await runCli(args);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stdout, /^✓ Pushgateway .* took the push of 1 stick/m);
    assertQuiet(result, 'check');
    const invalid = await runCli(['check', '-t', stickUrl(stick), '-g', `ftp://${pgUser}:${pgPassword}@127.0.0.1:1`]);
    assert.equal(invalid.code, 2, invalid.stdout);
    assertQuiet(invalid, 'check: configuration error');
  });
});
