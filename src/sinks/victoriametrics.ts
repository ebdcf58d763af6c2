/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. There is no group to replace: every sample
 * carries job, instance and the target's labels as ordinary labels, and the time its stick was
 * read, so a late delivery keeps true times and a series simply ends when a stick is no longer
 * sent. The sticks of a run share as few requests as the size cap allows.
 */
import { HTTPError } from 'got';
import type { Target } from '../config/types.js';
import { describeFailure, send, urlUnder, type Http } from '../http.js';
import { Backlog, type Batch, type BacklogBounds } from './backlog.js';
import { importText, type LabelPairs } from './import-text.js';
import { recallQuery, readLastSuccesses } from './recall.js';
import { SinkFailure, type Delivery, type Sink } from './sink.js';

export interface VictoriaMetricsTarget {
  /** Base URL, without user info: safe to log. */
  readonly url: URL;
  readonly job: string;
  /** Labels on every sample after job and instance (--grouping). */
  readonly grouping: LabelPairs;
  /** Where /api/v1/query is answered; absent: recall is off (e.g. a vmagent). */
  readonly queryUrl?: URL;
  /** Loop mode: keep what could not be delivered, within these bounds, for the next runs. */
  readonly backlog?: BacklogBounds;
}

/** One request's worth: VictoriaMetrics takes far more (32 MB), but a small request fails small. */
const maxRequestBytes = 1 << 20;

const contentType = 'text/plain; version=0.0.4; charset=utf-8';

export function victoriaMetricsSink(store: VictoriaMetricsTarget, http: Http, queryHttp: Http = http): Sink {
  const importUrl = urlUnder(store.url, '/api/v1/import/prometheus');
  const backlog = new Backlog(store.backlog ?? { maxBytes: 0, maxAgeMs: 0 });
  let batch = { parts: [] as string[], bytes: 0, samples: 0, oldestAt: Infinity };
  /** Full batches of this run, in order, sent at flush after the backlog. */
  let ready: Batch[] = [];

  const post = (text: string) => send(http, (got) => got.post(importUrl, { body: text, headers: { 'content-type': contentType } }));

  /** Sends `batches` in order; resolves with those not delivered (the first failure and all after it). */
  async function sendInOrder(batches: readonly Batch[]): Promise<{ unsent: Batch[]; failure?: string }> {
    for (const [index, each] of batches.entries()) {
      try {
        await post(each.text);
      } catch (error) {
        if (error instanceof HTTPError && error.response.statusCode >= 400 && error.response.statusCode < 500) {
          // The store's considered answer: sending it again would get the same one.
          backlog.drop(each);
          const reason = String(error.response.body).trim().split('\n')[0]?.slice(0, 300);
          return { unsent: [...batches.slice(index + 1)], failure: `refused the import with HTTP ${error.response.statusCode}: ${reason}` };
        }
        return { unsent: batches.slice(index), failure: describeFailure(error, http.policy) };
      }
    }
    return { unsent: [] };
  }

  function closeBatch(): void {
    if (batch.parts.length === 0) return;
    ready.push({ text: batch.parts.join(''), bytes: batch.bytes, samples: batch.samples, oldestAt: batch.oldestAt });
    batch = { parts: [], bytes: 0, samples: 0, oldestAt: Infinity };
  }

  return {
    ...(store.queryUrl && {
      lastSuccesses: async (targets: readonly Target[]) => {
        try {
          return await readLastSuccesses(queryHttp, store.queryUrl!, recallQuery(store.job), targets, store.grouping);
        } catch (error) {
          throw new SinkFailure(`VictoriaMetrics query API ${store.queryUrl!.href} ${describeFailure(error, queryHttp.policy)}`
            + ' when asked for the last successes');
        }
      },
    }),
    deliver: async ({ target, samples, readAt }: Delivery) => {
      const { text, lines } = await importText(samples, [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels], readAt);
      const bytes = Buffer.byteLength(text);
      if (batch.bytes + bytes > maxRequestBytes) closeBatch();
      batch.parts.push(text);
      batch.bytes += bytes;
      batch.samples += lines;
      batch.oldestAt = Math.min(batch.oldestAt, readAt);
    },
    flush: async () => {
      closeBatch();
      const now = Date.now();
      const queue = [...backlog.takeAll(now), ...ready];
      ready = [];
      const { unsent, failure } = await sendInOrder(queue);
      if (!failure) return;
      const samples = unsent.reduce((sum, each) => sum + each.samples, 0);
      if (store.backlog) backlog.keep(unsent, now);
      const kept = store.backlog ? `${backlog.samples} samples kept for the next runs` : `${samples} samples not delivered`;
      const dropped = backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '';
      throw new SinkFailure(`VictoriaMetrics ${store.url.href} ${failure}; ${kept}${dropped}`);
    },
  };
}
