/**
 * V8's code of dist/program.js kept between starts, made on this machine by this Node (the launcher,
 * src/launcher.ts): the launcher's code cache file in the cache directory ($CACHE_DIRECTORY,
 * systemd's CacheDirectory=), written by a run of the job, not by --version; without a cache
 * directory, Node's own compile cache (Node >= 22.1) only where NODE_COMPILE_CACHE says, never in
 * the shared temp directory. Whatever lies where the cache belongs (nothing, another build's or
 * Node's cache, damaged bytes, a pipe, a device, a link, a directory, a file not this user's alone),
 * a cache directory that cannot be written, and one that others could change (said in one line), the
 * run is a plain start: exit 0, the stick pushed, no crash, no hang. Runs on every Node of the suite.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const hasCompileCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trucki-compile-cache-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Every file under `path`, relative to it. */
async function files(path: string): Promise<string[]> {
  return (await readdir(path, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

/** What the launcher says became of the program's cache (NODE_DEBUG=trucki-code-cache). */
const verdict = (stderr: string) => /code cache for \S*program\.js was (\w+)/.exec(stderr)?.[1];
const debugEnv = { NODE_DEBUG: 'trucki-code-cache' };

test(
  "without a cache directory, Node's own compile cache where NODE_COMPILE_CACHE says",
  { skip: !hasCompileCache && 'this Node has no compile cache' },
  async () => {
    const cache = join(dir, 'node');
    const result = await runCli(['--version'], { env: { NODE_COMPILE_CACHE: cache } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await files(cache)).length > 0, 'no cache file written');
  },
);

test(
  "without a cache directory, nothing in the temp directory, which every user can write (Node's compile cache is not turned on there)",
  { skip: !hasCompileCache && 'this Node has no compile cache' },
  async () => {
    const temp = await mkdtemp(join(dir, 'tmp-'));
    for (const args of [['--version'], ['-t', '127.0.0.1:9', '--stdout', '--retries', '0']]) {
      const result = await runCli(args, { env: { TMPDIR: temp } });
      assert.notEqual(result.code, null, result.stderr);
    }
    assert.deepEqual(await readdir(temp), []);
  },
);

describe('the code cache in the cache directory', () => {
  const cacheName = `program-${process.version}-${process.arch}.v8cache`;
  let stick: Simulator;
  let pushgateway: RunningPushgateway;
  let good: Buffer;
  before(async () => {
    stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
    pushgateway = await startPushgateway();
  });
  after(async () => {
    await stick.close();
    await pushgateway.stop();
  });

  const pushTime = async () =>
    sampleValue(await pushgateway.group({ job: 'trucki', instance: 'roof' }), 'push_time_seconds');

  /** One run with `cache` as CACHE_DIRECTORY: exit 0 and a new push, or the test fails. */
  async function runJob(cache: string): Promise<CliResult> {
    const before = await pushTime();
    const result = await runCli(['--target', `roof=${stick.url}`, '--pushgateway', pushgateway.url], {
      env: { CACHE_DIRECTORY: cache, ...debugEnv },
      timeoutMs: 20_000,
    });
    assert.equal(result.code, 0, `exit ${result.code ?? result.signal}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /internal error|Fatal error|Error:/);
    const after = await pushTime();
    assert.ok(after !== undefined && (before === undefined || after > before), 'the run pushed nothing');
    return result;
  }

  /** A cache directory holding `put` where the cache belongs; the run is plain, then the cache is sound again. */
  async function plainThenRepaired(put: (file: string) => Promise<unknown>, expected = 'missing'): Promise<void> {
    const cache = await mkdtemp(join(dir, 'case-'));
    await put(join(cache, cacheName));
    assert.equal(verdict((await runJob(cache)).stderr), expected);
    assert.equal(verdict((await runJob(cache)).stderr), 'accepted');
  }

  test('--version keeps no cache; the first run of the job keeps one, the second takes it', async () => {
    const cache = join(dir, 'good');
    await mkdir(cache);
    const version = await runCli(['--version'], { env: { CACHE_DIRECTORY: cache, ...debugEnv } });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(verdict(version.stderr), undefined, '--version looked for a cache');
    assert.deepEqual(await files(cache), []);
    assert.equal(verdict((await runJob(cache)).stderr), 'missing');
    assert.equal(verdict((await runJob(cache)).stderr), 'accepted');
    good = await readFile(join(cache, cacheName));
  });

  test('the cache the first run wrote is stamped for this program and Node', () => {
    assert.match(
      good.toString('latin1', 0, 120),
      new RegExp(`^trucki2pushgateway [0-9a-f]{16} ${process.version} ${process.arch} crc32=\\d+\\n`),
    );
  });

  test('another build of the program: not taken', () =>
    plainThenRepaired((file) =>
      writeFile(
        file,
        Buffer.from(good.toString('latin1').replace(/^(\S+ )[0-9a-f]{16}/, '$10000000000000000'), 'latin1'),
      ),
    ));

  test('another Node version: not taken', () =>
    plainThenRepaired((file) =>
      writeFile(file, Buffer.from(good.toString('latin1').replace(` ${process.version} `, ' v20.0.0 '), 'latin1')),
    ));

  test("bytes changed inside V8's data (it would crash Node): not taken", () =>
    plainThenRepaired((file) => {
      const damaged = Buffer.from(good);
      for (let at = damaged.length >> 1; at < (damaged.length >> 1) + 256; at++) damaged[at]! ^= 0x5a;
      return writeFile(file, damaged);
    }));

  test('cut short: not taken', () => plainThenRepaired((file) => writeFile(file, good.subarray(0, good.length >> 1))));

  test("V8's cache of another script, stamped right: V8 rejects it", () =>
    plainThenRepaired((file) => {
      const other = new Script('(function () { return 1; })').createCachedData();
      const stamp = good.toString('latin1', 0, good.indexOf(10)).replace(/crc32=\d+$/, '');
      return writeFile(file, Buffer.concat([Buffer.from(`${stamp}crc32=${crc32(other)}\n`, 'latin1'), other]));
    }, 'rejected'));

  test('a named pipe: not opened to wait on, replaced', () =>
    plainThenRepaired((file) => {
      execFileSync('mkfifo', [file]);
      return Promise.resolve();
    }));

  test('a link to /dev/zero: not followed', () => plainThenRepaired((file) => symlink('/dev/zero', file)));

  test('a link to a sound cache elsewhere: not followed, and what it points to is left alone', async () => {
    const elsewhere = join(dir, 'elsewhere.v8cache');
    await writeFile(elsewhere, good);
    await plainThenRepaired((file) => symlink(elsewhere, file));
    assert.deepEqual(await readFile(elsewhere), good);
  });

  // Tests run as root here: "another user" is uid 65534.
  test("a sound cache that is another user's: not taken, replaced", () =>
    plainThenRepaired(async (file) => {
      await writeFile(file, good);
      await chown(file, 65534, 65534);
    }));

  test('a sound cache that others can write: not taken, replaced', () =>
    plainThenRepaired(async (file) => {
      await writeFile(file, good, { mode: 0o666 });
      await chmod(file, 0o666);
    }));

  test('a cache directory others can write, holding a sound cache: not used, said in one line, the run as ever', async () => {
    for (const [mode, uid] of [
      [0o777, 0],
      [0o770, 0],
      [0o700, 65534],
    ]) {
      const cache = await mkdtemp(join(dir, 'shared-'));
      await writeFile(join(cache, cacheName), good);
      await chmod(cache, mode!);
      await chown(cache, uid!, uid!);
      const result = await runJob(cache);
      assert.equal(verdict(result.stderr), undefined, 'the cache was read');
      const said = result.stderr.split('\n').filter((line) => line.includes('cache directory'));
      assert.deepEqual(said.length, 1, result.stderr);
      assert.match(said[0]!, new RegExp(`^trucki2pushgateway: not using the cache directory "${cache}": `));
      assert.deepEqual(await readdir(cache), [cacheName], 'something was written there');
    }
  });

  test('a directory: not read, and not replaced', async () => {
    const cache = await mkdtemp(join(dir, 'case-'));
    await mkdir(join(cache, cacheName));
    for (let run = 0; run < 2; run++) assert.equal(verdict((await runJob(cache)).stderr), 'missing');
    assert.ok((await lstat(join(cache, cacheName))).isDirectory());
    assert.deepEqual(await files(cache).then((names) => names.filter((name) => name.includes('.tmp'))), []);
  });

  test('a cache directory that cannot be written: no cache, the run as ever', async () => {
    // /proc/self takes no new file, even from root, which the suite may run as.
    for (let run = 0; run < 2; run++) assert.equal(verdict((await runJob('/proc/self')).stderr), undefined);
  });
});
