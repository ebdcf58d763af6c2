/**
 * What a stick's /jsononce said, kept for ten minutes: identity and configuration change rarely, and
 * reading them is half of all requests to a stick. A loop keeps them in memory; a one-shot run in
 * one file in the cache directory for all its sticks (one file to read, not one per stick: a
 * fleet's run paid a millisecond a stick for the files), written once, as the run ends. Only the
 * samples the catalogue exports are kept, never the answer: /jsononce also carries the stick's
 * passwords.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import { labelName, onceCatalogue, type Family } from './catalogue.js';
import { stickIdentity, type Target } from './config/types.js';
import type { Sample } from './parse.js';

/** How long what /jsononce said is used before the stick is asked again. */
export const onceLifetimeMs = 10 * 60_000;
/** The file's name in the cache directory. */
export const identityFile = 'jsononce.json';
/** Some 2 KiB of samples a stick: room for many thousands of sticks; a larger file is not ours. */
const fileBytes = 16 * 1024 * 1024;

export interface IdentityCache {
  /** The samples of the stick's last successful /jsononce read, if within the lifetime. */
  readonly recall: (target: Target) => Sample[] | undefined;
  /** Only a successful read is kept: a stick that answers later is asked on its next run. */
  readonly keep: (target: Target, samples: readonly Sample[]) => void;
  /**
   * Forgets the stick's, when it was away: /jsonlive names neither firmware nor device, and a
   * firmware update restarts the stick. A change the job never sees away waits out the lifetime.
   */
  readonly drop: (target: Target) => void;
  /** Leaves what changed for the next run, with what the file holds of sticks this run did not read. */
  readonly save: () => void;
}

interface Kept {
  readonly at: number;
  readonly samples: readonly Sample[];
}

/** `dir`: where a one-shot run keeps them for the next run; memory only without it. */
export function createIdentityCache(dir?: string, clock: () => number = Date.now): IdentityCache {
  const memory = new Map<string, Kept | undefined>();
  const path = dir === undefined ? undefined : join(dir, identityFile);
  /** The file's entries as read, each checked only when asked for. */
  let stored: Map<string, unknown> | undefined;
  const fromFile = () => (stored ??= path === undefined ? new Map<string, unknown>() : readEntries(path));
  let changed = false;
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
      return fresh(kept) ? [...kept.samples] : undefined;
    },
    keep: (target, samples) => {
      memory.set(stickKey(target), { at: clock(), samples: [...samples] });
      changed = true;
    },
    drop: (target) => {
      memory.set(stickKey(target), undefined);
      changed = true;
    },
    save: () => {
      if (path === undefined || !changed) return;
      changed = false;
      const sticks: Record<string, unknown> = {};
      for (const [key, entry] of fromFile()) if (!memory.has(key) && fresh(keptOf(entry))) sticks[key] = entry;
      for (const [key, kept] of memory) if (fresh(kept)) sticks[key] = entryOf(kept);
      writeKept(path, JSON.stringify({ sticks }));
    },
  };
}

/**
 * The device at this address: another address may be another device, and another name or labels
 * another stick. Without the address's user info, which the file must not hold.
 */
function stickKey(target: Target): string {
  let address = target.url.href;
  if (target.url.username || target.url.password) {
    const bare = new URL(address);
    bare.username = '';
    bare.password = '';
    address = bare.href;
  }
  return JSON.stringify([address, stickIdentity(target)]);
}

const onceFamilies = new Map<string, Family>(onceCatalogue.map(({ family }) => [family.name, family]));

/** The file's entries by stick, or none when it is missing, unreadable, too large, a link, or not ours. */
function readEntries(path: string): Map<string, unknown> {
  try {
    const value: unknown = JSON.parse(readBoundedFile(path, 'identity cache', fileBytes, false));
    if (isRecord(value) && isRecord(value.sticks)) return new Map(Object.entries(value.sticks));
  } catch {
    // Not ours, or not there: as if empty.
  }
  return new Map();
}

/** An entry's samples, or undefined when it is not one this job wrote. */
function keptOf(entry: unknown): Kept | undefined {
  if (!isRecord(entry) || typeof entry.at !== 'number' || !Array.isArray(entry.samples)) return undefined;
  const samples: Sample[] = [];
  for (const item of entry.samples as unknown[]) {
    const sample = sampleOf(item);
    if (!sample) return undefined;
    samples.push(sample);
  }
  return { at: entry.at, samples };
}

const entryOf = ({ at, samples }: Kept) => ({
  at,
  samples: samples.map(({ family, labels, value }) => ({ family: family.name, labels, value })),
});

function sampleOf(item: unknown): Sample | undefined {
  if (!isRecord(item) || typeof item.family !== 'string' || !isRecord(item.labels)) return undefined;
  const family = onceFamilies.get(item.family);
  const { value, labels } = item;
  if (!family || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const entries = Object.entries(labels);
  if (!entries.every(([name, text]) => labelName.test(name) && typeof text === 'string')) return undefined;
  return { family, labels: labels as Record<string, string>, value };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Into a temp file, then renamed over the old one: a run that reads it sees the old or the new, whole. */
function writeKept(path: string, text: string): void {
  const temp = `${path}.${String(process.pid)}.tmp`;
  removeQuietly(temp);
  try {
    // wx: never through a link someone left at the temp name.
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch {
    // Not kept: the next run reads the sticks again.
    removeQuietly(temp);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never there.
  }
}
