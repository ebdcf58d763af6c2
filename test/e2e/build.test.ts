/**
 * What the build leaves out stays out: an http-only one-shot run of the bundle loads none of
 * node:https, node:tls, node:crypto and node:http2 (each costs start-up time, see esbuild.config.mjs).
 * That a stand-in still matches the dependency file it was written for is checked by the build
 * itself (esbuild.config.mjs fails when one serves nothing), which every test run starts with.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const leftOut = ['https', 'tls', 'crypto', 'http2'];

let stick: Simulator;
let pushgateway: RunningPushgateway;
let dir: string;
let probe: string;
before(async () => {
  stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
  pushgateway = await startPushgateway();
  dir = await mkdtemp(join(tmpdir(), 'trucki-build-'));
  // Loaded first by the job's Node (NODE_OPTIONS): prints, at exit, the public built-ins it loaded.
  probe = join(dir, 'probe.cjs');
  await writeFile(
    probe,
    `process.on('exit', () => process.stderr.write('builtins: ' + process.moduleLoadList
      .filter((name) => name.startsWith('NativeModule ') && !name.includes('internal/'))
      .map((name) => name.slice(13)).join(' ') + '\\n'));\n`,
  );
});
after(async () => {
  await stick.close();
  await pushgateway.stop();
  await rm(dir, { recursive: true, force: true });
});

async function builtinsLoaded(args: readonly string[]): Promise<{ code: number | null; loaded: string[] }> {
  const result = await runCli(args, { env: { NODE_OPTIONS: `--require ${probe}` } });
  const line = /^builtins: (.*)$/m.exec(result.stderr)?.[1];
  assert.ok(line !== undefined, `the probe did not report: ${result.stderr}`);
  return { code: result.code, loaded: line.split(' ') };
}

test('an http-only one-shot run loads none of https, tls, crypto, http2', async () => {
  const { code, loaded } = await builtinsLoaded(['--target', stick.url, '--pushgateway', pushgateway.url]);
  assert.equal(code, 0);
  assert.ok(loaded.includes('http'), 'the probe sees the built-ins the job loads');
  assert.deepEqual(
    loaded.filter((name) => leftOut.includes(name)),
    [],
  );
});

test('a run with an https store does load TLS: the probe can tell', async () => {
  // A dead https address on loopback: the run fails, after loading what https needs.
  const { code, loaded } = await builtinsLoaded(['--target', stick.url, '--pushgateway', 'https://127.0.0.1:9']);
  assert.equal(code, 1);
  assert.ok(loaded.includes('https') && loaded.includes('tls'), loaded.join(' '));
});
