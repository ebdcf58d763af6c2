/**
 * Where the metrics go, stated as the Pushgateway's storage interface states its own: every sink
 * keeps `Sink` (deliver, and close); what only some can do is a capability a sink has or not:
 * `Recall` (a stick's last success), `Discard` (a stick no longer read), `Removal` (--delete-on-exit)
 * and `Forgets` (what no stick named delivers any more, --forget-after).
 *
 * A kind of sink (the Pushgateway, VictoriaMetrics, a node_exporter textfile, standard output) is one
 * module exporting a SinkKind, listed once in registry.ts; its words for the log are in log-line.ts.
 */
import type { Config, Endpoint, Grouping, Store, Target } from '../config/types.js';
import type { SinkFailure } from '../errors.js';
import type { Http } from '../http.js';
import type { Sample } from '../parse.js';

/** One stick's reading, as the run hands it over. */
export interface Delivery {
  readonly target: Target;
  readonly samples: readonly Sample[];
  /** Unix time in ms when the stick was read. */
  readonly readAt: number;
}

/**
 * A reading handed over. `outcome`, its own: resolves once it is delivered, with news of earlier
 * readings lost that no outcome told (kept ones refused since), or rejects with a SinkFailure saying
 * whether it is kept for later or lost, and why.
 */
export interface HandedOver {
  readonly outcome: Promise<SinkFailure | undefined>;
}

/** The outcome of a reading delivered as it was taken. */
export const delivered: HandedOver = { outcome: Promise.resolve(undefined) };

/**
 * A sink delivers on its own, as it takes a reading (the Pushgateway) or by the one sender of its
 * outbox, which orders its requests; no caller says when. A reading may be handed over while earlier
 * ones are still on their way; what is handed over is the sink's until its outcome.
 */
export interface Sink {
  /**
   * Takes one stick's reading: resolves once taken (the stick may be read again) with its outcome,
   * `delivered` or to come. Rejects with a SinkFailure when not taken (a push refused). An outcome's
   * failure may be shared by the readings of one request or write.
   */
  readonly deliver: (delivery: Delivery) => Promise<HandedOver>;
  /**
   * No more deliveries (a one-shot run's end, a loop's stop): the outbox drains, a loop's backlog is
   * tried once more, each reading is told. Throws a SinkFailure saying what was not delivered.
   */
  readonly close?: () => Promise<void>;
}

/** Recalls the last success a sink holds of each stick. */
export interface Recall {
  /** The last success (Unix s) the sink holds of each stick, by instance, in one request. Throws a SinkFailure. */
  readonly lastSuccesses: (targets: readonly Target[]) => Promise<ReadonlyMap<string, number>>;
}

/** A last success is believed only as a Unix time in seconds, since 2001 and not ahead of now. */
export function plausible(seconds: number | undefined): number | undefined {
  return seconds !== undefined && seconds >= 1e9 && seconds <= Date.now() / 1000 + 60 ? seconds : undefined;
}

/** Discards what a sink keeps of a stick from one delivery to the next. */
export interface Discard {
  /** The stick is no longer read (gone from a loop's targets file): nothing of it is delivered again. */
  readonly discard: (target: Target) => void;
}

/** Removes what a sink holds of a stick. */
export interface Removal {
  /** Removes the stick's metrics for good (--delete-on-exit). Throws a SinkFailure. */
  readonly remove: (target: Target) => Promise<void>;
}

/** Forgets what no stick named any more delivers (--forget-after). */
export interface Forgets {
  readonly forgetting: Forgetting;
}

/** A sink with whichever capabilities it has: the one type the run and the wiring pass around. */
export type AnySink = Sink & Partial<Recall & Discard & Removal & Forgets>;

/** A Pushgateway group no stick names: when it was last pushed (Unix s), how long ago (s), by its clock. */
export interface Forgettable {
  readonly grouping: Grouping;
  readonly pushedAt: number;
  readonly age: number;
}

export interface Forgetting {
  /** How long something must have gone undelivered, by anyone, to be forgotten. */
  readonly afterMs: number;
  /** Names the store and the job (no credentials): whose the record of the last look is. */
  readonly key: string;
  /**
   * In one request: the last successes of `recall` (as lastSuccesses), and what is provably the job's,
   * belongs to none of `named` and was last delivered afterMs ago or longer by the store's clock; or
   * why it cannot tell (`unsure`), forgetting nothing. Throws a SinkFailure.
   */
  readonly find: (
    recall: readonly Target[],
    named: readonly Target[],
  ) => Promise<{ lastSuccesses: ReadonlyMap<string, number>; stale: readonly Forgettable[]; unsure?: string }>;
  /** Throws a SinkFailure. */
  readonly forget: (stale: Forgettable) => Promise<void>;
}

/** Writes text out; rejects when the output is closed or full. */
export type Print = (text: string) => Promise<void>;

/** What the wiring hands a sink: HTTP to one of its endpoints (its credentials and CA), standard output. */
export interface SinkWiring {
  readonly http: (store: Store) => Http;
  readonly print: Print;
}

/** The sink a configuration chose: where it sends, and how to make it. */
export interface ChosenSink {
  /** The stores it talks to over HTTP: the wiring loads TLS if one of them is https. */
  readonly endpoints: readonly Endpoint[];
  readonly create: (wiring: SinkWiring) => AnySink;
}

/** A kind of sink, as the registry lists it. */
export interface SinkKind {
  /** As --help and the README name it: "VictoriaMetrics". */
  readonly name: string;
  /** The sink, if the configuration chose this kind. */
  readonly choose: (config: Config) => ChosenSink | undefined;
}

/** Tells a reading it was not delivered (`failure`), or was, with news of an earlier loss. */
export type Tell = (failure?: SinkFailure, news?: SinkFailure) => void;

/** A reading's outcome to come, marked as handled: one never asked for (a stopping loop) ends no process. */
export function outcomeToCome(): HandedOver & { tell: Tell } {
  let tell!: Tell;
  const outcome = new Promise<SinkFailure | undefined>((resolve, reject) => {
    tell = (failure, news) => {
      if (failure) reject(failure);
      else resolve(news);
    };
  });
  outcome.catch(() => {});
  return { outcome, tell };
}

/**
 * The sender of a sink that writes all it holds at once (a file, standard output): in a loop a
 * reading wakes it in the next turn, so that readings handed over together share a write, and it
 * writes, one at a time, until none waits; a one-shot sink writes once, at close.
 */
export function oneWriter(
  write: () => Promise<void>,
  loop: boolean,
): { take: () => HandedOver; close: () => Promise<void> } {
  let next: ReturnType<typeof outcomeToCome> | undefined;
  let writing: Promise<SinkFailure | undefined> | undefined;
  const drain = async () => {
    let failure: SinkFailure | undefined;
    for (let taken = next; taken; taken = next) {
      next = undefined;
      failure = await write().then(
        () => undefined,
        (error: unknown) => error as SinkFailure,
      );
      taken.tell(failure);
    }
    writing = undefined;
    return failure;
  };
  return {
    take: () => {
      next ??= outcomeToCome();
      if (loop) writing ??= new Promise((resolve) => setImmediate(resolve)).then(drain);
      return { outcome: next.outcome };
    },
    close: async () => {
      await writing;
      const failure = next && (await drain());
      if (failure) throw failure;
    },
  };
}
