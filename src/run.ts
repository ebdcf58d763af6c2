/**
 * One run over a set of sticks: each read (a bounded number at once) and handed to the sink on its
 * own, so that one failing stick or push holds up nothing else. A stick that cannot be read is
 * delivered as trucki_up 0 with its last success, so that nothing stale survives; the last successes
 * the job does not remember are recalled from the sink in one request per run.
 */
import { jobFamilies } from './catalogue.js';
import { stickIdentity, type Config, type Target } from './config/types.js';
import { messageOf, SinkFailure } from './errors.js';
import { createLimit } from './concurrency-limit.js';
import { createForgetter } from './forget.js';
import { stickLine, summaryOf, type Outcome, type SinkWords } from './log-line.js';
import { createLoopLog, type RunReport } from './loop-log.js';
import type { Sample } from './parse.js';
import { plausible, type AnySink, type HandedOver } from './sinks/sink.js';
import type { StickReading } from './stick.js';
import type { Connections } from './wiring.js';

/** Sticks whose reading starts in one turn of the event loop: the first requests leave at once. */
const startsPerTurn = 32;

/** `dark`: every delivery made, but some stick could not be read (its trucki_up 0 carries the news). */
export type RunResult = 'ok' | 'dark' | 'undelivered';

/**
 * `onStickDone` hears of each stick once its reading is handed over. `named`: every stick the job
 * names now, of which a loop's tick may run only some; what the sink holds of others may be forgotten.
 */
export type Run = (
  targets: readonly Target[],
  onStickDone?: (target: Target) => void,
  named?: readonly Target[],
) => Promise<RunResult>;

export interface Job {
  readonly run: Run;
  /**
   * Sticks gone from a loop's targets file: nothing of them is delivered from now on, and with
   * --delete-on-exit their metrics are removed after their delivery under way (finish waits for it).
   */
  readonly drop: (targets: readonly Target[]) => void;
  /** --delete-on-exit: removes the sticks' metrics (Pushgateway groups); false if one failed. */
  readonly remove: (targets: readonly Target[]) => Promise<boolean>;
  /** As a loop stops: ends the removals under way and closes the sink (its last try); false if it failed. */
  readonly finish: () => Promise<boolean>;
  /** Closes the kept-alive connections. */
  readonly close: () => void;
}

/**
 * What a loop's job keeps of a stick, by stickIdentity. A drop replaces it: a run still reading the
 * stick then finds it gone, and the stick's next life delivers only after the removal.
 */
interface Stick {
  /** Unix s; undefined: the sink holds none; absent: not known yet. */
  lastSuccess?: number | undefined;
  /** Its latest run, until its outcome. */
  ended?: Promise<unknown>;
  readonly removal?: Promise<boolean>;
}

export function createJob(config: Config, log: (line: string) => void, connections: Connections): Job {
  const { sink, words, close } = connections;
  const sticks = new Map<string, Stick>();
  const removeAll = (targets: readonly Target[]) => remove(targets, sink, words, log);
  return {
    run: createRun(config, log, connections, sticks),
    drop: (targets) => {
      for (const target of targets) drop(target, sticks, config.deleteOnExit, sink, removeAll);
    },
    remove: removeAll,
    finish: async () => {
      await Promise.all([...sticks.values()].flatMap(({ removal }) => removal ?? []));
      const failure = await sink.close?.().then(() => undefined, failureMessage);
      if (failure) log(failure);
      return failure === undefined;
    },
    close,
  };
}

/** A SinkFailure's words; anything else is a bug, thrown on. */
function failureMessage(error: unknown): string {
  if (error instanceof SinkFailure) return error.message;
  throw error;
}

function createRun(
  config: Config,
  log: (line: string) => void,
  connections: Connections,
  sticks: Map<string, Stick>,
): Run {
  const { sink, stateDir, oneShot } = connections;
  const handOver = createHandOver(connections, sticks, config.concurrency, log);
  const forgetter = createForgetter(sink.forgetting, log, stateDir);
  const loopLog = createLoopLog(log, { quiet: config.schedule !== undefined && !config.verbose });
  return async (targets, onStickDone, named = targets) => {
    const unknown = targets.filter((target) => !('lastSuccess' in stickOf(sticks, target)));
    // Looking for what to forget reads the sink once, and the run's one recall shares that read.
    const look = forgetter(unknown, named);
    let recalled: Promise<ReadonlyMap<string, number>> | undefined;
    const run: RunState = {
      report: loopLog.begin(),
      recall: () =>
        (recalled ??= look
          ? look.found.then(({ lastSuccesses }) => lastSuccesses)
          : (sink.lastSuccesses?.(unknown) ?? Promise.resolve(new Map<string, number>()))),
      shared: new Set(),
      news: new Set(),
    };
    const handing = targets.map(async (target) => {
      const stick = stickOf(sticks, target);
      const handed = handOver(target, stick, run);
      stick.ended = handed.then(({ result }) => result).catch(() => undefined);
      const each = await handed;
      onStickDone?.(target);
      return each;
    });
    // A one-shot run is the sink's only one: once all are handed over, its outbox drains.
    const handed = await Promise.all(handing);
    const lost = oneShot ? await sink.close?.().then(() => undefined, failureMessage) : undefined;
    const results = await Promise.all(handed.map(({ result }) => result));
    if (lost !== undefined && !run.shared.has(lost)) run.news.add(lost);
    for (const message of run.shared) run.report.sinkFailure(message);
    for (const message of run.news) log(message);
    await look?.done;
    run.report.end(named);
    if (results.includes('undelivered')) return 'undelivered';
    return results.includes('dark') ? 'dark' : 'ok';
  };
}

const stickOf = (sticks: Map<string, Stick>, target: Target, key = stickIdentity(target)): Stick =>
  sticks.get(key) ?? sticks.set(key, {}).get(key)!;

/**
 * What one run's sticks share: its report, its one recall (asked by its first failed stick not
 * known), failures of a whole request or write (`shared`, said once after their sticks' lines), and
 * losses no outcome told (`news`, said even by a quiet loop).
 */
interface RunState {
  readonly report: RunReport;
  readonly recall: () => Promise<ReadonlyMap<string, number>>;
  readonly shared: Set<string>;
  readonly news: Set<string>;
}

/** Reads a stick and hands its reading over; its result comes with its outcome. */
function createHandOver(
  { readStick, sink, words }: Connections,
  sticks: Map<string, Stick>,
  concurrency: number,
  log: (line: string) => void,
): (target: Target, stick: Stick, run: RunState) => Promise<{ result: Promise<RunResult> }> {
  const readLimit = createLimit(concurrency, startsPerTurn);
  return async (target, stick, { report, recall, shared, news }) => {
    const reading = await readLimit(() => readStick(target));
    const up = reading.live.failure === undefined;
    if (up) stick.lastSuccess = reading.readAt / 1000;
    const lastSuccessLost =
      'lastSuccess' in stick
        ? undefined
        : await recall().then((found) => {
            stick.lastSuccess = plausible(found.get(target.instance));
            return stick.lastSuccess === undefined && sink.lastSuccesses ? words.notRecalled : undefined;
          }, failureMessage);
    const outcome: Outcome = {
      target,
      reading: summaryOf(reading),
      ...(words.delivered && { deliveredAs: words.delivered }),
      ...(lastSuccessLost && { lastSuccessLost }),
    };
    // Added again after it was dropped: that removal goes first, or it would remove this delivery.
    await stick.removal;
    if (sticks.get(stickIdentity(target)) !== stick) {
      log(stickLine({ ...outcome, deliveryFailure: 'removed from the targets file' }));
      return { result: Promise.resolve('ok') };
    }
    const samples = samplesOf(reading, stick.lastSuccess);
    let handed: HandedOver;
    try {
      handed = await sink.deliver({ target, samples, readAt: reading.readAt });
    } catch (error) {
      report.stick({ ...outcome, deliveryFailure: failureMessage(error) }, 0);
      return { result: Promise.resolve('undelivered') };
    }
    const result: Promise<RunResult> = handed.outcome.then(
      (said) => {
        if (said) news.add(said.message);
        report.stick(outcome, samples.length);
        return up ? 'ok' : 'dark';
      },
      (error: unknown) => {
        shared.add(failureMessage(error));
        report.stick({ ...outcome, deliveryFailure: '' }, 0);
        return 'undelivered';
      },
    );
    return { result };
  };
}

/** Job.drop of one stick: nothing of it delivered from now on, removed after its run under way. */
function drop(
  target: Target,
  sticks: Map<string, Stick>,
  deleteOnExit: boolean,
  sink: AnySink,
  remove: (targets: readonly Target[]) => Promise<boolean>,
): void {
  const key = stickIdentity(target);
  const gone = sticks.get(key);
  sticks.delete(key);
  sink.discard?.(target);
  if (!deleteOnExit) return;
  // A delivery under way would land after the removal and bring the stick back for good.
  const removal = Promise.all([gone?.ended, gone?.removal]).then(() => remove([target]));
  const next: Stick = { removal };
  sticks.set(key, next);
  void removal.then(() => {
    if (sticks.get(key) === next && !next.ended) sticks.delete(key);
  });
}

/** --delete-on-exit: removes each stick's metrics from the sink, if the sink can; false if one failed. */
async function remove(
  targets: readonly Target[],
  sink: AnySink,
  { removed: said }: SinkWords,
  log: (line: string) => void,
): Promise<boolean> {
  const { remove: removeStick } = sink;
  if (!removeStick) return true;
  const results = await Promise.all(
    targets.map(async (target) => {
      try {
        await removeStick(target);
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

/** A failed stick's samples are only trucki_up 0, the read's duration and the last success. */
function samplesOf({ live, once, seconds }: StickReading, lastSuccess: number | undefined): Sample[] {
  const up = live.failure === undefined;
  return [
    { family: jobFamilies.up, labels: {}, value: up ? 1 : 0 },
    { family: jobFamilies.scrapeDuration, labels: {}, value: seconds },
    ...(lastSuccess === undefined ? [] : [{ family: jobFamilies.lastSuccess, labels: {}, value: lastSuccess }]),
    ...(up ? [...live.samples, ...once.samples] : []),
  ];
}
