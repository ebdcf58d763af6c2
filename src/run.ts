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
import { stickLine, type Outcome } from './log-line.js';
import type { Sample } from './parse.js';
import type { Sink, SinkWords } from './sinks/sink.js';
import type { StickReading } from './stick.js';
import type { Connections } from './wiring.js';

/**
 * How a run ended: `ok`, every stick read and delivered; `dark`, every delivery made but some stick
 * could not be read (its trucki_up 0 carries the news); `undelivered`, something was not delivered.
 */
export type RunResult = 'ok' | 'dark' | 'undelivered';

/** `onStickDone` hears of each stick as soon as it is delivered, before the slowest of the run is. */
export type Run = (targets: readonly Target[], onStickDone?: (target: Target) => void) => Promise<RunResult>;

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

function createRun(config: Config, log: (line: string) => void, { readStick, sink, words }: Connections): Run {
  const readLimit = createLimit(config.concurrency);
  const deliveredAs = words.delivered;
  // What a loop remembers between runs; a one-shot run starts with it empty. Undefined: the sink
  // was asked and holds none.
  const lastSuccess = new Map<string, number | undefined>();

  return async (targets, onStickDone) => {
    // Asked at most once per run, on the first failed stick, for every stick not remembered.
    let recall: Promise<ReadonlyMap<string, number>> | undefined;
    const recallFor = () => {
      const unknown = targets.filter(({ instance }) => !lastSuccess.has(instance));
      recall ??= sink.lastSuccesses ? sink.lastSuccesses(unknown) : Promise.resolve(new Map());
      return recall.then((found) => {
        // A stick read while the sink was being asked knows better than the sink.
        for (const { instance } of unknown)
          if (!lastSuccess.has(instance)) lastSuccess.set(instance, found.get(instance));
      });
    };

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
        ...(deliveredAs && { deliveredAs }),
        ...(lastSuccessLost && { lastSuccessLost }),
      };
      const last = lastSuccess.get(target.instance);
      try {
        await sink.deliver({ target, samples: samplesOf(reading, last), readAt: reading.readAt });
      } catch (error) {
        if (!(error instanceof SinkFailure)) throw error;
        log(stickLine({ ...outcome, deliveryFailure: error.message }));
        return 'undelivered';
      }
      log(stickLine(outcome));
      return up ? 'ok' : 'dark';
    };

    const results = await Promise.all(targets.map((target) => runStick(target).finally(() => onStickDone?.(target))));
    try {
      await sink.flush();
    } catch (error) {
      if (!(error instanceof SinkFailure)) throw error;
      log(error.message);
      return 'undelivered';
    }
    return results.includes('undelivered') ? 'undelivered' : results.includes('dark') ? 'dark' : 'ok';
  };
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
