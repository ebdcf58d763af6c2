/** Whether a stick answers and is a Trucki: its variant, firmware and how many keys it sent that we know. */
import { liveCatalogue, onceCatalogue, type CatalogueRow } from '../catalogue.js';
import type { Target } from '../config/types.js';
import type { Sample } from '../parse.js';
import type { StickReading } from '../stick.js';
import { failed, ok, type Step } from './report.js';

const identity = onceCatalogue.find((row) => row.read === 'identity')!.family;

export function stickName({ instance, url }: Target): string {
  return instance === url.host ? `stick ${instance}` : `stick ${instance} (${url.host})`;
}

export function stickStep(target: Target, { live, once }: StickReading): Step {
  const name = stickName(target);
  // It answered, so it is on and reachable: what it said is the news (another device at its address?).
  if (live.wrongAnswer !== undefined) return failed(`${name}: /jsonlive ${live.wrongAnswer}`);
  if (live.failure) {
    return failed(
      `${name}: ${live.failure}: is the address right, and the stick on and reachable from here? ` +
        `(a stick that is off shows here too)`,
    );
  }
  const liveKeys = knownKeys(liveCatalogue, live.samples) + live.problems.length;
  if (once.failure) {
    return failed(
      `${name}: ${liveKeys} known keys on /jsonlive, but /jsononce ${once.failure}: its identity ` +
        `(variant, firmware) is unknown`,
    );
  }
  const keys = liveKeys + knownKeys(onceCatalogue, once.samples) + once.problems.length;
  const info = once.samples.find(({ family }) => family === identity)?.labels;
  const who = info
    ? `a Trucki ${info.variant ?? 'of unknown variant'}, device ${info.device ?? '?'}, firmware ${info.firmware || 'unknown'}`
    : 'a Trucki stick, but /jsononce names no device (variant and firmware unknown)';
  const unreadable = [...live.problems, ...once.problems];
  return ok(
    `${name}: ${who}; ${keys} known keys` + (unreadable.length ? `, unreadable: ${unreadable.join(', ')}` : ''),
  );
}

/** How many of the catalogue's rows gave samples: each row is one key of the stick. */
function knownKeys(catalogue: readonly CatalogueRow[], samples: readonly Sample[]): number {
  return catalogue.filter((row) =>
    samples.some(
      (sample) =>
        sample.family === row.family &&
        Object.entries(row.labels ?? {}).every(([label, value]) => sample.labels[label] === value),
    ),
  ).length;
}
