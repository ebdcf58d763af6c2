/**
 * The internal loop: the same run as a one-shot start, on a croner pattern, each stick on its own
 * cadence. A stick whose reading is not handed over yet skips the tick (and says so) while the others
 * run on it. SIGTERM and SIGINT stop the schedule, let the runs in flight finish, and end the process
 * with status 0.
 */
import { Cron } from 'croner';
import { stickIdentity, type Target } from './config/types.js';
import { ConfigError, messageOf } from './errors.js';
import { createSkipLog } from './loop-log.js';
import type { Run } from './run.js';

interface LoopOptions {
  readonly pattern: string;
  readonly timezone?: string;
  readonly log: (line: string) => void;
  /** The job's version, for the loop's first line. */
  readonly version?: string;
  /** The sticks to read on each tick. */
  readonly targets: () => readonly Target[];
  /** Called once after the last run, before the process exits (e.g. to delete pushed groups). */
  readonly onStop?: () => Promise<boolean>;
  /** A quiet loop: a stick being skipped is one line when it starts and one when it ends. */
  readonly quiet?: boolean;
  /** Stops the loop as a signal would, but as a failure: e.g. when standard output is gone. */
  readonly stopOn?: AbortSignal;
  /** Benchmarks only (TRUCKI_TEST_TICK_MS): tick every this many ms instead of on the pattern. */
  readonly testTickMs?: number;
}

const example = 'e.g. "*/15 * * * * *" for every 15 s';

/** Resolves once stopped: true after a signal, false when stopped by `stopOn` or `onStop` failed. */
export function startSchedule(run: Run, options: LoopOptions): Promise<boolean> {
  const { tick, inFlight } = createTick(run, options);
  const job = options.testTickMs ? testTicker(options.testTickMs, tick) : cron(options, tick);
  const next = job.nextRun();
  if (!next) {
    job.stop();
    throw new ConfigError(`--schedule / SCHEDULE "${options.pattern}" never fires (no such date); ${example}`);
  }
  const stopped = new Promise<boolean>((resolve) => {
    /** As a signal's handler, `why` is the signal's name. */
    const stop = (why: string, ok = true) => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      options.stopOn?.removeEventListener('abort', onAbort);
      job.stop();
      options.log(`${why}: stopping after the run in flight`);
      // The runs log their own failures; onStop's are its own to log.
      const onStop = Promise.allSettled(inFlight).then(() => options.onStop?.() ?? true);
      resolve(onStop.then((stoppedWell) => ok && stoppedWell).catch(() => false));
    };
    const onAbort = () => {
      stop(String(options.stopOn?.reason ?? 'aborted'), false);
    };
    process.once('SIGTERM', stop).once('SIGINT', stop);
    options.stopOn?.addEventListener('abort', onAbort, { once: true });
  });
  // Only now: whoever waits for this line may send a signal at once, and it must find the handlers.
  const zone = options.timezone ? ` (${options.timezone})` : '';
  options.log(
    `trucki2pushgateway ${options.version ?? 'dev'}: scheduled on "${options.pattern}"${zone}; ` +
      `next run ${next.toISOString()}`,
  );
  return stopped;
}

/**
 * One tick of the loop: runs the sticks that are due, skipping (see createSkipLog) those whose
 * reading of an earlier tick is not handed over yet. `inFlight`: the runs not ended, for the stop.
 */
function createTick(run: Run, options: LoopOptions): { tick: () => Promise<void>; inFlight: Set<Promise<void>> } {
  /** By stickIdentity (the same instance with other labels is another stick): since when. */
  const busy = new Map<string, Date>();
  const skipLog = createSkipLog(options.log, { quiet: options.quiet ?? false });
  const inFlight = new Set<Promise<void>>();
  const tick = () => {
    const named = options.targets();
    skipLog(named, busy);
    const due = named.filter((target) => !busy.has(stickIdentity(target)));
    if (due.length === 0) return Promise.resolve();
    const started = new Date();
    for (const target of due) busy.set(stickIdentity(target), started);
    // Only this tick's mark: a stick handed over may be busy with a later tick's run by now.
    const free = (target: Target) => busy.get(stickIdentity(target)) === started && busy.delete(stickIdentity(target));
    // A failed run is logged by the run itself; the loop goes on either way.
    const running: Promise<void> = run(due, free, named)
      .catch((error: unknown) => {
        options.log(`run failed unexpectedly: ${messageOf(error)}`);
      })
      .then(() => {
        for (const target of due) free(target);
        inFlight.delete(running);
      });
    inFlight.add(running);
    return running;
  };
  return { tick, inFlight };
}

type Ticker = Pick<Cron, 'nextRun' | 'stop'>;

function cron(options: LoopOptions, tick: () => Promise<void>): Ticker {
  const { pattern, timezone } = options;
  try {
    return new Cron(pattern, { mode: '5-or-6-parts', ...(timezone && { timezone }) }, () => void tick());
  } catch (error) {
    throw new ConfigError(
      `--schedule / SCHEDULE "${pattern}" is not a cron pattern of 5 or 6 fields (${messageOf(error)}); ${example}`,
    );
  }
}

/** Benchmarks only: a tick every `ms` after the previous run ended; cron ticks at most once a second. */
function testTicker(ms: number, tick: () => Promise<void>): Ticker {
  let timer: NodeJS.Timeout | undefined = setTimeout(function next() {
    void tick().then(() => {
      if (timer) timer = setTimeout(next, ms);
    });
  }, ms);
  return {
    nextRun: () => new Date(Date.now() + ms),
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
