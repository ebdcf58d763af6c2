/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. There is no group to replace: every sample
 * carries job, instance and the target's labels as ordinary labels, and the time its stick was
 * read, so a late delivery keeps true times and a series simply ends when a stick is no longer
 * sent. The readings handed over together share as few requests as the size cap allows.
 */
import type { Target, VictoriaMetrics } from '../config/types.js';
import { HttpStatus, messageOf, NoQueryApi, SinkFailure } from '../errors.js';
import type { Http } from '../http.js';
import { Backlog, type Batch } from './backlog.js';
import { ImportBatches } from './import-batches.js';
import { ImportSending } from './import-sending.js';
import { importText } from './import-text.js';
import { outcomeToCome, type AnySink, type Recall, type Sink, type SinkKind } from './sink.js';
import { postImport, queryError, readLastSuccesses, recallQuery } from './victoriametrics-api.js';

export const victoriaMetrics: SinkKind = {
  name: 'VictoriaMetrics',
  words: {
    delivered: 'sent to VictoriaMetrics',
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

/** The sink: its outbox and sender, and the recall of last successes. */
export function victoriaMetricsSink(store: VictoriaMetrics, http: Http, queryHttp: Http, keep: boolean) {
  const recall = lastSuccessRecall(store, queryHttp);
  return {
    ...importOutbox(store, http, keep),
    // Absent once recall is off: a stick's last success is then not "not found", only not asked for.
    get lastSuccesses() {
      return recall.available() ? recall.ask : undefined;
    },
  } satisfies AnySink;
}

/**
 * The outbox: the readings handed over go into a batch of at most one request; a full batch goes at
 * once to the one sender, or into the backlog while it may not send (a sending before still under
 * way, or before the time the store asked to be left alone until), so that memory holds at most one
 * request's worth not on its way, beside the backlog. A sending begins with the backlog's batches,
 * the oldest, and a flush ends it; each reading is told of its own request: delivered, refused (lost), or unsent and,
 * in a loop (`keep`), kept in the backlog for the next sending, else lost.
 */
function importOutbox(store: VictoriaMetrics, http: Http, keep: boolean): Sink {
  const backlog = new Backlog(store.backlog);
  const filling = new ImportBatches(maxRequestBytes);
  const where = `VictoriaMetrics ${store.url.href}`;
  /** The one sending: open while batches may join it, then ending until each reading is told. */
  let sending: ImportSending | undefined;
  /** Unix ms before which the store asked not to be sent to. */
  let notBefore = 0;

  /** Why no batch may go now, if so: one may join a sending still open, or begin one. */
  const heldBy = (now: number) =>
    sending?.ending
      ? 'is still busy with the delivery before'
      : !sending && now < notBefore
        ? askedToWait(notBefore)
        : undefined;
  const hold = (batches: readonly Batch[], now: number, why: string) => {
    backlog.keep(batches, now);
    const kept = `${backlog.samples} samples kept for the next runs${droppedSoFar(backlog)}`;
    tell(batches, new SinkFailure(`${where} ${why}; ${kept}`));
  };
  const send = (batches: readonly Batch[], now: number) => {
    if (!sending) {
      sending = new ImportSending((text) => postImport(http, store.url, text));
      // The backlog's batches first: they are older.
      batches = [...backlog.takeAll(now), ...batches];
    }
    void sending.send(batches);
    return sending;
  };
  /**
   * Ends the sending (one begins if none is open) with `rest`; then tells each reading what became of
   * it (settle).
   */
  const end = (rest: readonly Batch[], now: number, stopping: boolean) => {
    const ended = send(rest, now);
    const settled = ended.send([]).then(() => {
      sending = undefined;
      if (ended.retryAfterMs !== undefined) notBefore = Date.now() + ended.retryAfterMs;
      return settle(ended, backlog, where, keep && !stopping, stopping);
    });
    ended.ending = settled;
    return settled;
  };

  return {
    deliver: ({ target, samples, readAt }) => {
      const labels = [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels] as const;
      const { text, lines } = importText(samples, labels, readAt);
      const reading = outcomeToCome();
      filling.add(text, lines, readAt, reading.tell);
      const [now, full] = [Date.now(), filling.takeFull()];
      const why = full.length ? heldBy(now) : undefined;
      if (why !== undefined) hold(full, now, why);
      else if (full.length) send(full, now);
      return Promise.resolve({ outcome: reading.outcome });
    },
    flush: async () => {
      const now = Date.now();
      const why = keep ? heldBy(now) : undefined;
      if (why === undefined) return (await end(filling.end(), now, false)).untold;
      hold(filling.end(), now, why);
    },
    close: async () => {
      await sending?.ending;
      const wait = notBefore - Date.now();
      if (wait > 0 && wait <= http.policy.timeoutMs) await new Promise((resolve) => setTimeout(resolve, wait));
      const failure =
        Date.now() < notBefore
          ? lostAtStop(backlog, filling, where, notBefore)
          : (await end(filling.end(), Date.now(), true)).failure;
      if (failure) throw failure;
    },
  };
}

/** What is left as a loop stops before the time the store asked to be left alone until: lost, and told so. */
function lostAtStop(backlog: Backlog, filling: ImportBatches, where: string, notBefore: number): SinkFailure {
  const queue = [...backlog.takeAll(Date.now()), ...filling.end()];
  const failure = new SinkFailure(
    `${where} ${askedToWait(notBefore)}; ${count(queue)} samples not delivered (stopping)`,
  );
  tell(queue, failure);
  return failure;
}

/**
 * What became of a sending: refused batches counted as dropped, unsent ones kept (`keep`) or lost;
 * each of their readings not told yet is told the failure, which is returned; `untold`, a loss no
 * reading hears of: a kept batch refused, or once a sending fails nothing, the backlog's drops since.
 */
function settle(sent: ImportSending, backlog: Backlog, where: string, keep: boolean, stopping: boolean) {
  const { refused, unsent } = sent;
  const unheard = refused.some(({ told }) => told.length === 0);
  for (const batch of refused) backlog.drop(batch);
  if (keep) backlog.keep(unsent, Date.now());
  const said = sent.failures.join(', then ');
  const failed = [...refused, ...unsent];
  let failure: SinkFailure | undefined;
  if (said && failed.length > 0) {
    const lost = count(refused) + (keep ? 0 : count(unsent));
    const tail = [
      ...(lost ? [`${lost} samples not delivered${stopping ? ' (stopping)' : ''}`] : []),
      ...(keep && unsent.length ? [`${backlog.samples} samples kept for the next runs`] : []),
    ];
    failure = new SinkFailure(`${where} ${said}; ${tail.join('; ')}${keep ? droppedSoFar(backlog) : ''}`);
  }
  tell(failed, failure);
  // A quiet loop says only the first failure of an outage: what the backlog dropped is counted at its end.
  const dropped = failure ? 0 : backlog.takeUnsaid();
  const untold = dropped
    ? new SinkFailure(`${where} takes imports again; ${dropped} samples were dropped meanwhile`)
    : unheard
      ? failure
      : undefined;
  return { failure, untold };
}

/** Tells each reading in `batches` not told yet what became of it. */
function tell(batches: readonly Batch[], failure: SinkFailure | undefined): void {
  for (const { told } of batches) for (const each of told.splice(0)) each(failure);
}

const droppedSoFar = (backlog: Backlog) => (backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '');

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
): { ask: Recall['lastSuccesses']; available: () => boolean } {
  let queryApi = true;
  const ask = async (targets: readonly Target[]) => {
    if (!queryApi) return new Map<string, number>();
    try {
      return await readLastSuccesses(queryHttp, store.query.url, recallQuery(store.job), targets, store.grouping);
    } catch (error) {
      const where = `VictoriaMetrics query API ${store.query.url.href}`;
      const refused = error instanceof HttpStatus && error.status >= 400 && error.status < 500 ? error : undefined;
      // A vmagent answers 400 "unsupported path": it has no query API. Said once, then recall is off.
      if (refused && (refused.status === 404 || refused.reason.includes('unsupported path'))) {
        queryApi = false;
        throw new NoQueryApi(
          `${where} has no /api/v1/query (a vmagent?): recall is off; set --victoriametrics-query-url`,
        );
      }
      const said = refused
        ? `answered HTTP ${refused.status}: ${queryError(refused.body) ?? refused.reason}`
        : messageOf(error);
      throw new SinkFailure(`${where} ${said} when asked for the last successes`);
    }
  };
  return { ask, available: () => queryApi };
}
