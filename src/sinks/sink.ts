/** Where a run's metrics go, behind one interface: the Pushgateway, standard output or a textfile. */
import type { Target } from '../config/types.js';
import type { Sample } from '../parse.js';

/** One stick's samples of one run. */
export interface Delivery {
  readonly target: Target;
  readonly samples: readonly Sample[];
  /** Unix time in ms when the stick was read. */
  readonly readAt: number;
}

export interface Sink {
  /**
   * The last success (Unix seconds) the sink holds for each of these sticks, by instance, in one
   * request at most. Absent where the sink cannot tell. Throws a SinkFailure.
   */
  readonly lastSuccesses?: (targets: readonly Target[]) => Promise<ReadonlyMap<string, number>>;
  /** Delivers one stick's samples, or collects them for flush. Throws a SinkFailure. */
  readonly deliver: (delivery: Delivery) => Promise<void>;
  /** After the sticks of a run were delivered. Throws a SinkFailure. */
  readonly flush: () => Promise<void>;
  /**
   * As a loop stops: one last try to deliver what it kept for later runs, which will not come.
   * Throws a SinkFailure saying how much was not delivered.
   */
  readonly drain?: () => Promise<void>;
  /** Removes the stick's metrics for good (--delete-on-exit). Throws a SinkFailure. */
  readonly remove?: (target: Target) => Promise<void>;
}

/** A failure of the sink, in words that name it and hold no credential. */
export class SinkFailure extends Error {
  override readonly name = 'SinkFailure';
}
