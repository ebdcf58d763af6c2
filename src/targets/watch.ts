/**
 * A loop's sticks from the targets file, re-read on a tick when the file changed: added sticks
 * start on that tick, removed ones stop (and are handed to `onRemoved`, e.g. to delete their
 * Pushgateway groups), and an invalid file is logged once and the previous sticks kept.
 */
import type { Target, TargetsFileSpec } from '../config/types.js';
import { messageOf } from '../errors.js';
import { openTargetsFile, type TargetsFile } from './read.js';

/** A stick is the same stick only with the same name, address and labels. */
const keyOf = (target: Target) => JSON.stringify([target.instance, target.url.href, target.labels]);

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
    const before = new Set(current.map(keyOf));
    const after = new Set(next.map(keyOf));
    const added = next.filter((target) => !before.has(keyOf(target)));
    const removed = current.filter((target) => !after.has(keyOf(target)));
    const names = (targets: Target[]) => targets.map(({ instance }) => instance).join(', ');
    log(
      `${file.name} changed: ${next.length === 1 ? '1 stick' : `${String(next.length)} sticks`}` +
        (added.length ? `; added ${names(added)}` : '') +
        (removed.length ? `; removed ${names(removed)}` : ''),
    );
    current = next;
    if (removed.length) onRemoved(removed);
    return current;
  };
}
