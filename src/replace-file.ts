/**
 * A file the job keeps for its next runs, replaced whole: written beside it, readable by this user only, then
 * renamed over it, so that a reader never sees half. Returns whether it was: a full disk costs the next run
 * a little work, never this one.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';

export function replaceFile(path: string, data: string | Uint8Array): boolean {
  const temp = `${path}.${String(process.pid)}.tmp`;
  removeQuietly(temp);
  try {
    // wx (O_CREAT | O_EXCL): never into a file or through a link that someone else put there.
    writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    return true;
  } catch {
    removeQuietly(temp);
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never there.
  }
}
