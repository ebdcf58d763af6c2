/** --forget-after: a group of a stick no longer named goes once nobody has delivered it for that long. Another
 * host delivering under the same job keeps its sticks: only the sink's own delivery time counts.
 */
import { join } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import type { Target } from './config/types.js';
import { createLimit } from './concurrency-limit.js';
import { escapeLabelValue } from './exposition.js';
import { SinkFailure } from './errors.js';
import { replaceFile } from './replace-file.js';
import type { Forgettable, Forgetting } from './sinks/sink.js';

/** A loop looks at most hourly (or once per forget-after): a stick gone is forgotten an hour late at most. */
const lookEveryMs = 3_600_000;
/** Deletions in flight: the Pushgateway handles them one at a time anyway. */
const deletionsInFlight = 4;

interface Look {
  /** The read this run shares with the recall of last successes. */
  readonly found: Promise<{ readonly lastSuccesses: ReadonlyMap<string, number> }>;
  /** Settles once the stale ones are forgotten and logged; never rejects with a SinkFailure. */
  readonly done: Promise<void>;
}

/** A Look at a run's start, if it is time. `stateDir`: where a one-shot run keeps its last look's time. */
export function createForgetter(
  forgetting: Forgetting | undefined,
  log: (line: string) => void,
  stateDir?: string,
  clock: () => number = Date.now,
): (recall: readonly Target[], named: readonly Target[]) => Look | undefined {
  if (!forgetting) return () => undefined;
  const stamp = stateDir === undefined ? undefined : fileStamp(stateDir, forgetting.key);
  const every = Math.min(forgetting.afterMs, lookEveryMs);
  let lookedAt: number | undefined;
  return (recall, named) => {
    const now = clock();
    const last = lookedAt ?? stamp?.read();
    // A clock set back makes the stamp a time to come: look then rather than wait for it.
    if (last !== undefined && now - last < every && now >= last) return undefined;
    lookedAt = now;
    // Old by the store's clock, never this machine's: a job whose clock is days ahead forgets nothing early.
    const found = forgetting.find(recall, named);
    // A failed look counts: a read refused (a proxy allowing only pushes) costs a line an hour, not one a run.
    const done = found
      .then(
        async ({ stale, unsure }) => {
          if (unsure === undefined) await forgetAll(stale, forgetting, log);
          else log(`could not look for groups to forget: ${unsure}`);
        },
        (error: unknown) => {
          if (!(error instanceof SinkFailure)) throw error;
          log(`could not look for groups to forget: ${error.message}`);
        },
      )
      .finally(() => stamp?.write(now));
    return { found, done };
  };
}

/** The last look's time per store and job (`key`), kept across one-shot runs (a 15 s timer would read all each
 * run); a few keys, so that two crontab lines do not make each other look. Unreadable counts as none.
 */
function fileStamp(dir: string, key: string): { read: () => number | undefined; write: (at: number) => void } {
  const path = join(dir, 'forget-looked-at');
  const stamps = () => {
    const found = new Map<string, number>();
    try {
      // A key is a store's URL and a job, on one line (JSON): far below this.
      const lines = readBoundedFile(path, 'forget stamp', 64 * 1024, true).split('\n');
      for (let line = 0; line + 1 < lines.length; line += 2)
        if (Number.isFinite(Number(lines[line + 1]))) found.set(lines[line]!, Number(lines[line + 1]));
    } catch {
      // None: one look more.
    }
    return found;
  };
  return {
    read: () => stamps().get(key),
    // Not written, the next run looks again.
    write: (lookedAt) => {
      const others = [...stamps()].filter(([each]) => each !== key).slice(0, 7);
      const text = [[key, lookedAt] as const, ...others].map(([each, at]) => `${each}\n${String(at)}\n`).join('');
      void replaceFile(path, text);
    },
  };
}

async function forgetAll(
  stale: readonly Forgettable[],
  { forget }: Forgetting,
  log: (line: string) => void,
): Promise<void> {
  const limit = createLimit(deletionsInFlight);
  await Promise.all(
    stale.map((group) =>
      limit(async () => {
        const name = groupName(group);
        try {
          await forget(group);
        } catch (error) {
          if (!(error instanceof SinkFailure)) throw error;
          log(`could not forget ${name}: ${error.message}`);
          return;
        }
        log(`forgot ${name}: no stick named here, last pushed ${isoOf(group.pushedAt)} (${agoText(group.age)} ago)`);
      }),
    ),
  );
}

/** `{job="trucki",instance="old"}`: the grouping labels, which hold no credentials. */
function groupName({ grouping }: Forgettable): string {
  return `group {${grouping.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function isoOf(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

function agoText(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
