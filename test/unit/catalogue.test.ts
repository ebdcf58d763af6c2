/**
 * The catalogue follows Prometheus naming conventions, covers every live key of the API doc
 * (docs/trucki-stick-api.md § /jsonlive, in the units of its tables; none of § Keys we ignore),
 * and every row yields its samples (test/e2e/catalogue.test.ts: promtool accepts the text).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { liveCatalogue, type CatalogueRow, type Family } from '../../src/catalogue.js';
import { expositionText } from '../../src/exposition.js';
import { readPayload } from '../../src/parse.js';
import { fullPayload } from '../helpers/catalogue-payload.js';
import { units, type UnitSymbol } from '../../src/units.js';

const unitWords = [
  'volts',
  'amperes',
  'watts',
  'seconds',
  'joules',
  'celsius',
  'ratio',
  'bytes',
  'meters',
  'grams',
  'percent',
  'kwh',
  'wh',
  'ms',
  'milliseconds',
  'kilowatts',
];

/** Every `/jsonlive` key in the API doc's tables with the unit the doc gives (undefined: text). */
const docLiveKeys: Record<string, UnitSymbol | undefined> = {
  VGRID: 'V',
  VBAT: 'V',
  TEMP: '°C',
  ACPOWER: 'W',
  ACPOWERSUN2: 'W',
  ACPOWERSUN3: 'W',
  SETACPOWER: 'W',
  SUN2SETPOINT: 'W',
  SUN3SETPOINT: 'W',
  POWERLIMIT: 'W',
  SUN2POWERLIMIT: 'W',
  SUN3POWERLIMIT: 'W',
  SUN2MINPOWER: 'W',
  SUN3MINPOWER: 'W',
  SUN2ROUNDTRIP: 'ms',
  SUN3ROUNDTRIP: 'ms',
  ZEPCPOWER: 'W',
  ZEPCTARGET: 'W',
  METERPOWER: 'W',
  METERREADOUT: 'ms',
  DAYENERGY: 'kWh',
  TOTALENERGY: 'kWh',
  METERDAYENERGY: 'kWh',
  WIFI: undefined,
  RSSI: undefined,
  // T2MG / T2HG
  DCPOWER: 'W',
  SETDCPOWER: 'W',
  IOUT: 'A',
  IOUTSET: 'A',
  VOUTSET: 'V',
  IOUTOFFLINE: 'A',
  VOUTOFFLINE: 'V',
  MWEFFICIENCY: '%',
  NEXTUPDATE: 's',
  FAULT: '',
  CHGSTATUS: '',
  SYSSTATUS: '',
  SYSCONFIG: '',
  CURVECFG: '',
  DAC: '',
  CALSTEP: '',
  MWPCSTATE: undefined,
  // MQTT_ keys without a plain twin
  MQTT_STATE_VALUE: undefined,
  MQTT_ZEPC_VALUE: undefined,
  MQTT_ACDISPLAY_VALUE: 'W',
  MQTT_MINPOWER_VALUE: 'W',
};

function labelKey(labels: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

function rowsOf(name: string): CatalogueRow[] {
  return liveCatalogue.filter((row) => row.family.name === name);
}

function rowOf(key: string): CatalogueRow {
  const row = liveCatalogue.find((candidate) => candidate.key === key);
  assert.ok(row, `no catalogue row for ${key}`);
  return row;
}

const families: Family[] = [...new Set(liveCatalogue.map((row) => row.family))];

describe('catalogue conventions', () => {
  test('the catalogue is not empty', () => {
    assert.ok(liveCatalogue.length >= Object.keys(docLiveKeys).length);
  });

  test('every family name matches /^trucki_[a-z0-9_]+$/', () => {
    for (const { name } of families) assert.match(name, /^trucki_[a-z0-9_]+$/);
  });

  test("a counter's name ends in _total, no gauge's does", () => {
    assert.ok(
      families.some((family) => family.type === 'counter'),
      'expected at least one counter',
    );
    for (const family of families) {
      if (family.type === 'counter') assert.match(family.name, /_total$/, family.name);
      else assert.doesNotMatch(family.name, /_total$/, family.name);
    }
  });

  test("a number row's name carries the base unit of its unit as a suffix (before _total)", () => {
    let checked = 0;
    for (const row of liveCatalogue) {
      if (row.read !== 'number') continue;
      const base = units[row.unit].base;
      const stem = row.family.name.replace(/_total$/, '');
      if (base === 'none') {
        for (const word of unitWords)
          assert.ok(!stem.endsWith(`_${word}`), `${row.key}: ${row.family.name} has no unit but ends in _${word}`);
      } else {
        assert.ok(stem.endsWith(`_${base}`), `${row.key} (${row.unit}): ${row.family.name} should end in _${base}`);
        checked++;
      }
    }
    assert.ok(checked > 20, `only ${checked} number rows with a unit`);
  });

  test('rows that are not numbers carry no unit suffix', () => {
    for (const row of liveCatalogue) {
      if (row.read === 'number') continue;
      for (const word of unitWords) assert.ok(!row.family.name.endsWith(`_${word}`), `${row.key}: ${row.family.name}`);
    }
  });

  test('every help is non-empty and ends with a period', () => {
    for (const { name, help } of families) {
      assert.ok(help.trim().length > 1, `${name} has no help`);
      assert.match(help, /\S\.$/, `${name}: ${JSON.stringify(help)}`);
    }
  });

  test('no two rows share a key', () => {
    const seen = new Set<string>();
    for (const { key } of liveCatalogue) {
      assert.ok(!seen.has(key), `${key} appears twice`);
      seen.add(key);
    }
  });

  test('no two rows produce the same (family name, labels) series', () => {
    const seen = new Map<string, string>();
    for (const row of liveCatalogue) {
      const series = `${row.family.name}${labelKey(row.labels)}`;
      assert.ok(!seen.has(series), `${row.key} and ${seen.get(series)} both produce ${series}`);
      seen.set(series, row.key);
    }
  });

  test('rows of one family have the same label names', () => {
    for (const { name } of families) {
      const shapes = new Set(
        rowsOf(name).map((row) => {
          const names = Object.keys(row.labels ?? {});
          if (row.read === 'state' || row.read === 'text') names.push(row.label);
          return JSON.stringify(names.sort());
        }),
      );
      assert.equal(shapes.size, 1, `${name} has rows with label names ${[...shapes].join(' and ')}`);
    }
  });

  test("a state or text row's own label does not clash with the row's fixed labels", () => {
    for (const row of liveCatalogue) {
      if (row.read === 'state' || row.read === 'text') assert.ok(!(row.label in (row.labels ?? {})), row.key);
    }
  });

  test('each family name is one family object of one type and help', () => {
    const byName = new Map<string, Family>();
    for (const row of liveCatalogue) {
      const seen = byName.get(row.family.name);
      if (seen) {
        assert.equal(row.family, seen, `${row.family.name} is declared twice`);
        assert.equal(row.family.type, seen.type, `${row.family.name} is both ${seen.type} and ${row.family.type}`);
        assert.equal(row.family.help, seen.help);
      } else byName.set(row.family.name, row.family);
      assert.ok(['gauge', 'counter'].includes(row.family.type), `${row.key}: ${row.family.type}`);
    }
  });

  test("every live key of the API doc has a row, number rows in the doc's unit", () => {
    for (const [key, unit] of Object.entries(docLiveKeys)) {
      const row = rowOf(key);
      if (unit === undefined) assert.notEqual(row.read, 'number', `${key} is text in the doc`);
      else {
        assert.equal(row.read, 'number', `${key} is a number in the doc`);
        assert.equal(row.unit, unit, `${key} is in ${unit} per the doc`);
      }
    }
  });

  test('no row reads a key whose format is unconfirmed or a secret', () => {
    for (const row of liveCatalogue) {
      assert.ok(!['UPTIME', 'TIME', 'LOCALIP', 'BSSID', 'BEARER'].includes(row.key), row.key);
      assert.doesNotMatch(row.key, /PASS$/);
    }
  });
});

describe('the names the spec requires', () => {
  const required: [key: string, name: string, labels?: Record<string, string>, type?: 'counter'][] = [
    ['VGRID', 'trucki_grid_voltage_volts'],
    ['VBAT', 'trucki_battery_voltage_volts'],
    ['TEMP', 'trucki_inverter_temperature_celsius'],
    ['ACPOWER', 'trucki_ac_power_watts', { inverter: 'sun1' }],
    ['ACPOWERSUN2', 'trucki_ac_power_watts', { inverter: 'sun2' }],
    ['ACPOWERSUN3', 'trucki_ac_power_watts', { inverter: 'sun3' }],
    ['SETACPOWER', 'trucki_ac_power_setpoint_watts'],
    ['POWERLIMIT', 'trucki_ac_power_limit_watts'],
    ['SUN2MINPOWER', 'trucki_ac_power_min_watts'],
    ['SUN2ROUNDTRIP', 'trucki_inverter_round_trip_seconds'],
    ['ZEPCPOWER', 'trucki_zero_export_power_watts'],
    ['ZEPCTARGET', 'trucki_zero_export_target_watts'],
    ['METERPOWER', 'trucki_meter_power_watts'],
    ['METERREADOUT', 'trucki_meter_readout_seconds'],
    ['DAYENERGY', 'trucki_energy_today_joules'],
    ['TOTALENERGY', 'trucki_energy_joules_total', undefined, 'counter'],
    ['METERDAYENERGY', 'trucki_meter_energy_today_joules'],
    ['WIFI', 'trucki_wifi_state'],
    ['RSSI', 'trucki_wifi_signal_quality'],
    ['DCPOWER', 'trucki_dc_power_watts'],
    ['SETDCPOWER', 'trucki_dc_power_setpoint_watts'],
    ['IOUT', 'trucki_battery_current_amperes'],
    ['IOUTSET', 'trucki_battery_current_setpoint_amperes'],
    ['VOUTSET', 'trucki_battery_voltage_setpoint_volts'],
    ['MWEFFICIENCY', 'trucki_charger_efficiency_ratio'],
  ];
  for (const [key, name, labels, type] of required) {
    test(`${key} → ${name}${labels ? labelKey(labels) : ''}${type ? ` (${type})` : ''}`, () => {
      const row = rowOf(key);
      assert.equal(row.family.name, name);
      if (labels) assert.deepEqual(row.labels, labels);
      assert.equal(row.family.type, type ?? 'gauge');
    });
  }
});

describe('exposition of every row', () => {
  test('a plausible value for every key gives at least one sample per row and no problem', () => {
    const reading = readPayload(fullPayload(), liveCatalogue);
    assert.deepEqual(reading.problems, []);
    for (const row of liveCatalogue) {
      const found = reading.samples.some(
        (sample) =>
          sample.family === row.family &&
          Object.entries(row.labels ?? {}).every(([name, value]) => sample.labels[name] === value),
      );
      assert.ok(found, `no sample for ${row.key}`);
    }
  });

  test('the registry shows each family with its # HELP and # TYPE', async () => {
    const text = await expositionText(readPayload(fullPayload(), liveCatalogue).samples);
    for (const family of families) {
      assert.ok(
        text.includes(`\n# TYPE ${family.name} ${family.type}\n`) ||
          text.startsWith(`# TYPE ${family.name} ${family.type}\n`),
        `missing "# TYPE ${family.name} ${family.type}"`,
      );
      assert.ok(text.includes(`# HELP ${family.name} ${family.help}\n`), `missing help of ${family.name}`);
    }
    // Exactly one TYPE line per family: rows of a family share one metric.
    assert.equal(text.match(/^# TYPE /gm)?.length, families.length);
  });
});
