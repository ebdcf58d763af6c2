/**
 * Where the job keeps what its next start should know: $CACHE_DIRECTORY under the units, else
 * `trucki2pushgateway/` in $XDG_CACHE_HOME or ~/.cache. What is read from there is run or believed, so, as
 * OpenSSH's StrictModes for ~/.ssh, it is used only if nobody but this user and root can change it. One that
 * cannot be made or written is none, silently (a system user without a home); a refused one is said once.
 */
import { accessSync, constants, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export function cacheDirectory(
  env: NodeJS.ProcessEnv = process.env,
  say: (line: string) => void = () => {},
): string | undefined {
  // systemd passes one directory per CacheDirectory= entry, separated by colons; the units name one.
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  // XDG's rule: a relative path in these variables is invalid and ignored.
  const home = env.HOME?.startsWith('/') ? join(env.HOME, '.cache') : undefined;
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : home;
  const dir = systemd ? resolve(systemd) : base && join(base, 'trucki2pushgateway');
  if (!dir) return undefined;
  let refusal: string | undefined;
  try {
    // Two levels made by hand (Node 20's recursive mkdirSync never returns under /proc/self/…), and
    // only where nobody else could move them: never by root in another user's home.
    for (const each of base && !systemd ? [base, dir] : []) if (!(refusal ??= wayRefusal(each))) makeDir(each);
    if (!refusal) {
      accessSync(dir, constants.W_OK);
      refusal = wayRefusal(dir) ?? ownRefusal(dir);
    }
  } catch {
    return undefined;
  }
  if (refusal) say(`trucki2pushgateway: not using the cache directory ${JSON.stringify(dir)}: ${refusal}`);
  return refusal ? undefined : dir;
}

const me = () => process.geteuid?.() ?? -1;
const trusted = (uid: number) => uid === 0 || uid === me();

/** Why the directory itself is not this user's alone, if it is not. */
function ownRefusal(dir: string): string | undefined {
  const { uid, mode } = statSync(dir);
  if (uid !== me()) return `it is owned by uid ${String(uid)}, not by this user (uid ${String(me())})`;
  if (mode & 0o022) return `it is writable by others (mode ${(mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Why someone else could move or replace `path`, if someone could: each directory on the way, as named and as
 * its links lead, must be root's or this user's, and writable by nobody else unless sticky (/tmp: others add
 * entries, not move ours). DynamicUser='s root-owned link /var/cache/NAME to private/NAME is so accepted.
 */
function wayRefusal(path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    real = join(realpathSync(dirname(path)), basename(path));
  }
  for (const way of new Set([path, real]))
    for (let entry = way, parent = dirname(way); entry !== parent; entry = parent, parent = dirname(parent)) {
      const { uid, mode } = statSync(parent);
      if (!trusted(uid)) return `${JSON.stringify(parent)} is owned by uid ${String(uid)}`;
      if (!(mode & 0o022)) continue;
      if (!(mode & 0o1000)) return `others can write ${JSON.stringify(parent)}`;
      const owner = lstatSync(entry, { throwIfNoEntry: false })?.uid ?? me();
      if (!trusted(owner)) return `${JSON.stringify(entry)} is owned by uid ${String(owner)}`;
    }
  return undefined;
}

function makeDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
