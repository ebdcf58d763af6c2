/**
 * Node's compile cache, as the launcher uses it: on Node >= 22.1 the first run writes V8's code for
 * dist/program.js into $CACHE_DIRECTORY (systemd's CacheDirectory=), and the next run's V8 accepts
 * it; without CACHE_DIRECTORY, Node's own NODE_COMPILE_CACHE is honoured; on a Node without
 * module.enableCompileCache (20) nothing is written anywhere. Runs on every Node of the suite.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './helpers/cli.js';

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

const verdict = (stderr: string) => /cache for (?:CommonJS )?\S*program\.js was (\w+)/.exec(stderr)?.[1];

test(`CACHE_DIRECTORY: ${hasCompileCache ? 'the first run writes the cache, the second uses it' : 'this Node has no compile cache, nothing is written'}`, async () => {
  const cache = join(dir, 'systemd');
  const env = { CACHE_DIRECTORY: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
  const first = await runCli(['--version'], { env });
  assert.equal(first.code, 0, first.stderr);
  const second = await runCli(['--version'], { env });
  assert.equal(second.code, 0, second.stderr);
  const written = await files(cache).catch(() => []);
  if (hasCompileCache) {
    assert.ok(written.length > 0, 'no cache file written');
    assert.equal(verdict(second.stderr), 'accepted', second.stderr);
  } else {
    assert.deepEqual(written, []);
    assert.equal(verdict(second.stderr), undefined);
  }
});

test(
  "without CACHE_DIRECTORY, Node's own NODE_COMPILE_CACHE decides where",
  { skip: !hasCompileCache && 'this Node has no compile cache' },
  async () => {
    const cache = join(dir, 'node');
    const result = await runCli(['--version'], { env: { NODE_COMPILE_CACHE: cache } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await files(cache)).length > 0, 'no cache file written');
  },
);
