/** The operator's one line per stick per run, on stderr. */
import type { Target } from './config/types.js';
import type { StickReading } from './stick.js';

export interface Outcome {
  readonly target: Target;
  readonly reading: StickReading;
  /** Set when the sink delivers stick by stick and says so: "pushed". */
  readonly deliveredAs?: string;
  readonly deliveryFailure?: string;
  /** Why the last success could not be recalled, if it could not. */
  readonly lastSuccessLost?: string;
}

export function stickLine({ target, reading, deliveredAs, deliveryFailure, lastSuccessLost }: Outcome): string {
  const { live, once, seconds } = reading;
  // A name with a line break cannot split the line: the command's log shows control characters.
  const { instance, url } = target;
  const name = instance === url.host ? `stick ${instance}` : `stick ${instance} (${url.host})`;
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  const unreadable = [...live.problems, ...once.problems];
  const outcome = live.failure
    ? `failed, ${live.failure}; took ${took}`
    : `read ${live.samples.length + once.samples.length} samples in ${took}` +
      (once.failure ? `; identity not read: ${once.failure}` : '') +
      (unreadable.length ? `; unreadable: ${unreadable.join(', ')}` : '');
  const lost = lastSuccessLost ? `; last success lost: ${lastSuccessLost}` : '';
  const word = deliveredAs ?? 'delivered';
  const delivery = deliveryFailure
    ? `; not ${word}: ${deliveryFailure}`
    : !deliveredAs
      ? ''
      : live.failure
        ? `; ${word} trucki_up 0`
        : `; ${word}`;
  return `${name}: ${outcome}${lost}${delivery}`;
}
