/**
 * The migration guide's tables and the API document's values that the compat rules
 * (deploy/prometheus/trucki2prometheus-compat-rules.yml) are checked against: old name → stick key,
 * the old numbers of the Wi-Fi words, what the old exporter showed instead, what the simulator
 * serves at t = 0. Read from the documents, never from the rules.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { repoRoot } from './paths.js';

export const guide = await readFile(`${repoRoot}docs/migrating-from-trucki2prometheus.md`, 'utf8');
const apiDoc = await readFile(`${repoRoot}docs/trucki-stick-api.md`, 'utf8');
export const compatPath = `${repoRoot}deploy/prometheus/trucki2prometheus-compat-rules.yml`;
export const compat = await readFile(compatPath, 'utf8');

/** The body rows of the first Markdown table from `marker` on (a heading or the header line), as cells. */
function tableAfter(text: string, marker: string): string[][] {
  const start = text.indexOf(marker);
  assert.ok(start >= 0, `no "${marker}"`);
  const lines = text.slice(start).split('\n');
  const header = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  // After the header and its --- line, up to the first line that is not a row.
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** What the simulator's T2SG serves at t = 0, by key, as the API document writes it. */
const served = new Map(
  tableAfter(apiDoc, '### T2SG /jsonlive at t = 0').map(([key, value]) => [
    key!.replace(/`/g, ''),
    value!.replace(/`/g, '').replace(/^"|"$/g, ''),
  ]),
);
/** The old number of each state-set label, from the guide's "before" tables. */
const oldNumber = new Map(
  [
    ...tableAfter(guide, '| `trucki_wifi_state` before |').map((row) => ['state', ...row]),
    ...tableAfter(guide, '| `trucki_wifi_rssi` before |').map((row) => ['quality', ...row]),
  ].map(([kind, number, label]) => [`${kind}:${label!.replace(/`/g, '')}`, Number(number)]),
);
assert.equal(oldNumber.size, 10 + 5, 'the Wi-Fi tables of the guide were not found whole');

/** Old name → stick key, from the guide's mapping table (names and keys pair up in order). */
export const oldNames = new Map<string, string>();
for (const [names, keys] of tableAfter(guide, '| trucki2prometheus | stick key | trucki2pushgateway |')) {
  if (keys === '—') continue;
  const nameList = [...names!.matchAll(/`(trucki_\w+)`/g)].map((m) => m[1]!);
  const keyList = keys!.split(/,\s*/);
  assert.equal(nameList.length, keyList.length, `${names} | ${keys}`);
  nameList.forEach((name, i) => oldNames.set(name, keyList[i]!));
}

/**
 * Old names that showed something else than their key, and what: a number, or the key it read
 * instead (the first of the served keys the guide's cell names).
 */
export const showedInstead = new Map(
  tableAfter(guide, '| old name | what it showed | what to use instead |').map(([name, showed]) => {
    const number = /^-?\d+(?:\.\d+)?\b/.exec(showed!);
    const key = [...showed!.matchAll(/\b[A-Z][A-Z0-9]+\b/g)].map((m) => m[0]).find((word) => served.has(word));
    assert.ok(number ?? key, `${name}: "${showed}" names neither a number nor a key`);
    return [name!.replace(/`/g, ''), number ? Number(number[0]) : key!];
  }),
);
assert.equal(showedInstead.size, 4, "the guide's table of panels that showed something else was not found whole");

/** The stick's value for `key` as the old exporter showed it: the number it sends, or the state's old number. */
export function expectedFor(key: string): number {
  const value = served.get(key);
  assert.ok(value !== undefined, `the API document has no value at t = 0 for ${key}`);
  if (key === 'WIFI' || key === 'RSSI') {
    const label = value.toLowerCase().replace(/ /g, '_');
    const number = oldNumber.get(`${key === 'WIFI' ? 'state' : 'quality'}:${label}`);
    assert.ok(number !== undefined, `no old number for ${key} ${value}`);
    return number;
  }
  const number = Number.parseFloat(value);
  assert.ok(Number.isFinite(number), `${key}: ${value}`);
  return number;
}

/** trucki_wifi_state keeps its name with a new meaning; the old number is recorded under this one. */
const wifiCode = 'instance:trucki_wifi_state:code';
/** Where each old name's value is found: under its own name, but for trucki_wifi_state. */
export const recordedAs = (name: string) => (name === 'trucki_wifi_state' ? wifiCode : name);
