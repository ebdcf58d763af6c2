/**
 * The Debian package as a user meets it: the README's "## Install" commands, run as written in a
 * clean clone (npm ci, npm run deb, apt-get install ./…deb, the env file, a try, the timer, the
 * first push, the Prometheus job), then lintian on the package, systemd-analyze verify on the
 * installed units, apt-get remove (the env file stays) and apt-get purge (nothing stays).
 *
 * What this machine cannot do as written is stood in for, and said so where it is done: systemd is
 * not PID 1 here, so `systemctl enable --now` enables the timer for real and then does what its
 * first tick would (the service's ExecStart, with the environment systemd would read from its
 * EnvironmentFile= as root, run as an unprivileged user, with its CacheDirectory=);
 * `systemctl reload prometheus` starts a real Prometheus on the edited prometheus.yml. The stick is
 * the simulator, the Pushgateway a real one on a free port, /etc/prometheus/ a copy of Debian's.
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
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { cleanClone, run, runOk, type CleanClone, type Run } from './helpers/clean-clone.js';
import { npmEnv } from './helpers/npm-env.js';
import { installDoc } from './helpers/install-doc.js';
import { onlyOnce } from './helpers/once.js';
import { startPrometheus, type RunningPrometheus } from './helpers/prometheus.js';
import { debianPrometheusYml } from './helpers/prometheus-config.js';
import { sampleValue, startPushgateway, type RunningPushgateway } from './helpers/pushgateway.js';

const name = 'trucki2pushgateway';
const envFile = `/etc/${name}/${name}.env`;
const units = [`${name}.service`, `${name}.timer`, `${name}-loop.service`];
const unitDir = '/usr/lib/systemd/system';
const cacheDir = `/var/cache/${name}`;
// DynamicUser= stands in for: nobody, whom nothing on the machine runs as.
const dynamicUser = 65534;

function whyNot(): string | false {
  if (onlyOnce) return onlyOnce;
  if (process.getuid?.() !== 0) return 'needs root: it installs and purges a Debian package';
  if (!existsSync('/usr/bin/dpkg')) return 'dpkg is missing: not a Debian machine';
  return false;
}

// apt-get waits up to 5 min for the dpkg lock held by anything else on the machine, instead of failing.
const aptConfig = join(tmpdir(), `trucki-deb-test-apt-${process.pid}.conf`);
const env = npmEnv({ DEBIAN_FRONTEND: 'noninteractive', APT_CONFIG: aptConfig });

/**
 * One run of this test per machine at a time (the package and the dpkg database are the machine's):
 * flock(1) holds a lock file until its stdin closes. Resolves with the release.
 */
function machineLock(path: string, timeoutSeconds: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const holder = spawn(
      'flock',
      ['-w', String(timeoutSeconds), path, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    holder.on('error', reject);
    holder.on('exit', (code) => {
      reject(new Error(`no lock on ${path} within ${String(timeoutSeconds)} s (flock exited ${String(code)})`));
    });
    holder.stdout.once('data', () => {
      resolve(() => {
        holder.stdin.end();
      });
    });
  });
}
const sh = (command: string, cwd: string): Promise<Run> => run('sh', ['-c', command], { cwd, env, timeout: 240_000 });

/** Purges the package if an earlier, interrupted run left it installed. */
async function purgeLeftover(): Promise<void> {
  const status = await run('dpkg-query', ['-W', '-f', '${db:Status-Status}', name]);
  if (status.code === 0 && status.stdout !== 'not-installed')
    await runOk('apt-get', ['purge', '-y', '-q', name], { env });
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

const directive = (unit: string, key: string): string[] =>
  [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((match) => match[1]!.trim());

describe('the Debian package, installed as the README says', { skip: whyNot(), timeout: 600_000 }, () => {
  let clone: CleanClone;
  let stick: Simulator;
  let pushgateway: RunningPushgateway;
  let prometheus: RunningPrometheus | undefined;
  let work: string;
  let deb = '';
  let packageFiles: string[] = [];
  let enabledAfterInstall = '';
  const outputs: { command: string; result: Run }[] = [];

  let release: (() => void) | undefined;
  before(async () => {
    await writeFile(aptConfig, 'DPkg::Lock::Timeout "300";\n');
    release = await machineLock('/run/lock/trucki2pushgateway-deb-test.lock', 240);
    await purgeLeftover();
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
    await purgeLeftover().catch(() => undefined);
    await rm(cacheDir, { recursive: true, force: true });
    await Promise.all([
      clone?.remove(),
      stick?.close(),
      pushgateway?.stop(),
      prometheus?.stop(),
      work && rm(work, { recursive: true, force: true }),
      rm(aptConfig, { force: true }),
    ]);
    release?.();
  });

  /** What `systemctl enable --now trucki2pushgateway.timer` does, on a machine without systemd as PID 1. */
  async function enableNow(unit: string): Promise<Run> {
    assert.equal(unit, `${name}.timer`, `the README enables ${unit}; this test knows how to start only the timer`);
    const enabled = await runOk('systemctl', ['enable', unit], { env });
    // The timer's first tick: one run of the service as systemd would start it.
    const service = await readFile(join(unitDir, `${name}.service`), 'utf8');
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
    const result = await run(file!, args, {
      uid: dynamicUser,
      gid: dynamicUser,
      cwd: '/',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...vars, CACHE_DIRECTORY: cacheDir },
      timeout: 60_000,
    });
    return { code: result.code, stdout: enabled.stdout + result.stdout, stderr: enabled.stderr + result.stderr };
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
    const { source, commands } = installDoc();
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
    for (const written of commands) {
      let command = written;
      for (const [pattern, replacement] of rewrites) {
        if (pattern.test(command)) applied.add(pattern);
        pattern.lastIndex = 0;
        command = command.replace(pattern, replacement);
      }
      let result: Run;
      const systemctl = /^systemctl (.*)$/.exec(command);
      if (systemctl) {
        const enable = /^enable --now (\S+)$/.exec(systemctl[1]!);
        if (enable) result = await enableNow(enable[1]!);
        else if (systemctl[1] === 'reload prometheus') result = await reloadPrometheus();
        else throw new Error(`the README runs "${written}", which this test cannot stand in for`);
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
    assert.match(said(/--stdout/), /^trucki_up 1$/m, 'the try reads the stick');
    assert.match(said(/^curl /), /^trucki_up\{.*\} 1$/m, 'the first push arrived');
    const group = await pushgateway.group({ job: 'trucki', instance: stickAddress });
    assert.equal(sampleValue(group, 'trucki_up'), 1);
    assert.ok(sampleValue(group, 'trucki_grid_voltage_volts')! > 0);
    assert.match(said(/promtool check config/), /SUCCESS/);
    assert.match(said(/systemctl reload prometheus/), /trucki_up\{job="trucki"\} 1/);
  });

  test('installing enabled and started nothing', () => {
    assert.equal(enabledAfterInstall, 'disabled');
  });

  test('the package: architecture all, Depends nodejs (>= 20), the files where Debian wants them', async () => {
    const info = (await runOk('dpkg-deb', ['-f', deb, 'Package', 'Architecture', 'Depends'])).stdout;
    assert.match(info, /^Architecture: all$/m);
    assert.match(info, /^Depends: nodejs \(>= 20\)$/m);
    const contents = (await runOk('dpkg-deb', ['-c', deb])).stdout;
    assert.match(contents, /^-rw------- root\/root .* \.\/etc\/trucki2pushgateway\/trucki2pushgateway\.env$/m);
    assert.equal((await runOk('dpkg-deb', ['-I', deb, 'conffiles'])).stdout.trim(), envFile);
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
    ]) {
      assert.ok(packageFiles.includes(path), `${path} is not in the package`);
    }
    assert.deepEqual(
      packageFiles.filter((path) => /codecache|node_modules/.test(path)),
      [],
    );
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

  test('apt-get remove keeps the edited env file; apt-get purge leaves nothing of the package behind', async () => {
    await runOk('apt-get', ['remove', '-y', '-q', name], { env });
    assert.match(await readFile(envFile, 'utf8'), new RegExp(`^TRUCKI_TARGET=${new URL(stick.url).host}$`, 'm'));
    assert.ok(!existsSync(`/usr/bin/${name}`));
    await runOk('apt-get', ['purge', '-y', '-q', name], { env });
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

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
