/**
 * A loop's sticks from the targets file, re-read on a tick when the file changed: added sticks
 * start on that tick, removed ones stop (and are handed to `onRemoved`, e.g. to delete their
 * Pushgateway groups), and an invalid file is logged once and the previous sticks kept.
 */
import { stickIdentity, type Target, type TargetsFileSpec } from '../config/types.js';
import { messageOf } from '../errors.js';
import { openTargetsFile, type TargetsFile } from './read.js';

/** The file the configuration read `initial` from, followed from the version it read on. */
export async function watchTargetsFile(
  spec: TargetsFileSpec,
  initial: readonly Target[],
  log: (line: string) => void,
  onRemoved: (removed: Target[]) => void,
): Promise<() => readonly Target[]> {
  return watchTargets(await openTargetsFile(spec), initial, log, onRemoved);
}

function watchTargets(
  file: TargetsFile,
  initial: readonly Target[],
  log: (line: string) => void,
  onRemoved: (removed: Target[]) => void,
): () => readonly Target[] {
  let current = initial;
  return () => {
    if (!file.changed()) return current;
    let next: Target[];
    try {
      next = file.read();
    } catch (error) {
      log(`${messageOf(error)}; keeping the ${current.length} sticks read before`);
      return current;
    }
    // A stick at a new address is the same stick: its metrics stay where they are.
    const before = new Map(current.map((target) => [stickIdentity(target), target]));
    const after = new Set(next.map(stickIdentity));
    const added = next.filter((target) => !before.has(stickIdentity(target)));
    const moved = next.filter((target) => {
      const was = before.get(stickIdentity(target));
      return was !== undefined && was.url.href !== target.url.href;
    });
    const removed = current.filter((target) => !after.has(stickIdentity(target)));
    const names = (targets: Target[]) => targets.map(({ instance }) => instance).join(', ');
    log(
      `${file.name} changed: ${next.length === 1 ? '1 stick' : `${String(next.length)} sticks`}` +
        (added.length ? `; added ${names(added)}` : '') +
        (removed.length ? `; removed ${names(removed)}` : '') +
        (moved.length ? `; new address for ${names(moved)}` : ''),
    );
    current = next;
    if (removed.length) onRemoved(removed);
    return current;
  };
}
