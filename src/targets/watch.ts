/**
 * A loop's sticks from the targets file, re-read on a tick when the file changed; an invalid file is
 * logged once and the previous sticks kept. A change of its sticks is acted on only at a later tick,
 * once every read for settleMs has said so: a file rewritten in place (`>`, some editors) is read
 * half-written at times, and its missing half is no removal (handed to `onRemoved`, e.g. to delete
 * its Pushgateway groups), nor a name cut short (`instance: stic`) a stick to start and push.
 */
import { stickIdentity, type Target, type TargetsFileSpec } from '../config/types.js';
import { messageOf } from '../errors.js';
import { openTargetsFile, type TargetsFile } from './read.js';

/** How long a stick must stay left out of the file before it is removed, or named before it starts. */
const settleMs = 5_000;

const names = (targets: readonly Target[]) => targets.map(({ instance }) => instance).join(', ');

/**
 * The file the configuration read `initial` from, followed from the version it read on. `clock`, in
 * ms, measures how long a stick has been left out: monotonic, so that a step of the wall clock
 * neither hastens nor holds up a removal.
 */
export async function watchTargetsFile(
  spec: TargetsFileSpec,
  initial: readonly Target[],
  log: (line: string) => void,
  onRemoved: (removed: Target[]) => void,
  clock: () => number = () => performance.now(),
): Promise<() => readonly Target[]> {
  return watchTargets(await openTargetsFile(spec), initial, log, onRemoved, clock);
}

function watchTargets(
  file: TargetsFile,
  initial: readonly Target[],
  log: (line: string) => void,
  onRemoved: (removed: Target[]) => void,
  clock: () => number,
): () => readonly Target[] {
  let current = initial;
  /** What the file named at its last good read; undefined while it cannot be read as valid. */
  let named: readonly Target[] | undefined = initial;
  /** Sticks still run but left out of the file, since when (`clock`), by stickIdentity. */
  const leftOut = new Map<string, number>();
  /** Sticks named by the file but not run yet, since when. */
  const added = new Map<string, number>();
  return () => {
    if (file.changed()) {
      try {
        const next = file.read();
        log(changeLine(file.name, current, next, leftOut, added));
        named = next;
      } catch (error) {
        log(`${messageOf(error)}; keeping the ${current.length} sticks read before`);
        named = undefined;
      }
    }
    // A file that cannot be read now has not stayed that way: nothing is removed, nor counts down.
    if (!named) {
      leftOut.clear();
      added.clear();
      return current;
    }
    const now = clock();
    /** Whether `target`'s change, timed in `waiting` from the first read that showed it, has stayed settleMs. */
    const settled = (waiting: Map<string, number>, target: Target) => {
      const key = stickIdentity(target);
      const since = waiting.get(key);
      if (since === undefined) waiting.set(key, now);
      if (since === undefined || now - since < settleMs) return false;
      return waiting.delete(key);
    };
    const keys = new Set(named.map(stickIdentity));
    const running = new Set(current.map(stickIdentity));
    const removed = current.filter((target) => !keys.has(stickIdentity(target)) && settled(leftOut, target));
    const started = named.filter((target) => !running.has(stickIdentity(target)) && settled(added, target));
    for (const key of leftOut.keys()) if (keys.has(key)) leftOut.delete(key);
    for (const key of added.keys()) if (!keys.has(key)) added.delete(key);
    // The file's sticks that run, at their addresses in the file; then those waiting to be removed.
    current = [
      ...named.filter((target) => running.has(stickIdentity(target)) || started.includes(target)),
      ...current.filter((target) => leftOut.has(stickIdentity(target))),
    ];
    if (started.length) log(`${file.name}: started ${names(started)}, named for ${settleMs / 1000} s or more`);
    if (removed.length) {
      log(`${file.name}: removed ${names(removed)}, left out for ${settleMs / 1000} s or more`);
      onRemoved(removed);
    }
    return current;
  };
}

/**
 * "sticks.yml changed: 2 sticks; added c, started if …; left out: a, removed if …; named again: b;
 * new address for d".
 */
function changeLine(
  name: string,
  current: readonly Target[],
  next: readonly Target[],
  leftOut: ReadonlyMap<string, number>,
  waiting: ReadonlyMap<string, number>,
): string {
  // A stick at a new address is the same stick: its metrics stay where they are.
  const before = new Map(current.map((target) => [stickIdentity(target), target]));
  const after = new Set(next.map(stickIdentity));
  const added = next.filter((target) => !before.has(stickIdentity(target)) && !waiting.has(stickIdentity(target)));
  const moved = next.filter((target) => {
    const was = before.get(stickIdentity(target));
    return was !== undefined && was.url.href !== target.url.href;
  });
  const back = next.filter((target) => leftOut.has(stickIdentity(target)));
  const gone = current.filter((target) => !after.has(stickIdentity(target)) && !leftOut.has(stickIdentity(target)));
  return (
    `${name} changed: ${next.length === 1 ? '1 stick' : `${String(next.length)} sticks`}` +
    (added.length
      ? `; added ${names(added)} (started at the first run ${settleMs / 1000} s from now if still named)`
      : '') +
    (gone.length
      ? `; left out: ${names(gone)} (removed at the first run ${settleMs / 1000} s from now if still left out)`
      : '') +
    (back.length ? `; named again: ${names(back)}, kept` : '') +
    (moved.length ? `; new address for ${names(moved)}` : '')
  );
}
