/**
 * All benchmarks of issue 6, one after the other, and one table: figure, measured, baseline,
 * target, result. `npm run bench` builds first and runs them in full (a few minutes) and exits 1
 * when a figure misses its target; `npm run bench:short` (or BENCH_SHORT=1) runs them with tiny
 * counts, only to prove that they still work: it exits 0 whatever the figures, and non-zero only
 * when a benchmark itself fails (e.g. the job exits non-zero or Node rejects its compile cache).
 *
 * Needs: the build (dist/, build/), prometheus-pushgateway and GNU time (/usr/bin/time) on PATH.
 * Everything runs on 127.0.0.1.
 */
import { checkBuild } from './build-check.mjs';
import { compareBuilds } from './builds.mjs';
import { machine, printTable, short } from './lib.mjs';
import { main as cadence } from './cadence.mjs';
import { main as loop } from './loop.mjs';
import { main as oneShot } from './oneshot.mjs';
import { main as sticks } from './sticks.mjs';
import { main as fleet } from './fleet.mjs';

const started = performance.now();
process.stdout.write(
  `trucki2pushgateway benchmarks${short ? ' (short mode: tiny counts, figures not meaningful)' : ''}\n`,
);
process.stdout.write(`Machine: ${machine()}\n\n`);

const rows = [];
for (const [name, bench] of [
  ['build', checkBuild],
  ['one-shot', oneShot],
  ['many sticks', sticks],
  ['fleet', fleet],
  ['loop', loop],
  ['timer or loop, 15 s', cadence],
  ['builds side by side', compareBuilds],
]) {
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(...(await bench()));
  process.stderr.write(`bench: ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

printTable(rows);
const missed = rows.filter((row) => row.pass === false);
process.stdout.write(
  `\n${new Date().toISOString().slice(0, 10)}, ${((performance.now() - started) / 1000).toFixed(0)} s; ${missed.length ? `${missed.length} figure(s) missed the target` : 'every target met'}\n`,
);
if (missed.length && !short) process.exitCode = 1;
