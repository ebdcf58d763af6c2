// Checks the systemd units under deploy/systemd with systemd-analyze: `verify` must report no
// problem with them, and `security --offline=yes` must rate both services at an overall exposure
// of 1.5 or lower. Skipped, with the reason printed, where systemd-analyze is not installed
// (override the binary with $SYSTEMD_ANALYZE). And the units' cache directory as DynamicUser= lays
// it out, which the job must accept as its own.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  access,
  chmod,
  chown,
  constants,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { errnoCode } from '../../src/errors.js';
import { identityFile } from '../../src/identity-cache.js';
import { startSimulator } from '../../src/simulator/server.js';
import { jobBundle } from '../helpers/paths.js';

const execFileAsync = promisify(execFile);

// Compiled to build/test/e2e/, so the repository root is three levels up.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const unitDir = join(repoRoot, 'deploy/systemd');
const services = ['trucki2pushgateway.service', 'trucki2pushgateway-loop.service'];
const units = [...services, 'trucki2pushgateway.timer'];
const maxExposure = 1.5;
const systemdAnalyze = process.env['SYSTEMD_ANALYZE'] ?? 'systemd-analyze';
// The interpreter the units name, as installed on the target host.
const unitNode = '/usr/bin/node';

interface RunResult {
  code: number;
  output: string;
}

async function analyze(args: string[], cwd: string): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(systemdAnalyze, ['--no-pager', ...args], { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw err;
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Why these tests cannot run here, or false; and the systemd version when they can. */
async function probe(): Promise<{ missing: string | false; version: number }> {
  try {
    const { stdout } = await execFileAsync(systemdAnalyze, ['--version']);
    return { missing: false, version: Number(/^systemd (\d+)/.exec(stdout)?.[1] ?? 0) };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      return { missing: `${systemdAnalyze} not found on PATH (systemd not installed)`, version: 0 };
    throw err;
  }
}

const { missing, version } = await probe();

/**
 * Copies the units into a fresh directory for `verify`, which checks that ExecStart='s binary
 * exists on the machine running it. The units name /usr/bin/node, as on the target host; where
 * node lives elsewhere (nvm, a CI image) the copy names this node instead, so the rest of each unit
 * is still verified in full. The script path under /usr/lib is only an argument to node and is not
 * checked, so it needs no stub, and DynamicUser= leaves no User= to look up.
 */
async function copyUnits(dir: string): Promise<string[]> {
  const nodeHere = await access(unitNode, constants.X_OK).then(
    () => true,
    () => false,
  );
  const paths: string[] = [];
  for (const unit of units) {
    const target = join(dir, unit);
    if (nodeHere) await copyFile(join(unitDir, unit), target);
    else {
      const text = await readFile(join(unitDir, unit), 'utf8');
      await writeFile(target, text.replaceAll(`ExecStart=${unitNode} `, `ExecStart=${process.execPath} `));
    }
    paths.push(target);
  }
  return paths;
}

/**
 * Splits verify's output into lines about our units and lines about other units it loaded along
 * the way (network-online.target and friends from the host), which are not ours to fix.
 */
function classify(output: string, dir: string): { ours: string[]; foreign: string[] } {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const ours: string[] = [];
  const foreign: string[] = [];
  for (const line of lines) {
    const named =
      line.match(/[\w@\\.:-]+\.(?:service|socket|target|timer|mount|automount|swap|path|slice|scope|device)\b/g) ?? [];
    const aboutOthers =
      !line.includes(dir) && named.length > 0 && named.every((name) => !units.some((unit) => name.endsWith(unit)));
    (aboutOthers ? foreign : ours).push(line);
  }
  return { ours, foreign };
}

async function verify(paths: string[], dir: string): Promise<RunResult & { ours: string[]; foreign: string[] }> {
  // --recursive-errors=no (systemd 250+): a broken unit of the host's is not our failure.
  const args = ['verify', '--man=no', ...(version >= 250 ? ['--recursive-errors=no'] : []), ...paths];
  const result = await analyze(args, dir);
  return { ...result, ...classify(result.output, dir) };
}

/** Runs `check` on fresh copies of the units in a temp directory, or skips where systemd-analyze is missing. */
function withUnitCopies(check: (paths: string[], dir: string, t: TestContext) => Promise<void>) {
  return async (t: TestContext) => {
    if (missing) {
      t.skip(missing);
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'trucki2pushgateway-units-'));
    try {
      await check(await copyUnits(dir), dir, t);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

test(
  'systemd-analyze verify reports no problems with the units in deploy/systemd',
  withUnitCopies(async (paths, dir, t) => {
    const { code, output, ours, foreign } = await verify(paths, dir);
    for (const line of foreign) t.diagnostic(`not ours, ignored: ${line}`);
    assert.deepEqual(ours, [], output);
    assert.ok(code === 0 || foreign.length > 0, `verify exited ${String(code)} without saying why:\n${output}`);
  }),
);

test(
  "the LoadCredential= example in the units' comments verifies, uncommented as a user would add it",
  withUnitCopies(async (paths, dir) => {
    for (const path of paths.filter((unit) => unit.endsWith('.service'))) {
      const text = await readFile(path, 'utf8');
      const example = /^#\s+(LoadCredential=PUSHGATEWAY_PASSWORD:\S+)$/m.exec(text)?.[1];
      assert.ok(example, `${path} shows no LoadCredential= example`);
      await writeFile(path, text.replace('[Service]\n', `[Service]\n${example}\n`));
    }
    const { output, ours } = await verify(paths, dir);
    assert.deepEqual(ours, [], output);
  }),
);

test(
  'systemd-analyze verify does flag a broken unit (the check above is live)',
  withUnitCopies(async (paths, dir) => {
    const service = paths[0]!;
    await writeFile(service, `${await readFile(service, 'utf8')}ProtectSystm=strict\n`);
    const { ours, output } = await verify(paths, dir);
    assert.ok(
      ours.some((line) => line.includes('ProtectSystm')),
      output,
    );
  }),
);

for (const service of services) {
  test(`systemd-analyze security rates ${service} at an exposure of ${maxExposure} or lower`, async (t) => {
    if (missing) {
      t.skip(missing);
      return;
    }
    if (version < 250) {
      // --offline=yes, which rates a unit file without loading it into a running manager, came
      // in systemd 250; older versions can only rate units of the running system.
      t.skip(`systemd ${version} has no "security --offline" (needs 250 or later)`);
      return;
    }
    const { output } = await analyze(['security', '--offline=yes', join(unitDir, service)], repoRoot);
    const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(output);
    assert.ok(match, `no overall exposure in the output:\n${output}`);
    const exposure = Number(match[1]);
    t.diagnostic(`${service}: exposure ${exposure} (systemd ${version})`);
    const kept = output
      .split('\n')
      .filter((line) => line.startsWith('✗'))
      .join('\n');
    assert.ok(exposure <= maxExposure, `${service}: exposure ${exposure} > ${maxExposure}; still exposed:\n${kept}`);
  });
}

/** A unit's one value of `name=`, as written. */
async function setting(service: string, name: string): Promise<string | undefined> {
  const text = await readFile(join(unitDir, service), 'utf8');
  return new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1]?.trim();
}

for (const service of services) {
  test(`${service}: its cache as DynamicUser= lays it out (a link of root's to private/) is the job's own`, async (t) => {
    if (process.geteuid?.() !== 0) {
      t.skip('needs root, to lay out the directories as systemd does and run the job as another uid');
      return;
    }
    assert.equal(await setting(service, 'DynamicUser'), 'yes');
    const name = (await setting(service, 'CacheDirectory'))!;
    assert.ok(name, `${service} names no CacheDirectory=`);
    const umask = await setting(service, 'UMask');
    // A uid in systemd's range for dynamic users (61184–65519).
    const dynamic = 61_234;
    const root = await mkdtemp(join(tmpdir(), 'trucki2pushgateway-dynamic-'));
    const stick = await startSimulator({ variant: 'T2SG' });
    try {
      // On the host /var/cache/private is root's 0700; inside the unit systemd mounts an empty 0755
      // directory over it holding only the unit's own, which CacheDirectoryMode= (0755) gives the user.
      const varCache = join(root, 'var', 'cache');
      const own = join(varCache, 'private', name);
      await mkdir(own, { recursive: true });
      for (const dir of [root, join(root, 'var'), varCache, join(varCache, 'private'), own]) await chmod(dir, 0o755);
      await chown(own, dynamic, dynamic);
      await symlink(`private/${name}`, join(varCache, name));
      // The bundle where that user can read it, as it can /usr/lib/trucki2pushgateway.
      const lib = join(root, 'lib');
      await mkdir(lib, { mode: 0o755 });
      for (const file of ['trucki2pushgateway.js', 'program.js', 'package.json'])
        await copyFile(join(dirname(jobBundle), file), join(lib, file));
      // As the unit starts it: the dynamic user, the unit's UMask=, CACHE_DIRECTORY the path under /var/cache.
      const command = [`umask ${umask ?? '0022'}`, 'exec setpriv "$@"'].join(' && ');
      const ids = [`--reuid=${String(dynamic)}`, `--regid=${String(dynamic)}`, '--clear-groups'];
      const runs = await execFileAsync('setpriv', [...ids, process.execPath, '-e', '0']).then(
        () => true,
        () => false,
      );
      if (!runs) {
        t.skip(`uid ${String(dynamic)} cannot run ${process.execPath}`);
        return;
      }
      const run = async () => {
        const node = [
          process.execPath,
          '--',
          join(lib, 'trucki2pushgateway.js'),
          '-t',
          `roof=${stick.url}`,
          '--stdout',
        ];
        const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CACHE_DIRECTORY: join(varCache, name) };
        const { stderr } = await execFileAsync('sh', ['-c', command, 'sh', ...ids, ...node], {
          cwd: root,
          env: { ...env, NODE_DEBUG: 'trucki-code-cache' },
          timeout: 30_000,
        });
        assert.doesNotMatch(stderr, /cache directory/, stderr);
        return /code cache for \S+ was (\w+)/.exec(stderr)?.[1];
      };
      assert.equal(await run(), 'missing');
      assert.equal(await run(), 'accepted', 'the second run did not take the code cache the first one kept');
      const kept = await readdir(own);
      assert.ok(kept.includes(identityFile), `kept: ${kept.join(', ')}`);
      for (const file of kept) assert.equal((await stat(join(own, file))).uid, dynamic);
    } finally {
      await stick.close();
      await rm(root, { recursive: true, force: true });
    }
  });
}
