/**
 * What a stick's /jsononce said, kept for ten minutes: identity and configuration change rarely, and
 * reading them is half of all requests to a stick. A loop keeps them in memory; a one-shot run in a
 * file per stick in the cache directory, for the next run. Only the samples the catalogue exports
 * are kept, never the answer: /jsononce also carries the stick's passwords.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import { labelName, onceCatalogue, type Family } from './catalogue.js';
import { stickIdentity, type Target } from './config/types.js';
import type { Sample } from './parse.js';

/** How long what /jsononce said is used before the stick is asked again. */
export const onceLifetimeMs = 10 * 60_000;
/** A stick's identity and configuration are some 2 KiB of samples: a larger file is not ours. */
const fileBytes = 64 * 1024;

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
}

interface Kept {
  readonly at: number;
  readonly samples: readonly Sample[];
}

/** `dir`: where a one-shot run keeps them for the next run; memory only without it. */
export function createIdentityCache(dir?: string, clock: () => number = Date.now): IdentityCache {
  const memory = new Map<string, Kept>();
  const fresh = (at: number) => {
    const now = clock();
    // A clock set back makes a time to come: read afresh rather than trust it.
    return now >= at && now - at < onceLifetimeMs;
  };
  return {
    recall: (target) => {
      const key = stickKey(target);
      const kept = memory.get(key) ?? (dir === undefined ? undefined : readKept(join(dir, fileName(key)), key));
      return kept && fresh(kept.at) ? [...kept.samples] : undefined;
    },
    keep: (target, samples) => {
      const key = stickKey(target);
      const kept = { at: clock(), samples: [...samples] };
      memory.set(key, kept);
      if (dir !== undefined) writeKept(join(dir, fileName(key)), key, kept);
    },
    drop: (target) => {
      const key = stickKey(target);
      memory.delete(key);
      if (dir !== undefined) removeQuietly(join(dir, fileName(key)));
    },
  };
}

/**
 * The device at this address: another address may be another device, and another name or labels
 * another stick. Without the address's user info, which the file must not hold.
 */
function stickKey(target: Target): string {
  const address = new URL(target.url.href);
  address.username = '';
  address.password = '';
  return JSON.stringify([address.href, stickIdentity(target)]);
}

/** Two FNV-1a hashes of the key: a name without node:crypto, whose loading costs every start. */
function fileName(key: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x01000193) >>> 0;
  }
  // Two keys with one name take turns: each is a miss, never the other's samples (the file names its key).
  return `jsononce-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}.json`;
}

const onceFamilies = new Map<string, Family>(onceCatalogue.map(({ family }) => [family.name, family]));

/** The file's samples, or undefined when it is missing, unreadable, too large, a link, or not ours. */
function readKept(path: string, key: string): Kept | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readBoundedFile(path, 'identity cache', fileBytes, false));
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.key !== key || typeof value.at !== 'number' || !Array.isArray(value.samples))
    return undefined;
  const samples: Sample[] = [];
  for (const item of value.samples as unknown[]) {
    const sample = sampleOf(item);
    if (!sample) return undefined;
    samples.push(sample);
  }
  return { at: value.at, samples };
}

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
function writeKept(path: string, key: string, { at, samples }: Kept): void {
  const text = JSON.stringify({
    key,
    at,
    samples: samples.map(({ family, labels, value }) => ({ family: family.name, labels, value })),
  });
  const temp = `${path}.${String(process.pid)}.tmp`;
  removeQuietly(temp);
  try {
    // wx: never through a link someone left at the temp name.
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch {
    // Not kept: the next run reads the stick again.
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
