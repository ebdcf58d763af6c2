/**
 * Timer or loop, at the units' cadence of 15 s, side by side in one run: the loop unit's process
 * (`--schedule '*\/15 * * * * *'`) runs against one simulated stick while, every 7.5 s, a one-shot
 * run as the timer's service starts it (against another stick, the same real Pushgateway, a cache
 * directory kept across runs) and `node -e 0` run one after the other. The machine is shared, so
 * each figure comes with the load average and with `node -e 0` measured in the same minutes.
 *
 * - One-shot: user + system CPU and wall time of each run, and its peak RSS, from GNU time
 *   (`%U %S %e %M`, CPU in steps of 10 ms, hence means over all runs); `node -e 0` alike.
 * - Loop: CPU (utime + stime of /proc/<pid>/stat) between the end of the warm-up cycles and the
 *   last cycle, over the cycles between, so idle time between ticks is counted too; RSS (VmRSS)
 *   after every cycle.
 * - Per hour: 240 one-shot runs against 240 cycles of the loop.
 *
 * `--short`: a 1 s pattern and a few cycles, only to prove the script works.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  cleanEnv,
  cpuMs,
  figure,
  jobArgs,
  liveReads,
  median,
  rssKiB,
  runAlone,
  short,
  sleep,
  startPushgateway,
  startStick,
  timeBinary,
  underTime,
  workDir,
} from './lib.mjs';

/** `node <args>` under GNU time: CPU (user + system) and wall time in ms, peak RSS in MiB. */
async function timed(args, env) {
  const { code, stderr } = await underTime(args, ['-f', 'cadence %U %S %e %M'], { env });
  const match = /^cadence ([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/m.exec(stderr);
  if (code !== 0 || !match) throw new Error(`${timeBinary} node ${args.join(' ')} exited ${code}:\n${stderr}`);
  return {
    cpuMs: (Number(match[1]) + Number(match[2])) * 1000,
    wallMs: Number(match[3]) * 1000,
    rssMiB: Number(match[4]) / 1024,
  };
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const load = () => loadavg()[0];
const range = (values, digits = 1) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

export async function main({
  pattern = short ? '* * * * * *' : '*/15 * * * * *',
  periodS = short ? 1 : 15,
  warmup = short ? 1 : 2,
  cycles = short ? 3 : 16,
} = {}) {
  const pushgateway = await startPushgateway();
  const loopStick = await startStick();
  const shotStick = await startStick();
  const loopCache = join(workDir, 'cache-loop');
  const shotCache = join(workDir, 'cache-oneshot');
  mkdirSync(loopCache, { recursive: true });
  mkdirSync(shotCache, { recursive: true });
  const loadStart = load();
  const loop = spawn(
    process.execPath,
    jobArgs('--target', loopStick.url, '--pushgateway', pushgateway.url, '--schedule', pattern),
    { cwd: workDir, env: cleanEnv({ CACHE_DIRECTORY: loopCache }), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let loopLog = '';
  loop.stderr.on('data', (chunk) => {
    loopLog = (loopLog + chunk).slice(-20_000);
  });
  const shot = jobArgs('--target', shotStick.url, '--pushgateway', pushgateway.url);
  const shotEnv = cleanEnv({ CACHE_DIRECTORY: shotCache });
  const shots = [];
  const empties = [];
  const loads = [loadStart];
  const loopRss = [];
  let first;
  let last;
  try {
    // The one-shot's first run fills its caches, as the timer's first run does; not counted.
    await timed(shot, shotEnv);
    const deadline = Date.now() + (warmup + cycles + 3) * periodS * 1000 + 60_000;
    let seen = 0;
    let nextPair = Date.now();
    while (!last) {
      if (Date.now() > deadline) throw new Error(`the loop made ${seen} cycles in time:\n${loopLog}`);
      if (loop.exitCode !== null) throw new Error(`the loop ended:\n${loopLog}`);
      const count = liveReads(loopStick);
      if (count > seen) {
        seen = count;
        // Read once the cycle's push is out too: the next tick is a period away.
        await sleep(200);
        const reading = { cycles: count, cpuMs: cpuMs(loop.pid), rssKiB: rssKiB(loop.pid) };
        if (count >= warmup) loopRss.push(reading.rssKiB / 1024);
        if (count === warmup) first = reading;
        if (count >= warmup + cycles) last = reading;
      }
      if (Date.now() >= nextPair) {
        nextPair += (periodS * 1000) / 2;
        // Alternate which goes first.
        const runShot = () => timed(shot, shotEnv);
        const runEmpty = () => timed(['-e', '0'], cleanEnv());
        if (shots.length % 2) {
          empties.push(await runEmpty());
          shots.push(await runShot());
        } else {
          shots.push(await runShot());
          empties.push(await runEmpty());
        }
        loads.push(load());
      }
      await sleep(50);
    }
  } finally {
    if (loop.exitCode === null) loop.kill('SIGTERM');
    await new Promise((resolve) => (loop.exitCode !== null ? resolve() : loop.once('exit', resolve)));
    await Promise.all([loopStick.close(), shotStick.close(), pushgateway.stop()]);
  }
  loads.push(load());
  const perCycle = (last.cpuMs - first.cpuMs) / (last.cycles - first.cycles);
  const shotCpu = mean(shots.map((run) => run.cpuMs));
  const emptyCpu = mean(empties.map((run) => run.cpuMs));
  const perHour = 3600 / periodS;
  const base = (value, digits = 1, unit) => ({ value, what: '`node -e 0`', digits, unit });
  const info = (name, measured, baseline, unit, digits = 1) => figure(name, measured, baseline, null, unit, digits);
  const lastRss = loopRss[loopRss.length - 1];
  return [
    info(`Load average (1 min) during the run: ${range(loads, 2)}, median`, median(loads), null, '', 2),
    info(`One-shot, CPU per run (mean of ${shots.length})`, shotCpu, base(emptyCpu), 'ms'),
    info(
      `One-shot, wall time per run (median of ${shots.length})`,
      median(shots.map((run) => run.wallMs)),
      base(median(empties.map((run) => run.wallMs))),
      'ms',
    ),
    info(
      `One-shot, peak RSS (median; resident only while it runs)`,
      median(shots.map((run) => run.rssMiB)),
      base(median(empties.map((run) => run.rssMiB))),
      'MiB',
    ),
    info(
      `Loop on "${pattern}", CPU per cycle (${last.cycles - first.cycles} cycles after ${warmup})`,
      perCycle,
      base(emptyCpu),
      'ms',
      2,
    ),
    info(
      `Loop, RSS after each cycle: ${range(loopRss)} MiB, after the last`,
      lastRss,
      base(median(empties.map((run) => run.rssMiB))),
      'MiB',
    ),
    info(
      `Per hour at a ${periodS} s cadence: one-shot CPU`,
      (shotCpu * perHour) / 1000,
      base((emptyCpu * perHour) / 1000, 1, 's'),
      's',
    ),
    info(`Per hour at a ${periodS} s cadence: loop CPU`, (perCycle * perHour) / 1000, null, 's', 2),
  ];
}

await runAlone(import.meta, main);
