/**
 * TruckiSeriesStopped on a real vmalert against a real VictoriaMetrics: silence must not look like
 * health. A stick whose series stopped arriving fires, whatever its job is called; one the job
 * delivers now, and one seen a few minutes ago, stay quiet.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { startSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { until } from '../helpers/until.js';
import { startVictoriaMetrics, startVmalert } from '../helpers/victoriametrics.js';

test('shipped rules on vmalert: TruckiSeriesStopped fires for a stick gone silent, not for one arriving', async () => {
  const shipped = await readFile(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8');
  // Only the `for:` durations are shortened; the expressions, and their windows, are the shipped ones.
  const rules = shipped.replace(/^(\s+)for: \d+m$/gm, '$1for: 3s');
  assert.equal((rules.match(/for: 3s/g) ?? []).length, (shipped.match(/for: \d+m/g) ?? []).length);
  const vm = await startVictoriaMetrics();
  const healthy = await startSimulator({ variant: 'T2SG' });
  try {
    // What a job called "solar" wrote for "gone" until 20 minutes ago, one run a minute for an hour,
    // and what the job wrote for "recent" 5 minutes ago: the job cannot be run in the past.
    const now = Date.now();
    const minute = 60_000;
    const lines: string[] = [];
    for (let ago = 80; ago >= 20; ago--) lines.push(`trucki_up{job="solar",instance="gone"} 1 ${now - ago * minute}`);
    lines.push(`trucki_up{job="trucki",instance="recent"} 0 ${now - 5 * minute}`);
    const seeded = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: `${lines.join('\n')}\n` });
    assert.equal(seeded.status, 204);
    await vm.exportSeries('trucki_up', (series) => series.length === 2);
    const run = await runCli(['-t', `healthy=${healthy.url}`, '--victoriametrics', vm.url]);
    assert.equal(run.code, 0, run.stderr);
    await vm.waitFor('trucki_up{instance="healthy"}');

    const vmalert = await startVmalert(rules, vm.url);
    try {
      let alerts = await vmalert.alerts();
      const stopped = () => alerts.filter((alert) => alert.name === 'TruckiSeriesStopped' && alert.state === 'firing');
      await until(
        async () => {
          alerts = await vmalert.alerts();
          return stopped().length > 0;
        },
        { timeoutMs: 45_000, what: 'TruckiSeriesStopped firing', last: () => JSON.stringify(alerts) },
      );
      assert.deepEqual(
        stopped().map((alert) => [alert.labels.job, alert.labels.instance]),
        [['solar', 'gone']],
      );
      // Two evaluations later, still nothing for the sticks that arrive.
      await vmalert.evaluatedAfter(Date.now());
      await vmalert.evaluatedAfter(Date.now());
      alerts = await vmalert.alerts();
      assert.deepEqual(
        alerts.filter((alert) => alert.name === 'TruckiSeriesStopped' && alert.labels.instance !== 'gone'),
        [],
      );
    } finally {
      await vmalert.stop();
    }
  } finally {
    await Promise.allSettled([vm.stop(), healthy.close()]);
  }
});
