// Stand-in until main's restructure lands (issue 10): the announced interface, to be replaced by main's file.
import type { Target } from '../config/types.js';
import type { Sample } from '../parse.js';
export interface Delivery {
  readonly target: Target;
  readonly samples: readonly Sample[];
  readonly readAt: number;
}
export interface Sink {
  readonly lastSuccesses?: (targets: readonly Target[]) => Promise<ReadonlyMap<string, number>>;
  readonly deliver: (delivery: Delivery) => Promise<void>;
  readonly flush: () => Promise<void>;
  readonly remove?: (target: Target) => Promise<void>;
}
export class SinkFailure extends Error {}
