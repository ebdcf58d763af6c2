/**
 * Where a run's metrics go, as the Pushgateway's storage interface states its own: the contract every
 * sink keeps is `Sink`, deliver (and for a sink with an outbox, close); what only some sinks
 * can do is a capability a sink has or has not: `Recall` (a stick's last success), `Discard` (what it
 * keeps of a stick no longer read), `Removal` (a stick's metrics, --delete-on-exit) and `Forgets`
 * (what no stick named any more delivers, --forget-after).
 *
 * A kind of sink (the Pushgateway, VictoriaMetrics, a node_exporter textfile, standard output) is one
 * module exporting a SinkKind, listed once in registry.ts: it says when the configuration chose it
 * and where it sends (for TLS); its words for the log are beside the log line (log-line.ts).
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
 * A reading handed over. `outcome` resolves once it is delivered, or rejects with a SinkFailure
 * saying whether it is kept for later or lost, and why; each reading has its own. A delivered
 * outcome may carry news of readings handed over before that no outcome told (kept ones lost since).
 */
export interface HandedOver {
  readonly outcome: Promise<SinkFailure | undefined>;
}

/** The outcome of a reading delivered as it was taken. */
export const delivered: HandedOver = { outcome: Promise.resolve(undefined) };

/**
 * A sink takes each reading into its outbox and sends on its own, one sender ordering its requests:
 * no caller says when. Methods may be called at any time, a reading handed over while an earlier
 * one is still on its way; what is handed over is the sink's until its outcome.
 */
export interface Sink {
  /**
   * Takes one stick's reading over. Resolves once taken (the stick may be read again) with its
   * outcome: `delivered` for a sink that delivers as it takes, else to come (an outbox). Rejects with
   * a SinkFailure when it was not taken (a push refused), said on the stick's line; an outcome's
   * failure is shared by the readings of one request or write, and said once after their lines.
   */
  readonly deliver: (delivery: Delivery) => Promise<HandedOver>;
  /**
   * No more deliveries (a one-shot run's end, a loop's stop): the outbox drains, a loop's backlog
   * tried once more, and each reading is told. Throws a SinkFailure saying what was not delivered.
   */
  readonly close?: () => Promise<void>;
}

/** Recalls the last success a sink holds of each stick. */
export interface Recall {
  /**
   * The last success (Unix seconds) the sink holds for each of these sticks, by instance, in one
   * request at most. Throws a SinkFailure.
   */
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

/**
 * What a sink holds of a stick no longer named: a Pushgateway group, when it was last pushed (Unix s)
 * and how long ago that is (s), both by the store's clock.
 */
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

/** What the wiring hands a sink to reach its store with. */
export interface SinkWiring {
  /** A got instance for one of the sink's endpoints, with that endpoint's credentials and CA. */
  readonly http: (store: Store) => Http;
  /** Standard output. */
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

/**
 * A reading's outcome to come, and how to tell it. The outcome is marked as handled: a caller that
 * hands a reading over and never asks (a test, a stopping loop) does not end the process with it.
 */
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
 * reading wakes it in the next turn of the event loop, so that the readings handed over together
 * share a write, and it writes, one write at a time, until none is waiting; a one-shot sink writes
 * once, at close. Each reading is told of its write; close throws the failure of its own.
 */
export function oneWriter(write: () => Promise<void>, loop: boolean): { take: () => HandedOver; close: () => Promise<void> } {
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
