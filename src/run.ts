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
import { createLoopLog } from './loop-log.js';
import type { Sample } from './parse.js';
import { plausible, type AnySink } from './sinks/sink.js';
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
   * --delete-on-exit their metrics are removed after their delivery under way. False if one failed.
   */
  readonly drop: (targets: readonly Target[]) => Promise<boolean>;
  /** --delete-on-exit: removes the sticks' metrics (Pushgateway groups); false if one failed. */
  readonly remove: (targets: readonly Target[]) => Promise<boolean>;
  /** As a loop stops: ends the removals under way and closes the sink (its last try); false if it failed. */
  readonly finish: () => Promise<boolean>;
  /** Closes the kept-alive connections. */
  readonly close: () => void;
}

/**
 * What a loop's job keeps of each stick, by stickIdentity: its last success (Unix s; undefined: the
 * sink holds none), its latest reading until its outcome (still wanted?), its removal under way.
 */
interface StickMemory {
  readonly lastSuccess: Map<string, number | undefined>;
  readonly running: Map<string, { readonly ended: Promise<unknown>; wanted: boolean }>;
  readonly removing: Map<string, Promise<boolean>>;
}

export function createJob(config: Config, log: (line: string) => void, connections: Connections): Job {
  const { sink, words, close } = connections;
  const memory: StickMemory = { lastSuccess: new Map(), running: new Map(), removing: new Map() };
  return {
    run: createRun(config, log, connections, memory),
    drop: (targets) => drop(targets, memory, config.deleteOnExit, connections, log),
    remove: (targets) => remove(targets, sink, words, log),
    finish: async () => {
      await Promise.all(memory.removing.values());
      const failure = await closeSink(sink);
      if (failure) log(failure);
      return failure === undefined;
    },
    close,
  };
}

/** Closes the sink; what it could not deliver, in words. */
async function closeSink(sink: AnySink): Promise<string | undefined> {
  try {
    await sink.close?.();
    return undefined;
  } catch (error) {
    if (!(error instanceof SinkFailure)) throw error;
    return error.message;
  }
}

function createRun(
  config: Config,
  log: (line: string) => void,
  { readStick, sink, words, stateDir, oneShot }: Connections,
  { lastSuccess, running, removing }: StickMemory,
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
    // Failures of a whole request or write, said once after their sticks' lines; losses no outcome
    // told (news), said even by a quiet loop.
    const shared = new Set<string>();
    const news = new Set<string>();

    const runStick = async (target: Target, stick: { wanted: boolean }, handedOver: () => void) => {
      const key = stickIdentity(target);
      const reading = await readLimit(() => readStick(target));
      const up = reading.live.failure === undefined;
      if (up) lastSuccess.set(key, reading.readAt / 1000);
      const lastSuccessLost =
        up || lastSuccess.has(key)
          ? undefined
          : await lostWhy(recallFor, () => lastSuccess.get(key), sink.lastSuccesses && words.notRecalled);
      const outcome: Outcome = {
        target,
        reading: summaryOf(reading),
        ...(words.delivered && { deliveredAs: words.delivered }),
        ...(lastSuccessLost && { lastSuccessLost }),
      };
      // Added again after it was dropped: that removal goes first, or it would remove this delivery.
      if (stick.wanted) await removing.get(key);
      if (!stick.wanted) {
        lastSuccess.delete(key);
        log(stickLine({ ...outcome, deliveryFailure: 'removed from the targets file' }));
        return 'ok';
      }
      const samples = samplesOf(reading, lastSuccess.get(key));
      try {
        const handed = await sink.deliver({ target, samples, readAt: reading.readAt });
        handedOver();
        const said = await handed.outcome.catch((error: unknown) => {
          if (error instanceof SinkFailure) shared.add(error.message);
          throw error;
        });
        if (said) news.add(said.message);
      } catch (error) {
        if (!(error instanceof SinkFailure)) throw error;
        report.stick({ ...outcome, deliveryFailure: shared.has(error.message) ? '' : error.message }, 0);
        return 'undelivered';
      }
      report.stick(outcome, samples.length);
      return up ? 'ok' : 'dark';
    };

    const handing = targets.map((target) => tracked(running, target, runStick, onStickDone));
    // A one-shot run is the sink's only one: once all are handed over, its outbox drains.
    await Promise.all(handing.map(({ handedOver }) => handedOver));
    const lost = oneShot ? await closeSink(sink) : undefined;
    const results = await Promise.all(handing.map(({ result }) => result));
    if (lost !== undefined && !shared.has(lost)) news.add(lost);
    for (const message of shared) report.sinkFailure(message);
    for (const message of news) log(message);
    await look?.done;
    report.end(named);
    if (results.includes('undelivered')) return 'undelivered';
    return results.includes('dark') ? 'dark' : 'ok';
  };
}

/** Why a failed stick's last success is unknown: the recall failed, or found none where that is worth a word. */
async function lostWhy(
  recall: () => Promise<void>,
  known: () => number | undefined,
  notFound: string | undefined,
): Promise<string | undefined> {
  try {
    await recall();
    return known() === undefined ? notFound : undefined;
  } catch (error) {
    if (!(error instanceof SinkFailure)) throw error;
    return error.message;
  }
}

/** The run's recall: asked at most once, on the first failed stick, for every stick not remembered then. */
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
      // A stick read meanwhile knows better. The sink answers by instance: one stick within a run.
      for (const target of asked) {
        const key = stickIdentity(target);
        if (!lastSuccess.has(key)) lastSuccess.set(key, plausible(found.get(target.instance)));
      }
    });
  };
}

/** One stick's run, in `running` until it ends; free for its next read (`onDone`) once handed over. */
function tracked(
  running: StickMemory['running'],
  target: Target,
  run: (target: Target, stick: { wanted: boolean }, handedOver: () => void) => Promise<RunResult>,
  onDone?: (target: Target) => void,
): { readonly handedOver: Promise<void>; readonly result: Promise<RunResult> } {
  const key = stickIdentity(target);
  const stick = { wanted: true };
  let free!: () => void;
  const handedOver = new Promise<void>((resolve) => (free = resolve)).then(() => onDone?.(target));
  const result = run(target, stick, free);
  const entry = Object.assign(stick, { ended: result.catch(() => undefined) });
  running.set(key, entry);
  const ended = result.finally(() => {
    if (running.get(key) === entry) running.delete(key);
    free();
  });
  // Awaited once every stick is handed over: a bug thrown before then is the run's, not unhandled.
  ended.catch(() => {});
  return { handedOver, result: ended };
}

/** Job.drop: each stick undelivered and discarded at once, removed after its delivery under way. */
function drop(
  targets: readonly Target[],
  { lastSuccess, running, removing }: StickMemory,
  deleteOnExit: boolean,
  { sink, words }: Connections,
  log: (line: string) => void,
): Promise<boolean> {
  const removals = targets.map((target) => {
    const key = stickIdentity(target);
    const inFlight = running.get(key);
    if (inFlight) inFlight.wanted = false;
    lastSuccess.delete(key);
    sink.discard?.(target);
    if (!deleteOnExit) return Promise.resolve(true);
    // A delivery under way would land after the removal and bring the stick back for good.
    const removal = Promise.all([inFlight?.ended, removing.get(key)]).then(() => remove([target], sink, words, log));
    removing.set(key, removal);
    void removal.finally(() => {
      if (removing.get(key) === removal) removing.delete(key);
    });
    return removal;
  });
  return Promise.all(removals).then((results) => results.every(Boolean));
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
