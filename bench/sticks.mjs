/**
 * Many sticks: 100 simulated sticks on 127.0.0.1 that each answer only after 300 ms, one one-shot
 * run of the job with all of them as targets (`s1=http://127.0.0.1:P1,…`), pushing to a real
 * Pushgateway. Wall time of the process, median of a few runs. Baseline: the same run with a single
 * such stick, which cannot take less than its 300 ms. The sticks are read concurrently, so 100 of
 * them should cost little more than one.
 */
import { figure, jobArgs, median, runAlone, short, startPushgateway, startStick, timeOk } from './lib.mjs';

export async function main({ count = 100, delayMs = 300, runs = short ? 1 : 5 } = {}) {
  const sticks = await Promise.all(Array.from({ length: count }, () => startStick({ delayMs })));
  const pushgateway = await startPushgateway();
  try {
    const targets = sticks.map((stick, i) => `s${i + 1}=${stick.url}`).join(',');
    const all = jobArgs('--target', targets, '--pushgateway', pushgateway.url);
    const one = jobArgs('--target', `s1=${sticks[0].url}`, '--pushgateway', pushgateway.url);
    await timeOk(one);
    const allMs = [];
    const oneMs = [];
    for (let i = 0; i < runs; i++) {
      oneMs.push((await timeOk(one)).ms);
      allMs.push((await timeOk(all)).ms);
    }
    return [
      figure(`${count} sticks answering in ${delayMs} ms, one run: wall time (median of ${runs})`, median(allMs) / 1000, { value: median(oneMs) / 1000, what: `1 such stick` }, 1.0, 's', 2),
    ];
  } finally {
    await Promise.all(sticks.map((stick) => stick.close()));
    await pushgateway.stop();
  }
}

await runAlone(import.meta, main);
