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
import { jobFamilies } from '../catalogue.js';
import type { Sample } from '../parse.js';
import type { AnySink, Forgettable } from '../sinks/sink.js';
import type { Series } from './prometheus-api.js';
import {
  forgetCommand,
  missingSeries,
  ofNewestScrape,
  importedAtQuery,
  selector,
  type DeliveredStick,
} from './series.js';
import { clip, count, failed, ok, unchecked, type Step } from './report.js';

/** A sink that remembers what it delivered and why a delivery failed, for the check to say. */
export interface RecordingSink {
  readonly sink: AnySink;
  /** Failure message → the instances it struck. */
  readonly failures: Map<string, string[]>;
  /** Each stick's samples as delivered. */
  readonly samples: Map<Target, readonly Sample[]>;
}

/** `sink` for one run that forgets and removes nothing: check changes nothing but its own delivery. */
export function recording(sink: AnySink): RecordingSink {
  const failures = new Map<string, string[]>();
  const samples = new Map<Target, readonly Sample[]>();
  const note = (message: string, instances: string[]) => {
    failures.set(message, [...(failures.get(message) ?? []), ...instances]);
  };
  return {
    failures,
    samples,
    sink: {
      ...(sink.lastSuccesses && { lastSuccesses: sink.lastSuccesses }),
      ...(sink.close && { close: sink.close }),
      deliver: async (delivery) => {
        const noted = (error: unknown): never => {
          if (error instanceof SinkFailure) note(error.message, [delivery.target.instance]);
          throw error;
        };
        const handed = await sink.deliver(delivery).catch(noted);
        const outcome = handed.outcome.then((news) => {
          samples.set(delivery.target, delivery.samples);
          return news;
        }, noted);
        return { outcome };
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
 * wrote for every stick that was read, within a few seconds; and it holds every series of the
 * import, which a vmagent's relabelling may have dropped on the way.
 */
export async function recallStep(
  store: VictoriaMetrics,
  sink: AnySink,
  readAt: ReadonlyMap<string, number>,
  sticks: readonly DeliveredStick[],
  query: (expr: string) => Promise<readonly Series[]>,
): Promise<Step> {
  const where = `VictoriaMetrics query API ${store.query.url.href}`;
  const read = sticks.filter(({ instance }) => readAt.has(instance));
  if (read.length === 0) return unchecked(`${where}: recall not checked: no stick was read`);
  const deadline = Date.now() + recallWaitMs;
  for (;;) {
    let missing: string[];
    try {
      const found = await sink.lastSuccesses!(read.map(({ target }) => target));
      const late = read.filter(({ instance }) => (found.get(instance) ?? 0) < Math.floor(readAt.get(instance)! / 1000));
      missing = late.length ? late.map(({ instance }) => `${instance}'s last success`) : [];
      for (const stick of missing.length ? [] : read)
        missing.push(
          // An import's samples carry the time its stick was read, to the millisecond.
          ...missingSeries(
            stick,
            ofNewestScrape(await query(importedAtQuery(stick.labels)), (readAt.get(stick.instance)! - 1) / 1000),
          ).map((series) => `${stick.instance} ${series}`),
        );
    } catch (error) {
      // A vmagent has no query API: recall is off, which a run survives; whether the store holds it is unknown.
      return (error instanceof NoQueryApi ? unchecked : failed)(messageOf(error));
    }
    if (missing.length === 0)
      return ok(`${where} answers, holds every series of the import and recalls the last success of every stick read`);
    if (Date.now() > deadline) {
      const list = missing.join(', ');
      return failed(
        `${where} answers, but lacks ${list.length > 300 ? `${list.slice(0, 297)}...` : list} ` +
          `${recallWaitMs / 1000} s after the import: does all of the import reach the store this URL queries ` +
          '(a vmagent relabelling it away)?',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What the Pushgateway holds of this job, in one streamed read. */
export interface PushgatewayGroups {
  /** push_time_seconds of each delivered stick's group, by instance: this push's, on the Pushgateway's clock. */
  readonly pushTimes: ReadonlyMap<string, number>;
  /** The job's groups that no stick named here delivers (a stick renamed or removed), oldest first. */
  readonly unnamed: readonly Forgettable[];
  /** Why the Pushgateway could not be read back: then none of the above is known. */
  readonly failure?: string;
}

export async function pushgatewayGroups(
  pushgateway: Pushgateway,
  http: Http,
  delivered: readonly Target[],
  named: readonly Target[],
): Promise<PushgatewayGroups> {
  const found = await readGroups(http, pushgateway.url, {
    values: { groupings: delivered.map((target) => stickGrouping(pushgateway, target)), family: 'push_time_seconds' },
    // Every group of exactly this job's key that no stick names, however recent: check lists them all.
    stale: {
      job: pushgateway.job,
      grouping: pushgateway.grouping,
      named: named.map((target) => target.instance),
      family: jobFamilies.up.name,
      afterSeconds: -Infinity,
    },
  }).catch((error: unknown) => ({
    values: new Map<number, number>(),
    stale: [],
    failure: messageOf(error),
  }));
  const pushTimes = new Map(
    delivered.flatMap((target, index) => {
      const value = found.values.get(index);
      return value === undefined ? [] : [[target.instance, value] as const];
    }),
  );
  const unnamed = [...found.stale].sort((a, b) => a.pushedAt - b.pushedAt);
  return { pushTimes, unnamed, ...('failure' in found && { failure: found.failure }) };
}

/** One line per group no stick names, with the command that forgets it; at most `max` of them. */
export function unnamedSteps(pushgateway: Pushgateway, groups: PushgatewayGroups, max = 10): Step[] {
  const { unnamed, failure } = groups;
  if (failure !== undefined)
    return [
      unchecked(
        `Pushgateway ${pushgateway.url.href} ${failure} when read back: groups no stick names are not looked for, ` +
          "and Prometheus's series of an earlier push count as this push's",
      ),
    ];
  const steps = unnamed.slice(0, max).map(({ grouping, age }) => {
    const name = `group ${clip(selector(grouping))} on the Pushgateway`;
    const command = forgetCommand(pushgateway, grouping);
    // Pushed in the last minutes by the Pushgateway's clock: someone pushes it still (another host, an old timer).
    if (age < stoppedAfterSeconds)
      return unchecked(
        `${name} is named by no stick here, yet was pushed ${Math.round(age)} s ago: by another host ` +
          `or an old timer? Once nothing pushes it, forget it: ${command}`,
      );
    return failed(
      `${name} is named by no stick here and was last pushed ${Math.round(age / 60)} min ago: its ` +
        `alerts fire until it is forgotten, then TruckiSeriesStopped for a day; forget it now: ${command}`,
    );
  });
  if (unnamed.length > max)
    steps.push(failed(`and ${unnamed.length - max} more groups of job "${pushgateway.job}" that no stick here names`));
  return steps;
}

/** TruckiPushesStopped's threshold: a group unpushed this long is stopped. */
const stoppedAfterSeconds = 300;
