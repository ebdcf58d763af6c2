/** Whether a stick answers and is a Trucki: its variant, firmware and how many keys it sent that we know. */
import { onceCatalogue } from '../catalogue.js';
import type { Target } from '../config/types.js';
import { stickName } from '../log-line.js';
import type { StickReading } from '../stick.js';
import { failed, ok, type Step } from './report.js';

const identity = onceCatalogue.find((row) => row.read === 'identity')!.family;

export function stickStep(target: Target, { live, once }: StickReading): Step {
  const name = stickName(target);
  // It answered, so it is on and reachable: what it said is the news (another device at its address?).
  if (live.wrongAnswer !== undefined) return failed(`${name}: /jsonlive ${live.wrongAnswer}`);
  if (live.failure)
    return failed(
      `${name}: ${live.failure}: is the address right, and the stick on and reachable from here? ` +
        `(a stick that is off shows here too)`,
    );
  const liveKeys = live.knownKeys ?? 0;
  if (once.failure)
    return failed(
      `${name}: ${liveKeys} known keys on /jsonlive, but /jsononce ${once.failure}: its identity ` +
        `(variant, firmware) is unknown`,
    );
  const keys = liveKeys + (once.knownKeys ?? 0);
  const info = once.samples.find(({ family }) => family === identity)?.labels;
  const who = info
    ? `a Trucki ${info.variant ?? 'of unknown variant'}, device ${info.device ?? '?'}, ` +
      `firmware ${info.firmware || 'unknown'}`
    : 'a Trucki stick, but /jsononce names no device (variant and firmware unknown)';
  const unreadable = [...live.problems, ...once.problems];
  return ok(
    `${name}: ${who}; ${keys} known keys` + (unreadable.length ? `, unreadable: ${unreadable.join(', ')}` : ''),
  );
}
