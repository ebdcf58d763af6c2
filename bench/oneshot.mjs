/**
 * One-shot run: `node -- dist/trucki2pushgateway.js -t <stick> -g <pushgateway>` against the
 * simulator and a real Pushgateway, interleaved with `node -e 0` (the baseline: starting Node and
 * doing nothing), so that a machine getting busier or quieter moves both alike. Medians.
 * Peak RSS of both comes from GNU time -v, in separate runs, so that time(1) itself is not in the
 * wall times. The job runs as the shipped units run it: with a cache directory of its own that
 * survives runs (systemd's CacheDirectory=, $CACHE_DIRECTORY), where the launcher keeps V8's code
 * of the program and the job what the stick's /jsononce said.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanEnv,
  figure,
  jobArgs,
  median,
  peakRssKiB,
  runAlone,
  short,
  workDir,
  startPushgateway,
  startStick,
  timeOk,
} from './lib.mjs';

export async function main({ runs = short ? 5 : 40, rssRuns = short ? 2 : 10 } = {}) {
  const stick = await startStick();
  const pushgateway = await startPushgateway();
  try {
    const job = jobArgs('--target', stick.url, '--pushgateway', pushgateway.url);
    const empty = ['-e', '0'];
    const cacheDir = join(workDir, 'cache');
    mkdirSync(cacheDir, { recursive: true });
    const jobEnv = cleanEnv({ CACHE_DIRECTORY: cacheDir });
    // Warm-up: page cache, the Pushgateway's first group.
    await timeOk(empty);
    await timeOk(job, { env: jobEnv });
    const emptyMs = [];
    const jobMs = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so that neither always follows the other.
      if (i % 2) {
        jobMs.push((await timeOk(job, { env: jobEnv })).ms);
        emptyMs.push((await timeOk(empty)).ms);
      } else {
        emptyMs.push((await timeOk(empty)).ms);
        jobMs.push((await timeOk(job, { env: jobEnv })).ms);
      }
    }
    const emptyRss = [];
    const jobRss = [];
    for (let i = 0; i < rssRuns; i++) {
      emptyRss.push(await peakRssKiB(empty, { env: cleanEnv() }));
      jobRss.push(await peakRssKiB(job, { env: jobEnv }));
    }
    const base = median(emptyMs);
    const wall = median(jobMs);
    return [
      figure(`One-shot wall time (median of ${runs})`, wall, { value: base, what: '`node -e 0`' }, null, 'ms', 1),
      figure(
        'One-shot wall time ÷ `node -e 0`',
        wall / base,
        { value: 1, what: '`node -e 0`', digits: 2, unit: '' },
        1.5,
        '×',
        2,
      ),
      figure(
        `One-shot peak RSS (median of ${rssRuns})`,
        median(jobRss) / 1024,
        { value: median(emptyRss) / 1024, what: '`node -e 0`' },
        50,
        'MiB',
        1,
      ),
    ];
  } finally {
    await stick.close();
    await pushgateway.stop();
  }
}

await runAlone(import.meta, main);
