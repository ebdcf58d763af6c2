/** The operator's one line per stick per run, on stderr, and each kind of sink's words in it. */
import type { Config, Target } from './config/types.js';
import type { StickReading } from './stick.js';

/** What a stick's line says of its reading: not the samples, which its line need not hold until its outcome. */
interface ReadSummary {
  /** Why /jsonlive could not be read. */
  readonly failure?: string;
  /** Why /jsononce could not be read. */
  readonly onceFailure?: string;
  readonly samples: number;
  readonly unreadable: readonly string[];
  readonly seconds: number;
}

export function summaryOf({ live, once, seconds }: StickReading): ReadSummary {
  return {
    ...(live.failure !== undefined && { failure: live.failure }),
    ...(once.failure !== undefined && { onceFailure: once.failure }),
    samples: live.samples.length + once.samples.length,
    unreadable: [...live.problems, ...once.problems],
    seconds,
  };
}

export interface Outcome {
  readonly target: Target;
  readonly reading: ReadSummary;
  /** The sink's word for a delivery: "pushed", "written to /var/lib/…/trucki.prom". */
  readonly deliveredAs?: string;
  /** Why the delivery failed; "" when a whole request or write failed, said once on a line of its own. */
  readonly deliveryFailure?: string;
  /** Why the last success could not be recalled, if it could not. */
  readonly lastSuccessLost?: string;
}

/** A stick as the operator's lines name it: its instance, and its host where that differs. */
export function stickName({ instance, url }: Target): string {
  return instance === url.host ? `stick ${instance}` : `stick ${instance} (${url.host})`;
}

export function stickLine({ target, reading, deliveredAs, deliveryFailure, lastSuccessLost }: Outcome): string {
  const { failure, onceFailure, samples, unreadable, seconds } = reading;
  // A name with a line break cannot split the line: the command's log shows control characters.
  const name = stickName(target);
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  const outcome = failure
    ? `failed, ${failure}; took ${took}`
    : `read ${samples} samples in ${took}` +
      (onceFailure ? `; identity not read: ${onceFailure}` : '') +
      (unreadable.length ? `; unreadable: ${unreadable.join(', ')}` : '');
  const lost = lastSuccessLost ? `; last success lost: ${lastSuccessLost}` : '';
  const word = deliveredAs ?? 'delivered';
  const delivery =
    deliveryFailure !== undefined
      ? `; not ${word}${deliveryFailure && `: ${deliveryFailure}`}`
      : deliveredAs && `; ${word}${failure ? ' trucki_up 0' : ''}`;
  return `${name}: ${outcome}${lost}${delivery ?? ''}`;
}

/** What the run's log says of a sink's work. */
export interface SinkWords {
  /** Said of each stick delivered ("pushed", "pushed trucki_up 0") and of one that was not ("not pushed: …"). */
  readonly delivered?: string;
  /** After --delete-on-exit's removal: "deleted its group from the Pushgateway"; "could not delete its group". */
  readonly removed?: { readonly done: string; readonly failed: string };
  /** Said of a failed stick whose last success the sink did not hold, where that may be worth a look. */
  readonly notRecalled?: string;
}

/** Each kind of sink's words (registry.ts), by its name. */
const wordsOfKind: Readonly<Record<string, (config: Config) => SinkWords>> = {
  Pushgateway: () => ({
    delivered: 'pushed',
    removed: { done: 'deleted its group from the Pushgateway', failed: 'could not delete its group' },
  }),
  VictoriaMetrics: () => ({
    delivered: 'sent to VictoriaMetrics',
    notRecalled:
      'no series in VictoriaMetrics has its job, instance and labels (a stick never read, or labels changed since)',
  }),
  'node_exporter textfile': ({ textfile }) => ({ delivered: `written to ${textfile ?? 'the textfile'}` }),
  'standard output': () => ({ delivered: 'printed' }),
};

export const sinkWords = (kind: string, config: Config): SinkWords => wordsOfKind[kind]?.(config) ?? {};
