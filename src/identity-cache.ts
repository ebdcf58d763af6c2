/** A stick's /jsononce (rarely changing; half its requests), kept ten minutes: by a loop in memory, by one-shot
 * runs in one cache file for all sticks (a file each cost a millisecond a stick). Only the part the catalogue reads
 * is kept, no password, read back through the same parse as a fresh answer: never more than a stick could send.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import { onceCatalogue } from './catalogue.js';
import { stickIdentity, type Target } from './config/types.js';
import { isJsonObject } from './json-object.js';
import { cataloguedPart, readPayload, type Payload, type Reading } from './parse.js';
import { replaceFile } from './replace-file.js';

export const onceLifetimeMs = 10 * 60_000;
export const identityFile = 'jsononce.json';
/** Some 500 bytes a stick: room for many thousands of sticks; a larger file is not ours. */
const fileBytes = 16 * 1024 * 1024;
/** A stick whose part is larger than this (a name of a megabyte) is read every time instead. */
const entryBytes = 16 * 1024;

export interface IdentityCache {
  readonly recall: (target: Target) => Reading | undefined; // the last successful read, within the lifetime
  readonly keep: (target: Target, answer: Payload) => void; // a successful read only
  /** Forgets the stick's when it was away: a firmware update restarts the stick, and /jsonlive names neither. */
  readonly drop: (target: Target) => void;
  readonly save: () => void; // with what the file holds of sticks this run did not read
}

interface Kept {
  readonly at: number;
  readonly part: Payload;
  reading?: Reading; // the part read through the catalogue, once asked for
}

/** `dir`: where a one-shot run keeps them for the next run; memory only without it. */
export function createIdentityCache(dir?: string, clock: () => number = Date.now): IdentityCache {
  const memory = new Map<string, Kept | undefined>();
  /** The sticks this run read or dropped: the others' entries are the file's, as it is when saved. */
  const changed = new Set<string>();
  const path = dir === undefined ? undefined : join(dir, identityFile);
  // The file's entries, each checked when asked for; its version taken before the read, so that a change
  // between the two makes the next save read it again.
  let stored: { readonly version?: string; readonly entries: ReadonlyMap<string, unknown> } | undefined;
  const readFile = (file: string) => (stored = { version: versionOf(file), entries: readEntries(file) });
  const fromFile = () =>
    (stored ?? (path === undefined ? { entries: new Map<string, unknown>() } : readFile(path))).entries;
  const fresh = (kept: Kept | undefined): kept is Kept => {
    const now = clock();
    // A clock set back makes a time to come: read afresh rather than trust it.
    return kept !== undefined && now >= kept.at && now - kept.at < onceLifetimeMs;
  };
  return {
    recall: (target) => {
      const key = stickKey(target);
      if (!memory.has(key)) memory.set(key, keptOf(fromFile().get(key)));
      const kept = memory.get(key);
      if (!fresh(kept)) return undefined;
      const { samples, problems } = (kept.reading ??= readPayload(kept.part, onceCatalogue));
      // Nothing read is nothing kept (an entry of another shape): the stick is asked.
      return samples.length > 0 ? { samples: [...samples], problems: [...problems] } : undefined;
    },
    keep: (target, answer) => {
      const key = stickKey(target);
      const part = cataloguedPart(answer, onceCatalogue);
      memory.set(key, JSON.stringify(part).length <= entryBytes ? { at: clock(), part } : undefined);
      changed.add(key);
    },
    drop: (target) => {
      const key = stickKey(target);
      memory.set(key, undefined);
      changed.add(key);
    },
    save: () => {
      if (path === undefined || changed.size === 0) return;
      // Read again unless untouched since: another run over the same directory (another timer's
      // sticks) may have saved its own since this one read the file.
      const { entries } = stored && stored.version === versionOf(path) ? stored : readFile(path);
      const all = new Map<string, Kept | undefined>();
      for (const [key, entry] of entries) if (!changed.has(key)) all.set(key, keptOf(entry));
      for (const key of changed) all.set(key, memory.get(key));
      changed.clear();
      // Rebuilt from what was checked, never the file's own objects: nothing else of it is carried on.
      // (Object.fromEntries makes a key "__proto__" from the file a key like any other.)
      const sticks = [...all].flatMap(([key, kept]) =>
        fresh(kept) ? [[key, { at: kept.at, payload: kept.part }] as const] : [],
      );
      // Not kept, the next run reads the sticks again.
      replaceFile(path, JSON.stringify({ sticks: Object.fromEntries(sticks) }));
    },
  };
}

function versionOf(path: string): string | undefined {
  try {
    const { ino, size, mtimeMs, ctimeMs } = lstatSync(path);
    return `${ino}:${size}:${mtimeMs}:${ctimeMs}`;
  } catch {
    return undefined;
  }
}

/** The device at this address as this stick, without the address's user info, which the file must not hold. */
function stickKey(target: Target): string {
  const address = new URL(target.url.href);
  address.username = '';
  address.password = '';
  return JSON.stringify([address.href, stickIdentity(target)]);
}

/** The file's entries by stick, or none when it is missing, unreadable, too large, a link, or not ours. */
function readEntries(path: string): ReadonlyMap<string, unknown> {
  try {
    const value: unknown = JSON.parse(readBoundedFile(path, 'identity cache', fileBytes, true));
    // Own keys only, so that "__proto__" is an ordinary (foreign) key.
    if (isJsonObject(value) && isJsonObject(value.sticks)) return new Map(Object.entries(value.sticks));
  } catch {
    // Not ours, or not there: as if empty.
  }
  return new Map();
}

/** An entry as this job writes it, with only what the catalogue reads of it; undefined if it is not one. */
function keptOf(entry: unknown): Kept | undefined {
  if (!isJsonObject(entry) || typeof entry.at !== 'number' || !isJsonObject(entry.payload)) return undefined;
  return { at: entry.at, part: cataloguedPart(entry.payload, onceCatalogue) };
}
