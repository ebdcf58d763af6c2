/**
 * Credentials in addresses (issue 9.2): passwords holding , = @ # / : (and ?), raw and
 * percent-encoded, in a stick's address and in the Pushgateway URL. A raw character that would cut the address or the target
 * list is refused with exit 2 and a hint to percent-encode; no piece of a password ever reaches a
 * log line, a label or the Pushgateway, and never becomes a stick of its own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

/** Each password is two marked halves around the character, so that either half can be looked for. */
const specials = [',', '=', '@', '#', '/', ':', '?'] as const;
const password = (c: string) => `left7q${c}right9z`;
const halves = ['left7q', 'right9z'];
/** Characters that leave the address or the list unambiguous when raw. */
const rawFineForStick = new Set(['=', '@', ':']);
const rawFineForPushgateway = new Set(['=', '@', ':', ',']);
const userOf = (c: string) => `user${specials.indexOf(c as never)}`;

let dir: string;
let pushgateway: RunningPushgateway;
let open: RunningPushgateway;
const sticks = new Map<string, Simulator>();
const authHeader = (c: string) => ({
  authorization: `Basic ${Buffer.from(`${userOf(c)}:${password(c)}`).toString('base64')}`,
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trucki-auth-'));
  // bcrypt hashes as the Pushgateway's web config wants them, from apache2-utils' htpasswd (cost 4: tests only).
  const users = specials.map((c) => {
    const line = execFileSync('htpasswd', ['-nbBC', '4', userOf(c), password(c)], { encoding: 'utf8' }).trim();
    return `  ${userOf(c)}: "${line.slice(line.indexOf(':') + 1)}"`;
  });
  const config = join(dir, 'web.yml');
  await writeFile(config, `basic_auth_users:\n${users.join('\n')}\n`);
  [pushgateway, open] = await Promise.all([startPushgateway([`--web.config.file=${config}`]), startPushgateway()]);
  for (const c of specials)
    sticks.set(c, await startSimulator({ variant: 'T2SG', auth: { username: 'admin', password: password(c) } }));
});
after(async () => {
  await Promise.all([pushgateway.stop(), open.stop(), ...[...sticks.values()].map((stick) => stick.close())]);
  await rm(dir, { recursive: true, force: true });
});

function assertNoPiece(text: string, where: string): void {
  for (const half of halves)
    assert.ok(!text.includes(half), `a piece of the password ("${half}") in ${where}:\n${text.slice(0, 2000)}`);
}
function assertQuiet(result: CliResult): void {
  assertNoPiece(result.stdout, 'stdout');
  assertNoPiece(result.stderr, 'stderr');
}
async function pushgatewayText(pg: RunningPushgateway, headers: Record<string, string> = {}): Promise<string> {
  const [metrics, api] = await Promise.all([
    fetch(`${pg.url}/metrics`, { headers }),
    fetch(`${pg.url}/api/v1/metrics`, { headers }),
  ]);
  assert.equal(metrics.status, 200);
  return `${await metrics.text()}\n${await api.text()}`;
}
const stickAddress = (c: string, encoded: boolean) =>
  sticks.get(c)!.url.replace('//', `//admin:${encoded ? encodeURIComponent(password(c)) : password(c)}@`);
const name = (c: string) => `pw${specials.indexOf(c as never)}`;

describe("a stick's password", { concurrency: true }, () => {
  for (const c of specials) {
    test(`holding "${c}", percent-encoded: the stick gets the right basic auth, nothing leaks`, async () => {
      const instance = `${name(c)}-enc`;
      const result = await runCli(['-t', `${instance}=${stickAddress(c, true)}`, '-g', open.url, '--retries', '0']);
      // The simulator answers 401 to any other credentials.
      assert.equal(result.code, 0, result.stderr);
      assert.ok(sticks.get(c)!.requests.includes('GET /jsonlive'));
      assertQuiet(result);
      assert.ok((await pushgatewayText(open)).includes(`instance="${instance}"`));
      assertNoPiece(await pushgatewayText(open), 'the Pushgateway');
    });

    if (rawFineForStick.has(c)) {
      test(`holding "${c}", raw: unambiguous, so it works`, async () => {
        const instance = `${name(c)}-raw`;
        const result = await runCli(['-t', `${instance}=${stickAddress(c, false)}`, '-g', open.url, '--retries', '0']);
        assert.equal(result.code, 0, result.stderr);
        assertQuiet(result);
        assertNoPiece(await pushgatewayText(open), 'the Pushgateway');
      });
    } else {
      // "0917,right9z": the half before the comma reads as a port, as in the issue's report.
      const forms = c === ',' ? ['alone', 'in a list', 'with a port-like first half'] : ['alone', 'in a list'];
      for (const form of forms) {
        test(`holding "${c}", raw, ${form}: exit 2 with a hint to percent-encode, no piece used or shown`, async () => {
          const instance = `${name(c)}-raw-${form.split(' ').at(-1)}`;
          const secret = form.startsWith('with') ? `0917${c}right9z` : password(c);
          // A stick of its own, so that no other test's reads are counted.
          const own = await startSimulator({ variant: 'T2SG', auth: { username: 'admin', password: secret } });
          try {
            const raw = own.url.replace('//', `//admin:${secret}@`);
            const list = form !== 'in a list' ? `${instance}=${raw}` : `other=${own.url},${instance}=${raw}`;
            const result = await runCli(['-t', list, '-g', open.url, '--retries', '0']);
            assertQuiet(result);
            assertNoPiece(await pushgatewayText(open), 'the Pushgateway');
            assert.deepEqual(own.requests, [], 'a stick was read though the list was refused');
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, /percent-encode/);
          } finally {
            await own.close();
          }
        });
      }
    }
  }
});

describe("the Pushgateway's password (--web.config.file basic auth)", { concurrency: true }, () => {
  const stickUrl = () => sticks.get(',')!.url.replace('//', `//admin:${encodeURIComponent(password(','))}@`);
  const pgAddress = (c: string, encoded: boolean) =>
    pushgateway.url.replace('//', `//${userOf(c)}:${encoded ? encodeURIComponent(password(c)) : password(c)}@`);

  test('the Pushgateway really requires it', async () => {
    assert.equal((await fetch(`${pushgateway.url}/api/v1/metrics`)).status, 401);
  });

  for (const c of specials) {
    test(`holding "${c}", percent-encoded in the URL: pushed, nothing leaks`, async () => {
      const instance = `pg${specials.indexOf(c)}-enc`;
      const result = await runCli(['-t', `${instance}=${stickUrl()}`, '-g', pgAddress(c, true), '--retries', '0']);
      assert.equal(result.code, 0, result.stderr);
      assertQuiet(result);
      const text = await pushgatewayText(pushgateway, authHeader(c));
      assert.ok(text.includes(`instance="${instance}"`), 'not pushed');
      assertNoPiece(text, 'the Pushgateway');
    });

    test(`holding "${c}", raw in the URL: ${rawFineForPushgateway.has(c) ? 'unambiguous, so it works' : 'exit 2 with a hint to percent-encode'}`, async () => {
      const instance = `pg${specials.indexOf(c)}-raw`;
      const result = await runCli(['-t', `${instance}=${stickUrl()}`, '-g', pgAddress(c, false), '--retries', '0']);
      assertQuiet(result);
      const text = await pushgatewayText(pushgateway, authHeader(c));
      assertNoPiece(text, 'the Pushgateway');
      if (rawFineForPushgateway.has(c)) {
        assert.equal(result.code, 0, result.stderr);
        assert.ok(text.includes(`instance="${instance}"`), 'not pushed');
      } else {
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /percent-encode/);
      }
    });
  }
});
