/**
 * VictoriaMetrics, a vmagent, a vminsert (with its tenant prefix) or anything else that takes
 * Prometheus text on `<url>/api/v1/import/prometheus`. There is no group to replace: every sample
 * carries job, instance and the target's labels as ordinary labels, and the time its stick was
 * read, so a late delivery keeps true times and a series simply ends when a stick is no longer
 * sent. The sticks of a run share as few requests as the size cap allows.
 */
import { stickIdentity, type Target, type VictoriaMetrics } from '../config/types.js';
import { HttpStatus, messageOf, NoQueryApi, SinkFailure } from '../errors.js';
import type { Http } from '../http.js';
import { Backlog, type Batch } from './backlog.js';
import { ImportSending } from './import-sending.js';
import { RunsBatches, type RunEnd } from './import-batches.js';
import { importText } from './import-text.js';
import type { Delivery, Sink, SinkKind } from './sink.js';
import { postImport, queryError, readLastSuccesses, recallQuery } from './victoriametrics-api.js';

export const victoriaMetrics: SinkKind = {
  name: 'VictoriaMetrics',
  words: {
    delivered: 'sent to VictoriaMetrics',
    atFlush: true,
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

/** The run of a delivery that names none (a caller with one run at a time). */
const anyRun = {};

/**
 * `keep`: a loop keeps what could not be delivered, within the store's backlog bounds, and sends
 * it first on the next runs; a one-shot run has no next run. A batch is sent as soon as it is full,
 * so that a fleet's memory is bounded by the batches in flight, not by the fleet; the run's sticks
 * are reported at flush, when the last batch went. One delivery at a time: a run that ends while
 * the previous one's is still under way (a store that hangs), or before the time the store asked
 * to be left alone until (Retry-After), keeps its batches for the next run; one that ends while
 * another run's own delivery is open (that run still reads a slow stick) sends them in it.
 */
export function victoriaMetricsSink(store: VictoriaMetrics, http: Http, queryHttp: Http, keep: boolean): Sink {
  const backlog = new Backlog(store.backlog);
  const batches = new RunsBatches(maxRequestBytes);
  const told = new WeakSet<Batch>();
  const where = `VictoriaMetrics ${store.url.href}`;
  /** The delivery under way, from its first request until its run has been told how it went. */
  let current: ImportSending | undefined;
  /** The run whose own `current` is, begun as its first batch filled: more of its batches may join it. */
  let owner: object | undefined;
  /** A flush's end, which a drain waits for. */
  let settling: Promise<void> | undefined;
  /** Unix ms before which the store asked not to be sent to. */
  let notBefore = 0;

  /** A new delivery, the backlog's batches first: they are older. */
  const begin = (now: number) => {
    current = new ImportSending((text) => postImport(http, store.url, text));
    void current.send(backlog.takeAll(now));
    return current;
  };
  /** The rest of `run`'s batches, into its own delivery or a new one; then how it went. */
  const deliverRest = async (run: object, { rest, ofRun }: RunEnd, now: number, stopping: boolean) => {
    const delivery = owner === run && current ? current : begin(now);
    if (owner === run) owner = undefined;
    const done = delivery.send(rest).then(() => {
      current = undefined;
      if (delivery.retryAfterMs !== undefined) notBefore = Date.now() + delivery.retryAfterMs;
      settle(delivery, ofRun, { where, backlog, told, keep: keep && !stopping, stopping, now });
    });
    // Only that it ended matters to a drain: its failure is the flush's.
    settling = done.catch(() => undefined);
    await done;
  };

  const recall = lastSuccessRecall(store, queryHttp);
  return {
    // Absent once recall is off: a stick's last success is then not "not found", only not asked for.
    get lastSuccesses() {
      return recall.available() ? recall.ask : undefined;
    },
    deliver: ({ target, samples, readAt, run = anyRun }: Delivery) => {
      const labels = [['job', store.job], ['instance', target.instance], ...store.grouping, ...target.labels] as const;
      const { text, lines } = importText(samples, labels, readAt);
      const collecting = batches.of(run);
      collecting.add(stickIdentity(target), text, lines, readAt);
      if (!collecting.hasFull) return Promise.resolve();
      if (!owner && !current && Date.now() >= notBefore) {
        begin(Date.now());
        owner = run;
      }
      // Else not now (a delivery before is still under way, or Retry-After): it goes at flush or later.
      if (owner === run && current) void current.send(collecting.takeFull());
      return Promise.resolve();
    },
    drain: async () => {
      await settling;
      const wait = notBefore - Date.now();
      if (wait > 0 && wait <= http.policy.timeoutMs) await new Promise((resolve) => setTimeout(resolve, wait));
      const left = batches.endAll();
      if (Date.now() < notBefore) {
        const queue = [...backlog.takeAll(Date.now()), ...left];
        throw new SinkFailure(`${where} ${askedToWait(notBefore)}; ${count(queue)} samples not delivered (stopping)`);
      }
      await deliverRest({}, { rest: left, ofRun: new WeakSet() }, Date.now(), true);
    },
    flush: async (run = anyRun) => {
      const now = Date.now();
      const ended = batches.endRun(run);
      if (owner !== undefined && owner !== run && current) return joined(current, ended, where, told);
      if (owner !== run && keep && (current || now < notBefore)) {
        backlog.keep(ended.rest, now);
        const why = current ? 'is still busy with the delivery before' : askedToWait(notBefore);
        throw new SinkFailure(
          `${where} ${why}; ${backlog.samples} samples kept for the next runs${droppedSoFar(backlog)}`,
        );
      }
      await deliverRest(run, ended, now, false);
    },
  };
}

/**
 * A run's batches sent in another run's delivery, which settles them (drops the refused, keeps the
 * unsent) when that run ends; throws a SinkFailure naming this run's sticks not delivered, if any.
 */
async function joined(delivery: ImportSending, { rest, ofRun }: RunEnd, where: string, told: WeakSet<Batch>) {
  for (const batch of rest) told.add(batch);
  await delivery.send(rest);
  const refused = delivery.refused.filter((batch) => ofRun.has(batch));
  const unsent = delivery.unsent.filter((batch) => ofRun.has(batch));
  if (refused.length + unsent.length === 0) return;
  const tail = [
    ...(refused.length ? [`${count(refused)} samples not delivered`] : []),
    ...(unsent.length ? [`${count(unsent)} samples kept for the next runs`] : []),
  ];
  throw new SinkFailure(
    `${where} ${delivery.failures.join(', then ')}; ${tail.join('; ')}`,
    sticksIn([...refused, ...unsent]),
  );
}

interface Settling {
  readonly where: string;
  readonly backlog: Backlog;
  /** Batches of runs that joined another run's delivery, told already what became of them: not said again. */
  readonly told: WeakSet<Batch>;
  /** Whether what is unsent is kept for the next runs: a loop's, not as it stops. */
  readonly keep: boolean;
  readonly stopping: boolean;
  readonly now: number;
}

/**
 * What became of a delivery: refused batches counted as dropped, unsent ones kept for the next runs
 * (`keep`) or lost; throws a SinkFailure saying so when anything failed, and which of the run's sticks
 * (in the batches `ofRun` holds) were not delivered.
 */
function settle(sent: ImportSending, ofRun: WeakSet<Batch>, settling: Settling): void {
  const { where, backlog, told, keep, stopping, now } = settling;
  for (const refused of sent.refused) backlog.drop(refused);
  if (keep) backlog.keep(sent.unsent, now);
  const untold = (list: readonly Batch[]) => list.filter((batch) => !told.has(batch));
  const [refused, unsent] = [untold(sent.refused), untold(sent.unsent)];
  const said = sent.failures.join(', then ');
  if (!said || refused.length + unsent.length === 0) return;
  const lost = count(refused) + (keep ? 0 : count(unsent));
  const tail = [
    ...(lost ? [`${lost} samples not delivered${stopping ? ' (stopping)' : ''}`] : []),
    ...(keep && unsent.length ? [`${backlog.samples} samples kept for the next runs`] : []),
  ];
  throw new SinkFailure(
    `${where} ${said}; ${tail.join('; ')}${keep ? droppedSoFar(backlog) : ''}`,
    sticksIn([...sent.refused, ...sent.unsent].filter((batch) => ofRun.has(batch))),
  );
}

const droppedSoFar = (backlog: Backlog) => (backlog.droppedSamples ? `, ${backlog.droppedSamples} dropped so far` : '');

function askedToWait(notBefore: number): string {
  return `asked to be sent nothing before ${new Date(notBefore).toISOString()} (Retry-After)`;
}

const count = (list: readonly Batch[]) => list.reduce((sum, each) => sum + each.samples, 0);

/** The sticks whose text the batches hold, for a SinkFailure's `undelivered`. */
const sticksIn = (list: readonly Batch[]) => new Set(list.flatMap(({ sticks }) => sticks));

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
