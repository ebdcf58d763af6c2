/**
 * An upgrade of the Debian package never asks: two releases built from a clean clone (the second
 * with its version bumped and a line more in the env example and in the env file's template),
 * the first installed and its env file edited, the second installed with apt-get and stdin closed
 * (no DEBIAN_FRONTEND, no dpkg --force-conf*: a conffile question would read end-of-file and fail
 * the upgrade with exit 100). The edit is kept; purge leaves nothing.
 *
 * systemd is not PID 1 here. So that postinst takes its systemd branch as on a Pi, apt-get runs in
 * a mount namespace of its own where /run/systemd/system exists and Debian's /usr/sbin/policy-rc.d
 * (exit 101 on this machine: "start no service") is hidden, and /usr/bin/systemctl is a script
 * that writes down what it was asked, by postinst and through the real deb-systemd-invoke.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  copyFile,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanClone, run, runOk, type CleanClone, type Run } from '../helpers/clean-clone.js';
import { packageName as name, takeMachine, whyNoDpkg, type AptMachine } from '../helpers/debian.js';
import { npmEnv } from '../helpers/npm-env.js';
import { repoRoot } from '../helpers/paths.js';

const envFile = `/etc/${name}/${name}.env`;
const example = `/usr/share/doc/${name}/examples/${name}.env.example`;
const addedLine = '# A line the next release added to the example.';
const changelogItem = 'What the next release fixed, said in its entry of CHANGELOG.md.';

describe('upgrading the Debian package over an edited env file', { skip: whyNoDpkg(), timeout: 900_000 }, () => {
  let machine: AptMachine | undefined;
  let clone: CleanClone | undefined;
  let work = '';
  const debs: string[] = [];
  let systemctlLog = '';
  let edited = '';
  let nextVersion = '';
  let built: string[] = [];

  /** `npm run deb` in the clone; a copy of the package is kept in `work`. */
  async function buildRelease(): Promise<string> {
    const built = await runOk('npm', ['run', 'deb'], {
      cwd: clone!.dir,
      env: npmEnv(),
      timeout: 240_000,
    });
    const deb = built.stdout.trim().split('\n').at(-1)!;
    const kept = join(work, deb.split('/').at(-1)!);
    await copyFile(deb, kept);
    return kept;
  }

  /** What the README's `./build/trucki2pushgateway_*_all.deb` names in the clone. */
  const readmeGlob = async () =>
    (await readdir(join(clone!.dir, 'build'))).filter((file) => /^trucki2pushgateway_.*_all\.deb$/.test(file));

  /** apt-get with stdin closed, in the namespace the header describes. */
  async function aptGet(...args: string[]): Promise<Run> {
    await writeFile(systemctlLog, '');
    const namespace = [
      'set -e',
      'mount -t tmpfs tmpfs /run/systemd',
      'mkdir /run/systemd/system',
      // Not executable: deb-systemd-invoke then acts as on a machine without a policy-rc.d.
      `if [ -e /usr/sbin/policy-rc.d ]; then mount --bind ${work}/no-policy /usr/sbin/policy-rc.d; fi`,
      // apt-get runs dpkg with a PATH of its own: the stand-in goes where systemctl is.
      `mount --bind ${work}/bin/systemctl /usr/bin/systemctl`,
      'exec "$@" </dev/null',
    ].join('\n');
    return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', namespace, 'sh', 'apt-get', ...args], {
      env: machine!.env,
      timeout: 300_000,
    });
  }

  const systemctlCalls = async () => (await readFile(systemctlLog, 'utf8')).trim().split('\n').filter(Boolean);
  const installedVersion = async () =>
    (await runOk('dpkg-query', ['-W', '-f', '${Version} ${db:Status-Status}', name])).stdout;

  before(async () => {
    machine = await takeMachine();
    [clone, work] = await Promise.all([cleanClone(), mkdtemp(join(tmpdir(), 'trucki-deb-upgrade-'))]);
    // npm run deb bundles with esbuild: this checkout's packages (a clone of a working tree with a
    // node_modules link has that link already).
    if (!existsSync(join(clone.dir, 'node_modules')))
      await symlink(join(repoRoot, 'node_modules'), join(clone.dir, 'node_modules'));
    systemctlLog = join(work, 'systemctl.log');
    await runOk('mkdir', [join(work, 'bin')]);
    await writeFile(join(work, 'bin/systemctl'), `#!/bin/sh\nprintf '%s\\n' "$*" >>${systemctlLog}\n`);
    await chmod(join(work, 'bin/systemctl'), 0o755);
    await writeFile(join(work, 'no-policy'), '');
    await chmod(join(work, 'no-policy'), 0o644);

    debs.push(await buildRelease());
    // The next release: a new version, and its example and template each gained a line.
    const manifestPath = join(clone.dir, 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string };
    manifest.version = nextVersion = manifest.version.replace(/\d+$/, (patch) => String(Number(patch) + 1));
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const file of ['.env.example', `packaging/deb/${name}.env`])
      if (existsSync(join(clone.dir, file))) await appendFile(join(clone.dir, file), `${addedLine}\n`);
    // and its entry in CHANGELOG.md, dated after every other.
    const changelogPath = join(clone.dir, 'CHANGELOG.md');
    const changelog = await readFile(changelogPath, 'utf8');
    const firstRelease = changelog.search(/^## \[\d/m);
    await writeFile(
      changelogPath,
      `${changelog.slice(0, firstRelease)}## [${nextVersion}] - 2099-01-02\n\n### Fixed\n\n- ${changelogItem}\n\n${changelog.slice(firstRelease)}`,
    );
    debs.push(await buildRelease());
    built = await readmeGlob();
  });
  after(async () => {
    await machine?.release();
    await Promise.all([clone?.remove(), work && rm(work, { recursive: true, force: true })]);
  });

  test('the first install makes the env file from the short template, 0600 root, not a conffile', async () => {
    const result = await aptGet('install', '-y', '-q', debs[0]!);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(await installedVersion(), / installed$/);
    const made = await stat(envFile);
    assert.equal(made.mode & 0o777, 0o600);
    assert.equal(made.uid, 0);
    assert.equal(
      await readFile(envFile, 'utf8'),
      await readFile(join(repoRoot, 'packaging/deb', `${name}.env`), 'utf8'),
    );
    assert.equal((await runOk('dpkg-query', ['-W', '-f', '${Conffiles}', name])).stdout.trim(), '');
    assert.notEqual((await run('dpkg', ['-S', envFile])).code, 0, 'no package owns the env file');
    assert.ok(existsSync(example), 'every setting is explained under /usr/share/doc');
    assert.deepEqual(await systemctlCalls(), ['--system daemon-reload'], 'a first install restarts nothing');
  });

  test('the owner edits the env file', async () => {
    const text = await readFile(envFile, 'utf8');
    edited = `${text.replace(/^TRUCKI_TARGET=.*$/m, 'TRUCKI_TARGET=roof=127.0.0.1:9')}PUSHGATEWAY_JOB=edited-by-the-owner\n`;
    assert.notEqual(edited, text);
    await writeFile(envFile, edited);
  });

  test("after the second build, build/ holds its package only, which the README's glob names", () => {
    assert.deepEqual(built, [debs[1]!.split('/').at(-1)!]);
  });

  test('the next release installs without a question, keeps the edit and restarts a running loop', async () => {
    const result = await aptGet('install', '-y', '-q', join(clone!.dir, 'build', built[0]!));
    const output = result.stdout + result.stderr;
    assert.doesNotMatch(output, /Configuration file|\(Y\/I\/N\/O\/D\/Z\)|conffile/i, 'dpkg asked');
    assert.equal(result.code, 0, output);
    assert.equal(await installedVersion(), `${nextVersion}-1 installed`);
    assert.equal(
      (await runOk(`/usr/bin/${name}`, ['--version'])).stdout.trim(),
      `${name} ${nextVersion}`,
      'the new program',
    );
    assert.equal(await readFile(envFile, 'utf8'), edited, 'the edit is kept');
    assert.equal((await stat(envFile)).mode & 0o777, 0o600);
    assert.match(await readFile(example, 'utf8'), new RegExp(`^${addedLine}$`, 'm'), 'the new example is there');
    assert.deepEqual(await systemctlCalls(), ['--system daemon-reload', 'try-restart trucki2pushgateway-loop.service']);
  });

  test("the package's changelog carries CHANGELOG.md's entries, the new release's first", async () => {
    const changelog = (await runOk('zcat', [`/usr/share/doc/${name}/changelog.Debian.gz`])).stdout;
    const versions = [...changelog.matchAll(/^trucki2pushgateway \((\S+)\) unstable; urgency=medium$/gm)].map(
      ([, version]) => version,
    );
    const released = [...(await readFile(join(repoRoot, 'CHANGELOG.md'), 'utf8')).matchAll(/^## \[(\d[^\]]*)\]/gm)];
    assert.deepEqual(versions, [`${nextVersion}-1`, ...released.map(([, version]) => `${version}-1`)]);
    assert.match(changelog.replace(/\n +/g, ' '), new RegExp(`\\* Fixed: - ${changelogItem.replace(/\./g, '\\.')}`));
    assert.match(changelog, /^ -- .+ {2}Fri, 02 Jan 2099 00:00:00 \+0000$/m);
  });

  test('apt-get remove keeps the env file; purge leaves nothing of the package', async () => {
    const files = (await runOk('dpkg', ['-L', name])).stdout
      .trim()
      .split('\n')
      .filter((path) => path.includes(name));
    assert.equal((await aptGet('remove', '-y', '-q', name)).code, 0);
    assert.equal(await readFile(envFile, 'utf8'), edited);
    const purged = await aptGet('purge', '-y', '-q', name);
    assert.equal(purged.code, 0, purged.stdout + purged.stderr);
    assert.deepEqual(
      [...files, `/etc/${name}`].filter((path) => existsSync(path)),
      [],
    );
    assert.notEqual((await run('dpkg-query', ['-W', name])).code, 0);
  });
});
