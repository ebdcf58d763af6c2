/**
 * A loop's sticks from the targets file, re-read on a tick when it changed (an invalid one keeps the sticks).
 * A change is acted on once every read for settleMs said so: a file rewritten in place is read half-written at
 * times, and its missing half is no removal (`onRemoved`), nor a name cut short a stick to start.
 */
import { stickIdentity, type Target, type TargetsFileSpec } from '../config/types.js';
import { messageOf } from '../errors.js';
import { openTargetsFile } from './file.js';

/** How long a stick must stay left out of the file before it is removed, or named before it starts. */
const settleMs = 5_000;

const names = (targets: readonly Target[]) => targets.map(({ instance }) => instance).join(', ');

/** The file `initial` was read from, followed; `clock` is monotonic: a step of the wall clock changes nothing. */
export async function watchTargetsFile(
  spec: TargetsFileSpec,
  initial: readonly Target[],
  log: (line: string) => void,
  onRemoved: (removed: Target[]) => void,
  clock: () => number = () => performance.now(),
): Promise<() => readonly Target[]> {
  const file = await openTargetsFile(spec);
  let current = initial;
  /** What the file named at its last good read; undefined while it cannot be read as valid. */
  let named: readonly Target[] | undefined = initial;
  /** Since when (`clock`), by stickIdentity, a stick has been run but left out, or named but not run. */
  const waiting = new Map<string, number>();
  return () => {
    if (file.changed()) {
      try {
        const next = file.read();
        log(changeLine(file.name, current, next, waiting));
        named = next;
      } catch (error) {
        log(`${messageOf(error)}; keeping the ${current.length} sticks read before`);
        named = undefined;
      }
    }
    // A file that cannot be read now has not stayed that way: nothing is removed, nor counts down.
    if (!named) {
      waiting.clear();
      return current;
    }
    const now = clock();
    const keys = new Set(named.map(stickIdentity));
    const running = new Set(current.map(stickIdentity));
    // A change undone (named again, or left out again before it started) waits no more.
    for (const key of waiting.keys()) if (running.has(key) === keys.has(key)) waiting.delete(key);
    /** Whether `target`'s change, timed from the first read that showed it, has stayed settleMs. */
    const settled = (target: Target) => {
      const key = stickIdentity(target);
      if (!waiting.has(key)) waiting.set(key, now);
      return now - waiting.get(key)! >= settleMs && waiting.delete(key);
    };
    const removed = current.filter((target) => !keys.has(stickIdentity(target)) && settled(target));
    const started = named.filter((target) => !running.has(stickIdentity(target)) && settled(target));
    // The file's sticks that run, at their addresses in the file; then those waiting to be removed.
    current = [
      ...named.filter((target) => running.has(stickIdentity(target)) || started.includes(target)),
      ...current.filter((target) => !keys.has(stickIdentity(target)) && !removed.includes(target)),
    ];
    if (started.length) log(`${file.name}: started ${names(started)}, named for ${settleMs / 1000} s or more`);
    if (removed.length) {
      log(`${file.name}: removed ${names(removed)}, left out for ${settleMs / 1000} s or more`);
      onRemoved(removed);
    }
    return current;
  };
}

/** "sticks.yml changed: 2 sticks; added c, started if …; left out: a, removed if …; new address for d". */
function changeLine(
  name: string,
  current: readonly Target[],
  next: readonly Target[],
  waiting: ReadonlyMap<string, number>,
): string {
  const before = new Map(current.map((target) => [stickIdentity(target), target]));
  const after = new Set(next.map(stickIdentity));
  const waits = (target: Target) => waiting.has(stickIdentity(target));
  const from = (now: string) => ` (${now} at the first run ${settleMs / 1000} s from now if still`;
  const parts: [what: string, targets: Target[], then?: string][] = [
    ['added ', next.filter((t) => !before.has(stickIdentity(t)) && !waits(t)), `${from('started')} named)`],
    ['left out: ', current.filter((t) => !after.has(stickIdentity(t)) && !waits(t)), `${from('removed')} left out)`],
    ['named again: ', next.filter((t) => before.has(stickIdentity(t)) && waits(t)), ', kept'],
    ['new address for ', next.filter((t) => (before.get(stickIdentity(t))?.url ?? t.url).href !== t.url.href)],
  ];
  return `${name} changed: ${next.length === 1 ? '1 stick' : `${next.length} sticks`}${parts
    .map(([what, targets, then = '']) => (targets.length ? `; ${what}${names(targets)}${then}` : ''))
    .join('')}`;
}
