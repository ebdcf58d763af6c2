/**
 * The npm package as a user gets it: packed from a clean clone (`npm ci && npm pack`), installed
 * with `npm install -g` from that tarball and from a git URL of the clone, each into a prefix of
 * its own. The installed `trucki2pushgateway` command must run, read the simulator and push to a
 * real Pushgateway; the package must carry what the README promises and install no dependency
 * (the bundle in dist/ is self-contained).
 */
import assert from 'node:assert/strict';
import { access, constants, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { cleanClone, run, runOk, type CleanClone } from '../helpers/clean-clone.js';
import { npmEnv } from '../helpers/npm-env.js';
import { onlyOnce } from '../helpers/once.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

// Offline where the npm cache has it; the registry only for what it lacks.
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const env = npmEnv();

describe('the npm package', { skip: onlyOnce, timeout: 420_000 }, () => {
  let clone: CleanClone;
  let work: string;
  let tarball: string;
  let stick: Simulator;
  let pushgateway: RunningPushgateway;
  before(async () => {
    [clone, work, stick, pushgateway] = await Promise.all([
      cleanClone(),
      mkdtemp(join(tmpdir(), 'trucki-npm-')),
      startSimulator({ variant: 'T2SG' }),
      startPushgateway(),
    ]);
    await runOk('npm', ['ci', ...npmFlags], { cwd: clone.dir, env });
    const packed = await runOk('npm', ['pack', '--pack-destination', work, ...npmFlags], { cwd: clone.dir, env });
    tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
  });
  after(() =>
    Promise.all([
      clone?.remove(),
      work && rm(work, { recursive: true, force: true }),
      stick?.close(),
      pushgateway?.stop(),
    ]),
  );

  test('the tarball carries dist/, deploy/, .env.example, LICENSE and README.md, nothing compiled elsewhere', async () => {
    const { stdout } = await runOk('tar', ['tzf', tarball]);
    const files = stdout
      .trim()
      .split('\n')
      .map((line) => line.replace(/^package\//, ''));
    for (const wanted of [
      'dist/trucki2pushgateway.js',
      'dist/program.js',
      'dist/yaml.js',
      'dist/package.json',
      '.env.example',
      'LICENSE',
      'README.md',
      'deploy/systemd/trucki2pushgateway.service',
      'deploy/systemd/trucki2pushgateway.timer',
      'deploy/cron/trucki2pushgateway.crontab',
      'deploy/prometheus/trucki-rules.yml',
      'deploy/grafana/trucki-dashboard.json',
    ]) {
      assert.ok(files.includes(wanted), `${wanted} is not in the tarball: ${files.join(' ')}`);
    }
    assert.deepEqual(
      files.filter((file) => /^(src|test|bench|node_modules|build)\/|codecache/.test(file)),
      [],
    );
    const { stdout: manifest } = await runOk('tar', ['xzOf', tarball, 'package/package.json']);
    assert.equal(
      (JSON.parse(manifest) as { dependencies?: unknown }).dependencies,
      undefined,
      'the bundle is self-contained: no runtime dependencies',
    );
  });

  test('npm pack in a clone without its dev dependencies fails in one line, packing nothing half-built', async () => {
    const bare = await cleanClone();
    try {
      const result = await run('npm', ['pack', '--pack-destination', bare.dir, ...npmFlags], { cwd: bare.dir, env });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /trucki2pushgateway: building dist\/ needs the dev dependencies: run `npm ci` first/);
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace');
    } finally {
      await bare.remove();
    }
  });

  /** Installs `spec` globally into a prefix of its own; returns the installed command. */
  async function installGlobally(
    spec: string,
    name: string,
    flags: string[] = [],
  ): Promise<{ command: string; prefix: string }> {
    const prefix = join(work, name);
    await runOk('npm', ['install', '-g', '--prefix', prefix, ...flags, spec, ...npmFlags], { cwd: work, env });
    const command = join(prefix, 'bin', 'trucki2pushgateway');
    await access(command, constants.X_OK);
    return { command, prefix };
  }

  async function assertWorks(command: string, prefix: string, instance: string): Promise<void> {
    const installed = join(prefix, 'lib', 'node_modules', 'trucki2pushgateway');
    const inside = await readdir(installed);
    assert.ok(!inside.includes('node_modules'), `dependencies were installed: ${inside.join(' ')}`);
    const version = await runOk(command, ['--version'], { env, cwd: work });
    assert.match(version.stdout, /^trucki2pushgateway \d+\.\d+\.\d+/);
    const pushed = await run(command, ['--target', `${instance}=${stick.url}`, '--pushgateway', pushgateway.url], {
      env,
      cwd: work,
      timeout: 60_000,
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, new RegExp(`stick ${instance} .*pushed`));
    const group = await pushgateway.group({ job: 'trucki', instance });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
    assert.equal(sampleValue(group, 'trucki_grid_voltage_volts') !== undefined, true);
  }

  test('npm install -g <tarball> gives a working trucki2pushgateway command and no dependencies', async () => {
    const { command, prefix } = await installGlobally(tarball, 'from-tarball');
    await assertWorks(command, prefix, 'from-tarball');
  });

  test('npm install -g --install-links <git URL> builds dist/ (prepare) and gives a working command', async () => {
    const { command, prefix } = await installGlobally(clone.url, 'from-git', ['--install-links']);
    await assertWorks(command, prefix, 'from-git');
  });

  test('npm install -g <git URL> without --install-links fails, saying what to run (no dangling command)', async () => {
    // npm/cli#8440: npm would link the global package to a temp clone it deletes (scripts/prepare.mjs).
    const prefix = join(work, 'from-git-linked');
    const result = await run('npm', ['install', '-g', '--prefix', prefix, clone.url, ...npmFlags], { cwd: work, env });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /install from git with `npm install -g --install-links <url>`/);
  });
});
