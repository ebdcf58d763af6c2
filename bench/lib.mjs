/**
 * Shared pieces of the benchmarks: the built job, a clean environment, the stick simulator and a
 * real Pushgateway, process timing and /proc readings. Benchmarks, not tests: they print figures
 * and never assert a time; bench/run.mjs compares the figures with the targets of issue 6.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** BENCH_SHORT=1 or --short: tiny counts, only to prove that the scripts work (CI). */
export const short = process.env.BENCH_SHORT === '1' || process.argv.includes('--short');

/** The file users run; BENCH_JOB=<path> measures another build of it. */
export const jobFile = process.env.BENCH_JOB ?? `${repoRoot}dist/trucki2pushgateway.js`;

/**
 * Every process the benchmarks start gets only PATH, as the test suite's CLI runs do. Anything
 * more from the caller's environment would be measured too: NODE_EXTRA_CA_CERTS, for one, makes
 * Node 20 read and parse a CA bundle at every start (+44 ms per start on the reference machine).
 */
export function cleanEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

/**
 * The working directory of every process started: empty, so that no .env of the developer's is
 * read (that would load dotenv, and could even set SCHEDULE and turn a one-shot run into a loop).
 */
export const workDir = mkdtempSync(join(tmpdir(), 'trucki-bench-'));
process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));

async function importBuilt(path) {
  const file = `${repoRoot}${path}`;
  if (!existsSync(file)) throw new Error(`${path} is missing: run "npm run build" first (npm run bench does)`);
  return import(pathToFileURL(file).href);
}

/** A simulated stick on 127.0.0.1 (src/simulator/server.ts, as built by tsc). */
export async function startStick(options = {}) {
  const { startSimulator } = await importBuilt('build/src/simulator/server.js');
  return startSimulator({ variant: 'T2SG', ...options });
}

/** A real prometheus-pushgateway on a free 127.0.0.1 port with its own temp persistence file. */
export async function startPushgateway(args = []) {
  const { startPushgateway: start } = await importBuilt('build/test/helpers/pushgateway.js');
  return start(args);
}

/** How many /jsonlive reads a simulator has served: one per run of the job. */
export const liveReads = (stick) =>
  stick.requests.reduce((count, line) => count + (line === 'GET /jsonlive' ? 1 : 0), 0);

/** The job's argv for Node: "--" first, so that Node leaves the job's own options alone. */
export const jobArgs = (...args) => ['--', jobFile, ...args];

/**
 * Runs `node <args>` to its end; resolves with its wall time in ms (spawn to exit) and status.
 * stdout is dropped; stderr is kept to explain a failure.
 */
export function timeNode(args, { env = cleanEnv(), cwd = workDir } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    let ms = 0;
    child.on('exit', () => {
      ms = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.on('close', (code, signal) => resolve({ ms, code, signal, stderr }));
  });
}

/** As timeNode, for a run that must succeed. */
export async function timeOk(args, options) {
  const result = await timeNode(args, options);
  if (result.code !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr}`);
  return result;
}

export const timeBinary = '/usr/bin/time';

/** Runs `node <args>` under GNU time (Debian package "time") with `timeArgs`; resolves with its status and stderr. */
export function underTime(args, timeArgs, { env = cleanEnv(), cwd = workDir } = {}) {
  if (!existsSync(timeBinary)) throw new Error(`${timeBinary} is missing: apt-get install time`);
  return new Promise((resolve, reject) => {
    const child = spawn(timeBinary, [...timeArgs, process.execPath, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Peak RSS in KiB of `node <args>`, from GNU time -v. */
export async function peakRssKiB(args, options) {
  const { code, stderr } = await underTime(args, ['-v'], options);
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (code !== 0 || !match) throw new Error(`time -v node ${args.join(' ')} exited ${code}:\n${stderr}`);
  return Number(match[1]);
}

export const clockTicks = Number(
  await new Promise((resolve) => {
    const child = spawn('getconf', ['CLK_TCK'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', () => resolve(out.trim() || '100'));
    child.on('error', () => resolve('100'));
  }),
);

/** User + system CPU time of a live process, in ms (utime and stime of /proc/<pid>/stat). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: count fields after its closing ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** Resident set size of a live process, in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate()` holds, checking every `everyMs`; rejects after `timeoutMs`. */
export async function until(predicate, { timeoutMs, everyMs = 2, what = 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function machine() {
  const cpu = cpus();
  let os = release();
  try {
    os = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    /* not Linux-like enough to say */
  }
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${os}, Linux ${release()}, Node ${process.version}`;
}

/**
 * One row of the table. `baseline` is { value, what[, unit, digits] } or null; `target` is the
 * issue's upper bound on `measured`, or null for a figure shown for information.
 */
export function figure(name, measured, baseline, target, unit, digits = 1) {
  return { name, measured, baseline, target, unit, digits, pass: target === null ? null : measured <= target };
}

export const fmt = (value, unit, digits) =>
  value === null || value === undefined ? '–' : `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;

/** The figures as a Markdown table, ready for the README. */
export function printTable(rows, write = (text) => process.stdout.write(text)) {
  const lines = [['Figure', 'Measured', 'Baseline', 'Target', 'Result']];
  for (const row of rows) {
    lines.push([
      row.name,
      fmt(row.measured, row.unit, row.digits),
      row.baseline === null
        ? '–'
        : `${fmt(row.baseline.value, row.baseline.unit ?? row.unit, row.baseline.digits ?? row.digits)} (${row.baseline.what})`,
      row.target === null ? '–' : `≤ ${fmt(row.target, row.unit, row.digits)}`,
      row.pass === null ? 'info' : row.pass ? 'pass' : '**MISS**',
    ]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  const out = lines.map((line) => `| ${line.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`);
  out.splice(1, 0, `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  write(`${out.join('\n')}\n`);
}

/** Runs a benchmark module's `main` and prints its figures when its file is the entry point. */
export async function runAlone(meta, main) {
  if (process.argv[1] && fileURLToPath(meta.url) === process.argv[1]) {
    printTable(await main());
  }
}

/** The sticks, served by bench/stick-farm.mjs in a process of their own. */
export async function startFarm(count, delayMs) {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./stick-farm.mjs', import.meta.url)),
      '--count',
      String(count),
      '--delay-ms',
      String(delayMs),
    ],
    { cwd: workDir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const urls = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out));
    });
    child.on('exit', (code) => reject(new Error(`bench/stick-farm.mjs exited ${code}`)));
  });
  return {
    urls,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit').on('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}
