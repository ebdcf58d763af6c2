#!/usr/bin/env -S node --
// The "--" above: Node 20 reads --env-file even after the script name and exits 9 on a missing
// file before our code runs; options after "--" are left to the script.
/** The command: configuration in, one run (or with --schedule, a loop of runs), exit status (errors.ts) out. */
import { helpText } from './config/help.js';
import { readCommand } from './config/load.js';
import { ConfigError, errnoCode, exitCodes, messageOf } from './errors.js';
import { escapeControl, obeyedByTerminals } from './terminal-text.js';
import { connect } from './wiring.js';
import { createJob } from './run.js';
import type { Print } from './sinks/sink.js';

/** Set by the bundler from package.json. */
declare const __VERSION__: string | undefined;
const version = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

const runExit = { ok: exitCodes.ok, dark: exitCodes.sticksDark, undelivered: exitCodes.failed } as const;

// A closed or full stderr must not turn a good run into a crash: the log is best effort.
process.stderr.on('error', () => {});
// A closed or full stdout fails the write's callback, which the stdout sink turns into a status.
process.stdout.on('error', () => {});

/** Aborted once standard output is gone: a loop printing into a closed pipe stops. */
const stdoutGone = new AbortController();

/** One line stays one line: control characters (from a name, a value) are shown, not obeyed. */
const shown = (char: string) => (char === '\n' ? '\\n' : escapeControl(char));

const io: { log: (line: string) => void; print: Print } = {
  log: (line) => void process.stderr.write(`${line.replace(obeyedByTerminals, shown)}\n`),
  print: (text) =>
    new Promise((resolve, reject) => {
      process.stdout.write(text, (error) => {
        if (error) {
          stdoutGone.abort('standard output closed');
          reject(error);
        } else resolve();
      });
    }),
};

/** --help and --version into a closed pipe or a full disk: a failure in words, not a crash. */
async function answer(kind: 'help' | 'version'): Promise<number> {
  try {
    await io.print(kind === 'help' ? `${helpText()}\n` : `trucki2pushgateway ${version}\n`);
    return exitCodes.ok;
  } catch (error) {
    io.log(`trucki2pushgateway: standard output could not be written (${errnoCode(error) ?? 'error'})`);
    return exitCodes.failed;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  // `check` reads the configuration itself: a mistake in it is the first of its ✗ lines.
  if (argv[0] === 'check') return (await import('./check/command.js')).runCheck(argv, process.env, io, answer);
  const command = await readCommand(argv, process.env);
  if (command.kind !== 'run') return answer(command.kind === 'version' ? 'version' : 'help');
  const { config } = command;
  const job = createJob(config, io.log, await connect(config, io.print));
  try {
    if (!config.schedule) return runExit[await job.run(config.targets)];
    // Loaded only in loop mode: a one-shot start never pays for croner.
    const { startSchedule } = await import('./schedule.js');
    const testTickMs = Number(process.env.TRUCKI_TEST_TICK_MS) || undefined;
    const watch = config.targetsFile && (await import('./targets/watch.js')).watchTargetsFile;
    // A stick taken out of the file is dropped: discarded by the sink and, as on exit, removed.
    const targets = watch ? await watch(config.targetsFile, config.targets, io.log, job.drop) : () => config.targets;
    const stoppedWell = await startSchedule(job.run, {
      ...config.schedule,
      log: io.log,
      version,
      quiet: !config.verbose,
      targets,
      testTickMs,
      stopOn: stdoutGone.signal,
      // What the sink kept goes out once more; then, if asked, the groups go.
      onStop: async () => {
        // The file as it is now, before finish(): a stick it no longer names is dropped in time.
        const last = targets();
        const delivered = await job.finish();
        return (config.deleteOnExit ? await job.remove(last) : true) && delivered;
      },
    });
    return stoppedWell ? exitCodes.ok : exitCodes.failed;
  } finally {
    job.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Bad input, or a bug: one line each; the stack is for a debugger, not the journal.
    const bad = error instanceof ConfigError;
    io.log(`trucki2pushgateway: ${bad ? '' : 'internal error: '}${messageOf(error)}`);
    process.exitCode = bad ? exitCodes.usage : exitCodes.internal;
  },
);
