/**
 * Many sticks: 100 simulated sticks on 127.0.0.1 that each answer only after 300 ms, and one
 * one-shot run of the job with all of them as targets (`s1=http://127.0.0.1:P1,…`), pushing to a
 * real Pushgateway. Wall time of the process, median of a few runs. Baseline: the same run with a
 * single such stick, which cannot take less than its 300 ms plus the start.
 *
 * Two more rows say where the time goes: the same run with --stdout (no Pushgateway: the job's
 * own share), and against a Pushgateway started with --push.disable-consistency-check. By default
 * the Pushgateway checks every push against all the groups it holds, one push at a time, so 100
 * pushes of 100 groups cost it O(100²) series checks: most of the run on a small machine.
 */
import { figure, jobArgs, median, runAlone, short, startFarm, startPushgateway, timeOk } from './lib.mjs';

export async function main({ count = 100, delayMs = 300, runs = short ? 1 : 5 } = {}) {
  const farm = await startFarm(count, delayMs);
  const pushgateway = await startPushgateway();
  const lenient = await startPushgateway(['--push.disable-consistency-check']);
  try {
    const targets = farm.urls.map((url, i) => `s${i + 1}=${url}`).join(',');
    const all = jobArgs('--target', targets, '--pushgateway', pushgateway.url);
    const allLenient = jobArgs('--target', targets, '--pushgateway', lenient.url);
    const allStdout = jobArgs('--target', targets, '--stdout');
    const one = jobArgs('--target', `s1=${farm.urls[0]}`, '--pushgateway', pushgateway.url);
    // Warm-up, and the Pushgateways hold all 100 groups from the first measured run on.
    await timeOk(all);
    await timeOk(allLenient);
    const ms = { all: [], one: [], lenient: [], stdout: [] };
    for (let i = 0; i < runs; i++) {
      ms.one.push((await timeOk(one)).ms);
      ms.all.push((await timeOk(all)).ms);
      ms.lenient.push((await timeOk(allLenient)).ms);
      ms.stdout.push((await timeOk(allStdout)).ms);
    }
    const s = (list) => median(list) / 1000;
    const baseline = { value: s(ms.one), what: '1 such stick' };
    return [
      figure(
        `${count} sticks answering in ${delayMs} ms, one run: wall time (median of ${runs})`,
        s(ms.all),
        baseline,
        1.0,
        's',
        2,
      ),
      figure(`… the same, Pushgateway with --push.disable-consistency-check`, s(ms.lenient), baseline, null, 's', 2),
      figure(`… the same, --stdout instead of a Pushgateway`, s(ms.stdout), baseline, null, 's', 2),
    ];
  } finally {
    await farm.stop();
    await pushgateway.stop();
    await lenient.stop();
  }
}

await runAlone(import.meta, main);
