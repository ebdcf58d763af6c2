/**
 * Where a run's metrics go, behind one interface. A kind of sink (the Pushgateway, VictoriaMetrics,
 * a node_exporter textfile, standard output) is one module exporting a SinkKind, listed once in
 * registry.ts: it says when the configuration chose it, where it sends (for TLS) and its words for
 * the log; the run and the wiring name no store.
 */
import type { Config, Endpoint, Grouping, Store, Target } from '../config/types.js';
import type { Http } from '../http.js';
import type { Sample } from '../parse.js';

/** One stick's samples of one run. */
export interface Delivery {
  readonly target: Target;
  readonly samples: readonly Sample[];
  /** Unix time in ms when the stick was read. */
  readonly readAt: number;
  /**
   * The run it is of, the same object for its flush: a loop's runs overlap (the others run again
   * while a slow stick is still read), and a sink delivering at flush sends only that run's.
   */
  readonly run?: object;
}

export interface Sink {
  /**
   * The last success (Unix seconds) the sink holds for each of these sticks, by instance, in one
   * request at most. Absent where the sink cannot tell. Throws a SinkFailure.
   */
  readonly lastSuccesses?: (targets: readonly Target[]) => Promise<ReadonlyMap<string, number>>;
  /** Delivers one stick's samples, or collects them for flush. Throws a SinkFailure. */
  readonly deliver: (delivery: Delivery) => Promise<void>;
  /** After the sticks of a run were delivered. Throws a SinkFailure, naming the sticks not delivered if it can tell. */
  readonly flush: (run?: object) => Promise<void>;
  /**
   * As a loop stops: one last try to deliver what it kept for later runs, which will not come.
   * Throws a SinkFailure saying how much was not delivered.
   */
  readonly drain?: () => Promise<void>;
  /**
   * The stick is no longer read (gone from a loop's targets file): drop what is kept of it, so that
   * nothing of it is delivered again. Absent where nothing is kept from one run to the next.
   */
  readonly forget?: (target: Target) => void;
  /** Removes the stick's metrics for good (--delete-on-exit). Throws a SinkFailure. */
  readonly remove?: (target: Target) => Promise<void>;
  /** Set when the sink forgets what no stick named any more delivers (the Pushgateway's --forget-after). */
  readonly forgetting?: Forgetting;
}

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

/** What the run's log says of a sink's work. */
export interface SinkWords {
  /**
   * Said of each stick delivered ("pushed", "pushed trucki_up 0") and of one that was not ("not
   * pushed: …"). Absent: a delivery is not mentioned, a failed one is "not delivered: …".
   */
  readonly delivered?: string;
  /** The sink delivers every stick of a run at flush: a stick's line waits for it, and says how it went. */
  readonly atFlush?: boolean;
  /** After remove: "deleted its group from the Pushgateway"; and "could not delete its group". */
  readonly removed?: { readonly done: string; readonly failed: string };
  /**
   * Said of a failed stick whose last success the sink was asked for and did not hold, where that
   * may be worth a look (labels that do not match): "none in VictoriaMetrics …". Absent: not said.
   */
  readonly notRecalled?: string;
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
  /** Words naming where this configuration sends, instead of the kind's: "written to /var/lib/…". */
  readonly words?: SinkWords;
  readonly create: (wiring: SinkWiring) => Sink;
}

/** A kind of sink, as the registry lists it. */
export interface SinkKind {
  /** As --help and the README name it: "VictoriaMetrics". */
  readonly name: string;
  readonly words: SinkWords;
  /** The sink, if the configuration chose this kind. */
  readonly choose: (config: Config) => ChosenSink | undefined;
}
