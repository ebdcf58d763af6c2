/**
 * The project's documents keep up with the code: docs/trucki-stick-api.md names every catalogue key
 * with the catalogue's unit and metric, and shows what the simulator really serves at t = 0;
 * docs/migrating-from-trucki2prometheus.md maps or lists every metric family; and every section a
 * comment in src/ or test/ cites exists.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  allFamilies as families,
  liveCatalogue,
  onceCatalogue,
  signalQualities,
  wifiStates,
  type CatalogueRow,
} from '../../src/catalogue.js';
import { readPayload, type Payload, type Sample } from '../../src/parse.js';
import { livePayload, oncePayload } from '../../src/simulator/payload.js';
import { repoRoot } from '../helpers/paths.js';

/** A markdown file with its fenced code blocks blanked, so that a shell comment is not taken for a heading. */
const readDoc = (path: string) => readFileSync(`${repoRoot}${path}`, 'utf8').replace(/^```[^]*?^```$/gm, '');
const apiDoc = readDoc('docs/trucki-stick-api.md');
const migration = readDoc('docs/migrating-from-trucki2prometheus.md');

const headingLine = /^(#+) (.+)$/;

/** The text under a heading of any level, up to the next heading of the same or a higher level. */
function section(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => headingLine.exec(line)?.[2] === heading);
  assert.notEqual(start, -1, `no section "${heading}"`);
  const level = headingLine.exec(lines[start]!)![1]!.length;
  const levelOf = (line: string) => headingLine.exec(line)?.[1]?.length ?? Infinity;
  const end = lines.findIndex((line, index) => index > start && levelOf(line) <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

function headings(doc: string): string[] {
  return doc.split('\n').flatMap((line) => headingLine.exec(line)?.[2] ?? []);
}

type TableRow = Readonly<Record<string, string>>;

/** Every table row in `text`, as cells named by their table's header. */
function tableRows(text: string): TableRow[] {
  const rows: TableRow[] = [];
  let header: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      header = undefined;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    if (!header) header = cells;
    else if (!cells.every((cell) => /^-+$/.test(cell))) {
      rows.push(Object.fromEntries(header.map((name, index) => [name, cells[index] ?? ''])));
    }
  }
  return rows;
}

function cell(row: TableRow, column: string): string {
  const text = row[column];
  assert.ok(text !== undefined, `a table has no column "${column}": ${JSON.stringify(row)}`);
  return text;
}

/** Stick keys written as code: `VGRID`, `MQTT_ZEPC_VALUE`. */
const codeKeys = (text: string) => [...text.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!);
/** Metric family names at the start of a code span: `trucki_ac_power_watts{inverter="sun1"}`. */
const familyNames = (text: string) => [...text.matchAll(/`(trucki_[a-z0-9_]+)/g)].map((match) => match[1]!);

const allRows = [...liveCatalogue, ...onceCatalogue];
const catalogueKeys = new Set(allRows.map((row) => row.key));
const allFamilies = new Set(families.map((family) => family.name));

/** How the API doc's "stick unit" column writes a row's unit or way of reading. */
function docUnit(row: CatalogueRow): string {
  switch (row.read) {
    case 'number':
      return row.unit === '' ? 'none' : row.unit;
    case 'flag':
      return 'flag';
    case 'state':
      return 'state word';
    case 'text':
      return 'free text';
    case 'identity':
      return 'identity';
  }
}

describe('docs/trucki-stick-api.md', () => {
  for (const [heading, catalogue] of [
    ['/jsonlive', liveCatalogue],
    ['/jsononce', onceCatalogue],
  ] as const) {
    describe(`§ ${heading}`, () => {
      const rows = tableRows(section(apiDoc, heading)).filter((row) => 'metric' in row);
      const byKey = new Map(rows.flatMap((row) => codeKeys(cell(row, 'key')).map((key) => [key, row] as const)));

      test("names every catalogue key, with the catalogue's unit and metric family", () => {
        assert.ok(catalogue.length > 10);
        // The identity row has a section of its own, § Identity.
        for (const row of catalogue.filter(({ read }) => read !== 'identity')) {
          const docRow = byKey.get(row.key);
          assert.ok(docRow, `${row.key} is not in a table of § ${heading}`);
          assert.equal(cell(docRow, 'stick unit'), docUnit(row), `${row.key}: unit`);
          const named = familyNames(cell(docRow, 'metric'));
          assert.ok(named.includes(row.family.name), `${row.key}: metric should be ${row.family.name}`);
        }
      });

      test('names no key the catalogue does not read', () => {
        const keys = new Set(catalogue.map((row) => row.key));
        assert.deepEqual(
          [...byKey.keys()].filter((key) => !keys.has(key)),
          [],
        );
      });
    });
  }

  test('§ Identity names the keys trucki_stick_info is made from', () => {
    const identity = section(apiDoc, 'Identity');
    const keys = codeKeys(identity).filter((key) => key === 'DEVICENAME' || key === 'VERSION');
    assert.deepEqual(keys.sort(), ['DEVICENAME', 'VERSION']);
    const sample = readPayload({ DEVICENAME: 'T2HGA55A69', VERSION: '1.16' }, onceCatalogue).samples.find(
      ({ family }) => family.name === 'trucki_stick_info',
    );
    assert.deepEqual(sample?.labels, { device: 'T2HGA55A69', firmware: '1.16', variant: 'T2HG' });
  });

  const ignored = new Set(tableRows(section(apiDoc, 'Keys we ignore')).flatMap((row) => codeKeys(cell(row, 'key'))));

  test('§ Keys we ignore lists the secrets and the keys left out on purpose, none of them a catalogue key', () => {
    const required = [
      'ADMIN_PASS',
      'WIFIPASS',
      'MQTT_PASS',
      'METER_PASS',
      'BEARER',
      'METERURL',
      'UPTIME',
      'TIME',
      'LOCALIP',
      'BSSID',
    ];
    for (const key of required) {
      assert.ok(ignored.has(key), `${key} is not in § Keys we ignore`);
    }
    assert.deepEqual(
      [...ignored].filter((key) => catalogueKeys.has(key)),
      [],
    );
  });

  test('every key the simulator serves is read, a mirror, an identity key, or in § Keys we ignore', () => {
    const payloads = [livePayload('T2SG', 0), livePayload('T2MG', 0), oncePayload('T2SG'), oncePayload('T2MG')];
    const served = payloads.flatMap((payload) => Object.keys(payload));
    const accounted = (key: string) =>
      catalogueKeys.has(key) ||
      ignored.has(key) ||
      key.endsWith('PASS') ||
      key === 'DEVICENAME' ||
      key === 'VERSION' ||
      catalogueKeys.has(/^MQTT_(.+)_VALUE$/.exec(key)?.[1] ?? '');
    assert.deepEqual(
      [...new Set(served)].filter((key) => !accounted(key)),
      [],
    );
  });

  describe('§ Simulator values at t = 0', () => {
    const simulated = section(apiDoc, 'Simulator values at t = 0');
    const served = (heading: string) =>
      new Map(
        tableRows(section(simulated, heading)).map((row) => {
          const keys = codeKeys(cell(row, 'key'));
          assert.equal(keys.length, 1, JSON.stringify(row));
          const value = /^`(.*)`$/.exec(cell(row, 'served'))?.[1];
          assert.ok(value !== undefined, `served value of ${keys[0]} is not code`);
          return [keys[0]!, { value: JSON.parse(value) as unknown, pushed: cell(row, 'pushed') }] as const;
        }),
      );
    const t2sg = served('T2SG /jsonlive at t = 0');
    const t2mg = served('T2MG /jsonlive at t = 0');
    const once = served('/jsononce at t = 0');
    const valuesOf = (table: typeof t2sg) => Object.fromEntries([...table].map(([key, { value }]) => [key, value]));

    test('the T2SG table is exactly what the simulator serves', () => {
      assert.deepEqual(valuesOf(t2sg), livePayload('T2SG', 0));
    });

    test('the T2MG table and the common keys of the T2SG table are exactly what the simulator serves', () => {
      const payload = livePayload('T2MG', 0);
      const common = Object.fromEntries(
        Object.keys(payload)
          .filter((key) => !t2mg.has(key))
          .map((key) => [key, t2sg.get(key)?.value]),
      );
      assert.deepEqual({ ...common, ...valuesOf(t2mg) }, payload);
    });

    test('the /jsononce table is what both variants serve, but for the device name', () => {
      assert.deepEqual(valuesOf(once), oncePayload('T2SG'));
      assert.deepEqual({ ...oncePayload('T2MG'), DEVICENAME: 'T2SGA55A69' }, oncePayload('T2SG'));
    });

    /** What the job makes of a payload: its samples, the identity first. */
    const read = (payload: Payload, catalogue: readonly CatalogueRow[]): Sample[] =>
      readPayload(payload, catalogue).samples;

    for (const [heading, table, payload, catalogue] of [
      ['T2SG', t2sg, livePayload('T2SG', 0), liveCatalogue],
      ['T2MG', t2mg, livePayload('T2MG', 0), liveCatalogue],
      ['/jsononce', once, oncePayload('T2SG'), onceCatalogue],
    ] as const) {
      test(`${heading}: the "pushed" column is what the job makes of it`, () => {
        const samples = read(payload, catalogue);
        let checked = 0;
        for (const [key, { pushed }] of table) {
          const claim = /^`(trucki_[a-z0-9_]+)(\{[^}]*\})?` (-?\d+(?:\.\d+)?)$/.exec(pushed);
          if (claim) {
            const pairs = [...(claim[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)];
            const labels = Object.fromEntries(pairs.map((match) => [match[1]!, match[2]!]));
            const found = samples.some(
              (sample) =>
                sample.family.name === claim[1] &&
                sample.value === Number(claim[3]) &&
                Object.entries(labels).every(([name, value]) => sample.labels[name] === value),
            );
            const seen = samples.map((sample) => [sample.family.name, sample.labels, sample.value]);
            assert.ok(found, `${key}: no sample ${pushed} in ${JSON.stringify(seen)}`);
            checked++;
          } else if (pushed.startsWith('nothing')) {
            const without = Object.fromEntries(Object.entries(payload).filter(([other]) => other !== key));
            assert.deepEqual(read(without, catalogue), samples, `${key} pushes nothing, yet leaving it out matters`);
            checked++;
          }
        }
        assert.ok(checked >= table.size - 1, `only ${checked} of ${table.size} rows checked`);
      });
    }
  });
});

describe('docs/migrating-from-trucki2prometheus.md', () => {
  const mapping = tableRows(section(migration, 'Metric name mapping')).filter(
    (row) => 'trucki2pushgateway' in row && 'stick key' in row,
  );
  const mapped = new Set(mapping.flatMap((row) => familyNames(cell(row, 'trucki2pushgateway'))));
  const listedNew = new Set(
    tableRows(section(migration, 'New metrics')).flatMap((row) => familyNames(cell(row, 'metric'))),
  );

  test('every metric family is in the mapping table or listed as new', () => {
    assert.deepEqual(
      [...allFamilies].filter((name) => !mapped.has(name) && !listedNew.has(name)),
      [],
    );
  });

  test('the tables name no family the job does not have', () => {
    assert.deepEqual(
      [...mapped, ...listedNew].filter((name) => !allFamilies.has(name)),
      [],
    );
  });

  test('every metric of trucki2prometheus is in the mapping table', () => {
    const old = new Set(mapping.flatMap((row) => familyNames(cell(row, 'trucki2prometheus'))));
    // Every metric the Go exporter had; a fixed list, since that exporter is what users migrate from.
    const goExporter = [
      'trucki_voltage_grid',
      'trucki_voltage_battery',
      'trucki_set_ac_power',
      'trucki_inverter_temperature',
      'trucki_power_limit',
      'trucki_sun_2_round_trip',
      'trucki_sun_3_round_trip',
      'trucki_sun_2_set_point',
      'trucki_sun_3_set_point',
      'trucki_sun_2_power_limit',
      'trucki_sun_3_power_limit',
      'trucki_power_meter_readout',
      'trucki_day_energy_grid_output',
      'trucki_total_energy_grid_output',
      'trucki_power_meter_day_energy',
      'trucki_inverter_ac_power_output',
      'trucki_sun_2_ac_power_output',
      'trucki_sun_3_ac_power_output',
      'trucki_zero_export_control_power',
      'trucki_power_meter_power',
      'trucki_wifi_state',
      'trucki_wifi_rssi',
    ];
    assert.deepEqual(
      goExporter.filter((name) => !old.has(name)),
      [],
    );
  });

  test("each row's stick key lands in the family the row names", () => {
    let checked = 0;
    for (const row of mapping) {
      for (const key of cell(row, 'stick key').match(/\b[A-Z][A-Z0-9_]+\b/g) ?? []) {
        const catalogueRow = liveCatalogue.find((candidate) => candidate.key === key);
        assert.ok(catalogueRow, `${key} is not a /jsonlive catalogue key`);
        const named = familyNames(cell(row, 'trucki2pushgateway'));
        assert.ok(named.includes(catalogueRow.family.name), `${key} lands in ${catalogueRow.family.name}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `only ${checked} keys checked`);
  });

  test('the WLAN table names every state and quality the job knows, and no other', () => {
    const rows = tableRows(section(migration, 'WLAN state and signal'));
    const labels = (column: string) =>
      rows
        .filter((row) => column in row)
        .flatMap((row) => [...cell(row, column).matchAll(/`([a-z_]+)`/g)].map((match) => match[1]!))
        .sort();
    assert.deepEqual(labels('`trucki_wifi_state` label `state`'), [...wifiStates].sort());
    assert.deepEqual(labels('`trucki_wifi_signal_quality` label `quality`'), [...signalQualities].sort());
  });
});

describe('citations', () => {
  test('every § a comment in src/ or test/ cites is a heading of a document', () => {
    const documents = [
      'docs/trucki-stick-api.md',
      'docs/migrating-from-trucki2prometheus.md',
      'README.md',
      'CONTRIBUTING.md',
    ];
    const known = new Set(documents.flatMap((path) => headings(readDoc(path))));
    const cited: string[] = [];
    for (const dir of ['src', 'test']) {
      const files = readdirSync(`${repoRoot}${dir}`, { recursive: true, encoding: 'utf8' });
      for (const name of files.filter((file) => file.endsWith('.ts'))) {
        // Comment lines only; a citation does not wrap. It ends at , ; ) or a full stop.
        const lines = readFileSync(`${repoRoot}${dir}/${name}`, 'utf8').split('\n');
        const comments = lines.filter((line) => /^\s*(\*|\/\/|\/\*)/.test(line));
        for (const line of comments) {
          const citations = line.matchAll(/\u00a7 (.+?)(?=[,;)]|\.(?:\s|$)|\s*\*\/|$)/g);
          for (const match of citations) cited.push(`${dir}/${name}: ${match[1]!}`);
        }
      }
    }
    assert.ok(cited.length >= 3, `only ${cited.length} citations found`);
    assert.deepEqual(
      cited.filter((citation) => !known.has(citation.slice(citation.indexOf(': ') + 2))),
      [],
    );
  });
});
