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
import { describeFailure, failedStatus, refusalReason, retryAfterMs, type Http, type HttpPolicy } from '../http.js';
import { Backlog, type Batch } from './backlog.js';
import { ImportBatches } from './import-batches.js';
import { importText } from './import-text.js';
import type { Delivery, Sink, SinkKind } from './sink.js';
import { postImport, queryError, readLastSuccesses, recallQuery } from './victoriametrics-api.js';

export const victoriaMetrics: SinkKind = {
  name: 'VictoriaMetrics',
  words: {
    notRecalled:
      'no series in VictoriaMetrics has its job, instance and labels (a stick never read, or labels changed since)',
  },
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
 * it first on the next runs; a one-shot run has no next run. One delivery at a time: a run that
 * ends while the previous one's is still under way (a store that hangs), or before the time the
 * store asked to be left alone until (Retry-After), keeps its batches for the next run.
 */
export function victoriaMetricsSink(store: VictoriaMetrics, http: Http, queryHttp: Http, keep: boolean): Sink {
  const backlog = new Backlog(store.backlog);
  const batches = new ImportBatches(maxRequestBytes);
  const where = `VictoriaMetrics ${store.url.href}`;
  let sending: Promise<void> | undefined;
  /** Unix ms before which the store asked not to be sent to. */
  let notBefore = 0;
  /** Whether the log heard already that this run's batches wait: once per busy stretch. */
  let waitSaid = false;

  const droppedSoFar = () => (backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '');
  const sendQueue = async (queue: readonly Batch[], now: number, stopping: boolean) => {
    const sent = await sendAll(queue, http.policy, (text) => postImport(http, store.url, text));
    if (sent.retryAfterMs !== undefined) notBefore = Date.now() + sent.retryAfterMs;
    for (const refused of sent.refused) backlog.drop(refused);
    const later = keep && !stopping;
    if (later) backlog.keep(sent.unsent, now);
    const said = sent.failures.join(', then ');
    if (!said) return;
    const lost = count(sent.refused) + (later ? 0 : count(sent.unsent));
    const tail = [
      ...(lost ? [`${lost} samples not delivered${stopping ? ' (stopping)' : ''}`] : []),
      ...(later && sent.unsent.length ? [`${backlog.samples} samples kept for the next runs`] : []),
    ];
    throw new SinkFailure(`${where} ${said}; ${tail.join('; ')}${later ? droppedSoFar() : ''}`);
  };
  const oneAtATime = async (queue: readonly Batch[], now: number, stopping: boolean) => {
    const delivery = sendQueue(queue, now, stopping);
    // Only that it ended matters here: its failure is the caller's.
    sending = delivery.then(
      () => {
        sending = undefined;
      },
      () => {
        sending = undefined;
      },
    );
    await delivery;
  };

  const recall = lastSuccessRecall(store, queryHttp);
  return {
    // Absent once recall is off: a stick's last success is then not "not found", only not asked for.
    get lastSuccesses() {
      return recall.available() ? recall.ask : undefined;
    },
    // Only collects: the run's sticks go out together at flush.
    deliver: ({ target, samples, readAt }: Delivery) => {
      const labels = [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels] as const;
      const { text, lines } = importText(samples, labels, readAt);
      batches.add(text, lines, readAt);
      return Promise.resolve();
    },
    drain: async () => {
      await sending;
      const wait = notBefore - Date.now();
      if (wait > 0 && wait <= http.policy.timeoutMs) await new Promise((resolve) => setTimeout(resolve, wait));
      const queue = [...backlog.takeAll(Date.now()), ...batches.takeAll()];
      if (Date.now() < notBefore)
        throw new SinkFailure(`${where} ${askedToWait(notBefore)}; ${count(queue)} samples not delivered (stopping)`);
      await oneAtATime(queue, Date.now(), true);
    },
    flush: async () => {
      const now = Date.now();
      if (keep && (sending || now < notBefore)) {
        backlog.keep(batches.takeAll(), now);
        if (waitSaid) return;
        waitSaid = true;
        const why = sending ? 'is still busy with the delivery before' : askedToWait(notBefore);
        throw new SinkFailure(`${where} ${why}; ${backlog.samples} samples kept for the next runs${droppedSoFar()}`);
      }
      waitSaid = false;
      await oneAtATime([...backlog.takeAll(now), ...batches.takeAll()], now, false);
    },
  };
}

function askedToWait(notBefore: number): string {
  return `asked to be sent nothing before ${new Date(notBefore).toISOString()} (Retry-After)`;
}

const count = (list: readonly Batch[]) => list.reduce((sum, each) => sum + each.samples, 0);

/**
 * The sink's lastSuccesses: one query per run, until the store turns out to have no query API;
 * `available` says whether it still asks.
 */
function lastSuccessRecall(
  store: VictoriaMetrics,
  queryHttp: Http,
): { ask: NonNullable<Sink['lastSuccesses']>; available: () => boolean } {
  let queryApi = true;
  const ask = async (targets: readonly Target[]) => {
    if (!queryApi) return new Map<string, number>();
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
      const said =
        error instanceof HTTPError && error.response.statusCode < 500
          ? `answered HTTP ${error.response.statusCode}: ${queryError(error.response.body) ?? refusalReason(error)}`
          : describeFailure(error, queryHttp.policy);
      throw new SinkFailure(`${where} ${said} when asked for the last successes`);
    }
  };
  return { ask, available: () => queryApi };
}

/** What became of a queue of batches: refused for good, left to send later, and why. */
interface Sent {
  readonly refused: Batch[];
  readonly unsent: Batch[];
  /** Each refusal, and the failure that stopped the sending, in words. */
  readonly failures: string[];
  /** How long the store asked to be left alone (Retry-After), if it did. */
  readonly retryAfterMs?: number;
}

/**
 * Sends `batches` in order. A batch the store refuses (4xx) is passed over for good, since it
 * would be refused again, and the others are still sent; a failure that may pass (the store away,
 * 5xx, 408 or 429: "later") stops the sending, and what is left is unsent.
 */
async function sendAll(
  batches: readonly Batch[],
  policy: HttpPolicy,
  post: (text: string) => Promise<void>,
): Promise<Sent> {
  const refused: Batch[] = [];
  const reasons = new Map<string, number>();
  const said = () =>
    [...reasons].map(([reason, times]) => `refused ${times} of ${batches.length} import requests ${reason}`);
  for (const [index, each] of batches.entries()) {
    try {
      await post(each.text);
    } catch (error) {
      const status = failedStatus(error);
      if (error instanceof HTTPError && status !== undefined && status >= 400 && status < 500 && !later.has(status)) {
        refused.push(each);
        const reason = `with HTTP ${status}: ${refusalReason(error)}`;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        continue;
      }
      const retryAfter = retryAfterMs(error, Date.now());
      const failure =
        describeFailure(error, policy) + (retryAfter ? `, asking to wait ${Math.ceil(retryAfter / 1000)} s` : '');
      return {
        refused,
        unsent: batches.slice(index),
        failures: [...said(), failure],
        ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
      };
    }
  }
  return { refused, unsent: [], failures: said() };
}

/** 4xx that mean "not now": Request Timeout, Too Many Requests. */
const later = new Set([408, 429]);
