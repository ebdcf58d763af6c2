/**
 * Loop mode (`--schedule`), measured from outside: the job runs against the simulator and a real
 * Pushgateway; cycles are counted as the simulator's /jsonlive reads; CPU time (utime + stime of
 * /proc/<pid>/stat) and RSS (VmRSS of /proc/<pid>/status) are read when the count passes a mark.
 * CPU per cycle is the CPU spent between two marks over the cycles counted between them, so the
 * start-up and the warm-up cycles are left out.
 *
 * - 1 s tick: the real croner schedule "* * * * * *".
 * - Fast tick: TRUCKI_TEST_TICK_MS=1 (test-only: the next run 1 ms after the previous one ended;
 *   --schedule must still be given), so that 10,000 cycles take seconds rather than hours.
 *
 * Baseline: bench/floor.mjs, the same cycle with nothing but node:http, at the same tick.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  cleanEnv,
  cpuMs,
  figure,
  jobArgs,
  liveReads,
  rssKiB,
  runAlone,
  short,
  sleep,
  startPushgateway,
  startStick,
  until,
  workDir,
} from './lib.mjs';

const floorScript = fileURLToPath(new URL('./floor.mjs', import.meta.url));

/** Starts a looping process (the job or the floor); its stderr is kept to explain a failure. */
function startLoop(args, env) {
  const child = spawn(process.execPath, args, { cwd: workDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`${args.join(' ')} ended with ${code ?? signal}:\n${stderr}`);
    },
    exited,
  };
}

/** Reads CPU and RSS of `loop` each time `stick` has served at least the next of `marks` cycles. */
async function readAtMarks(loop, stick, marks, timeoutMs) {
  const readings = [];
  let ended = false;
  void loop.exited.then(() => {
    ended = true;
  });
  for (const mark of marks) {
    await until(() => ended || liveReads(stick) >= mark, { timeoutMs, what: `cycle ${mark}` });
    if (ended) throw new Error(`the loop ended before cycle ${mark}:\n${loop.stderr()}`);
    const pid = loop.child.pid;
    readings.push({ cycles: liveReads(stick), cpuMs: cpuMs(pid), rssKiB: rssKiB(pid) });
  }
  return readings;
}

const perCycle = (from, to) => (to.cpuMs - from.cpuMs) / (to.cycles - from.cycles);

async function oneSecondTick(pushgateway, { warmup, cycles }) {
  const jobStick = await startStick();
  const floorStick = await startStick();
  const job = startLoop(
    jobArgs('--target', jobStick.url, '--pushgateway', pushgateway.url, '--schedule', '* * * * * *'),
    cleanEnv(),
  );
  const floor = startLoop(
    [floorScript, '--stick', floorStick.url, '--pushgateway', pushgateway.url, '--every-ms', '1000'],
    cleanEnv(),
  );
  try {
    const marks = [warmup, warmup + cycles];
    const timeoutMs = (warmup + cycles + 10) * 1000;
    // Both at once: at one cycle a second they hardly compete for the CPU.
    const [jobReadings, floorReadings] = await Promise.all([
      readAtMarks(job, jobStick, marks, timeoutMs),
      readAtMarks(floor, floorStick, marks, timeoutMs),
    ]);
    return {
      job: perCycle(...jobReadings),
      floor: perCycle(...floorReadings),
      cycles: jobReadings[1].cycles - jobReadings[0].cycles,
      jobRssMiB: jobReadings[1].rssKiB / 1024,
      floorRssMiB: floorReadings[1].rssKiB / 1024,
    };
  } finally {
    await Promise.allSettled([job.stop(), floor.stop()]).then((results) => {
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    });
    await jobStick.close();
    await floorStick.close();
  }
}

async function fastTick(pushgateway, args, env, { first, last }) {
  const stick = await startStick();
  const loop = startLoop(args(stick), env);
  try {
    const started = performance.now();
    const readings = await readAtMarks(loop, stick, [first, last], 600_000);
    const seconds = (performance.now() - started) / 1000;
    return {
      cpuPerCycle: perCycle(...readings),
      rssGrowthMiB: (readings[1].rssKiB - readings[0].rssKiB) / 1024,
      rssMiB: readings[1].rssKiB / 1024,
      seconds,
      cycles: readings[1].cycles,
    };
  } finally {
    await loop.stop();
    await stick.close();
  }
}

export async function main({
  warmup = short ? 1 : 5,
  cycles = short ? 3 : 40,
  first = 100,
  last = short ? 300 : 10_000,
} = {}) {
  const pushgateway = await startPushgateway();
  try {
    const slow = await oneSecondTick(pushgateway, { warmup, cycles });
    const job = await fastTick(
      pushgateway,
      (stick) => jobArgs('--target', stick.url, '--pushgateway', pushgateway.url, '--schedule', '* * * * * *'),
      cleanEnv({ TRUCKI_TEST_TICK_MS: '1' }),
      { first, last },
    );
    // Let the Pushgateway settle (it persists what it holds) before the floor's turn.
    await sleep(500);
    const floor = await fastTick(
      pushgateway,
      (stick) => [floorScript, '--stick', stick.url, '--pushgateway', pushgateway.url, '--every-ms', '1'],
      cleanEnv(),
      { first, last },
    );
    return [
      figure(
        `Loop, 1 s tick: CPU per cycle (${slow.cycles} cycles after ${warmup} warm-up)`,
        slow.job,
        { value: slow.floor, what: 'node:http floor' },
        3,
        'ms',
        2,
      ),
      figure(
        `Loop, 1 s tick: RSS after ${warmup + cycles} cycles`,
        slow.jobRssMiB,
        { value: slow.floorRssMiB, what: 'node:http floor' },
        null,
        'MiB',
        1,
      ),
      figure(
        `Loop, 1 ms test tick: CPU per cycle (cycles ${first}–${last})`,
        job.cpuPerCycle,
        { value: floor.cpuPerCycle, what: 'node:http floor' },
        1.5,
        'ms',
        2,
      ),
      figure(
        `Loop: RSS after ${last.toLocaleString('en')} cycles − after ${first}`,
        job.rssGrowthMiB,
        { value: floor.rssGrowthMiB, what: 'node:http floor' },
        2,
        'MiB',
        1,
      ),
      figure(
        `Loop: RSS after ${last.toLocaleString('en')} cycles`,
        job.rssMiB,
        { value: floor.rssMiB, what: 'node:http floor' },
        null,
        'MiB',
        1,
      ),
      figure(
        `Loop, 1 ms test tick: time for ${last.toLocaleString('en')} cycles`,
        job.seconds,
        { value: floor.seconds, what: 'node:http floor' },
        null,
        's',
        1,
      ),
    ];
  } finally {
    await pushgateway.stop();
  }
}

await runAlone(import.meta, main);
