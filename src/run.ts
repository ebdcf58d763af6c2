/**
 * One run over a set of sticks: each read (a bounded number at once) and delivered on its own, so
 * that one failing stick or push holds up nothing else. A stick that cannot be read is delivered
 * as trucki_up 0 with its last success and no readings, so that nothing stale survives; the last
 * successes the job does not remember are recalled from the sink in one request per run.
 */
import { jobFamilies } from './catalogue.js';
import type { Config, Target } from './config/types.js';
import { messageOf, SinkFailure } from './errors.js';
import { createLimit } from './concurrency-limit.js';
import { createForgetter } from './forget.js';
import type { Outcome } from './log-line.js';
import { createLoopLog, type RunReport } from './loop-log.js';
import type { Sample } from './parse.js';
import type { Sink, SinkWords } from './sinks/sink.js';
import type { StickReading } from './stick.js';
import type { Connections } from './wiring.js';

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
  /** Removes the sticks' metrics from the sink (the Pushgateway's groups), for --delete-on-exit; false if one failed. */
  readonly deleteGroups: (targets: readonly Target[]) => Promise<boolean>;
  /** As a loop stops: delivers what the sink kept for later runs; false if some could not be. */
  readonly finish: () => Promise<boolean>;
  /** Closes the kept-alive connections, so that the process can end. */
  readonly close: () => void;
}

export function createJob(config: Config, log: (line: string) => void, connections: Connections): Job {
  const { sink, words, close } = connections;
  return {
    run: createRun(config, log, connections),
    deleteGroups: (targets) => removeAll(targets, sink, words, log),
    finish: async () => {
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
): Run {
  const readLimit = createLimit(config.concurrency);
  const forgetter = createForgetter(sink.forgetting, log, stateDir);
  const loopLog = createLoopLog(log, { quiet: config.schedule !== undefined && !config.verbose });
  // What a loop remembers between runs; a one-shot run starts with it empty. Undefined: the sink
  // was asked and holds none.
  const lastSuccess = new Map<string, number | undefined>();

  return async (targets, onStickDone, named = targets) => {
    const report = loopLog.begin();
    const unknown = () => targets.filter(({ instance }) => !lastSuccess.has(instance));
    // Looking for what to forget reads the sink once, and the recall shares that read.
    const look = forgetter(unknown(), named);
    // Asked at most once per run, on the first failed stick, for every stick not remembered.
    let recall: Promise<ReadonlyMap<string, number>> | undefined;
    const recallFor = () => {
      const asked = unknown();
      recall ??= look
        ? look.found.then(({ lastSuccesses }) => lastSuccesses)
        : sink.lastSuccesses
          ? sink.lastSuccesses(asked)
          : Promise.resolve(new Map());
      return recall.then((found) => {
        // A stick read while the sink was being asked knows better than the sink.
        for (const { instance } of asked)
          if (!lastSuccess.has(instance)) lastSuccess.set(instance, found.get(instance));
      });
    };
    // A sink that delivers at flush: its sticks are reported once the flush said how it went.
    const atFlush: { outcome: Outcome; samples: number }[] = [];

    const runStick = async (target: Target): Promise<RunResult> => {
      const reading = await readLimit(() => readStick(target));
      const up = reading.live.failure === undefined;
      let lastSuccessLost: string | undefined;
      if (up) lastSuccess.set(target.instance, reading.readAt / 1000);
      else if (!lastSuccess.has(target.instance)) {
        await recallFor().then(
          () => {
            if (sink.lastSuccesses && lastSuccess.get(target.instance) === undefined)
              lastSuccessLost = words.notRecalled;
          },
          (error: unknown) => {
            if (!(error instanceof SinkFailure)) throw error;
            lastSuccessLost = error.message;
          },
        );
      }
      const outcome: Outcome = {
        target,
        reading,
        ...(words.delivered && { deliveredAs: words.delivered }),
        ...(lastSuccessLost && { lastSuccessLost }),
      };
      const samples = samplesOf(reading, lastSuccess.get(target.instance));
      try {
        await sink.deliver({ target, samples, readAt: reading.readAt });
      } catch (error) {
        if (!(error instanceof SinkFailure)) throw error;
        report.stick({ ...outcome, deliveryFailure: error.message }, 0);
        return 'undelivered';
      }
      if (words.atFlush) atFlush.push({ outcome, samples: samples.length });
      else report.stick(outcome, samples.length);
      return up ? 'ok' : 'dark';
    };

    const results = await Promise.all(targets.map((target) => runStick(target).finally(() => onStickDone?.(target))));
    const flushed = await flush(sink, atFlush, report);
    await look?.done;
    report.end(named);
    if (!flushed || results.includes('undelivered')) return 'undelivered';
    return results.includes('dark') ? 'dark' : 'ok';
  };
}

/** The run's flush; then the sticks that waited for it are reported, delivered or not. */
async function flush(
  sink: Sink,
  waiting: readonly { outcome: Outcome; samples: number }[],
  report: RunReport,
): Promise<boolean> {
  try {
    await sink.flush();
  } catch (error) {
    if (!(error instanceof SinkFailure)) throw error;
    // Each stick's line says it was not delivered; why, once, on the line after them.
    for (const { outcome } of waiting) report.stick({ ...outcome, deliveryFailure: '' }, 0);
    report.sinkFailure(error.message);
    return false;
  }
  for (const { outcome, samples } of waiting) report.stick(outcome, samples);
  return true;
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
