/**
 * The Debian package as a user meets it: the README's "## Install" commands, run as written in a
 * clean clone (npm ci, npm run deb, apt-get install ./…deb, the env file, a try, the timer, the
 * first push, the Prometheus job), then lintian on the package, systemd-analyze verify on the
 * installed units, apt-get remove (the env file stays), and docs/deploy.md's "## Uninstall" commands
 * (the sticks' groups deleted, the package purged: nothing stays; Prometheus's files as Debian's).
 *
 * What this machine cannot do as written is stood in for, and said so where it is done: systemd is
 * not PID 1 here, so `systemctl enable --now` enables the timer for real (its first tick would come
 * within 15 s, so it starts nothing now) and `disable --now` disables it (nothing runs to stop);
 * `systemctl start trucki2pushgateway.service` does what
 * systemd would (the service's ExecStart, with the environment systemd would read from its
 * EnvironmentFile= as root, run as an unprivileged user, with its CacheDirectory=), and
 * `journalctl -u` shows that run's log; `systemctl reload prometheus` starts a real Prometheus on
 * the edited prometheus.yml. Of the README's two Node.js blocks the one for this machine's Node.js
 * runs (NodeSource's `nodejs` includes npm and conflicts with Debian's `npm`; Debian's does not);
 * the other is resolved with `apt-get --simulate` by the first test. The
 * stick is the simulator, the Pushgateway a real one on a free port, /etc/prometheus/ a copy of
 * Debian's.
 *
 * Installs into this machine's dpkg database: root only, and safe to run again (a leftover
 * installation is purged first). Skipped where not root or without dpkg, and on test/on-node.sh
 * re-runs (test/helpers/once.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { chown, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { cleanClone, run, runOk, type CleanClone, type Run } from '../helpers/clean-clone.js';
import { packageName as name, takeMachine, whyNoDpkg, type AptMachine } from '../helpers/debian.js';
import { installDoc, nodeBlocks, uninstallDoc, type ShellBlock } from '../helpers/install-doc.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { repoRoot } from '../helpers/paths.js';
import { debianPrometheusYml } from '../helpers/prometheus-config.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from '../helpers/pushgateway.js';

const envFile = `/etc/${name}/${name}.env`;
const units = [`${name}.service`, `${name}.timer`, `${name}-loop.service`];
const unitDir = '/usr/lib/systemd/system';
const cacheDir = `/var/cache/${name}`;
// DynamicUser= stands in for: nobody, whom nothing on the machine runs as.
const dynamicUser = 65534;

/** NodeSource's `nodejs` carries npm (and conflicts with Debian's `npm`); Debian's does not. */
async function nodejsIncludesNpm(): Promise<boolean> {
  const provides = await run('dpkg-query', ['-W', '-f', '${Provides}', 'nodejs']);
  return /(^|, )npm\b/.test(provides.stdout);
}

/** KEY=value lines of an EnvironmentFile, as systemd reads them (plain lines only: ours are). */
function parseEnvironmentFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

/** A dpkg status stanza of nodejs or npm, or of a package that needs one of them. */
const nodeOrItsUser = /^Package: (nodejs|npm)$|^(Pre-)?Depends: .*\b(nodejs|npm)\b/m;

/** A block's `sudo apt-get install …` lines as `apt-get --simulate install …`, with `extra` options. */
function simulate(block: ShellBlock, extra: string[] = []): Promise<Run> {
  const [line, ...more] = block.commands;
  assert.deepEqual(more, [], 'a Node.js block is one apt-get line');
  const install = /^sudo apt-get install ((?:[a-z0-9.+-]+ ?)+)$/.exec(line!);
  assert.ok(install, `"${line!}" is not a plain apt-get install`);
  return run('apt-get', ['--simulate', ...extra, 'install', ...install[1]!.trim().split(' ')], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
}

test(
  "each Node.js block of the README's Install resolves where its Node.js comes from",
  { skip: existsSync('/usr/bin/apt-get') ? false : 'not a Debian machine' },
  async () => {
    const { debian, nodesource } = nodeBlocks(installDoc());
    assert.doesNotMatch(nodesource.commands.join('\n'), /\bnpm\b/, "NodeSource's nodejs conflicts with Debian's npm");
    assert.match(debian.commands.join('\n'), /\bnpm\b/, "Debian's nodejs has no npm");
    // Debian's: this machine as it would be with no Node.js yet (its dpkg status without nodejs, npm
    // and what depends on them, such as our own package another test may have installed just now),
    // so that apt-get takes Debian's nodejs.
    const status = await mkdtemp(join(tmpdir(), 'trucki-dpkg-status-'));
    try {
      const stanzas = (await readFile('/var/lib/dpkg/status', 'utf8')).split(/\n\n+/);
      await writeFile(
        join(status, 'status'),
        `${stanzas.filter((stanza) => !nodeOrItsUser.test(stanza) && stanza.trim()).join('\n\n')}\n`,
      );
      const result = await simulate(debian, ['-o', `Dir::State::status=${join(status, 'status')}`]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^Inst nodejs /m);
      assert.match(result.stdout, /^Inst npm /m);
    } finally {
      await rm(status, { recursive: true, force: true });
    }
    if (!(await nodejsIncludesNpm())) return;
    // NodeSource's is this machine's: its block installs as written, Debian's would not.
    const here = await simulate(nodesource);
    assert.equal(here.code, 0, here.stdout + here.stderr);
    const clash = await simulate(debian);
    assert.notEqual(clash.code, 0, "Debian's block on NodeSource's nodejs");
    assert.match(clash.stdout + clash.stderr, /nodejs : Conflicts: npm/);
  },
);

const directive = (unit: string, key: string): string[] =>
  [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((match) => match[1]!.trim());

describe('the Debian package, installed as the README says', { skip: whyNoDpkg(), timeout: 900_000 }, () => {
  let machine: AptMachine | undefined;
  let env: Record<string, string> = {};
  let clone: CleanClone;
  let stick: Simulator;
  let pushgateway: RunningPushgateway;
  let prometheus: RunningPrometheus | undefined;
  let work: string;
  let deb = '';
  let packageFiles: string[] = [];
  let enabledAfterInstall = '';
  const outputs: { command: string; result: Run }[] = [];
  const sh = (command: string, cwd: string): Promise<Run> => run('sh', ['-c', command], { cwd, env, timeout: 240_000 });

  before(async () => {
    machine = await takeMachine();
    env = { ...machine.env, DEBIAN_FRONTEND: 'noninteractive' };
    [clone, stick, pushgateway, work] = await Promise.all([
      cleanClone(),
      startSimulator({ variant: 'T2SG' }),
      startPushgateway(),
      mkdtemp(join(tmpdir(), 'trucki-deb-')),
    ]);
    await mkdir(join(work, 'etc/prometheus'), { recursive: true });
    await copyFile(debianPrometheusYml, join(work, 'etc/prometheus/prometheus.yml'));
  });
  after(async () => {
    await machine?.release();
    await rm(cacheDir, { recursive: true, force: true });
    await Promise.all([
      clone?.remove(),
      stick?.close(),
      pushgateway?.stop(),
      prometheus?.stop(),
      work && rm(work, { recursive: true, force: true }),
    ]);
  });

  /** What `systemctl start trucki2pushgateway.service` does, on a machine without systemd as PID 1. */
  async function startService(unit: string): Promise<Run> {
    assert.equal(unit, `${name}.service`, `the README starts ${unit}; this test knows how to start only the service`);
    const service = await readFile(join(unitDir, unit), 'utf8');
    const vars = Object.fromEntries(
      directive(service, 'EnvironmentFile').flatMap((file) =>
        Object.entries(parseEnvironmentFile(readFileSync(file, 'utf8'))),
      ),
    );
    const unsets = new Set(directive(service, 'UnsetEnvironment').flatMap((names) => names.split(/\s+/)));
    for (const name of unsets) Reflect.deleteProperty(vars, name);
    const [cache] = directive(service, 'CacheDirectory');
    assert.equal(cache, name);
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    await chown(cacheDir, dynamicUser, dynamicUser);
    const [execStart] = directive(service, 'ExecStart');
    const [file, ...args] = execStart!.split(/\s+/);
    return run(file!, args, {
      uid: dynamicUser,
      gid: dynamicUser,
      cwd: '/',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...vars, CACHE_DIRECTORY: cacheDir },
      timeout: 60_000,
    });
  }

  /** What `systemctl reload prometheus` does: Prometheus runs the edited prometheus.yml. */
  async function reloadPrometheus(): Promise<Run> {
    const dir = join(work, 'etc/prometheus');
    let config = await readFile(join(dir, 'prometheus.yml'), 'utf8');
    // Sped up to a 1 s scrape, and the rule file named by its full path: the helper writes the config elsewhere.
    for (const [pattern, replacement] of [
      [/^( +)scrape_interval: +15s/m, '$1scrape_interval: 1s'],
      [/^( +)evaluation_interval: +15s/m, '$1evaluation_interval: 1s'],
      [/^( +)- trucki-rules\.yml$/m, `$1- ${dir}/trucki-rules.yml`],
      // The scrape job's Pushgateway, as in the commands: this test's.
      [/^( +)- targets: \['localhost:9091'\]$/m, `$1- targets: ['${new URL(pushgateway.url).host}']`],
    ] as const) {
      assert.match(config, pattern);
      config = config.replace(pattern, replacement);
    }
    prometheus = await startPrometheus(config);
    const [sample] = await prometheus.waitFor(`trucki_up{instance="${new URL(stick.url).host}"}`);
    return { code: 0, stdout: `prometheus: trucki_up{job="${sample!.metric.job}"} ${sample!.value[1]}\n`, stderr: '' };
  }

  test("every command of the README's Install section runs, and the first push arrives", async (t) => {
    const doc = installDoc();
    const { source } = doc;
    const { debian, nodesource } = nodeBlocks(doc);
    // The Node.js block for another Node.js: the test above resolves it.
    const elsewhere = (await nodejsIncludesNpm()) ? debian : nodesource;
    const commands = doc.blocks.filter((block) => block !== elsewhere).flatMap((block) => block.commands);
    t.diagnostic(`${commands.length} commands from ${source}`);
    const stickAddress = new URL(stick.url).host;
    const rewrites: [RegExp, string][] = [
      // Root already; and this machine has no sudo.
      [/(^|\| )sudo /g, '$1'],
      [/192\.168\.178\.59/g, stickAddress],
      [/localhost:9091/g, new URL(pushgateway.url).host],
      [/\/etc\/prometheus\//g, `${work}/etc/prometheus/`],
    ];
    const applied = new Set<RegExp>();
    // What `journalctl -u` would show: the log of the unit's last run.
    const journals = new Map<string, string>();
    for (const written of commands) {
      let command = written;
      for (const [pattern, replacement] of rewrites) {
        if (pattern.test(command)) applied.add(pattern);
        pattern.lastIndex = 0;
        command = command.replace(pattern, replacement);
      }
      let result: Run;
      const systemctl = /^systemctl (.*)$/.exec(command);
      const journal = /^journalctl -u (\S+) -n \d+$/.exec(command);
      if (systemctl) {
        const enable = /^enable --now (\S+\.timer)$/.exec(systemctl[1]!);
        const start = /^start (\S+\.service)$/.exec(systemctl[1]!);
        if (enable) result = await runOk('systemctl', ['enable', enable[1]!], { env });
        else if (start) {
          result = await startService(start[1]!);
          journals.set(start[1]!, result.stderr);
        } else if (systemctl[1] === 'reload prometheus') result = await reloadPrometheus();
        else throw new Error(`the README runs "${written}", which this test cannot stand in for`);
      } else if (journal) {
        result = { code: journals.has(journal[1]!) ? 0 : 1, stdout: journals.get(journal[1]!) ?? '', stderr: '' };
      } else {
        result = await sh(command, clone.dir);
      }
      outputs.push({ command: written, result });
      assert.equal(result.code, 0, `"${written}" exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
      if (/^npm run deb$/.test(command))
        deb = join(clone.dir, result.stdout.trim().split('\n').at(-1)!.replace(clone.dir, '.'));
      if (/apt-get install \S*\.deb$/.test(command)) {
        packageFiles = (await runOk('dpkg', ['-L', name])).stdout.trim().split('\n');
        enabledAfterInstall = (await run('systemctl', ['is-enabled', `${name}.timer`])).stdout.trim();
      }
    }
    assert.deepEqual(
      rewrites.filter(([pattern]) => !applied.has(pattern)).map(([pattern]) => String(pattern)),
      [],
      'a stand-in no longer applies: the README changed',
    );

    const said = (pattern: RegExp) => outputs.find(({ command }) => pattern.test(command))?.result.stdout ?? '';
    assert.match(
      said(/^npm run deb$/),
      new RegExp(`build/${name}_\\d+\\.\\d+\\.\\d+-1_all\\.deb\\n$`),
      "npm run deb prints the package's path last",
    );
    const npmCi = outputs.find(({ command }) => command === 'npm ci')?.result;
    assert.doesNotMatch(`${npmCi?.stdout ?? ''}${npmCi?.stderr ?? ''}`, /npm warn/, 'npm ci warns');
    assert.match(said(/--stdout/), /^trucki_up 1$/m, 'the try reads the stick');
    assert.match(said(/^curl /), /^trucki_up\{.*\} 1$/m, 'the first push arrived');
    assert.match(said(/journalctl/), /^stick .*: read \d+ samples.*pushed/m, 'the journal shows the run');
    const group = await pushgateway.group({ job: 'trucki', instance: stickAddress });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
    assert.ok(sampleValue(group, 'trucki_grid_voltage_volts')! > 0);
    assert.match(said(/promtool check config/), /SUCCESS/);
    assert.match(said(/systemctl reload prometheus/), /trucki_up\{job="trucki"\} 1/);
  });

  test('installing enabled and started nothing', () => {
    assert.equal(enabledAfterInstall, 'disabled');
  });

  test('the env file is made from the short template, 0600 root, and no package owns it', async () => {
    assert.equal((await stat(envFile)).uid, 0);
    assert.match(await readFile(`/usr/share/${name}/${name}.env`, 'utf8'), /^TRUCKI_TARGET=/m);
    assert.notEqual((await run('dpkg', ['-S', envFile])).code, 0, `dpkg -S ${envFile} names a package`);
    assert.ok((await readFile(envFile, 'utf8')).split('\n').length < 20, 'the env file holds only what an owner sets');
  });

  test('every relative link in the installed README and docs resolves inside the package', async () => {
    const broken: string[] = [];
    for (const document of packageFiles.filter((path) => /^\/usr\/share\/doc\/[^/]+\/(docs\/)?[^/]+\.md$/.test(path))) {
      if (document.endsWith('/CONTRIBUTING.md')) continue; // for contributors: it links the source tree
      for (const [, target] of (await readFile(document, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue;
        const [path, anchor] = target!.split('#');
        const file = path ? resolve(dirname(document), path) : document;
        if (!file.startsWith(`/usr/share/doc/${name}/`) || !packageFiles.includes(file)) {
          broken.push(`${document}: ${target!}`);
        } else if (anchor && !headingAnchors(await readFile(file, 'utf8')).has(anchor)) {
          broken.push(`${document}: ${target!} (no such heading)`);
        }
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(packageFiles.includes(`/usr/share/doc/${name}/docs/deploy.md`), 'docs/ is shipped');
  });

  test('every example the README, deploy.md and fleets.md point at is in the package', async () => {
    const doc = `/usr/share/doc/${name}`;
    const missing: string[] = [];
    for (const document of ['README.md', 'docs/deploy.md', 'docs/fleets.md'].map((file) => `${doc}/${file}`)) {
      const text = await readFile(document, 'utf8');
      for (const [mention] of text.matchAll(
        /(?:\/usr\/share\/doc\/trucki2pushgateway\/|\b(?:examples|deploy)\/)[\w./-]*/g,
      )) {
        const path = mention
          .replace(/[.]+$/, '')
          .replace(/^deploy\/cron\//, 'examples/')
          .replace(/^(deploy|examples)\//, `${doc}/examples/`)
          .replace(/\/$/, '');
        if (/\/examples\/systemd\b/.test(path)) continue; // the units: /usr/lib/systemd/system, checked above
        if (!packageFiles.includes(path)) missing.push(`${document}: ${mention}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('the package: architecture all, Depends nodejs (>= 20), the files where Debian wants them', async () => {
    const info = (await runOk('dpkg-deb', ['-f', deb, 'Package', 'Architecture', 'Depends'])).stdout;
    assert.match(info, /^Architecture: all$/m);
    assert.match(info, /^Depends: nodejs \(>= 20\)$/m);
    const contents = (await runOk('dpkg-deb', ['-c', deb])).stdout;
    // The env file is postinst's, from a template (packaging/deb/postinst says why): no conffile.
    assert.doesNotMatch(contents, / \.\/etc\//);
    assert.notEqual((await run('dpkg-deb', ['-I', deb, 'conffiles'])).code, 0, 'the package has conffiles');
    for (const path of [
      `/usr/bin/${name}`,
      `/usr/lib/${name}/${name}.js`,
      `/usr/lib/${name}/program.js`,
      `/usr/lib/${name}/yaml.js`,
      ...units.map((unit) => `${unitDir}/${unit}`),
      `/usr/share/doc/${name}/copyright`,
      `/usr/share/doc/${name}/changelog.Debian.gz`,
      `/usr/share/man/man1/${name}.1.gz`,
      `/usr/share/doc/${name}/examples/${name}.crontab`,
      `/usr/share/doc/${name}/examples/prometheus/trucki-scrape.yml`,
      `/usr/share/doc/${name}/examples/prometheus/trucki-rules.yml`,
      `/usr/share/doc/${name}/examples/grafana/trucki-dashboard.json`,
      `/usr/share/doc/${name}/examples/grafana/provisioning/dashboards/${name}.yml`,
      `/usr/share/doc/${name}/examples/vmagent/trucki-vmagent.service`,
      `/usr/share/doc/${name}/examples/${name}.env.example`,
      `/usr/share/doc/${name}/README.md`,
      `/usr/share/doc/${name}/docs/fleets.md`,
      `/usr/share/${name}/${name}.env`,
    ]) {
      assert.ok(packageFiles.includes(path), `${path} is not in the package`);
    }
    assert.deepEqual(
      packageFiles.filter((path) => /codecache|node_modules/.test(path)),
      [],
    );
  });

  test("the package's changelog is CHANGELOG.md's, from this version down", async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const changelog = (await runOk('zcat', [`/usr/share/doc/${name}/changelog.Debian.gz`])).stdout;
    assert.match(changelog, new RegExp(`^${name} \\(${version.replace(/\./g, '\\.')}-1\\) unstable; urgency=medium\n`));
    const entry = new RegExp(
      `^## \\[${version.replace(/\./g, '\\.')}\\] - .*\n+### (\\w+)\n+- (\\S+ \\S+ \\S+)`,
      'm',
    ).exec(await readFile(join(repoRoot, 'CHANGELOG.md'), 'utf8'));
    assert.ok(entry, `CHANGELOG.md has an entry for ${version}`);
    assert.ok(changelog.includes(`  * ${entry[1]!}:\n    - ${entry[2]!}`), changelog);
  });

  test('lintian: no error, no warning (what is left is overridden, with a reason)', async () => {
    const result = await run('lintian', ['--fail-on', 'error,warning', deb], { env, timeout: 120_000 });
    assert.deepEqual(
      result.stdout.split('\n').filter((line) => /^[EW]: /.test(line)),
      [],
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test('systemd-analyze verify finds nothing wrong with the installed units', async () => {
    const result = await run(
      'systemd-analyze',
      ['verify', '--man=no', '--recursive-errors=no', ...units.map((unit) => `${unitDir}/${unit}`)],
      { env },
    );
    const ours = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes(name));
    assert.deepEqual(ours, []);
  });

  test('the service ran as an unprivileged user that could not read the 0600 env file itself', async () => {
    const mode = (await stat(envFile)).mode & 0o777;
    assert.equal(mode, 0o600);
    const asUser = await new Promise<number>((resolve) => {
      spawn('/usr/bin/head', ['-c1', envFile], { uid: dynamicUser, gid: dynamicUser, stdio: 'ignore' }).on(
        'close',
        (code) => {
          resolve(code ?? 1);
        },
      );
    });
    assert.notEqual(asUser, 0, 'nobody could read the env file');
  });

  test('apt-get remove keeps the edited env file, and installing again keeps it too', async () => {
    await runOk('apt-get', ['remove', '-y', '-q', name], { env });
    assert.match(await readFile(envFile, 'utf8'), new RegExp(`^TRUCKI_TARGET=${new URL(stick.url).host}$`, 'm'));
    assert.ok(!existsSync(`/usr/bin/${name}`));
    await runOk('apt-get', ['install', '-y', '-q', deb], { env });
    assert.match(await readFile(envFile, 'utf8'), new RegExp(`^TRUCKI_TARGET=${new URL(stick.url).host}$`, 'm'));
    await runOk('systemctl', ['enable', `${name}.timer`], { env });
  });

  test("deploy.md's Uninstall deletes the sticks' groups, leaves nothing of the package and Debian's prometheus.yml as it was", async () => {
    const stickAddress = new URL(stick.url).host;
    assert.equal(sampleValue(await pushgateway.group({ job: 'trucki', instance: stickAddress }), 'trucki_up'), 1);
    // root's home as the commands see it: a temp one, so that this test sees what they leave there.
    const home = join(work, 'root');
    await mkdir(home);
    const asRoot = {
      ...Object.fromEntries(Object.entries(env).filter(([key]) => key !== 'XDG_CACHE_HOME')),
      HOME: home,
    };
    const rewrites: [RegExp, string][] = [
      [/(^|\| )sudo /g, '$1'],
      [/\/etc\/prometheus\//g, `${work}/etc/prometheus/`],
      [/\/root\//g, `${home}/`],
    ];
    const said: { command: string; result: Run }[] = [];
    for (const written of uninstallDoc().commands) {
      const command = rewrites.reduce((line, [pattern, replacement]) => line.replace(pattern, replacement), written);
      const disable = /^systemctl disable --now ((?:\S+ ?)+)$/.exec(command);
      let result: Run;
      // No systemd as PID 1: nothing runs to be stopped, and disabling is systemctl's own work.
      if (disable) result = await run('systemctl', ['disable', ...disable[1]!.trim().split(' ')], { env });
      // What `systemctl reload prometheus` reads is checked below: Debian's prometheus.yml again.
      else if (command === 'systemctl reload prometheus') result = { code: 0, stdout: '', stderr: '' };
      else result = await run('sh', ['-c', command], { cwd: work, env: asRoot, timeout: 120_000 });
      said.push({ command: written, result });
      assert.equal(result.code, 0, `"${written}" exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
    }
    const deleting = said.find(({ command }) => /--delete-on-exit/.test(command))?.result;
    assert.match(
      deleting?.stderr ?? '',
      new RegExp(`^stick ${stickAddress}: deleted its group from the Pushgateway$`, 'm'),
    );
    assert.equal(await pushgateway.group({ job: 'trucki', instance: stickAddress }), undefined, 'the group is gone');
    assert.equal((await pushgateway.groups()).filter((group) => group.labels.job === 'trucki').length, 0);
    assert.equal(
      await readFile(join(work, 'etc/prometheus/prometheus.yml'), 'utf8'),
      await readFile(debianPrometheusYml, 'utf8'),
      "prometheus.yml is Debian's again",
    );
    assert.ok(!existsSync(join(work, 'etc/prometheus/trucki-rules.yml')));
    assert.ok(!existsSync(join(home, '.cache', name)), "nothing is left in root's cache");
    assert.notEqual((await run('systemctl', ['is-enabled', `${name}.timer`])).stdout.trim(), 'enabled');
    const left = [
      ...packageFiles,
      `/etc/${name}`,
      cacheDir,
      `/var/cache/private/${name}`,
      `/etc/systemd/system/timers.target.wants/${name}.timer`,
    ]
      .filter(
        (path) =>
          ![
            '/.',
            '/etc',
            '/usr',
            '/usr/bin',
            '/usr/lib',
            '/usr/share',
            '/usr/share/doc',
            '/usr/share/man',
            '/usr/share/man/man1',
            '/usr/lib/systemd',
            '/usr/lib/systemd/system',
            '/usr/share/lintian',
            '/usr/share/lintian/overrides',
          ].includes(path),
      )
      .filter((path) => existsSync(path) || isLink(path));
    assert.deepEqual(left, []);
    assert.notEqual((await run('dpkg-query', ['-W', name])).code, 0);
  });
});

/** The anchors GitHub makes of a Markdown file's headings: lower case, punctuation gone, spaces as -. */
function headingAnchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} +(.+)$/gm)].map(([, heading]) =>
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
