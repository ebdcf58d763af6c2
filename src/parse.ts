/** From the stick's JSON to samples, through the catalogue. Pure: no I/O, clock or logging; problems go back. */
import { isJsonObject, parseJson } from './json-object.js';
import { unknownState, type CatalogueRow, type Family, type Labels } from './catalogue.js';
import { obeyedByTerminals } from './terminal-text.js';
import { unitOf, units, type UnitSymbol } from './units.js';

export interface Sample {
  readonly family: Family;
  readonly labels: Labels;
  readonly value: number;
}

export interface Reading {
  readonly samples: Sample[];
  /** One short phrase per value that was present but could not be read, e.g. `ACPOWER "--- W" is not a number`. */
  readonly problems: string[];
}

export type Payload = Readonly<Record<string, unknown>>;

/** The stick's body as a flat JSON object, or why it is not one. */
export function parsePayload(text: string): { payload: Payload } | { error: string } {
  const parsed = parseJson(text);
  if ('costly' in parsed) return { error: `sent JSON that ${parsed.costly}` };
  if ('invalid' in parsed) {
    const html = text.trimStart().startsWith('<');
    return { error: html ? 'sent HTML, not JSON (a login or error page?)' : 'sent a body that is not valid JSON' };
  }
  const { value } = parsed;
  if (isJsonObject(value)) return { payload: value };
  return {
    error: `sent JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, not an object`,
  };
}

/** A stick's answer to samples, or why it is not a Trucki (docs/trucki-stick-api.md § Is it a Trucki?). */
export function readAnswer(
  text: string,
  catalogue: readonly CatalogueRow[],
):
  | (Reading & { readonly knownKeys: number; readonly payload: Payload })
  | { error: string; readonly knownKeys?: number } {
  const parsed = parsePayload(text);
  if ('error' in parsed) return parsed;
  const { knownKeys, ...reading } = readPayload(parsed.payload, catalogue);
  // A real stick always sends readable keys of its own making (WIFI, RSSI, its energy counters):
  // one key read is a Trucki, however few; none read is another device, or a stick gone wrong.
  if (reading.samples.length > 0) return { ...reading, knownKeys, payload: parsed.payload };
  if (knownKeys === 0) return { error: 'answered JSON, but no Trucki key: is this a Trucki stick?', knownKeys };
  const [first, ...more] = reading.problems;
  const which = `${first ?? ''}${more.length ? `, and ${more.length} more` : ''}`;
  return {
    error:
      `answered JSON, but none of its ${knownKeys} Trucki ${knownKeys === 1 ? 'key' : 'keys'} ` +
      `could be read (${which}): is this a Trucki stick?`,
    knownKeys,
  };
}

/** What of a payload the catalogue reads (plain values only): all that may be kept, as /jsononce also carries
 * the stick's secrets.
 */
export function cataloguedPart(payload: Payload, catalogue: readonly CatalogueRow[]): Payload {
  const part: Record<string, unknown> = {};
  const take = (key: string) => {
    const value = payload[key];
    if (value === null || typeof value !== 'object') part[key] = value;
  };
  for (const row of catalogue) {
    const key = keyIn(payload, row);
    if (key !== undefined) take(key);
    if (row.read === 'identity')
      for (const other of Object.values(row.with)) if (Object.hasOwn(payload, other)) take(other);
  }
  return part;
}

/** The key a row is read from: its own, else its mirror; undefined when the payload has neither. */
function keyIn(payload: Payload, row: CatalogueRow): string | undefined {
  if (Object.hasOwn(payload, row.key)) return row.key;
  const mirror = mirrorOf(row);
  return mirror !== undefined && Object.hasOwn(payload, mirror) ? mirror : undefined;
}

/** Each row's MQTT_…_VALUE mirror (none for a mirror-only row), made once: a fleet's run reads every answer. */
const mirrors = new WeakMap<CatalogueRow, string | undefined>();

function mirrorOf(row: CatalogueRow): string | undefined {
  if (!mirrors.has(row)) mirrors.set(row, row.key.startsWith('MQTT_') ? undefined : `MQTT_${row.key}_VALUE`);
  return mirrors.get(row);
}

/** Absent keys yield nothing and no problem; in `knownKeys` a key and its MQTT_…_VALUE mirror count once. */
export function readPayload(
  payload: Payload,
  catalogue: readonly CatalogueRow[],
): Reading & { readonly knownKeys: number } {
  const samples: Sample[] = [];
  const problems: string[] = [];
  let knownKeys = 0;
  for (const row of catalogue) {
    const key = keyIn(payload, row);
    if (key === undefined) continue;
    knownKeys++;
    const raw = payload[key];
    const result = readers[row.read](raw, row as never, payload);
    const { samples: read = [], problem } = typeof result === 'string' ? { problem: result } : result;
    for (const { labels, value } of read)
      samples.push({ family: row.family, labels: row.labels ? { ...row.labels, ...labels } : labels, value });
    if (problem) problems.push(`${key} ${quote(raw)} ${problem}`);
  }
  return { samples, problems, knownKeys };
}

/** One frozen empty label set for every sample without labels of its own: most of a stick's. */
const noLabels: Labels = Object.freeze({});

type Read = { samples: { labels: Labels; value: number }[]; problem?: string } | string;

type Reader<K> = (raw: unknown, row: Extract<CatalogueRow, { read: K }>, payload: Payload) => Read;

const readers: { [K in CatalogueRow['read']]: Reader<K> } = {
  number(raw, row) {
    const value = readNumber(raw, row.unit);
    if (typeof value === 'string') return value;
    if (row.family.type === 'counter' && value < 0) return 'is negative, impossible for a total';
    return { samples: [{ labels: noLabels, value }] };
  },
  state(raw, row) {
    const current = typeof raw === 'string' ? stateLabel(raw) : '';
    if (current === '') return 'is not a state';
    const known = row.states.includes(current);
    const samples = [...row.states, unknownState].map((state) => ({
      labels: { [row.label]: state },
      value: state === (known ? current : unknownState) ? 1 : 0,
    }));
    return known ? { samples } : { samples, problem: 'is not a known state' };
  },
  flag(raw) {
    const value = readFlag(raw);
    return value === undefined ? 'is neither enabled nor disabled' : { samples: [{ labels: noLabels, value }] };
  },
  text(raw, row) {
    const label = typeof raw === 'string' ? stateLabel(raw).slice(0, 64) : '';
    return label === '' ? 'is not text' : { samples: [{ labels: { [row.label]: label }, value: 1 }] };
  },
  identity(raw, row, payload) {
    const device = shortText(raw);
    if (device === '') return 'is not a name';
    const variant = /^T2[A-Z]G/i.test(device) ? device.slice(0, 4).toUpperCase() : 'unknown';
    const more = Object.fromEntries(Object.entries(row.with).map(([label, key]) => [label, shortText(payload[key])]));
    return { samples: [{ labels: { [row.label]: device, ...more, variant }, value: 1 }] };
  },
};

/** At most 64 characters, without control characters: a label value is printed raw by --stdout, the
 * Pushgateway's page and Grafana.
 */
function shortText(raw: unknown): string {
  return typeof raw === 'string' ? raw.replace(obeyedByTerminals, '').trim().slice(0, 64) : '';
}

const numberWithUnit = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([^\s\d.+-]\S*)?$/i;

/** A finite number in base units, or why not; a unit in the text wins over `unit` if it measures the same. */
export function readNumber(raw: unknown, unit: UnitSymbol): number | string {
  const match = typeof raw === 'string' ? numberWithUnit.exec(raw.trim()) : undefined;
  if (typeof raw !== 'number' && !match) return 'is not a number';
  const written = match?.[2];
  const scale = written === undefined ? units[unit] : unitOf(written);
  if (scale?.base !== units[unit].base) return `has unit ${written}, expected ${unit || 'none'}`;
  const result = ((typeof raw === 'number' ? raw : Number(match![1])) * scale.factor) / scale.divisor;
  return Number.isFinite(result) ? result : 'is not a finite number';
}

/** The word decides; a trailing digit, as in "(ENABLED) 1", may follow it. */
const flagWord = /^\(?\s*(enabled|disabled|on|off|true|false|1|0)\s*\)?(?:\s*[01])?$/i;

/** "(ENABLED) 1" → 1, "(DISABLED) 0" → 0; also plain 0/1 and booleans. */
function readFlag(raw: unknown): number | undefined {
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (raw === 0 || raw === 1) return raw;
  const word = typeof raw === 'string' ? flagWord.exec(raw.trim())?.[1] : undefined;
  return word === undefined ? undefined : /^(enabled|on|true|1)$/i.test(word) ? 1 : 0;
}

/** The stick's words as a label value: lower snake case, a leading "WIFI " dropped. */
export function stateLabel(text: string): string {
  return text
    .trim()
    .replace(/^wifi\s+/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function quote(raw: unknown): string {
  // JSON.parse makes 1e400 Infinity, which JSON.stringify would show as null: not what the stick sent.
  const finite = raw !== undefined && (typeof raw !== 'number' || Number.isFinite(raw));
  const text = finite ? JSON.stringify(raw) : String(raw);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
