/**
 * The internal loop: the same run as a one-shot start, on a croner pattern. Runs never overlap
 * (croner's `protect` skips a tick while the previous run is busy); SIGTERM and SIGINT stop the
 * schedule, let a run in flight finish, and end the process with status 0.
 */
import { Cron } from 'croner';
import { ConfigError } from './config.js';
import type { Run } from './run.js';

export interface LoopOptions {
  readonly pattern: string;
  readonly timezone?: string;
  readonly log: (line: string) => void;
  /** Called once after the last run, before the process exits (e.g. to delete pushed groups). */
  readonly onStop?: () => Promise<void>;
  /** Benchmarks only (TRUCKI_TEST_TICK_MS): tick every this many ms instead of on the pattern. */
  readonly testTickMs?: number;
}

export function startSchedule(run: Run, options: LoopOptions): Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  const tick = () => {
    // A failed run is logged by the run itself; the loop goes on either way.
    inFlight = run().then(() => undefined, (error: unknown) => options.log(`run failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`));
    return inFlight;
  };
  const job = options.testTickMs ? testTicker(options.testTickMs, tick) : cron(options, tick);
  const stopped = new Promise<void>((resolve) => {
    const stop = async (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      job.stop();
      options.log(`${signal}: stopping after the run in flight`);
      await inFlight;
      await options.onStop?.();
      resolve();
    };
    process.once('SIGTERM', stop).once('SIGINT', stop);
  });
  // Only now: whoever waits for this line may send a signal at once, and it must find the handlers.
  options.log(`scheduled on "${options.pattern}"${options.timezone ? ` (${options.timezone})` : ''}; next run ${job.nextRun()?.toISOString()}`);
  return stopped;
}

type Ticker = Pick<Cron, 'nextRun' | 'stop'>;

function cron(options: LoopOptions, tick: () => Promise<void>): Ticker {
  try {
    return new Cron(options.pattern, {
      mode: '5-or-6-parts',
      ...(options.timezone && { timezone: options.timezone }),
      protect: (busy) => options.log(`skipped the run due at ${new Date().toISOString()}: the run started ${busy.currentRun()?.toISOString()} is still busy`),
    }, tick);
  } catch (error) {
    throw new ConfigError(`--schedule / SCHEDULE "${options.pattern}" is not a cron pattern of 5 or 6 fields (${error instanceof Error ? error.message : error}); e.g. "*/15 * * * * *" for every 15 s`);
  }
}

/**
 * Benchmarks only: a tick every `ms` after the previous run ended, so that 10,000 cycles take
 * seconds rather than hours. Cron cannot tick faster than once a second.
 */
function testTicker(ms: number, tick: () => Promise<void>): Ticker {
  let timer: NodeJS.Timeout | undefined = setTimeout(function next() {
    void tick().then(() => { if (timer) timer = setTimeout(next, ms); });
  }, ms);
  return {
    nextRun: () => new Date(Date.now() + ms),
    stop: () => { clearTimeout(timer); timer = undefined; },
  };
}
