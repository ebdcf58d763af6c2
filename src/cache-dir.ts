/**
 * Where the job keeps what the next one-shot run should know (the forget-after stamp, what the sticks'
 * /jsononce said): systemd's CacheDirectory= ($CACHE_DIRECTORY) under the shipped units, else
 * `trucki2pushgateway/` in $XDG_CACHE_HOME or ~/.cache; none when that cannot be written, which
 * costs the next run a read, never the run.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // systemd passes one directory per CacheDirectory= entry, separated by colons; the units name one.
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  // XDG's rule: a relative path in these variables is invalid and ignored.
  const base = env.XDG_CACHE_HOME?.startsWith('/')
    ? env.XDG_CACHE_HOME
    : env.HOME?.startsWith('/')
      ? join(env.HOME, '.cache')
      : undefined;
  const dir = systemd || (base && join(base, 'trucki2pushgateway'));
  if (!dir) return undefined;
  try {
    // Two levels made by hand: Node 20's recursive mkdirSync never returns under /proc/self/….
    if (base && !systemd) for (const each of [base, dir]) makeDir(each);
    accessSync(dir, constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

function makeDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
