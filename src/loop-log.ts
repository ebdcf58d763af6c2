/**
 * What a run tells the operator of its sticks. A one-shot run and a loop with --verbose: every
 * stick's line on every run. A loop otherwise is quiet while all is well (100 sticks on a 1 s tick
 * would write 8.6 million lines a day): a stick's line when its state changes (its first read, up to
 * down with the reason, down to up), one line when deliveries start failing and one when they succeed
 * again (an outage is one line, not one per stick per tick), and a summary every 10 minutes.
 */
import { stickIdentity, type Target } from './config/types.js';
import { stickLine, type Outcome } from './log-line.js';

/** A loop's summary comes at the end of the first run this long after the last one. */
const summaryEveryMs = 600_000;

/** What one run reports. */
export interface RunReport {
  /** A stick's outcome, and how many samples went to the sink (0 if its delivery failed). */
  readonly stick: (outcome: Outcome, samples: number) => void;
  /** A whole request or write failed, for the sticks whose line said "not delivered". */
  readonly sinkFailure: (message: string) => void;
  /** After the run, with every stick the job names now: the others are forgotten. */
  readonly end: (named: readonly Target[]) => void;
}

/** "1 stick", "2 sticks". */
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function createLoopLog(
  log: (line: string) => void,
  { quiet }: { readonly quiet: boolean },
  clock: () => number = Date.now,
): { begin: () => RunReport } {
  if (!quiet) {
    const loud: RunReport = {
      stick: (outcome) => {
        log(stickLine(outcome));
      },
      sinkFailure: log,
      end: () => {},
    };
    return { begin: () => loud };
  }
  /** Whether each stick was up, by stickIdentity. */
  const up = new Map<string, boolean>();
  /** Since when deliveries fail, and how many did since. */
  let failing: { since: number; failed: number } | undefined;
  let period = { since: clock(), samples: 0, failed: 0 };
  /** `failed`: the run's failures so far, this one's included, counted before the outage began. */
  const startFailing = (line: string, failed: number) => {
    if (failing) return;
    failing = { since: clock(), failed };
    log(`${line} (further delivery failures are not logged until deliveries succeed again)`);
  };

  return {
    begin: () => {
      let delivered = 0;
      let failedInRun = 0;
      return {
        stick: (outcome, samples) => {
          const key = stickIdentity(outcome.target);
          const isUp = outcome.reading.failure === undefined;
          const changed = up.get(key) !== isUp;
          up.set(key, isUp);
          if (outcome.deliveryFailure === undefined) {
            delivered++;
            period.samples += samples;
          } else {
            failedInRun++;
            period.failed++;
            if (failing) failing.failed++;
          }
          // A stick's own delivery failure starts an outage with its line; a shared one by sinkFailure.
          if (outcome.deliveryFailure && !failing) startFailing(stickLine(outcome), failedInRun);
          else if (changed) log(stickLine(outcome));
        },
        // Said after the lines of the sticks it failed, which counted the run as failed.
        sinkFailure: (message) => {
          startFailing(message, failedInRun);
        },
        end: (named) => {
          const now = clock();
          if (failing && failedInRun === 0 && delivered > 0) {
            log(`deliveries succeed again (${failing.failed} failed since ${new Date(failing.since).toISOString()})`);
            failing = undefined;
          }
          const names = new Set(named.map(stickIdentity));
          for (const key of up.keys()) if (!names.has(key)) up.delete(key);
          if (now - period.since < summaryEveryMs) return;
          const down = [...up.values()].filter((isUp) => !isUp).length;
          log(
            `since ${new Date(period.since).toISOString()}: ${count(up.size - down, 'stick')} up, ${down} down; ` +
              `${count(period.samples, 'sample')} delivered, ${count(period.failed, 'delivery', 'deliveries')} failed`,
          );
          period = { since: now, samples: 0, failed: 0 };
        },
      };
    },
  };
}

/**
 * On each tick, a loop's lines for the sticks still busy, by stickIdentity: one when a stick starts
 * being skipped, and in a quiet loop one, with the count, when it keeps time again only once a run
 * ended before its next tick (a stick always slower than its tick is not a line per cycle).
 */
export function createSkipLog(
  log: (line: string) => void,
  { quiet }: { readonly quiet: boolean },
): (named: readonly Target[], busy: ReadonlyMap<string, Date>) => void {
  /** Each stick being skipped: since when, how many runs, and whether the last tick skipped it. */
  const skipping = new Map<string, { since: Date; skipped: number; lastTick: boolean }>();
  return (named, busy) => {
    if (busy.size === 0 && skipping.size === 0) return;
    const now = new Date();
    const keys = new Set<string>();
    for (const target of named) {
      const key = stickIdentity(target);
      keys.add(key);
      const started = busy.get(key);
      const skip = skipping.get(key);
      if (started) {
        if (!skip) {
          log(
            `stick ${target.instance}: skipped the run due at ${now.toISOString()}: the run started ` +
              `${started.toISOString()} is still busy` +
              (quiet ? ' (further skipped runs are not logged until it keeps time again)' : '; skipping until it ends'),
          );
        }
        skipping.set(key, { since: skip?.since ?? now, skipped: (skip?.skipped ?? 0) + 1, lastTick: true });
        // Run on this tick after skipping the last: it keeps time only if this run ends before the next.
      } else if (quiet && skip?.lastTick) skip.lastTick = false;
      else if (skip) {
        const { skipped, since } = skip;
        if (quiet)
          log(
            `stick ${target.instance}: keeps time again ` +
              `(${count(skipped, 'run')} skipped since ${since.toISOString()})`,
          );
        skipping.delete(key);
      }
    }
    for (const key of skipping.keys()) if (!keys.has(key)) skipping.delete(key);
  };
}
