/**
 * deploy/vmagent/trucki-vmagent.service: systemd-analyze verify and security (exposure at most
 * 1.5, as for the job's own units), and its vmagent flags start the real vmagent 1.79, which then
 * takes the job's import and forwards it to a real VictoriaMetrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/paths.js';
import { launch, startVictoriaMetrics } from '../helpers/victoriametrics.js';

const unit = `${repoRoot}deploy/vmagent/trucki-vmagent.service`;
const systemdAnalyze = process.env.SYSTEMD_ANALYZE ?? 'systemd-analyze';
const run = promisify(execFile);
const present = await run(systemdAnalyze, ['--version']).then(
  () => true,
  () => false,
);

test(
  'systemd-analyze: verify is clean and the exposure is at most 1.5',
  { skip: present ? false : `${systemdAnalyze} not found` },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmagent-unit-'));
    try {
      await copyFile(unit, join(dir, 'trucki-vmagent.service'));
      const verify = await run(systemdAnalyze, ['--no-pager', 'verify', join(dir, 'trucki-vmagent.service')]);
      assert.equal(verify.stdout + verify.stderr, '');
      const security = await run(systemdAnalyze, [
        '--no-pager',
        'security',
        '--offline=yes',
        join(dir, 'trucki-vmagent.service'),
      ]);
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
      assert.ok(exposure <= 1.5, `exposure ${exposure}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('its vmagent flags start the real vmagent, which forwards an import to VictoriaMetrics', async () => {
  const text = await readFile(unit, 'utf8');
  const exec = /^ExecStart=\/usr\/bin\/vmagent((?:.*\\\n)*.*)$/m.exec(text);
  assert.ok(exec, 'an ExecStart of /usr/bin/vmagent');
  const flags = exec[1]!.replace(/\\\n/g, ' ').trim().split(/\s+/);
  const vm = await startVictoriaMetrics();
  const dir = await mkdtemp(join(tmpdir(), 'vmagent-flags-'));
  // The unit's flags, with this test's port, queue directory and store.
  const local = (port: number) =>
    flags.map((flag) =>
      flag
        .replace(/^-httpListenAddr=127\.0\.0\.1:8429$/, `-httpListenAddr=127.0.0.1:${port}`)
        .replace(/^-remoteWrite\.url=\$\{REMOTE_WRITE_URL\}$/, `-remoteWrite.url=${vm.url}/api/v1/write`)
        .replace(/^-remoteWrite\.tmpDataPath=.*$/, `-remoteWrite.tmpDataPath=${dir}`),
    );
  assert.equal(local(0).filter((flag, i) => flag !== flags[i]).length, 3, 'the three host-specific flags were found');
  // On a free port, another if that one is taken before vmagent binds it.
  const { child, port } = await launch('vmagent', local);
  try {
    const body = `trucki_up{job="trucki",instance="unit"} 1 ${Date.now()}\n`;
    assert.equal(
      (await fetch(`http://127.0.0.1:${port}/api/v1/import/prometheus`, { method: 'POST', body })).status,
      204,
    );
    const [up] = await vm.exportSeries('trucki_up{instance="unit"}');
    assert.deepEqual(up!.values, [1]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await Promise.all([vm.stop(), rm(dir, { recursive: true, force: true })]);
  }
});
