#!/usr/bin/env -S node --
// The "--" above: Node 20 reads --env-file even after the script name and exits 9 on a missing
// file before our code runs; options after "--" are left to the script.
/**
 * The command: configuration in, one run (or with --schedule, a loop of runs), exit status out.
 * 0: every stick read and delivered; 1: a stick or a delivery failed; 2: usage or configuration
 * error; 70: a bug, in one line.
 */
import { ConfigError, loadConfig } from './config.js';
import { helpText } from './options.js';
import { createJob, type Io } from './run.js';

/** Set by the bundler from package.json. */
declare const __VERSION__: string | undefined;

export const exitCodes = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

const io: Io = {
  log: (line) => process.stderr.write(`${line}\n`),
  print: (text) => process.stdout.write(text),
};

async function main(argv: readonly string[]): Promise<number> {
  const command = await loadConfig(argv, process.env);
  if (command.kind === 'help') {
    io.print(`${helpText()}\n`);
    return exitCodes.ok;
  }
  if (command.kind === 'version') {
    io.print(`trucki2pushgateway ${typeof __VERSION__ === 'string' ? __VERSION__ : 'dev'}\n`);
    return exitCodes.ok;
  }
  const { config } = command;
  const job = await createJob(config, io);
  try {
    if (!config.schedule) return (await job.run()) ? exitCodes.ok : exitCodes.failed;
    // Loaded only in loop mode: a one-shot start never pays for croner.
    const { startSchedule } = await import('./schedule.js');
    const testTickMs = Number(process.env.TRUCKI_TEST_TICK_MS) || undefined;
    await startSchedule(job.run, { ...config.schedule, log: io.log, testTickMs, ...(config.deleteOnExit && { onStop: job.deleteGroups }) });
    return exitCodes.ok;
  } finally {
    job.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      io.log(`trucki2pushgateway: ${error.message}`);
      process.exitCode = exitCodes.usage;
    } else {
      // A bug, not bad input: say so in one line; the stack is for a debugger, not the journal.
      io.log(`trucki2pushgateway: internal error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = exitCodes.internal;
    }
  },
);
