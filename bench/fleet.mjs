/**
 * Fleets (issues 12 and 18): simulated sticks (bench/stick-farm.mjs, a process of their own) that
 * each answer after 300 ms, named in a targets file, one one-shot run to a real VictoriaMetrics
 * single node, against the floor: bench/fleet-floor.mjs, the same I/O with nothing but node:http.
 * Runs interleaved (floor, floor with got, job, …), medians: wall time (spawn to exit) and peak RSS
 * of each (GNU time). The floor with got (--got) makes each stick's GET with got, fixed as the job
 * fixes it, and nothing else of the job: what got alone costs above the floor. After the runs the sticks with trucki_up 1 in VictoriaMetrics are counted, so
 * that a fast run that lost sticks cannot pass.
 *
 * The job runs as the systemd unit runs it: with the Node options of the unit's ExecStart, and a
 * cache directory kept from run to run (CacheDirectory=), so that /jsononce is read on the first
 * run and then only every ten minutes; the floor then reads /jsonlive only. The first run of all
 * (every stick's /jsononce too) is measured once against the floor with --once.
 *
 * --concurrency is the number of sticks up to 1,000 (every stick read at once: the 300 ms of each
 * is waiting, not work), and 1,000 beyond. 100 sticks also go to a real Pushgateway, whose
 * consistency check of every push against every group it holds is most of that run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  cleanEnv,
  cpuMs,
  figure,
  jobFile,
  median,
  repoRoot,
  runAlone,
  short,
  startFarm,
  startPushgateway,
  timeBinary,
  workDir,
} from './lib.mjs';

/** The Node options of the one-shot unit's ExecStart: the job is measured as it is run. */
export const unitNodeOptions = (() => {
  const unit = readFileSync(`${repoRoot}deploy/systemd/trucki2pushgateway.service`, 'utf8');
  const execStart = /^ExecStart=\S*node\s+(.*?)\s*--\s/m.exec(unit);
  if (!execStart) throw new Error('deploy/systemd/trucki2pushgateway.service: no ExecStart=…node … -- …');
  return execStart[1].split(/\s+/).filter(Boolean);
})();

async function startVictoriaMetrics() {
  const { startVictoriaMetrics: start } = await import(
    pathToFileURL(`${repoRoot}build/test/helpers/victoriametrics.js`).href
  );
  return start();
}

/** One run to its end under GNU time: wall ms (spawn to exit), peak RSS in MiB, and the store's CPU ms. */
function measure(args, { env = {}, storePid } = {}) {
  return new Promise((resolve, reject) => {
    const storeBefore = storePid ? cpuMs(storePid) : 0;
    const started = process.hrtime.bigint();
    const child = spawn(timeBinary, ['-f', 'peak-rss-kib=%M', process.execPath, ...args], {
      cwd: workDir,
      env: cleanEnv(env),
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
      // The floor with got loads it from node_modules, where the job loads it bundled: left out.
      const gotLoadMs = Number(/got-load-ms=([\d.]+)/.exec(stderr)?.[1] ?? 0);
      if (code !== 0 || !rss) reject(new Error(`node ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      // The store may still be working on the last request as the run exits: let it finish.
      else
        setTimeout(
          () =>
            resolve({
              ms: ms - gotLoadMs,
              rssMiB: Number(rss[1]) / 1024,
              storeMs: storePid ? cpuMs(storePid) - storeBefore : 0,
            }),
          300,
        );
    });
  });
}

const m = (rows, key) => median(rows.map((row) => row[key]));

/** `count` sticks, `rounds` interleaved pairs of floor and job; targets: the ratio and RSS bounds. */
export async function fleet(count, rounds, { ratioTarget = null, rssTarget = null, pushgateway = false } = {}) {
  const farm = await startFarm(count, 300);
  const vm = await startVictoriaMetrics();
  const pg = pushgateway ? await startPushgateway() : undefined;
  try {
    const file = join(workDir, `fleet-${count}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        farm.urls.map((url, i) => ({ targets: [url], labels: { instance: `s${i + 1}`, site: `site${i % 10}` } })),
      ),
    );
    const concurrency = String(Math.min(count, 1000));
    const common = ['--targets-file', file, '--concurrency', concurrency];
    const job = (...sink) => [...unitNodeOptions, '--', jobFile, ...common, ...sink];
    const toVm = job('--victoriametrics', vm.url);
    const floor = [`${repoRoot}bench/fleet-floor.mjs`, ...common, '--victoriametrics', vm.url];
    const cache = { CACHE_DIRECTORY: mkdtempSync(join(workDir, 'cache-')) };
    // The first run of all: every /jsononce too, against the floor doing the same.
    const firstFloor = await measure([...floor, '--once']);
    const first = await measure(toVm, { env: cache, storePid: vm.pid });
    const rows = { floor: [], floorGot: [], job: [], pg: [] };
    for (let i = 0; i < rounds; i++) {
      rows.floor.push(await measure(floor));
      rows.floorGot.push(await measure([...floor, '--got']));
      rows.job.push(await measure(toVm, { env: cache, storePid: vm.pid }));
      if (pg) rows.pg.push(await measure(job('--pushgateway', pg.url), { env: cache, storePid: pg.pid }));
    }
    const [up] = await vm
      .waitFor('count(trucki_up{job="trucki"} == 1)', (result) => Number(result[0]?.value[1]) >= count, 30_000)
      .catch(() => vm.query('count(trucki_up{job="trucki"} == 1)'));
    const upCount = Number(up?.value[1] ?? 0);
    const floorMs = m(rows.floor, 'ms');
    const name = `${count} sticks × 300 ms, --concurrency ${concurrency}, one run to VictoriaMetrics`;
    const out = [
      figure(
        `${name}: wall time ÷ floor (median of ${rounds})`,
        m(rows.job, 'ms') / floorMs,
        { value: floorMs / 1000, what: 'floor, s', unit: 's', digits: 2 },
        ratioTarget,
        '×',
        2,
      ),
      figure(`… wall time`, m(rows.job, 'ms') / 1000, null, null, 's', 2),
      figure(
        `… the floor with got's GETs (got alone, its loading left out) ÷ floor`,
        m(rows.floorGot, 'ms') / floorMs,
        { value: m(rows.floorGot, 'ms') / 1000, what: 'floor with got, s', unit: 's', digits: 2 },
        null,
        '×',
        2,
      ),
      figure(`… the job ÷ the floor with got`, m(rows.job, 'ms') / m(rows.floorGot, 'ms'), null, null, '×', 2),
      figure(
        `… peak RSS`,
        m(rows.job, 'rssMiB'),
        { value: m(rows.floor, 'rssMiB'), what: 'floor' },
        rssTarget,
        'MiB',
        1,
      ),
      figure(
        `… the first run (every /jsononce too): wall time ÷ floor`,
        first.ms / firstFloor.ms,
        { value: firstFloor.ms / 1000, what: 'floor --once, s', unit: 's', digits: 2 },
        null,
        '×',
        2,
      ),
      figure(
        `… the first run: peak RSS`,
        first.rssMiB,
        { value: firstFloor.rssMiB, what: 'floor --once' },
        null,
        'MiB',
        1,
      ),
      figure(`… VictoriaMetrics' CPU for the run`, m(rows.job, 'storeMs') / 1000, null, null, 's', 2),
      figure(`… sticks with trucki_up 1 in VictoriaMetrics afterwards (of ${count})`, upCount, null, null, '', 0),
    ];
    if (pg)
      out.push(
        figure(`${count} sticks, one run to the Pushgateway: wall time`, m(rows.pg, 'ms') / 1000, null, null, 's', 2),
        figure(`… the Pushgateway's CPU for the run`, m(rows.pg, 'storeMs') / 1000, null, null, 's', 2),
      );
    return { out, lost: upCount === count ? [] : [[count, upCount]] };
  } finally {
    await farm.stop();
    await pg?.stop();
    await vm.stop();
  }
}

export async function main() {
  const sizes = short
    ? [
        [10, 1, { pushgateway: true }],
        [20, 1],
      ]
    : [
        [100, 7, { ratioTarget: 1.2, pushgateway: true }],
        [1000, 7, { ratioTarget: 1.35, rssTarget: 150 }],
        [2000, 5],
        [4000, 5, { ratioTarget: 1.5, rssTarget: 250 }],
      ];
  const results = [];
  // One size at a time: each has the machine to itself.
  for (const size of sizes) results.push(await fleet(...size));
  const lost = results.flatMap((result) => result.lost);
  if (lost.length) throw new Error(`sticks missing in VictoriaMetrics after the runs: ${JSON.stringify(lost)}`);
  return results.flatMap((result) => result.out);
}

await runAlone(import.meta, main);
