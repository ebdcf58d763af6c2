/**
 * One run over a set of sticks: each read (a bounded number at once) and delivered on its own, so
 * that one failing stick or push holds up nothing else. A stick that cannot be read is delivered
 * as trucki_up 0 with its last success and no readings, so that nothing stale survives; the last
 * successes the job does not remember are recalled from the sink in one request per run.
 */
import { jobFamilies } from './catalogue.js';
import { stickIdentity, type Config, type Target } from './config/types.js';
import { messageOf, SinkFailure } from './errors.js';
import { createLimit } from './concurrency-limit.js';
import { createForgetter } from './forget.js';
import { stickLine, summaryOf, type Outcome } from './log-line.js';
import { createLoopLog, type RunReport } from './loop-log.js';
import type { Sample } from './parse.js';
import type { Sink, SinkWords } from './sinks/sink.js';
import type { StickReading } from './stick.js';
import type { Connections } from './wiring.js';

/** Sticks whose reading starts in one turn of the event loop: the first requests leave at once. */
const startsPerTurn = 32;

/**
 * How a run ended: `ok`, every stick read and delivered; `dark`, every delivery made but some stick
 * could not be read (its trucki_up 0 carries the news); `undelivered`, something was not delivered.
 */
export type RunResult = 'ok' | 'dark' | 'undelivered';

/**
 * `onStickDone` hears of each stick as soon as it is delivered, before the slowest of the run is.
 * `named`: every stick the job names now, of which a loop's tick may run only some; what the sink
 * holds of others may be forgotten.
 */
export type Run = (
  targets: readonly Target[],
  onStickDone?: (target: Target) => void,
  named?: readonly Target[],
) => Promise<RunResult>;

export interface Job {
  readonly run: Run;
  /**
   * Sticks a loop no longer reads (gone from its targets file): from now on nothing of them is
   * delivered, the sink forgets them, and with --delete-on-exit their metrics are removed once any
   * delivery of theirs already under way has ended. False if a removal failed.
   */
  readonly retire: (targets: readonly Target[]) => Promise<boolean>;
  /** Removes the sticks' metrics from the sink (the Pushgateway's groups), for --delete-on-exit; false if one failed. */
  readonly deleteGroups: (targets: readonly Target[]) => Promise<boolean>;
  /** As a loop stops: ends the retirements under way and delivers what the sink kept for later runs; false if some could not be. */
  readonly finish: () => Promise<boolean>;
  /** Closes the kept-alive connections, so that the process can end. */
  readonly close: () => void;
}

/** What a loop's job keeps of each stick between runs, by stickIdentity. */
interface StickMemory {
  /** Last successes, Unix seconds; undefined: the sink was asked and holds none. */
  readonly lastSuccess: Map<string, number | undefined>;
  /** Each stick's run in flight, with whether its stick is still wanted when it comes to deliver. */
  readonly running: Map<string, { readonly ended: Promise<unknown>; wanted: boolean }>;
  /** Each retired stick's removal under way: the same stick added again delivers only after it. */
  readonly retiring: Map<string, Promise<boolean>>;
}

export function createJob(config: Config, log: (line: string) => void, connections: Connections): Job {
  const { sink, words, close } = connections;
  const memory: StickMemory = { lastSuccess: new Map(), running: new Map(), retiring: new Map() };
  return {
    run: createRun(config, log, connections, memory),
    retire: (targets) => retire(targets, memory, config.deleteOnExit, connections, log),
    deleteGroups: (targets) => removeAll(targets, sink, words, log),
    finish: async () => {
      await Promise.all(memory.retiring.values());
      try {
        await sink.drain?.();
        return true;
      } catch (error) {
        if (!(error instanceof SinkFailure)) throw error;
        log(error.message);
        return false;
      }
    },
    close,
  };
}

function createRun(
  config: Config,
  log: (line: string) => void,
  { readStick, sink, words, stateDir }: Connections,
  { lastSuccess, running, retiring }: StickMemory,
): Run {
  const readLimit = createLimit(config.concurrency, startsPerTurn);
  const forgetter = createForgetter(sink.forgetting, log, stateDir);
  const loopLog = createLoopLog(log, { quiet: config.schedule !== undefined && !config.verbose });

  return async (targets, onStickDone, named = targets) => {
    const report = loopLog.begin();
    const unknown = () => targets.filter((target) => !lastSuccess.has(stickIdentity(target)));
    // Looking for what to forget reads the sink once, and the recall shares that read.
    const look = forgetter(unknown(), named);
    const recallFor = recaller(unknown, lastSuccess, (asked) =>
      look
        ? look.found.then(({ lastSuccesses }) => lastSuccesses)
        : (sink.lastSuccesses?.(asked) ?? Promise.resolve(new Map<string, number>())),
    );
    // A sink that delivers at flush: its sticks are reported once the flush said how it went.
    const atFlush: { outcome: Outcome; samples: number }[] = [];
    const thisRun = {};

    const runStick = async (target: Target, stick: { wanted: boolean }): Promise<RunResult> => {
      const key = stickIdentity(target);
      const reading = await readLimit(() => readStick(target));
      const up = reading.live.failure === undefined;
      let lastSuccessLost: string | undefined;
      if (up) lastSuccess.set(key, reading.readAt / 1000);
      else if (!lastSuccess.has(key)) {
        await recallFor().then(
          () => {
            if (sink.lastSuccesses && lastSuccess.get(key) === undefined) lastSuccessLost = words.notRecalled;
          },
          (error: unknown) => {
            if (!(error instanceof SinkFailure)) throw error;
            lastSuccessLost = error.message;
          },
        );
      }
      const outcome: Outcome = {
        target,
        reading: summaryOf(reading),
        ...(words.delivered && { deliveredAs: words.delivered }),
        ...(lastSuccessLost && { lastSuccessLost }),
      };
      // Added again after it was retired: that removal goes first, or it would remove this delivery.
      if (stick.wanted) await retiring.get(key);
      if (!stick.wanted) {
        lastSuccess.delete(key);
        log(stickLine({ ...outcome, deliveryFailure: 'removed from the targets file' }));
        return 'ok';
      }
      const samples = samplesOf(reading, lastSuccess.get(key));
      try {
        await sink.deliver({ target, samples, readAt: reading.readAt, run: thisRun });
      } catch (error) {
        if (!(error instanceof SinkFailure)) throw error;
        report.stick({ ...outcome, deliveryFailure: error.message }, 0);
        return 'undelivered';
      }
      if (words.atFlush) atFlush.push({ outcome, samples: samples.length });
      else report.stick(outcome, samples.length);
      return up ? 'ok' : 'dark';
    };

    const results = await Promise.all(
      targets.map((target) => tracked(running, target, (stick) => runStick(target, stick), onStickDone)),
    );
    const flushed = await flush(sink, thisRun, atFlush, report);
    await look?.done;
    report.end(named);
    if (!flushed || results.includes('undelivered')) return 'undelivered';
    return results.includes('dark') ? 'dark' : 'ok';
  };
}

/** The run's flush; then the sticks that waited for it are reported, delivered or not. */
async function flush(
  sink: Sink,
  run: object,
  waiting: readonly { outcome: Outcome; samples: number }[],
  report: RunReport,
): Promise<boolean> {
  try {
    await sink.flush(run);
  } catch (error) {
    if (!(error instanceof SinkFailure)) throw error;
    // Each stick's line says whether it was delivered (all were not, unless the sink tells); why not,
    // once, on the line after them.
    const { undelivered } = error;
    for (const { outcome, samples } of waiting)
      if (undelivered && !undelivered.has(stickIdentity(outcome.target))) report.stick(outcome, samples);
      else report.stick({ ...outcome, deliveryFailure: '' }, 0);
    report.sinkFailure(error.message);
    return false;
  }
  for (const { outcome, samples } of waiting) report.stick(outcome, samples);
  return true;
}

/**
 * The run's recall of last successes: asked at most once, on the first failed stick, for every stick
 * not remembered (`unknown()` then); from the forgetter's read when it makes one, else the sink.
 */
function recaller(
  unknown: () => Target[],
  lastSuccess: StickMemory['lastSuccess'],
  ask: (asked: readonly Target[]) => Promise<ReadonlyMap<string, number>>,
): () => Promise<void> {
  let recall: Promise<ReadonlyMap<string, number>> | undefined;
  return () => {
    const asked = unknown();
    recall ??= ask(asked);
    return recall.then((found) => {
      // A stick read while the sink was being asked knows better than the sink. The sink answers
      // by instance, which is one stick within a run.
      for (const target of asked) {
        const key = stickIdentity(target);
        if (!lastSuccess.has(key)) lastSuccess.set(key, plausibleUnixTime(found.get(target.instance)));
      }
    });
  };
}

/** One stick's run, in `running` under the stick's identity while it is in flight; then `onDone`. */
function tracked(
  running: StickMemory['running'],
  target: Target,
  run: (stick: { wanted: boolean }) => Promise<RunResult>,
  onDone?: (target: Target) => void,
): Promise<RunResult> {
  const key = stickIdentity(target);
  const stick = { wanted: true };
  const result = run(stick);
  const entry = Object.assign(stick, { ended: result.catch(() => undefined) });
  running.set(key, entry);
  return result.finally(() => {
    if (running.get(key) === entry) running.delete(key);
    onDone?.(target);
  });
}

/** Job.retire: each stick at once undelivered and forgotten, then removed after its run in flight. */
function retire(
  targets: readonly Target[],
  { lastSuccess, running, retiring }: StickMemory,
  deleteOnExit: boolean,
  { sink, words }: Connections,
  log: (line: string) => void,
): Promise<boolean> {
  const removals = targets.map((target) => {
    const key = stickIdentity(target);
    const inFlight = running.get(key);
    if (inFlight) inFlight.wanted = false;
    lastSuccess.delete(key);
    sink.forget?.(target);
    if (!deleteOnExit) return Promise.resolve(true);
    // A delivery already under way would land after the removal and bring the stick back for good.
    const removal = Promise.all([inFlight?.ended, retiring.get(key)]).then(() => removeAll([target], sink, words, log));
    retiring.set(key, removal);
    void removal.finally(() => {
      if (retiring.get(key) === removal) retiring.delete(key);
    });
    return removal;
  });
  return Promise.all(removals).then((results) => results.every(Boolean));
}

/** A last success recalled from a store is believed only as a Unix time in seconds, since 2001 and not ahead of now. */
function plausibleUnixTime(value: number | undefined): number | undefined {
  return value !== undefined && value >= 1e9 && value <= Date.now() / 1000 + 60 ? value : undefined;
}

/** --delete-on-exit: removes each stick's metrics from the sink, if the sink can; false if one failed. */
async function removeAll(
  targets: readonly Target[],
  { remove }: Sink,
  { removed: said }: SinkWords,
  log: (line: string) => void,
): Promise<boolean> {
  if (!remove) return true;
  const results = await Promise.all(
    targets.map(async (target) => {
      try {
        await remove(target);
        log(`stick ${target.instance}: ${said?.done ?? 'removed its metrics'}`);
        return true;
      } catch (error) {
        log(`stick ${target.instance}: ${said?.failed ?? 'could not remove its metrics'}: ${messageOf(error)}`);
        return false;
      }
    }),
  );
  return results.every(Boolean);
}

/** A read stick's readings; a failed one's only trucki_up 0, the read's duration and the last success. */
function samplesOf({ live, once, seconds }: StickReading, lastSuccess: number | undefined): Sample[] {
  const up = live.failure === undefined;
  return [
    { family: jobFamilies.up, labels: {}, value: up ? 1 : 0 },
    { family: jobFamilies.scrapeDuration, labels: {}, value: seconds },
    ...(lastSuccess === undefined ? [] : [{ family: jobFamilies.lastSuccess, labels: {}, value: lastSuccess }]),
    ...(up ? [...live.samples, ...once.samples] : []),
  ];
}
