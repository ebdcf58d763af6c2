/**
 * The Pushgateway sink: one group per stick, replaced whole by every push. The Pushgateway checks each push
 * against every group it holds, one at a time: more than a few pushes in flight only time each other out.
 */
import { jobFamilies } from '../catalogue.js';
import type { Grouping, Pushgateway, Target } from '../config/types.js';
import { expositionText } from '../exposition.js';
import type { Http } from '../http.js';
import { createLimit } from '../concurrency-limit.js';
import { deleteGroup, pushGroup, readGroups } from './pushgateway-api.js';
import { messageOf, SinkFailure } from '../errors.js';
import { delivered, type Forgets, type Recall, type Removal, type Sink, type SinkKind } from './sink.js';

const pushesInFlight = 4;

export const pushgateway: SinkKind = {
  name: 'Pushgateway',
  choose: ({ pushgateway: store }) =>
    store && { endpoints: [store], create: ({ http }) => pushgatewaySink(store, http(store)) },
};

/** A stick's grouping key: job, instance, the stick's own labels, then --grouping. */
export function stickGrouping(pushgateway: Pushgateway, target: Target): Grouping {
  return [['job', pushgateway.job], ['instance', target.instance], ...target.labels, ...pushgateway.grouping];
}

export function pushgatewaySink(pushgateway: Pushgateway, http: Http): Sink & Recall & Removal & Partial<Forgets> {
  const { url } = pushgateway;
  const limit = createLimit(pushesInFlight);
  const groupingOf = (target: Target) => stickGrouping(pushgateway, target);
  const failure =
    (context: string) =>
    (error: unknown): never => {
      throw new SinkFailure(`Pushgateway ${url.href} ${messageOf(error)}${context}`);
    };
  /** The last successes of `recall`; with `stale`, also the groups to forget, from the same read. */
  const read = async (recall: readonly Target[], stale?: { named: readonly Target[]; afterMs: number }) => {
    const found = await readGroups(http, url, {
      values: { groupings: recall.map(groupingOf), family: jobFamilies.lastSuccess.name },
      ...(stale && {
        stale: {
          job: pushgateway.job,
          grouping: pushgateway.grouping,
          // A stick with labels of its own pushes to a grouping key with more labels, never a candidate.
          named: stale.named.flatMap(({ instance, labels }) => (labels.length ? [] : [instance])),
          family: jobFamilies.up.name,
          afterSeconds: stale.afterMs / 1000,
        },
      }),
    }).catch(failure(recall.length ? ' when asked for the last successes' : ' when asked for its groups'));
    const lastSuccesses = new Map(
      recall.flatMap((target, index) => {
        const value = found.values.get(index);
        return value === undefined ? [] : [[target.instance, value] as const];
      }),
    );
    const unsure = found.unsure && `Pushgateway ${url.href} ${found.unsure}: nothing forgotten`;
    return { lastSuccesses, stale: found.stale, ...(unsure && { unsure }) };
  };
  const { forgetAfterMs } = pushgateway;
  return {
    lastSuccesses: async (targets) => (await read(targets)).lastSuccesses,
    // Taken once pushed: a Pushgateway that hangs holds up the stick's next read, not memory.
    deliver: ({ target, samples }) =>
      limit(async () => {
        const text = await expositionText(samples);
        await pushGroup(http, url, groupingOf(target), text).catch(failure(''));
        return delivered;
      }),
    remove: (target) => deleteGroup(http, url, groupingOf(target)).catch(failure('')),
    ...(forgetAfterMs !== undefined && {
      forgetting: {
        afterMs: forgetAfterMs,
        key: JSON.stringify([url.href, pushgateway.job, pushgateway.grouping]),
        find: (recall, named) => read(recall, { named, afterMs: forgetAfterMs }),
        forget: ({ grouping }) => deleteGroup(http, url, grouping).catch(failure('')),
      },
    }),
  };
}
