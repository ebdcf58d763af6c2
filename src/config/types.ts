// Stand-in until main's restructure lands (issue 10): the announced shapes, to be replaced by main's file.
import type { Endpoint } from '../config.js';
import type { Grouping } from '../push.js';
export type { Endpoint, Grouping };
export interface Target extends Endpoint {
  readonly instance: string;
  readonly labels: Grouping;
}
