/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. There is no group to replace: every sample
 * carries job, instance and the target's labels as ordinary labels, and the time its stick was
 * read, so a late delivery keeps true times and a series simply ends when a stick is no longer
 * sent. The sticks of a run share as few requests as the size cap allows.
 */
import { HTTPError } from 'got';
import type { Target, VictoriaMetrics } from '../config/types.js';
import { describeFailure, requireSuccess, urlUnder, withRetries, type Http } from '../http.js';
import { Backlog, type Batch } from './backlog.js';
import { importText } from './import-text.js';
import { recallQuery, readLastSuccesses } from './victoriametrics-api.js';
import { SinkFailure } from '../errors.js';
import type { Delivery, Sink, SinkKind } from './sink.js';

export const victoriaMetrics: SinkKind = {
  name: 'VictoriaMetrics',
  words: {},
  choose: ({ victoriametrics: store, schedule }) =>
    store && {
      endpoints: [store, store.query],
      // Only a loop has later runs to deliver a backlog in.
      create: ({ http }) => victoriaMetricsSink(store, http(store), http(store.query), schedule !== undefined),
    },
};

/** One request's worth: VictoriaMetrics takes far more (32 MB), but a small request fails small. */
const maxRequestBytes = 1 << 20;

const contentType = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `keep`: a loop keeps what could not be delivered, within the store's backlog bounds, and sends
 * it first on the next runs; a one-shot run has no next run.
 */
export function victoriaMetricsSink(store: VictoriaMetrics, http: Http, queryHttp: Http, keep: boolean): Sink {
  const importUrl = urlUnder(store.url, '/api/v1/import/prometheus');
  const backlog = new Backlog(store.backlog);
  let queryApi = true;
  let batch = { parts: [] as string[], bytes: 0, samples: 0, oldestAt: Infinity };
  /** Full batches of this run, in order, sent at flush after the backlog. */
  let ready: Batch[] = [];

  const post = (text: string) =>
    withRetries(http, async (got) => {
      requireSuccess(await got.post(importUrl, { body: text, headers: { 'content-type': contentType } }));
    });

  /**
   * Sends `batches` in order, up to the first failure: what is left (a refused batch is not: it
   * would be refused again), how many samples were not delivered, and why.
   */
  async function sendInOrder(batches: readonly Batch[]): Promise<{ unsent: Batch[]; lost: number; failure?: string }> {
    const count = (list: readonly Batch[]) => list.reduce((sum, each) => sum + each.samples, 0);
    for (const [index, each] of batches.entries()) {
      try {
        await post(each.text);
      } catch (error) {
        if (error instanceof HTTPError && error.response.statusCode >= 400 && error.response.statusCode < 500) {
          // The store's considered answer: sending it again would get the same one.
          backlog.drop(each);
          const reason = String(error.response.body).trim().split('\n')[0]?.slice(0, 300);
          const unsent = batches.slice(index + 1);
          return {
            unsent,
            lost: each.samples + count(unsent),
            failure: `refused the import with HTTP ${error.response.statusCode}: ${reason}`,
          };
        }
        const unsent = batches.slice(index);
        return { unsent, lost: count(unsent), failure: describeFailure(error, http.policy) };
      }
    }
    return { unsent: [], lost: 0 };
  }

  function closeBatch(): void {
    if (batch.parts.length === 0) return;
    ready.push({ text: batch.parts.join(''), bytes: batch.bytes, samples: batch.samples, oldestAt: batch.oldestAt });
    batch = { parts: [], bytes: 0, samples: 0, oldestAt: Infinity };
  }

  return {
    lastSuccesses: async (targets: readonly Target[]) => {
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
    },
    // Only collects: the run's sticks go out together at flush.
    deliver: ({ target, samples, readAt }: Delivery) => {
      const { text, lines } = importText(
        samples,
        [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels],
        readAt,
      );
      const bytes = Buffer.byteLength(text);
      if (batch.bytes + bytes > maxRequestBytes) closeBatch();
      batch.parts.push(text);
      batch.bytes += bytes;
      batch.samples += lines;
      batch.oldestAt = Math.min(batch.oldestAt, readAt);
      return Promise.resolve();
    },
    drain: async () => {
      closeBatch();
      const queue = [...backlog.takeAll(Date.now()), ...ready];
      ready = [];
      const { lost, failure } = await sendInOrder(queue);
      if (failure)
        throw new SinkFailure(`VictoriaMetrics ${store.url.href} ${failure}; ${lost} samples not delivered (stopping)`);
    },
    flush: async () => {
      closeBatch();
      const now = Date.now();
      const queue = [...backlog.takeAll(now), ...ready];
      ready = [];
      const { unsent, lost, failure } = await sendInOrder(queue);
      if (!failure) return;
      if (keep) backlog.keep(unsent, now);
      const kept = keep ? `${backlog.samples} samples kept for the next runs` : `${lost} samples not delivered`;
      const dropped = backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '';
      throw new SinkFailure(`VictoriaMetrics ${store.url.href} ${failure}; ${kept}${dropped}`);
    },
  };
}
