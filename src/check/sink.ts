/**
 * Whether the sink took the run's delivery, and what only each sink can say: that node_exporter can
 * read the textfile, that VictoriaMetrics gives the sticks' last successes back.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Config, Pushgateway, Target, VictoriaMetrics } from '../config/types.js';
import type { Http } from '../http.js';
import { readGroups } from '../sinks/pushgateway-api.js';
import { stickGrouping } from '../sinks/pushgateway.js';
import { errnoCode, messageOf, NoQueryApi, SinkFailure } from '../errors.js';
import type { AnySink } from '../sinks/sink.js';
import type { PushTimes } from './prometheus.js';
import { count, failed, ok, unchecked, type Step } from './report.js';

/** A sink that remembers why a delivery failed, for the check to say. */
export interface RecordingSink {
  readonly sink: AnySink;
  /** Failure message → the instances it struck. */
  readonly failures: Map<string, string[]>;
}

export function recording(sink: AnySink): RecordingSink {
  const failures = new Map<string, string[]>();
  const note = (message: string, instances: string[]) => {
    failures.set(message, [...(failures.get(message) ?? []), ...instances]);
  };
  return {
    failures,
    sink: {
      ...sink,
      deliver: async (delivery) => {
        const noted = (error: unknown): never => {
          if (error instanceof SinkFailure) note(error.message, [delivery.target.instance]);
          throw error;
        };
        const handed = await sink.deliver(delivery).catch(noted);
        return { outcome: handed.outcome.catch(noted) };
      },
    },
  };
}

/** The sink's own line: it took the delivery, or why not. */
export function deliveryStep(config: Config, failures: ReadonlyMap<string, string[]>, sticks: number): Step[] {
  if (failures.size > 0) {
    const advice = config.pushgateway
      ? ': is the Pushgateway running, and is the URL its base URL?'
      : config.victoriametrics
        ? ': is VictoriaMetrics (or the vmagent) running, and is the URL its base URL?'
        : '';
    return [...failures].map(([message, instances]) =>
      failed(`${message} (${instances.length === sticks ? 'every stick' : instances.join(', ')})${advice}`),
    );
  }
  if (config.pushgateway) {
    const { url, job } = config.pushgateway;
    return [ok(`Pushgateway ${url.href} took the push of ${count(sticks)}, as job "${job}"`)];
  }
  if (config.victoriametrics)
    return [ok(`VictoriaMetrics ${config.victoriametrics.url.href} took the import of ${count(sticks)}`)];
  if (config.textfile) return [];
  return [ok('standard output: nothing to check')];
}

/** node_exporter (its own user) reads only *.prom files it can reach and read. */
export async function textfileStep(path: string): Promise<Step> {
  if (!path.endsWith('.prom'))
    return failed(`textfile ${path}: node_exporter's textfile collector reads only files named *.prom`);
  const file = await stat(path).catch((error: unknown) => new Error(errnoCode(error) ?? messageOf(error)));
  if (file instanceof Error) return failed(`textfile ${path} cannot be read back (${file.message})`);
  const mode = (file.mode & 0o777).toString(8).padStart(4, '0');
  if ((file.mode & 0o004) === 0) {
    return failed(
      `textfile ${path} has mode ${mode}: node_exporter, running as another user, cannot read it; ` +
        'run the job with umask 0022',
    );
  }
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const stats = await stat(dir).catch(() => undefined);
    if (stats && (stats.mode & 0o001) === 0) {
      return failed(
        `textfile ${path}: directory ${dir} has mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}: ` +
          'node_exporter, running as another user, cannot reach the file; chmod o+x it',
      );
    }
    if (dirname(dir) === dir) break;
  }
  return ok(`textfile ${path} written, mode ${mode}: node_exporter can read ${basename(path)}`);
}

/** How long VictoriaMetrics may take to make an import searchable (about a second, more for a vmagent). */
const recallWaitMs = 15_000;

/**
 * Recall, as a run makes it: the query URL answers and gives back the last success the import just
 * wrote for every stick that was read, within a few seconds.
 */
export async function recallStep(
  store: VictoriaMetrics,
  sink: AnySink,
  readAt: ReadonlyMap<string, number>,
  targets: readonly Target[],
): Promise<Step> {
  const where = `VictoriaMetrics query API ${store.query.url.href}`;
  const read = targets.filter(({ instance }) => readAt.has(instance));
  if (read.length === 0) return unchecked(`${where}: recall not checked: no stick was read`);
  const deadline = Date.now() + recallWaitMs;
  for (;;) {
    let found: ReadonlyMap<string, number>;
    try {
      found = await sink.lastSuccesses!(read);
    } catch (error) {
      // A vmagent has no query API: recall is off, which a run survives; whether the store holds it is unknown.
      return (error instanceof NoQueryApi ? unchecked : failed)(messageOf(error));
    }
    const missing = read.filter(
      ({ instance }) => (found.get(instance) ?? 0) < Math.floor(readAt.get(instance)! / 1000),
    );
    if (missing.length === 0) return ok(`${where} answers and recalls the last success of every stick read`);
    if (Date.now() > deadline) {
      return failed(
        `${where} answers, but has not the last success just imported for ${missing.map(({ instance }) => instance).join(', ')} ` +
          `after ${recallWaitMs / 1000} s: does the import reach the store this URL queries?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * push_time_seconds of each pushed stick's group, as the Pushgateway holds it now, in one streamed
 * read; none if it cannot say (the series are then taken as they come, of whichever push).
 */
export async function pushTimes(pushgateway: Pushgateway, http: Http, targets: readonly Target[]): Promise<PushTimes> {
  const groupings = targets.map((target) => stickGrouping(pushgateway, target));
  const { values } = await readGroups(http, pushgateway.url, {
    values: { groupings, family: 'push_time_seconds' },
  }).catch(() => ({ values: new Map<number, number>() }));
  return new Map(
    targets.flatMap((target, index) => {
      const value = values.get(index);
      return value === undefined ? [] : [[target.instance, value] as const];
    }),
  );
}
