/**
 * `trucki2pushgateway check` in-process, where no store program is needed: the configuration, a stick
 * that is not a Trucki, standard output and the textfile. test/e2e/check.test.ts runs the bundle
 * against a real Pushgateway, Prometheus and VictoriaMetrics.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCheck } from '../../src/check/command.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { assertWellFormed, marked } from '../helpers/check.js';
import { startScripted } from '../helpers/hostile.js';
import { freePort } from '../helpers/process.js';

interface Checked {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** check with `argv` after `check` and `env` as its whole environment: its exit status and what it printed. */
async function check(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Checked> {
  let stdout = '';
  let stderr = '';
  const io = {
    log: (line: string) => void (stderr += `${line}\n`),
    print: (text: string) => Promise.resolve(void (stdout += text)),
  };
  const code = await runCheck(['check', ...argv], env, io, () => Promise.resolve(0));
  return { code, stdout, stderr };
}

let stick: Simulator;
before(async () => {
  stick = await startSimulator({ variant: 'T2SG' });
});
after(() => stick?.close());

describe('the configuration', () => {
  test('an invalid one is a ✗ line naming the mistake; exit 2', async () => {
    const result = await check(['-t', stick.url]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stdout,
      '✗ configuration: --pushgateway / PUSHGATEWAY_URL is required (or use --victoriametrics, --stdout or --textfile), e.g. --pushgateway http://localhost:9091\n',
    );
  });

  test('PROMETHEUS_URL names the Prometheus of a check', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await check(['-t', stick.url, '--stdout', '--retries', '0'], { PROMETHEUS_URL: url });
    // --stdout has no Prometheus step: nothing to check beyond the stick.
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /^✓ standard output: nothing to check$/m);
  });
});

describe('a stick that is not a Trucki', () => {
  test('JSON with no key a Trucki sends: ✗ "is this a Trucki stick?", without the advice for a stick that is off', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', uptime: 12 }));
    });
    try {
      const result = await check(['-t', `router=${server.url}`, '--stdout']);
      assertWellFormed(result);
      assert.equal(result.code, 1);
      assert.deepEqual(marked(result, '✗'), [
        `✗ stick router (${server.url.replace('http://', '')}): /jsonlive answered JSON, but no Trucki key: is this a Trucki stick?`,
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('the textfile: node_exporter, another user, must reach and read it', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trucki-check-textfile-'));
    await chmod(dir, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('written, mode 0644, in a directory others may enter: ✓, exit 0', async () => {
    const file = join(dir, 'trucki.prom');
    const result = await check(['-t', stick.url, '--textfile', file]);
    assertWellFormed(result);
    assert.equal(result.code, 0, result.stdout);
    assert.match(
      result.stdout,
      new RegExp(
        `^✓ textfile ${file.replace(/[.]/g, '\\.')} written, mode 0644: node_exporter can read trucki\\.prom$`,
        'm',
      ),
    );
    assert.equal((await stat(file)).mode & 0o777, 0o644);
  });

  test('not named *.prom: ✗, the collector would never read it', async () => {
    const result = await check(['-t', stick.url, '--textfile', join(dir, 'trucki.txt')]);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^✗ textfile .*trucki\.txt: node_exporter's textfile collector reads only files named \*\.prom$/m,
    );
  });

  test('in a directory only its owner may enter: ✗ naming the directory', async () => {
    const closed = join(dir, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    const result = await check(['-t', stick.url, '--textfile', join(closed, 'trucki.prom')]);
    assert.equal(result.code, 1);
    assert.deepEqual(marked(result, '✗'), [
      `✗ textfile ${closed}/trucki.prom: directory ${closed} has mode 0700: node_exporter, running as another user, cannot reach the file; chmod o+x it`,
    ]);
  });
});
