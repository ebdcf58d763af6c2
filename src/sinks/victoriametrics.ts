/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. No group to replace: every sample carries
 * job, instance and the target's labels, and the time its stick was read, so a late delivery keeps
 * true times and a series simply ends when a stick is no longer sent.
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
 * The outbox and its one sender. A reading joins the batch being filled (one request at most) and
 * wakes the sender in the next turn, so that readings handed over together share a request; it sends
 * what is queued, the backlog (the oldest) first, one import at a time, until nothing is left. While
 * a request is out, a loop's (`keep`) full batch goes into the bounded backlog, told it is kept:
 * memory holds one request's worth not on its way beside the backlog. A failure that may pass keeps
 * the rest in a loop's backlog and stops the sender until the next reading or the Retry-After time.
 * A one-shot sink's requests are one sending up to close, which tells what was not delivered.
 */
function importOutbox(store: VictoriaMetrics, http: Http, loop: boolean): Sink {
  let keep = loop;
  const backlog = new Backlog(store.backlog);
  const filling = new ImportBatches(maxRequestBytes);
  const where = `VictoriaMetrics ${store.url.href}`;
  /** A loop's until the sender is idle, a one-shot sink's until close. */
  let sending: ImportSending | undefined;
  /** The sender at work, from its wake until nothing is left. */
  let sender: Promise<void> | undefined;
  let posting = false;
  /** Unix ms before which the store asked not to be sent to. */
  let notBefore = 0;
  let timer: NodeJS.Timeout | undefined;
  /** A loss no reading was told of: said with the next reading delivered. */
  let unsaid: SinkFailure | undefined;

  const hold = (batches: readonly Batch[], why: string) => {
    if (batches.length === 0) return;
    backlog.keep(batches, Date.now());
    const kept = `${backlog.samples} samples kept for the next runs${droppedSoFar(backlog)}`;
    tell(batches, new SinkFailure(`${where} ${why}; ${kept}`));
  };
  const begin = (): ImportSending => {
    const begun = new ImportSending(
      (text) => postImport(http, store.url, text),
      // Told at once, and nothing of it kept: memory holds only what is not sent yet.
      (batch) => tell([batch], undefined, batch.told.length ? news(begun) : undefined),
    );
    return begun;
  };
  /** Refused batches whose readings were told before (kept): a loss said with the next reading delivered. */
  const noteUnheard = (of: ImportSending) => {
    const lost = count(of.unheard.splice(0));
    if (lost) unsaid = new SinkFailure(`${where} ${of.failures.join(', then ')}; ${lost} samples not delivered`);
  };
  const news = (of: ImportSending) => {
    noteUnheard(of);
    // A quiet loop says only the first failure of an outage: what the backlog dropped is counted at its end.
    const dropped = of.failures.length ? 0 : backlog.takeUnsaid();
    const said =
      unsaid ??
      (dropped
        ? new SinkFailure(`${where} takes imports again; ${dropped} samples were dropped meanwhile`)
        : undefined);
    unsaid = undefined;
    return said;
  };
  const pump = async () => {
    for (;;) {
      const now = Date.now();
      if (keep && now < notBefore) {
        hold(filling.end(), askedToWait(notBefore));
        break;
      }
      const batches = [...backlog.takeAll(now), ...filling.end()];
      if (batches.length === 0) break;
      sending ??= begin();
      posting = true;
      await sending.send(batches);
      posting = false;
      if (keep && sending.stoppedBy !== undefined) {
        // The readings that came while it failed are kept with it.
        sending.unsent.push(...filling.end());
        break;
      }
    }
    sender = undefined;
    const ended = keep ? sending : undefined;
    if (!ended) return;
    sending = undefined;
    if (ended.retryAfterMs !== undefined) {
      notBefore = Date.now() + ended.retryAfterMs;
      timer = setTimeout(wake, ended.retryAfterMs).unref();
    }
    if (!settle(ended, backlog, where, true, false)) noteUnheard(ended);
  };
  const wake = () => {
    sender ??= new Promise((resolve) => setImmediate(resolve)).then(pump);
  };

  return {
    deliver: ({ target, samples, readAt }) => {
      const labels = [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels] as const;
      const { text, lines } = importText(samples, labels, readAt);
      const reading = outcomeToCome();
      filling.add(text, lines, readAt, reading.tell);
      if (keep && posting) hold(filling.takeFull(), 'is still busy with the delivery before');
      wake();
      return Promise.resolve({ outcome: reading.outcome });
    },
    close: async () => {
      await sender;
      clearTimeout(timer);
      const stopping = keep;
      keep = false;
      const wait = notBefore - Date.now();
      if (wait > 0 && wait <= http.policy.timeoutMs) await new Promise((resolve) => setTimeout(resolve, wait));
      const batches = [...backlog.takeAll(Date.now()), ...filling.end()];
      if (Date.now() < notBefore) {
        const failure = new SinkFailure(
          `${where} ${askedToWait(notBefore)}; ${count(batches)} samples not delivered (stopping)`,
        );
        tell(batches, failure);
        throw failure;
      }
      if (batches.length) await (sending ??= begin()).send(batches);
      const ended = sending;
      sending = undefined;
      const failure = ended && settle(ended, backlog, where, false, stopping);
      if (failure) throw failure;
    },
  };
}

/**
 * What became of a sending: refused batches counted as dropped, unsent ones kept (`keep`) or lost;
 * each of their readings not told yet is told the failure, which is returned.
 */
function settle(sent: ImportSending, backlog: Backlog, where: string, keep: boolean, stopping: boolean) {
  const { refused, unsent } = sent;
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
  return failure;
}

/** Tells each reading in `batches` not told yet what became of it. */
function tell(batches: readonly Batch[], failure: SinkFailure | undefined, news?: SinkFailure): void {
  for (const { told } of batches) for (const each of told.splice(0)) each(failure, news);
}

const droppedSoFar = (backlog: Backlog) => (backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '');

function askedToWait(notBefore: number): string {
  return `asked to be sent nothing before ${new Date(notBefore).toISOString()} (Retry-After)`;
}

const count = (list: readonly Batch[]) => list.reduce((sum, each) => sum + each.samples, 0);

/** The sink's lastSuccesses: one query per run, until the store turns out to have no query API. */
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
