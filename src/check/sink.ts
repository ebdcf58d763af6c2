/** Whether the sink took the run's delivery, and what only each sink can say (textfile readable, recall). */
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
import { poll, type Series } from './prometheus-api.js';
import { forgetCommand, importedAtQuery, missingSeries, ofNewestScrape, selector } from './series.js';
import type { DeliveredStick } from './series.js';
import { clip, count, failed, ok, unchecked, type Step } from './report.js';

/** `sink` that forgets and removes nothing, noting each stick's samples delivered and each failure's instances. */
export function recording(sink: AnySink) {
  const failures = new Map<string, string[]>();
  const samples = new Map<Target, readonly Sample[]>();
  return {
    failures,
    samples,
    sink: {
      ...(sink.lastSuccesses && { lastSuccesses: sink.lastSuccesses }),
      ...(sink.close && { close: sink.close }),
      deliver: async (delivery) => {
        const noted = (error: unknown): never => {
          const { message } = error as Error;
          if (error instanceof SinkFailure)
            failures.set(message, [...(failures.get(message) ?? []), delivery.target.instance]);
          throw error;
        };
        const handed = await sink.deliver(delivery).catch(noted);
        const outcome = handed.outcome.then((news) => {
          samples.set(delivery.target, delivery.samples);
          return news;
        }, noted);
        return { outcome };
      },
    } satisfies AnySink,
  };
}

/** The sink's own line: it took the delivery, or why not; for the textfile, whether node_exporter can read it. */
export async function deliverySteps(config: Config, failures: ReadonlyMap<string, string[]>): Promise<Step[]> {
  const { pushgateway, victoriametrics, textfile, targets } = config;
  if (failures.size > 0) {
    const store = pushgateway ? 'the Pushgateway' : victoriametrics && 'VictoriaMetrics (or the vmagent)';
    const advice = store ? `: is ${store} running, and is the URL its base URL?` : '';
    return [...failures].map(([message, struck]) =>
      failed(`${message} (${struck.length === targets.length ? 'every stick' : struck.join(', ')})${advice}`),
    );
  }
  const sticks = count(targets.length);
  if (pushgateway)
    return [ok(`Pushgateway ${pushgateway.url.href} took the push of ${sticks}, as job "${pushgateway.job}"`)];
  if (victoriametrics) return [ok(`VictoriaMetrics ${victoriametrics.url.href} took the import of ${sticks}`)];
  return [textfile ? await textfileStep(textfile) : ok('standard output: nothing to check')];
}

/** node_exporter (its own user) reads only *.prom files it can reach and read. */
async function textfileStep(path: string): Promise<Step> {
  if (!path.endsWith('.prom'))
    return failed(`textfile ${path}: node_exporter's textfile collector reads only files named *.prom`);
  const file = await stat(path).catch((error: unknown) => new Error(errnoCode(error) ?? messageOf(error)));
  if (file instanceof Error) return failed(`textfile ${path} cannot be read back (${file.message})`);
  const mode = modeOf(file);
  if ((file.mode & 0o004) === 0)
    return failed(
      `textfile ${path} has mode ${mode}: node_exporter, running as another user, cannot read it; ` +
        'run the job with umask 0022',
    );
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const stats = await stat(dir).catch(() => undefined);
    if (stats && (stats.mode & 0o001) === 0)
      return failed(
        `textfile ${path}: directory ${dir} has mode ${modeOf(stats)}: ` +
          'node_exporter, running as another user, cannot reach the file; chmod o+x it',
      );
    if (dirname(dir) === dir) break;
  }
  return ok(`textfile ${path} written, mode ${mode}: node_exporter can read ${basename(path)}`);
}

const modeOf = ({ mode }: { mode: number }) => (mode & 0o777).toString(8).padStart(4, '0');

/** How long VictoriaMetrics may take to make an import searchable (about a second, more for a vmagent). */
const recallWaitMs = 15_000;

/** Recall as a run makes it: the query URL gives back each stick read's last success just imported, and holds
 * every series of the import (a vmagent's relabelling may drop some on the way).
 */
export async function recallStep(
  store: VictoriaMetrics,
  sink: AnySink,
  sticks: readonly DeliveredStick[],
  query: (expr: string) => Promise<readonly Series[]>,
): Promise<Step> {
  const where = `VictoriaMetrics query API ${store.query.url.href}`;
  const read = sticks.filter(({ readAt }) => readAt !== undefined);
  if (read.length === 0) return unchecked(`${where}: recall not checked: no stick was read`);
  const lacking = async () => {
    const found = await sink.lastSuccesses!(read.map(({ target }) => target));
    const late = read.filter(({ instance, readAt }) => (found.get(instance) ?? 0) < Math.floor(readAt! / 1000));
    if (late.length) return late.map(({ instance }) => `${instance}'s last success`);
    const missing: string[] = [];
    for (const stick of read) {
      // An import's samples carry the time its stick was read, to the millisecond.
      const arrived = ofNewestScrape(await query(importedAtQuery(stick.labels)), (stick.readAt! - 1) / 1000);
      missing.push(...missingSeries(stick, arrived).map((series) => `${stick.instance} ${series}`));
    }
    return missing;
  };
  return poll(async (startedAt) => {
    const missing = await lacking().catch((error: unknown) => ({ error }));
    // A vmagent has no query API: recall is off, which a run survives; whether the store holds it is unknown.
    if ('error' in missing) return (missing.error instanceof NoQueryApi ? unchecked : failed)(messageOf(missing.error));
    if (missing.length === 0)
      return ok(`${where} answers, holds every series of the import and recalls the last success of every stick read`);
    if (Date.now() <= startedAt + recallWaitMs) return undefined;
    return failed(
      `${where} answers, but lacks ${clip(missing.join(', '))} ${recallWaitMs / 1000} s after the import: ` +
        'does all of the import reach the store this URL queries (a vmagent relabelling it away)?',
    );
  });
}

/** In one read: each stick delivered with its group's push_time_seconds; the job's groups no stick here names,
 * oldest first; or why the Pushgateway could not be read back.
 */
export async function pushgatewayGroups(
  pushgateway: Pushgateway,
  http: Http,
  delivered: readonly DeliveredStick[],
  named: readonly Target[],
): Promise<{ sticks: readonly DeliveredStick[]; unnamed: readonly Forgettable[]; failure?: string }> {
  const groupings = delivered.map(({ target }) => stickGrouping(pushgateway, target));
  const found = await readGroups(http, pushgateway.url, {
    values: { groupings, family: 'push_time_seconds' },
    // Every group of exactly this job's key that no stick names, however recent: check lists them all.
    stale: {
      job: pushgateway.job,
      grouping: pushgateway.grouping,
      named: named.map((target) => target.instance),
      family: jobFamilies.up.name,
      afterSeconds: -Infinity,
    },
  }).catch((error: unknown) => ({ values: new Map<number, number>(), stale: [], failure: messageOf(error) }));
  const sticks = delivered.map((stick, index) => {
    const pushTime = found.values.get(index);
    return pushTime === undefined ? stick : { ...stick, pushTime };
  });
  const unnamed = [...found.stale].sort((a, b) => a.pushedAt - b.pushedAt);
  return { sticks, unnamed, ...('failure' in found && { failure: found.failure }) };
}

/** One line per group no stick names, with the command that forgets it; at most `max` of them. */
export function unnamedSteps(
  pushgateway: Pushgateway,
  { unnamed, failure }: { unnamed: readonly Forgettable[]; failure?: string },
  max = 10,
): Step[] {
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
