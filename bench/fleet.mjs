/**
 * Fleets (issue 12): 100 and 1,000 simulated sticks that each answer after 300 ms, named in a
 * targets file, one one-shot run, Pushgateway sink against VictoriaMetrics sink side by side:
 * wall time of the job (spawn to exit), its peak RSS (GNU time), and the CPU time the store spent
 * (utime + stime of its process, /proc/<pid>/stat, before and after the run). Baseline: the same run
 * with --stdout (the job alone, no store). After the VictoriaMetrics runs, the number of sticks
 * whose trucki_up is 1 there is counted, so that a fast run that lost sticks cannot pass.
 *
 * The job runs with --concurrency equal to the number of sticks (every stick read at once: the
 * 300 ms of each is waiting, not work). The sticks are served by bench/stick-farm.mjs in a process
 * of their own, which shares the machine's cores with the job and the store.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  cleanEnv,
  cpuMs,
  figure,
  jobArgs,
  median,
  repoRoot,
  runAlone,
  short,
  startPushgateway,
  timeBinary,
  workDir,
  startFarm,
} from './lib.mjs';

async function startVictoriaMetrics() {
  const { startVictoriaMetrics: start } = await import(
    pathToFileURL(`${repoRoot}build/test/helpers/victoriametrics.js`).href
  );
  return start();
}

/** One run of the job under GNU time: wall ms (spawn to exit), peak RSS in MiB, and the store's CPU ms. */
function measure(args, storePid) {
  return new Promise((resolve, reject) => {
    const storeBefore = storePid ? cpuMs(storePid) : 0;
    const started = process.hrtime.bigint();
    const child = spawn(timeBinary, ['-f', 'peak-rss-kib=%M', process.execPath, ...args], {
      cwd: workDir,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /peak-rss-kib=(\d+)/.exec(stderr);
      if (code !== 0 || !rss) reject(new Error(`node ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      // The store may still be working on the last request as the job exits: let it finish.
      else
        setTimeout(
          () => resolve({ ms, rssMiB: Number(rss[1]) / 1024, storeMs: storePid ? cpuMs(storePid) - storeBefore : 0 }),
          300,
        );
    });
  });
}

async function fleet(count, runs, withPushgateway) {
  const farm = await startFarm(count, 300);
  const pushgateway = withPushgateway ? await startPushgateway() : undefined;
  const vm = await startVictoriaMetrics();
  try {
    const file = join(workDir, `fleet-${count}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        farm.urls.map((url, i) => ({ targets: [url], labels: { instance: `s${i + 1}`, site: `site${i % 10}` } })),
      ),
    );
    const common = ['--targets-file', file, '--concurrency', String(count)];
    const rows = { stdout: [], vm: [], pg: [], vmDefault: [] };
    // Warm-up: page cache, and the stores hold every series or group from the first measured run on.
    await measure(jobArgs(...common, '--victoriametrics', vm.url), vm.pid);
    if (pushgateway) await measure(jobArgs(...common, '--pushgateway', pushgateway.url), pushgateway.pid);
    for (let i = 0; i < runs; i++) {
      rows.stdout.push(await measure(jobArgs(...common, '--stdout')));
      rows.vm.push(await measure(jobArgs(...common, '--victoriametrics', vm.url), vm.pid));
      // The same with the default --concurrency (256): fewer sticks in flight, more waiting.
      if (count > 256)
        rows.vmDefault.push(await measure(jobArgs('--targets-file', file, '--victoriametrics', vm.url), vm.pid));
      if (pushgateway && (count < 1000 || i === 0))
        rows.pg.push(await measure(jobArgs(...common, '--pushgateway', pushgateway.url), pushgateway.pid));
    }
    const [up] = await vm
      .waitFor('count(trucki_up{job="trucki"} == 1)', (result) => Number(result[0]?.value[1]) >= count, 30_000)
      .catch(() => vm.query('count(trucki_up{job="trucki"} == 1)'));
    const upCount = Number(up?.value[1] ?? 0);
    const m = (list, key) => median(list.map((row) => row[key]));
    const base = (key, digits) => ({ value: m(rows.stdout, key), what: '--stdout, no store', digits });
    const wallTarget = count >= 1000 ? 2.0 : count >= 100 ? 0.8 : null;
    const out = [
      figure(
        `${count} sticks × 300 ms, one run to VictoriaMetrics: wall time (median of ${runs})`,
        m(rows.vm, 'ms') / 1000,
        { ...base('ms'), value: m(rows.stdout, 'ms') / 1000 },
        wallTarget,
        's',
        2,
      ),
      figure(`… peak RSS of the job`, m(rows.vm, 'rssMiB'), base('rssMiB'), count >= 1000 ? 150 : null, 'MiB', 1),
      ...(rows.vmDefault.length
        ? [
            figure(
              `… the same with the default --concurrency 256: wall time`,
              m(rows.vmDefault, 'ms') / 1000,
              null,
              null,
              's',
              2,
            ),
            figure(
              `… the same with the default --concurrency 256: peak RSS`,
              m(rows.vmDefault, 'rssMiB'),
              null,
              null,
              'MiB',
              1,
            ),
          ]
        : []),
      figure(`… VictoriaMetrics' CPU for the run`, m(rows.vm, 'storeMs') / 1000, null, null, 's', 2),
      figure(`… sticks with trucki_up 1 in VictoriaMetrics afterwards (of ${count})`, upCount, null, null, '', 0),
    ];
    if (pushgateway) {
      out.push(
        figure(
          `${count} sticks × 300 ms, one run to the Pushgateway: wall time (median of ${rows.pg.length})`,
          m(rows.pg, 'ms') / 1000,
          { ...base('ms'), value: m(rows.stdout, 'ms') / 1000 },
          null,
          's',
          2,
        ),
        figure(`… peak RSS of the job`, m(rows.pg, 'rssMiB'), base('rssMiB'), null, 'MiB', 1),
        figure(`… the Pushgateway's CPU for the run`, m(rows.pg, 'storeMs') / 1000, null, null, 's', 2),
      );
    }
    return { out, upCount };
  } finally {
    await farm.stop();
    await pushgateway?.stop();
    await vm.stop();
  }
}

export async function main() {
  // The Pushgateway checks each push against every group it holds: 1,000 pushes against 1,000
  // groups take it minutes, so at 1,000 it is measured once, and not at all in short mode.
  const small = await fleet(short ? 10 : 100, short ? 1 : 5, true);
  const large = await fleet(short ? 20 : 1000, short ? 1 : 3, !short);
  const lost = [
    [short ? 10 : 100, small.upCount],
    [short ? 20 : 1000, large.upCount],
  ].filter(([count, up]) => up !== count);
  if (lost.length) throw new Error(`sticks missing in VictoriaMetrics after the runs: ${JSON.stringify(lost)}`);
  return [...small.out, ...large.out];
}

await runAlone(import.meta, main);
