/**
 * The textfile is for node_exporter, another user: it comes out 0644 whatever the umask (the
 * shipped units set UMask=0077), and the units' sandbox can be opened to node_exporter's textfile
 * directory with the drop-in their comments show.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { jobBundle, repoRoot } from '../helpers/paths.js';

let dir: string;
let stick: Simulator;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'textfile-mode-'));
  stick = await startSimulator({ variant: 'T2SG', clock: () => 0 });
});
after(async () => {
  await stick.close();
  await rm(dir, { recursive: true, force: true });
});

/** The job started by a shell that sets the umask first, as systemd's UMask= does. */
function runWithUmask(umask: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', `umask ${umask} && exec "$0" -- "$@"`, process.execPath, jobBundle, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 60_000 },
      (error, _stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ code: error ? (typeof code === 'number' ? code : null) : 0, stderr });
      },
    );
  });
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test('under umask 0077 the textfile is written 0644, also where a 0600 one stood', async () => {
  const file = join(dir, 'trucki.prom');
  const first = await runWithUmask('077', ['-t', `a=${stick.url}`, '--textfile', file]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await modeOf(file)).toString(8), '644');
  assert.match(await readFile(file, 'utf8'), /^trucki_up\{stick="a"\} 1$/m);

  await writeFile(file, '', { mode: 0o600 });
  const again = await runWithUmask('077', ['-t', `a=${stick.url}`, '--textfile', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await modeOf(file)).toString(8), '644');
});

const systemdAnalyze = process.env.SYSTEMD_ANALYZE ?? 'systemd-analyze';
const analyze = (args: string[]) =>
  new Promise<{ code: number | null; output: string; missing: boolean }>((resolve) => {
    execFile(systemdAnalyze, ['--no-pager', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({
        code: error ? (typeof code === 'number' ? code : null) : 0,
        output: stdout + stderr,
        missing: code === 'ENOENT',
      });
    });
  });

for (const unit of ['trucki2pushgateway.service', 'trucki2pushgateway-loop.service']) {
  test(`${unit}: the textfile drop-in its comments show verifies, and verify reads it`, async (t) => {
    const text = await readFile(join(repoRoot, 'deploy/systemd', unit), 'utf8');
    const lines = [...text.matchAll(/^#\s+((?:ReadWritePaths|SupplementaryGroups)=\S+)$/gm)].map((match) => match[1]!);
    assert.deepEqual(
      lines.map((line) => line.split('=')[0]),
      ['ReadWritePaths', 'SupplementaryGroups'],
      `${unit} shows no textfile drop-in`,
    );
    assert.ok(lines.includes('ReadWritePaths=/var/lib/prometheus/node-exporter'), lines.join('\n'));
    if ((await analyze(['--version'])).missing) {
      t.skip(`${systemdAnalyze} is not installed`);
      return;
    }
    const units = await mkdtemp(join(tmpdir(), 'textfile-units-'));
    try {
      // ExecStart= names /usr/bin/node, which verify checks: where node lives elsewhere, this one.
      await writeFile(join(units, unit), text.replaceAll('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
      await mkdir(join(units, `${unit}.d`));
      const dropIn = join(units, `${unit}.d`, 'textfile.conf');
      const verify = () => analyze(['verify', '--man=no', join(units, unit)]);
      await writeFile(dropIn, `[Service]\n${lines.join('\n')}\n`);
      const clean = await verify();
      const ours = clean.output.split('\n').filter((line) => line.includes(units));
      assert.deepEqual(ours, [], clean.output);
      // The same drop-in with a misspelt key is flagged: verify did read the drop-in above.
      await writeFile(dropIn, `[Service]\n${lines.join('\n')}\nReadWritePathz=/x\n`);
      assert.match((await verify()).output, /textfile\.conf:\d+: Unknown key 'ReadWritePathz'/);
    } finally {
      await rm(units, { recursive: true, force: true });
    }
  });
}
