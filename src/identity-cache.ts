/**
 * What a stick's /jsononce said, kept for ten minutes: identity and configuration change rarely, and
 * reading them is half of all requests to a stick. A loop keeps them in memory; a one-shot run in
 * one file in the cache directory for all its sticks (one file to read, not one per stick: a
 * fleet's run paid a millisecond a stick for the files), written once, as the run ends. Only the
 * samples the catalogue exports are kept, never the answer: /jsononce also carries the stick's
 * passwords.
 */
import { lstatSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import { onceCatalogue, type CatalogueRow, type Family } from './catalogue.js';
import { stickIdentity, type Target } from './config/types.js';
import type { Sample } from './parse.js';
import { obeyedByTerminals } from './terminal-text.js';

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
  /** The sticks this run read or dropped: the others' entries are the file's, as it is when saved. */
  const changed = new Set<string>();
  const path = dir === undefined ? undefined : join(dir, identityFile);
  /** The file's entries as read, each checked only when asked for. */
  let stored: StoredEntries | undefined;
  const fromFile = () => (stored ??= path === undefined ? noEntries : readEntries(path)).entries;
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
      const key = stickKey(target);
      memory.set(key, { at: clock(), samples: [...samples] });
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
      if (!stored || stored.version !== versionOf(path)) stored = readEntries(path);
      // No prototype: a key "__proto__" from the file is a key like any other.
      const sticks: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      const keep = (key: string, kept: Kept | undefined) => {
        // Rebuilt from what was checked, never the file's own objects: nothing else of it is carried on.
        if (fresh(kept)) sticks[key] = entryOf(kept);
      };
      for (const [key, entry] of stored.entries) if (!changed.has(key)) keep(key, keptOf(entry));
      for (const key of changed) keep(key, memory.get(key));
      changed.clear();
      writeKept(path, JSON.stringify({ sticks }));
    },
  };
}

interface StoredEntries {
  readonly entries: ReadonlyMap<string, unknown>;
  /** The file as it was when read, to tell whether it changed since. */
  readonly version: string | undefined;
}

const noEntries: StoredEntries = { entries: new Map(), version: undefined };

function versionOf(path: string): string | undefined {
  try {
    const { ino, size, mtimeMs, ctimeMs } = lstatSync(path);
    return `${ino}:${size}:${mtimeMs}:${ctimeMs}`;
  } catch {
    return undefined;
  }
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

/** The file's entries by stick, or none when it is missing, unreadable, too large, a link, or not ours. */
function readEntries(path: string): StoredEntries {
  // Before the read: a change between the two makes the next save read it again, never less.
  const version = versionOf(path);
  try {
    const value: unknown = JSON.parse(readBoundedFile(path, 'identity cache', fileBytes, false));
    // Own keys only, so that "__proto__" is an ordinary (foreign) key.
    if (isRecord(value) && isRecord(value.sticks)) return { entries: new Map(Object.entries(value.sticks)), version };
  } catch {
    // Not ours, or not there: as if empty.
  }
  return { entries: new Map(), version };
}

/** An entry's samples, or undefined when it is not one this job wrote. */
function keptOf(entry: unknown): Kept | undefined {
  if (!isRecord(entry) || typeof entry.at !== 'number' || !Array.isArray(entry.samples)) return undefined;
  const samples: Sample[] = [];
  // A series twice would make the sink's whole delivery invalid.
  const series = new Set<string>();
  for (const item of entry.samples as unknown[]) {
    const sample = sampleOf(item);
    if (!sample) return undefined;
    const { labelNames } = onceFamilies.get(sample.family.name)!;
    const id = [sample.family.name, ...labelNames.map((label) => sample.labels[label])].join('\0');
    if (series.has(id)) return undefined;
    series.add(id);
    samples.push(sample);
  }
  return { at: entry.at, samples };
}

const entryOf = ({ at, samples }: Kept) => ({
  at,
  samples: samples.map(({ family, labels, value }) => ({ family: family.name, labels, value })),
});

/** The label names parse.ts gives a row's samples: a sample with others is not one it made. */
function labelNamesOf(row: CatalogueRow): string[] {
  return [
    ...Object.keys(row.labels ?? {}),
    ...('label' in row ? [row.label] : []),
    ...(row.read === 'identity' ? [...Object.keys(row.with), 'variant'] : []),
  ].sort();
}

const onceFamilies = new Map<string, { family: Family; labelNames: string[] }>(
  onceCatalogue.map((row) => [row.family.name, { family: row.family, labelNames: labelNamesOf(row) }]),
);

/** A label value as parse.ts makes it: short, and nothing a terminal obeys (--stdout prints it raw). */
const labelValue = (text: unknown) =>
  typeof text === 'string' && text.length <= 64 && text.search(obeyedByTerminals) < 0;

function sampleOf(item: unknown): Sample | undefined {
  if (!isRecord(item) || typeof item.family !== 'string' || !isRecord(item.labels)) return undefined;
  const known = onceFamilies.get(item.family);
  const { value, labels } = item;
  if (!known || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const names = Object.keys(labels).sort();
  if (names.length !== known.labelNames.length || names.some((name, i) => name !== known.labelNames[i]))
    return undefined;
  if (!names.every((name) => labelValue(labels[name]))) return undefined;
  return { family: known.family, labels: labels as Record<string, string>, value };
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
