/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. There is no group to replace: every sample
 * carries job, instance and the target's labels as ordinary labels, and the time its stick was
 * read, so a late delivery keeps true times and a series simply ends when a stick is no longer
 * sent. The sticks of a run share as few requests as the size cap allows.
 */
import { HTTPError } from 'got';
import type { Target, VictoriaMetrics } from '../config/types.js';
import { SinkFailure } from '../errors.js';
import { describeFailure, refusalReason, type Http, type HttpPolicy } from '../http.js';
import { Backlog, type Batch } from './backlog.js';
import { ImportBatches } from './import-batches.js';
import { importText } from './import-text.js';
import type { Delivery, Sink, SinkKind } from './sink.js';
import { postImport, readLastSuccesses, recallQuery } from './victoriametrics-api.js';

export const victoriaMetrics: SinkKind = {
  name: 'VictoriaMetrics',
  words: { delivered: 'sent to VictoriaMetrics', atFlush: true },
  choose: ({ victoriametrics: store, schedule }) =>
    store && {
      endpoints: [store, store.query],
      // Only a loop has later runs to deliver a backlog in.
      create: ({ http }) => victoriaMetricsSink(store, http(store), http(store.query), schedule !== undefined),
    },
};

/** One request's worth: VictoriaMetrics takes far more (32 MB), but a small request fails small. */
const maxRequestBytes = 1 << 20;

/**
 * `keep`: a loop keeps what could not be delivered, within the store's backlog bounds, and sends
 * it first on the next runs; a one-shot run has no next run.
 */
export function victoriaMetricsSink(store: VictoriaMetrics, http: Http, queryHttp: Http, keep: boolean): Sink {
  const backlog = new Backlog(store.backlog);
  const batches = new ImportBatches(maxRequestBytes);
  const recall = lastSuccessRecall(store, queryHttp);
  const send = (queue: readonly Batch[]) =>
    sendInOrder(
      queue,
      http.policy,
      (text) => postImport(http, store.url, text),
      (refused) => {
        backlog.drop(refused);
      },
    );

  return {
    lastSuccesses: recall,
    // Only collects: the run's sticks go out together at flush.
    deliver: ({ target, samples, readAt }: Delivery) => {
      const labels = [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels] as const;
      const { text, lines } = importText(samples, labels, readAt);
      batches.add(text, lines, readAt);
      return Promise.resolve();
    },
    drain: async () => {
      const { lost, failure } = await send([...backlog.takeAll(Date.now()), ...batches.takeAll()]);
      if (failure)
        throw new SinkFailure(`VictoriaMetrics ${store.url.href} ${failure}; ${lost} samples not delivered (stopping)`);
    },
    flush: async () => {
      const now = Date.now();
      const { unsent, lost, failure } = await send([...backlog.takeAll(now), ...batches.takeAll()]);
      if (!failure) return;
      if (keep) backlog.keep(unsent, now);
      const kept = keep ? `${backlog.samples} samples kept for the next runs` : `${lost} samples not delivered`;
      const dropped = backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '';
      throw new SinkFailure(`VictoriaMetrics ${store.url.href} ${failure}; ${kept}${dropped}`);
    },
  };
}

/** The sink's lastSuccesses: one query per run, until the store turns out to have no query API. */
function lastSuccessRecall(store: VictoriaMetrics, queryHttp: Http): NonNullable<Sink['lastSuccesses']> {
  let queryApi = true;
  return async (targets: readonly Target[]) => {
    if (!queryApi) return new Map();
    try {
      return await readLastSuccesses(queryHttp, store.query.url, recallQuery(store.job), targets, store.grouping);
    } catch (error) {
      const where = `VictoriaMetrics query API ${store.query.url.href}`;
      // A vmagent answers 400 "unsupported path": it has no query API. Said once, then recall is off.
      if (
        error instanceof HTTPError &&
        (error.response.statusCode === 404 || /unsupported path/.test(String(error.response.body)))
      ) {
        queryApi = false;
        throw new SinkFailure(
          `${where} has no /api/v1/query (a vmagent?): recall is off; set --victoriametrics-query-url`,
        );
      }
      throw new SinkFailure(`${where} ${describeFailure(error, queryHttp.policy)} when asked for the last successes`);
    }
  };
}

/**
 * Sends `batches` in order, up to the first failure: what is left (a refused batch is not: it
 * would be refused again, and is handed to `onRefused`), how many samples were not delivered, and
 * why.
 */
async function sendInOrder(
  batches: readonly Batch[],
  policy: HttpPolicy,
  post: (text: string) => Promise<void>,
  onRefused: (batch: Batch) => void,
): Promise<{ unsent: Batch[]; lost: number; failure?: string }> {
  const count = (list: readonly Batch[]) => list.reduce((sum, each) => sum + each.samples, 0);
  for (const [index, each] of batches.entries()) {
    try {
      await post(each.text);
    } catch (error) {
      if (error instanceof HTTPError && error.response.statusCode >= 400 && error.response.statusCode < 500) {
        // The store's considered answer: sending it again would get the same one.
        onRefused(each);
        const unsent = batches.slice(index + 1);
        return {
          unsent,
          lost: each.samples + count(unsent),
          failure: `refused the import with HTTP ${error.response.statusCode}: ${refusalReason(error)}`,
        };
      }
      const unsent = batches.slice(index);
      return { unsent, lost: count(unsent), failure: describeFailure(error, policy) };
    }
  }
  return { unsent: [], lost: 0 };
}
