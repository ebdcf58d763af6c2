/**
 * Issue 9, items 1, 5 and 8-13 and 15: each test starts the real bundled command (or simulator)
 * and fails on the build before the fixes (TRUCKI_JOB_BUNDLE=<old dist>/trucki2pushgateway.js).
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type StdioOptions } from 'node:child_process';
import { lstat, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { emptyDir, runCli, startCli } from './helpers/cli.js';
import { jobBundle, simulatorBundle } from './helpers/paths.js';
import { freePort } from './helpers/process.js';
import { startProxy, type Proxy } from './helpers/proxy.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';
import { healthyExposition, putGroup, withLastSuccess } from './helpers/seed.js';

let pushgateway: RunningPushgateway;
let stick: Simulator;
let dir: string;
before(async () => {
  [pushgateway, stick, dir] = await Promise.all([
    startPushgateway(),
    startSimulator({ variant: 'T2SG' }),
    mkdtemp(join(tmpdir(), 'trucki-field-')),
  ]);
});
after(async () => {
  await Promise.all([pushgateway.stop(), stick.close(), rm(dir, { recursive: true, force: true })]);
});

const noStack = (text: string) => {
  assert.doesNotMatch(text, /^\s+at /m, `a stack trace:\n${text}`);
};
/** A loopback port nothing listens on: a stick that refuses the connection. */
const deadStick = async () => `127.0.0.1:${await freePort()}`;

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

describe('1. a push answered with a redirect is a failure, not "pushed"', { concurrency: true }, () => {
  for (const status of [301, 302, 303, 304, 307, 308]) {
    test(`HTTP ${status} to the PUT: exit 1, the log names where it pointed, without credentials`, async () => {
      const proxy = await startProxy(pushgateway.url, {
        fail: ({ method }) =>
          method === 'PUT'
            ? {
                status,
                headers: { location: 'http://user:redirect-secret@moved.example:9091/new/base/metrics/job/trucki' },
              }
            : undefined,
      });
      try {
        const instance = `redirected-${status}`;
        const result = await runCli(['-t', `${instance}=${stick.url}`, '-g', proxy.url]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /redirect/i);
        assert.match(result.stderr, /moved\.example:9091\/new\/base/);
        assert.doesNotMatch(result.stderr, /redirect-secret|user:/);
        assert.doesNotMatch(result.stderr, /; pushed$/m);
        assert.equal(
          await pushgateway.group({ job: 'trucki', instance }),
          undefined,
          'nothing reached the Pushgateway',
        );
      } finally {
        await proxy.close();
      }
    });
  }

  test('a redirect of the DELETE (--delete-on-exit) is reported as a failed deletion', async () => {
    const proxy = await startProxy(pushgateway.url, {
      fail: ({ method }) =>
        method === 'DELETE' ? { status: 308, headers: { location: '/elsewhere/metrics/job/trucki' } } : undefined,
    });
    try {
      const loop = await startCli([
        '-t',
        `redirected-delete=${stick.url}`,
        '-g',
        proxy.url,
        '-s',
        '* * * * * *',
        '--delete-on-exit',
      ]);
      await loop.waitFor(/; pushed$/m);
      await loop.stop();
      assert.match(loop.stderr(), /could not delete its group: .*redirect/i);
      assert.doesNotMatch(loop.stderr(), /deleted its group/);
      assert.notEqual(await pushgateway.group({ job: 'trucki', instance: 'redirected-delete' }), undefined);
    } finally {
      await proxy.close();
    }
  });

  test('a redirect of the read-back is no last success: the group still gets trucki_up 0', async () => {
    const instance = 'redirected-read-back';
    await putGroup(
      pushgateway.url,
      `/metrics/job/trucki/instance/${instance}`,
      withLastSuccess(await healthyExposition(stick.url), 1700000000),
    );
    const proxy = await startProxy(pushgateway.url, {
      fail: ({ method }) =>
        method === 'GET' ? { status: 302, headers: { location: 'http://moved.example/login' } } : undefined,
    });
    try {
      const result = await runCli(['-t', `${instance}=${await deadStick()}`, '-g', proxy.url, '--retries', '0']);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /redirect/i);
      const group = await pushgateway.group({ job: 'trucki', instance });
      assert.equal(sampleValue(group, 'trucki_up'), 0, 'the stale trucki_up 1 survived');
      assert.equal(sampleValue(group, 'trucki_grid_voltage_volts'), undefined, 'a stale reading survived');
    } finally {
      await proxy.close();
    }
  });
});

describe('5. repeated -t and --grouping accumulate', { concurrency: true }, () => {
  test('-t one=… -t two=… reads and pushes both', async () => {
    const result = await runCli(['-t', `rep-one=${stick.url}`, '-t', `rep-two=${stick.url}`, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'rep-one' }), 'trucki_up'), 1);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'rep-two' }), 'trucki_up'), 1);
  });

  test('--grouping a=1 --grouping b=2 gives both labels', async () => {
    const result = await runCli([
      '-t',
      `rep-grouping=${stick.url}`,
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

describe('8. a closed or full stdout, a closed stderr', { concurrency: true }, () => {
  test('--stdout into a closed pipe (`| true`): one line, exit 1, no stack trace', async () => {
    const result = await spawnJob(['-t', `pipe=${stick.url}`, '--stdout'], ['ignore', 'pipe', 'pipe'], (child) =>
      child.stdout!.destroy(),
    );
    assert.equal(result.code, 1, result.stderr);
    noStack(result.stderr);
    assert.match(result.stderr, /standard output|stdout/);
  });

  test('--stdout > /dev/full: one line naming it, exit 1, no stack trace', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const result = await spawnJob(['-t', `full=${stick.url}`, '--stdout'], ['ignore', full.fd, 'pipe']);
      assert.equal(result.code, 1, result.stderr);
      noStack(result.stderr);
      assert.match(result.stderr, /standard output.*no space left/);
    } finally {
      await full.close();
    }
  });

  test('a closed stderr does not change the status of a good run', async () => {
    const result = await spawnJob(
      ['-t', `closed-stderr=${stick.url}`, '-g', pushgateway.url],
      ['ignore', 'ignore', 'pipe'],
      (child) => child.stderr!.destroy(),
    );
    assert.equal(result.code, 0);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'closed-stderr' }), 'trucki_up'), 1);
  });
});

describe('9-11. clear errors instead of raw codes', { concurrency: true }, () => {
  test('9. a schedule that never fires (0 0 30 2 *): exit 2 naming the pattern', async () => {
    const result = await runCli(['-t', stick.url, '-g', pushgateway.url, '--schedule', '0 0 30 2 *'], {
      timeoutMs: 10_000,
    });
    assert.equal(result.code, 2, `${result.signal ?? ''} ${result.stderr}`);
    assert.match(result.stderr, /"0 0 30 2 \*"/);
    assert.match(result.stderr, /never fires/);
    noStack(result.stderr);
  });

  test('10. --timeout 3000000000: exit 2 with the allowed range, no Node warning', async () => {
    const result = await runCli(['-t', stick.url, '--stdout', '--timeout', '3000000000'], { timeoutMs: 20_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--timeout must be a whole number from 1 to \d+/);
    assert.doesNotMatch(result.stderr, /Warning|TimeoutOverflow/);
  });

  test('11. an https URL for an http stick: a hint, no EPROTO', async () => {
    const result = await runCli([
      '-t',
      `tls-stick=${stick.url.replace('http:', 'https:')}`,
      '--stdout',
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /EPROTO|ERR_SSL/);
    assert.match(result.stderr, /not https|is it http/);
  });

  test('11. an https URL for an http Pushgateway: a hint, no EPROTO', async () => {
    const result = await runCli([
      '-t',
      `tls-pg=${stick.url}`,
      '-g',
      pushgateway.url.replace('http:', 'https:'),
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /EPROTO|ERR_SSL/);
    assert.match(result.stderr, /not https|is it http/);
  });

  test('11. a line break in PUSHGATEWAY_BEARER_TOKEN: exit 2 in words, no ERR_INVALID_CHAR', async () => {
    const result = await runCli(['-t', `token-nl=${stick.url}`, '-g', pushgateway.url], {
      env: { PUSHGATEWAY_BEARER_TOKEN: 'abc\ndef-token-secret' },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.doesNotMatch(result.stderr, /ERR_INVALID_CHAR/);
    assert.match(result.stderr, /PUSHGATEWAY_BEARER_TOKEN.*line break/);
    assert.doesNotMatch(result.stderr, /def-token-secret/);
  });

  test('11. HTML from the read-back: words, no ERR_BODY_PARSE_FAILURE', async () => {
    let proxy: Proxy | undefined;
    try {
      proxy = await startProxy(pushgateway.url, {
        fail: ({ method }) =>
          method === 'GET'
            ? {
                status: 200,
                headers: { 'content-type': 'text/html' },
                body: '<!DOCTYPE html><html><body>Login</body></html>',
              }
            : undefined,
      });
      const result = await runCli(['-t', `html-read-back=${await deadStick()}`, '-g', proxy.url, '--retries', '0']);
      assert.equal(result.code, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /ERR_BODY_PARSE_FAILURE|Unexpected token/);
      assert.match(result.stderr, /text\/html.*base URL/);
      assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'html-read-back' }), 'trucki_up'), 0);
    } finally {
      await proxy?.close();
    }
  });

  test('11. -g http://host:port/metrics: a hint that the URL is the base', async () => {
    const result = await runCli([
      '-t',
      `metrics-suffix=${stick.url}`,
      '-g',
      `${pushgateway.url}/metrics`,
      '--retries',
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /base URL/);
  });
});

describe('12. a line break in an instance name stays escaped', { concurrency: true }, () => {
  const name = 'nl\nforged_metric 1';
  test('in --stdout output and the log line, as -t name=', async () => {
    const result = await runCli(['-t', `${name}=${stick.url}`, '--stdout']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /^forged_metric/m, 'a line injected into the exposition');
    assert.doesNotMatch(result.stderr, /^forged_metric/m, 'the log line split');
    assert.match(result.stdout, /^# stick nl\\nforged_metric 1$/m);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });

  test('in the log line, as --instance, when pushing', async () => {
    const result = await runCli(['-t', stick.url, '--instance', name, '-g', pushgateway.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /^forged_metric/m, 'the log line split');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
});

describe('13. --textfile replaces only a regular file', { concurrency: true }, () => {
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

describe("15. the simulator's command line", { concurrency: true }, () => {
  const simulator = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [simulatorBundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // A serving simulator announces itself: that is all this test needs from it.
        if (/serving/.test(stderr)) child.kill('SIGTERM');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  test('an IPv6 host is announced as http://[::1]:port', async () => {
    const result = await simulator(['--host', '::1', '--port', '0']);
    assert.match(result.stderr, /http:\/\/\[::1\]:\d+/);
  });

  test('--help prints the usage and exits 0', async () => {
    const result = await simulator(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /usage/i);
    assert.doesNotMatch(result.stderr, /serving/);
  });

  test('an unknown flag is exit 2', async () => {
    const result = await simulator(['--bogus']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /bogus/);
  });
});
