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
  const outbox = new ImportOutbox(store, http, keep);
  return {
    deliver: outbox.deliver,
    close: outbox.close,
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
 * a request is out, a loop's (`keep`) full batch waits in the bounded backlog, told as it goes:
 * memory holds one request's worth not on its way beside the backlog. A failure that may pass keeps
 * the rest in a loop's backlog and stops the sender until the next reading or the Retry-After time.
 * A one-shot sink's requests, full ones until close sends the rest, are one sending, and close tells
 * what was not delivered.
 */
class ImportOutbox implements Sink {
  private readonly backlog: Backlog;
  private readonly filling = new ImportBatches(maxRequestBytes);
  private readonly where: string;
  /** A loop's until the sender is idle, a one-shot sink's until close. */
  private sending: ImportSending | undefined;
  /** The sender at work, from its wake until nothing is left. */
  private sender: Promise<void> | undefined;
  /** The sender is taking or sending batches: a full one handed over meanwhile waits in the backlog. */
  private posting = false;
  /** Unix ms before which the store asked not to be sent to. */
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A loss no reading was told of: said with the next reading delivered. */
  private unsaid: SinkFailure | undefined;

  constructor(
    private readonly store: VictoriaMetrics,
    private readonly http: Http,
    private keep: boolean,
  ) {
    this.where = `VictoriaMetrics ${store.url.href}`;
    const lost = (batch: Batch) => `${batch.samples} samples not delivered (over the backlog's bounds)`;
    // While a request is out, only full batches that came meanwhile are held untold: dropped, they are lost.
    this.backlog = new Backlog(store.backlog, (batch) => {
      if (this.posting)
        tell([batch], new SinkFailure(`${this.where} is still busy with the delivery before; ${lost(batch)}`));
    });
  }

  readonly deliver: Sink['deliver'] = ({ target, samples, readAt }) => {
    const { job, grouping } = this.store;
    const labels = [['job', job], ['instance', target.instance], ...grouping, ...target.labels] as const;
    const { text, lines } = importText(samples, labels, readAt);
    const reading = outcomeToCome();
    this.filling.add(text, lines, readAt, reading.tell);
    // Told when they go, or when the request out fails: a store answering in its time is no outage.
    if (this.keep && this.posting) this.backlog.keep(this.filling.takeFull(), Date.now());
    this.wake();
    return Promise.resolve({ outcome: reading.outcome });
  };

  readonly close = async (): Promise<void> => {
    await this.sender;
    clearTimeout(this.timer);
    const stopping = this.keep;
    this.keep = false;
    const wait = this.notBefore - Date.now();
    if (wait > 0 && wait <= this.http.policy.timeoutMs) await new Promise((resolve) => setTimeout(resolve, wait));
    const batches = [...this.backlog.takeAll(Date.now()), ...this.filling.end()];
    if (Date.now() < this.notBefore) {
      const failure = new SinkFailure(
        `${this.where} ${askedToWait(this.notBefore)}; ${count(batches)} samples not delivered (stopping)`,
      );
      tell(batches, failure);
      throw failure;
    }
    if (batches.length) await (this.sending ??= this.begin()).send(batches);
    const ended = this.sending;
    this.sending = undefined;
    const failure = ended && settle(ended, this.backlog, this.where, false, stopping);
    if (failure) throw failure;
  };

  private async pump(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.keep && now < this.notBefore) {
        this.hold(this.filling.end(), askedToWait(this.notBefore));
        break;
      }
      // From here, held readings the backlog drops (too old by now) are told so: see its `lost`.
      this.posting = true;
      // A one-shot sink sends only full requests before close: the rest share the last one.
      const batches = [...this.backlog.takeAll(now), ...(this.keep ? this.filling.end() : this.filling.takeFull())];
      if (batches.length === 0) break;
      const sending = (this.sending ??= this.begin());
      await sending.send(batches);
      if (this.keep && sending.stoppedBy !== undefined) {
        // The readings that came while it failed are kept with it.
        sending.unsent.push(...this.backlog.takeAll(Date.now()), ...this.filling.end());
        break;
      }
    }
    this.posting = false;
    this.sender = undefined;
    const ended = this.keep ? this.sending : undefined;
    if (!ended) return;
    this.sending = undefined;
    // Retry-After 0 (or a date past) asks nothing: the next reading tries again, as after any failure.
    if (ended.retryAfterMs) {
      this.notBefore = Date.now() + ended.retryAfterMs;
      this.timer = setTimeout(() => {
        this.wake();
      }, ended.retryAfterMs).unref();
    }
    if (!settle(ended, this.backlog, this.where, true, false)) this.noteUnheard(ended);
  }

  /** In the next turn: the readings handed over in this one share a request. */
  private wake(): void {
    this.sender ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.pump());
  }

  private begin(): ImportSending {
    const begun: ImportSending = new ImportSending(
      (text) => postImport(this.http, this.store.url, text),
      // Told at once, and nothing of it kept: memory holds only what is not sent yet.
      (batch) => {
        tell([batch], undefined, batch.told.length ? this.news(begun) : undefined);
      },
    );
    return begun;
  }

  private hold(batches: readonly Batch[], why: string): void {
    if (batches.length === 0) return;
    this.backlog.keep(batches, Date.now());
    const kept = `${this.backlog.samples} samples kept for the next runs${droppedSoFar(this.backlog)}`;
    tell(batches, new SinkFailure(`${this.where} ${why}; ${kept}`));
  }

  /** Refused batches whose readings were told before (kept): a loss said with the next reading delivered. */
  private noteUnheard(of: ImportSending): void {
    const lost = count(of.unheard.splice(0));
    if (lost)
      this.unsaid = new SinkFailure(`${this.where} ${of.failures.join(', then ')}; ${lost} samples not delivered`);
  }

  private news(of: ImportSending): SinkFailure | undefined {
    this.noteUnheard(of);
    // A quiet loop says only the first failure of an outage: what the backlog dropped is counted at its end.
    const dropped = of.failures.length ? 0 : this.backlog.takeUnsaid();
    if (dropped && !this.unsaid)
      this.unsaid = new SinkFailure(`${this.where} takes imports again; ${dropped} samples were dropped meanwhile`);
    const said = this.unsaid;
    this.unsaid = undefined;
    return said;
  }
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
