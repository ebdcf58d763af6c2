/** The operator's one line per stick per run, on stderr. */
import type { Target } from './config/types.js';
import type { StickReading } from './stick.js';

/**
 * What a stick's line says of its reading; not the samples, so that a run that reports its sticks
 * at flush does not hold every stick's samples until then.
 */
export interface ReadSummary {
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
      : !deliveredAs
        ? ''
        : failure
          ? `; ${word} trucki_up 0`
          : `; ${word}`;
  return `${name}: ${outcome}${lost}${delivery}`;
}
