/** Runs the real, bundled command as a user would, with a clean environment and working directory. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobBundle } from './paths.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** With `measure`: wall time and peak resident memory of the process. */
  readonly wallMs: number;
  readonly peakRssMiB?: number;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Run under GNU time (Debian package `time`) to learn the peak RSS. */
  readonly measure?: boolean;
  /** startCli: keep what the command prints on stdout (otherwise it is read and dropped). */
  readonly captureStdout?: boolean;
}

/**
 * For a loop whose subject is not the cron pattern: the bundle's test ticker (TRUCKI_TEST_TICK_MS,
 * src/schedule.ts) starts the next run this soon after a run ends, so that a test waits for runs,
 * not for the seconds of a cron pattern.
 */
export const quickTicks: Record<string, string> = { TRUCKI_TEST_TICK_MS: '50' };

export async function emptyDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'trucki-cwd-'));
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const cwd = options.cwd ?? (await emptyDir());
  try {
    return await runIn(cwd, args, options);
  } finally {
    if (!options.cwd) await rm(cwd, { recursive: true, force: true });
  }
}

async function runIn(cwd: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  const command = ['--', jobBundle, ...args];
  const [file, argv] = options.measure
    ? ['/usr/bin/time', ['-q', '-f', 'peak-rss-kib=%M', process.execPath, ...command]]
    : [process.execPath, command];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      {
        cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const wallMs = performance.now() - started;
        const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        const peak = /^peak-rss-kib=(\d+)\n/m.exec(stderr);
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr: peak ? stderr.replace(peak[0], '') : stderr,
          wallMs,
          ...(peak && { peakRssMiB: Number(peak[1]) / 1024 }),
        });
      },
    );
  });
}

export interface RunningCli {
  /** The process id, e.g. to read /proc/<pid>/cmdline. */
  readonly pid: number;
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** Everything written to stdout so far, with `captureStdout`. */
  readonly stdout: () => string;
  /** Resolves once stderr has a line matching `pattern`. */
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  /** Sends `signal` and resolves with how the process ended. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the command in the background, e.g. in loop mode. */
export async function startCli(args: readonly string[], options: CliOptions = {}): Promise<RunningCli> {
  const { spawn } = await import('node:child_process');
  const cwd = options.cwd ?? (await emptyDir());
  const child = spawn(process.execPath, ['--', jobBundle, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!options.captureStdout) child.stdout.resume();
  let stdout = '';
  if (options.captureStdout)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  // 'close', not 'exit': only then has the last of stderr been read (a stopping loop's last line).
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      if (!options.cwd) void rm(cwd, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  return {
    pid: child.pid!,
    stderr: () => stderr,
    stdout: () => stdout,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stderr)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} in stderr after ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
