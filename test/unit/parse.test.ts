/**
 * The pure parser: from the stick's body to samples and problems, over every encoding the API doc
 * lists (docs/trucki-stick-api.md § Encodings, § Mirror keys), and the real captures of
 * § Simulator values at t = 0.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { liveCatalogue, onceCatalogue, signalQualities, unknownState, wifiStates } from '../../src/catalogue.js';
import {
  cataloguedPart,
  parsePayload,
  readAnswer,
  readNumber,
  readPayload,
  stateLabel,
  type Payload,
  type Reading,
  type Sample,
} from '../../src/parse.js';

function read(payload: Payload): Reading & { knownKeys: number } {
  return readPayload(payload, liveCatalogue);
}

function samplesOf(reading: Reading, family: string): Sample[] {
  return reading.samples.filter((sample) => sample.family.name === family);
}

/** The one sample of a family without extra labels; fails unless there is exactly one. */
function only(reading: Reading, family: string): Sample {
  const samples = samplesOf(reading, family);
  assert.equal(samples.length, 1, `expected one ${family} sample, got ${JSON.stringify(samples)}`);
  return samples[0]!;
}

describe('parsePayload', () => {
  test('a flat JSON object is the payload', () => {
    const result = parsePayload('{"VGRID": 234.2, "ACPOWER": "880.10 W", "WIFI": "CONNECTED"}');
    assert.ok('payload' in result, JSON.stringify(result));
    assert.deepEqual(result.payload, { VGRID: 234.2, ACPOWER: '880.10 W', WIFI: 'CONNECTED' });
  });

  test('an empty object is a (useless but valid) payload', () => {
    const result = parsePayload('{}');
    assert.ok('payload' in result);
    assert.deepEqual(result.payload, {});
  });

  for (const [what, text] of [
    ['array', '[1, 2, 3]'],
    ['array of objects', '[{"VGRID": 234.2}]'],
    ['string', '"CONNECTED"'],
    ['number', '234.2'],
    ['null', 'null'],
    ['boolean', 'true'],
  ] as const) {
    test(`JSON ${what} is an error, not a payload`, () => {
      const result = parsePayload(text);
      assert.ok('error' in result, `${text} was accepted: ${JSON.stringify(result)}`);
      assert.ok(!('payload' in result));
      assert.equal(typeof result.error, 'string');
      assert.notEqual(result.error, '');
    });
  }

  for (const text of [
    '<html><head><title>Login</title></head><body>…</body></html>',
    '<!DOCTYPE html>\n<html>',
    '\n  <html>',
  ]) {
    test(`an HTML page (${JSON.stringify(text.slice(0, 15))}) is an error that says HTML`, () => {
      const result = parsePayload(text);
      assert.ok('error' in result, JSON.stringify(result));
      assert.match(result.error, /HTML/);
    });
  }

  test('JSON of more objects and arrays, or deeper, than a stick ever sends is an error, not parsed', () => {
    for (const text of [`{"a":[${'{},'.repeat(100_000)}{}]}`, `{"a":${'['.repeat(65)}${']'.repeat(65)}}`]) {
      const result = parsePayload(text);
      assert.ok('error' in result, text.slice(0, 40));
      assert.match(
        result.error,
        /^sent JSON that (holds more than 100000 objects and arrays|nests deeper than 64 levels)$/,
      );
    }
    // Brackets inside strings are text, not structure.
    assert.ok('payload' in parsePayload(JSON.stringify({ WIFI: '['.repeat(1000) + '{'.repeat(200_000) })));
  });

  for (const text of ['{"VGRID": 234.2, "ACPOW', '{"VGRID": 234', '{', '', 'VGRID=234.2']) {
    test(`broken JSON ${JSON.stringify(text)} is an error`, () => {
      const result = parsePayload(text);
      assert.ok('error' in result, JSON.stringify(result));
      assert.ok(!('payload' in result));
      assert.equal(typeof result.error, 'string');
      assert.doesNotMatch(result.error, /HTML/);
    });
  }
});

describe('readAnswer: is it a Trucki?', () => {
  const notTrucki = /^answered JSON, but no Trucki key: is this a Trucki stick\?$/;
  for (const [what, text] of [
    ["a smart plug's status", '{"ison":true,"apower":12.5}'],
    ['an empty object', '{}'],
    ['keys in the wrong case', '{"vgrid":234.2,"Acpower":"880 W","wifi":"CONNECTED"}'],
    ['a Trucki key nested one level down', '{"status":{"VGRID":234.2,"WIFI":"CONNECTED"}}'],
    ['an ignored key only (UPTIME, LOCALIP)', '{"UPTIME":"1d 02:03:04","LOCALIP":"192.168.1.50"}'],
    [
      'a large object with no known key',
      JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`key${index}`, index]))),
    ],
  ] as const) {
    test(`${what}: not a Trucki answer, in words`, () => {
      const answer = readAnswer(text, liveCatalogue);
      assert.ok('error' in answer, JSON.stringify(answer).slice(0, 200));
      assert.match(answer.error, notTrucki);
    });
  }

  test('a Trucki key under __proto__ or beside inherited names is not a known key', () => {
    for (const text of ['{"__proto__":{"VGRID":234.2}}', '{"constructor":1,"toString":"x","hasOwnProperty":2}']) {
      const answer = readAnswer(text, liveCatalogue);
      assert.ok('error' in answer, text);
      assert.match(answer.error, notTrucki);
    }
  });

  test('a JSON array, number or null is still refused as not an object', () => {
    for (const text of ['[]', '[{"VGRID":234.2}]', '42', 'null', '"VGRID"']) {
      const answer = readAnswer(text, liveCatalogue);
      assert.ok('error' in answer, text);
      assert.match(answer.error, /^sent JSON \w+, not an object$/, text);
    }
  });

  test('known keys of the wrong type only: not a Trucki answer, naming what could not be read', () => {
    const answer = readAnswer('{"RSSI":-67,"VGRID":{"value":234.2},"TEMP":true,"ison":true}', liveCatalogue);
    assert.ok('error' in answer, JSON.stringify(answer));
    assert.equal(
      answer.error,
      'answered JSON, but none of its 3 Trucki keys could be read (VGRID {"value":234.2} is not a number, and 2 more): is this a Trucki stick?',
    );
    const one = readAnswer('{"WIFI":5}', liveCatalogue);
    assert.ok('error' in one);
    assert.match(one.error, /none of its 1 Trucki key could be read \(WIFI 5 is not a state\)/);
  });

  test('a number beyond the float range (1e400) is named as Infinity, not as null, which the stick did not send', () => {
    const answer = readAnswer('{"VGRID":1e400,"ACPOWER":-1e400}', liveCatalogue);
    assert.ok('error' in answer, JSON.stringify(answer));
    assert.match(answer.error, /\(VGRID Infinity is not a finite number, and 1 more\)/);
    const partial = readAnswer('{"VGRID":234.2,"ACPOWER":-1e400}', liveCatalogue);
    assert.ok(!('error' in partial));
    assert.deepEqual(partial.problems, ['ACPOWER -Infinity is not a finite number']);
  });

  test('one known key read is a Trucki answer: a partial answer keeps what it has', () => {
    const answer = readAnswer('{"VGRID":234.2,"ison":true}', liveCatalogue);
    assert.ok(!('error' in answer), JSON.stringify(answer));
    assert.equal(answer.knownKeys, 1);
    assert.equal(only(answer, 'trucki_grid_voltage_volts').value, 234.2);
  });

  test('one key read among unreadable ones is a Trucki answer, the others named as problems', () => {
    const answer = readAnswer('{"ACPOWER":"--- W","VGRID":"---","WIFI":"CONNECTED"}', liveCatalogue);
    assert.ok(!('error' in answer), JSON.stringify(answer));
    assert.equal(answer.knownKeys, 3);
    assert.equal(answer.problems.length, 2);
  });

  test('a mirror-only answer (MQTT_…_VALUE keys) is a Trucki answer', () => {
    const answer = readAnswer('{"MQTT_VGRID_VALUE":234.2,"MQTT_STATE_VALUE":"ON"}', liveCatalogue);
    assert.ok(!('error' in answer), JSON.stringify(answer));
    assert.equal(answer.knownKeys, 2);
  });

  test('control characters in the identity (ESC, C1 CSI, a bidi override, a line break) never reach a label', () => {
    const answer = readAnswer(
      JSON.stringify({ DEVICENAME: 'T2SG\u001b[31mA55\u009b2J\u202eX', VERSION: '1.16\r\nforged 1' }),
      onceCatalogue,
    );
    assert.ok(!('error' in answer), JSON.stringify(answer));
    const [info] = answer.samples;
    assert.deepEqual(info?.labels, { device: 'T2SG[31mA552JX', firmware: '1.16forged 1', variant: 'T2SG' });
  });

  test('/jsononce: the identity alone is a Trucki answer; secrets alone are not', () => {
    assert.ok(!('error' in readAnswer('{"DEVICENAME":"T2SGA55A69"}', onceCatalogue)));
    const secrets = readAnswer('{"ADMIN_PASS":"hunter2","WIFIPASS":"x"}', onceCatalogue);
    assert.ok('error' in secrets);
    assert.match(secrets.error, notTrucki);
    assert.doesNotMatch(secrets.error, /hunter2/);
  });
});

describe('cataloguedPart: what the identity cache may keep of an answer', () => {
  test('the keys the catalogue reads, mirrors and the keys read beside an identity; no secret, no object', () => {
    const answer = {
      DEVICENAME: 'T2SGA55A69',
      VERSION: '1.16',
      MQTT_VGRID_VALUE: 230,
      ADMIN_PASS: 'hunter2',
      WIFIPASS: 'x',
      BEARER: 'token',
      hello: 1,
    };
    const part = cataloguedPart(answer, onceCatalogue);
    assert.deepEqual(part, { DEVICENAME: 'T2SGA55A69', VERSION: '1.16' });
    assert.deepEqual(cataloguedPart({ VGRID: 1, MQTT_VGRID_VALUE: 2, ACPOWER: { deep: [1] } }, liveCatalogue), {
      VGRID: 1,
    });
    // Read back, the part gives what the whole answer gave.
    assert.deepEqual(readPayload(part, onceCatalogue), readPayload(answer, onceCatalogue));
  });
});

describe('readPayload: knownKeys', () => {
  test('counts each catalogue key once, its mirror standing in for it, and nothing else', () => {
    assert.equal(readPayload({}, liveCatalogue).knownKeys, 0);
    assert.equal(readPayload({ ison: true, apower: 12.5 }, liveCatalogue).knownKeys, 0);
    assert.equal(readPayload({ VGRID: 1, MQTT_VGRID_VALUE: 1, ACPOWER: 'x', UPTIME: 5 }, liveCatalogue).knownKeys, 2);
    assert.equal(readPayload({ MQTT_ACPOWER_VALUE: 1 }, liveCatalogue).knownKeys, 1);
    assert.equal(readPayload({ VGRID: 1 }, onceCatalogue).knownKeys, 0);
  });

  test('a whole simulated answer counts every key it holds', () => {
    const payload = Object.fromEntries(liveCatalogue.map((row) => [row.key, 1]));
    assert.equal(readPayload(payload, liveCatalogue).knownKeys, liveCatalogue.length);
  });
});

describe('readNumber', () => {
  const good: [raw: unknown, unit: Parameters<typeof readNumber>[1], expected: number][] = [
    // JSON numbers
    [234.2, 'V', 234.2],
    [57, '°C', 57],
    [868, 'W', 868],
    [0, 'W', 0],
    [-50.19, 'W', -50.19],
    // numbers in strings
    ['1000', 'W', 1000],
    ['234.2', 'V', 234.2],
    ['-12.5', 'W', -12.5],
    // numbers with a unit, with and without the space
    ['880.10 W', 'W', 880.1],
    ['880.10W', 'W', 880.1],
    ['-50.19 W', 'W', -50.19],
    ['21.95 W', 'W', 21.95],
    ['12 ms', 'ms', 0.012],
    ['12ms', 'ms', 0.012],
    // padded numbers
    [' 0', '', 0],
    ['  512', '', 512],
    ['  7  ', '', 7],
    // a different unit of the same dimension converts
    ['0.012 s', 'ms', 0.012],
    ['400 Wh', 'kWh', 1440000],
    ['1.5 kW', 'W', 1500],
    // the row's own unit converts a bare number
    [12, 'ms', 0.012],
    [0.4, 'kWh', 1440000],
    [95, '%', 0.95],
    ['95 %', '%', 0.95],
  ];
  for (const [raw, unit, expected] of good) {
    test(`${JSON.stringify(raw)} on a '${unit}' row is ${expected}`, () => {
      assert.equal(readNumber(raw, unit), expected);
    });
  }

  test('a unit of another dimension is refused: "5 V" on a W row', () => {
    const result = readNumber('5 V', 'W');
    assert.equal(typeof result, 'string');
    assert.match(result as string, /V/);
  });

  for (const [raw, unit] of [
    ['5 A', 'V'],
    ['12 W', 'ms'],
    ['3 s', 'kWh'],
    ['57 °C', 'W'],
    ['5 W', ''],
    ['5 xyz', 'W'],
  ] as const) {
    test(`${JSON.stringify(raw)} on a '${unit}' row is refused`, () => {
      assert.equal(typeof readNumber(raw, unit), 'string');
    });
  }

  const bad: [what: string, raw: unknown][] = [
    ['empty string', ''],
    ['blank string', '   '],
    ['"nan"', 'nan'],
    ['"NaN"', 'NaN'],
    ['"Infinity"', 'Infinity'],
    ['null', null],
    ['undefined', undefined],
    ['"--- W"', '--- W'],
    ['"-- W"', '-- W'],
    ['an object', { value: 5 }],
    ['an array', [5]],
    ['an empty array', []],
    ['true', true],
    ['false', false],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
    ['"1e999"', '1e999'],
    ['"-1e999 W"', '-1e999 W'],
    ['free text', 'CONNECTED'],
    ['an IP address', '192.168.1.5'],
  ];
  for (const [what, raw] of bad) {
    for (const unit of ['W', ''] as const) {
      test(`${what} on a '${unit}' row yields a reason, not a number`, () => {
        const result = readNumber(raw, unit);
        assert.equal(typeof result, 'string', `got ${String(result)}`);
        assert.notEqual(result, '');
      });
    }
  }
});

describe('readPayload', () => {
  test('absent keys yield no sample and no problem', () => {
    assert.deepEqual(read({}), { samples: [], problems: [], knownKeys: 0 });
    // Keys the catalogue does not know (format unconfirmed) are ignored too.
    assert.deepEqual(
      read({
        UPTIME: '1d 02:03:04',
        TIME: '12:00',
        LOCALIP: '192.168.1.5',
        BSSID: 'AA:BB:CC:DD:EE:FF',
        ACSETPOINTOVR: '',
      }),
      { samples: [], problems: [], knownKeys: 0 },
    );
  });

  test('a real T2SG capture reads without problems', () => {
    const reading = read({
      VGRID: 234.2,
      VBAT: 24.5,
      TEMP: 57,
      SETACPOWER: 868,
      ACPOWER: '880.10 W',
      METERPOWER: '21.95 W',
      DAYENERGY: 0.4,
    });
    assert.deepEqual(reading.problems, []);
    assert.equal(reading.samples.length, 7);
    assert.equal(only(reading, 'trucki_grid_voltage_volts').value, 234.2);
    assert.equal(only(reading, 'trucki_battery_voltage_volts').value, 24.5);
    assert.equal(only(reading, 'trucki_inverter_temperature_celsius').value, 57);
    assert.equal(only(reading, 'trucki_ac_power_setpoint_watts').value, 868);
    assert.equal(only(reading, 'trucki_ac_power_watts').value, 880.1);
    assert.equal(only(reading, 'trucki_meter_power_watts').value, 21.95);
    assert.equal(only(reading, 'trucki_energy_today_joules').value, 1440000);
  });

  test('a real T2MG capture reads without problems', () => {
    const reading = read({ IOUT: 12.47, VOUTSET: 28.8, MWEFFICIENCY: 95, FAULT: ' 0', METERPOWER: '-50.19 W' });
    assert.deepEqual(reading.problems, []);
    assert.equal(only(reading, 'trucki_battery_current_amperes').value, 12.47);
    assert.equal(only(reading, 'trucki_battery_voltage_setpoint_volts').value, 28.8);
    assert.equal(only(reading, 'trucki_charger_efficiency_ratio').value, 0.95);
    assert.equal(only(reading, 'trucki_charger_fault_code').value, 0);
    assert.equal(only(reading, 'trucki_meter_power_watts').value, -50.19);
  });

  test('a bad value yields no sample for its key, a problem naming the key, and the rest still comes out', () => {
    const reading = read({ VGRID: 'nan', TEMP: 57, ACPOWER: '880.10 W', METERPOWER: '--- W', VBAT: 24.5 });
    assert.equal(samplesOf(reading, 'trucki_grid_voltage_volts').length, 0);
    assert.equal(samplesOf(reading, 'trucki_meter_power_watts').length, 0);
    assert.equal(only(reading, 'trucki_inverter_temperature_celsius').value, 57);
    assert.equal(only(reading, 'trucki_ac_power_watts').value, 880.1);
    assert.equal(only(reading, 'trucki_battery_voltage_volts').value, 24.5);
    assert.equal(reading.problems.length, 2, JSON.stringify(reading.problems));
    assert.ok(
      reading.problems.some((problem) => problem.includes('VGRID')),
      JSON.stringify(reading.problems),
    );
    assert.ok(
      reading.problems.some((problem) => problem.includes('METERPOWER') && problem.includes('--- W')),
      JSON.stringify(reading.problems),
    );
  });

  for (const raw of ['', 'nan', 'NaN', null, '--- W', { a: 1 }, [234.2], true, '1e999', '5 A']) {
    test(`VGRID ${JSON.stringify(raw)} yields no sample and one problem naming VGRID`, () => {
      const reading = read({ VGRID: raw, VBAT: 24.5 });
      assert.equal(samplesOf(reading, 'trucki_grid_voltage_volts').length, 0);
      assert.equal(reading.problems.length, 1, JSON.stringify(reading.problems));
      assert.match(reading.problems[0]!, /VGRID/);
      assert.equal(only(reading, 'trucki_battery_voltage_volts').value, 24.5);
    });
  }

  test('no sample carries a non-finite value, whatever the payload', () => {
    const reading = read({
      VGRID: '1e999',
      VBAT: 'Infinity',
      TEMP: 'NaN',
      ACPOWER: '-1e999 W',
      DAYENERGY: '1e308',
      TOTALENERGY: '1e308',
    });
    for (const sample of reading.samples) assert.ok(Number.isFinite(sample.value), JSON.stringify(sample));
    assert.equal(samplesOf(reading, 'trucki_grid_voltage_volts').length, 0);
    // 1e308 kWh overflows once converted to joules.
    assert.equal(samplesOf(reading, 'trucki_energy_today_joules').length, 0);
    assert.equal(samplesOf(reading, 'trucki_energy_joules_total').length, 0);
  });

  describe('mirror keys', () => {
    test('VGRID and MQTT_VGRID_VALUE together give exactly one sample, from VGRID', () => {
      const reading = read({ VGRID: 234.2, MQTT_VGRID_VALUE: 230.0 });
      assert.equal(only(reading, 'trucki_grid_voltage_volts').value, 234.2);
      assert.deepEqual(reading.problems, []);
    });

    test('the plain key wins even when the mirror is a string of the same figure', () => {
      const reading = read({ ACPOWER: '880.10 W', MQTT_ACPOWER_VALUE: '881 W' });
      assert.equal(only(reading, 'trucki_ac_power_watts').value, 880.1);
    });

    test('only MQTT_VGRID_VALUE gives the sample from the mirror', () => {
      const reading = read({ MQTT_VGRID_VALUE: 231.5 });
      const sample = only(reading, 'trucki_grid_voltage_volts');
      assert.equal(sample.value, 231.5);
      assert.deepEqual(reading.problems, []);
    });

    test('a bad mirror is a problem naming the mirror key', () => {
      const reading = read({ MQTT_VGRID_VALUE: 'nan' });
      assert.equal(reading.samples.length, 0);
      assert.equal(reading.problems.length, 1);
      assert.match(reading.problems[0]!, /MQTT_VGRID_VALUE/);
    });
  });

  describe('conversions to base units', () => {
    test('DAYENERGY 0.4 kWh is 1440000 J', () => {
      assert.equal(only(read({ DAYENERGY: 0.4 }), 'trucki_energy_today_joules').value, 1440000);
    });

    test('METERDAYENERGY 1.5 kWh is 5400000 J', () => {
      assert.equal(only(read({ METERDAYENERGY: 1.5 }), 'trucki_meter_energy_today_joules').value, 5400000);
    });

    test('TOTALENERGY kWh becomes joules on the counter family', () => {
      const sample = only(read({ TOTALENERGY: 1234.5 }), 'trucki_energy_joules_total');
      assert.equal(sample.family.type, 'counter');
      assert.equal(sample.value, 1234.5 * 3.6e6);
      assert.equal(only(read({ TOTALENERGY: '2 kWh' }), 'trucki_energy_joules_total').value, 7200000);
    });

    test('METERREADOUT 180 ms is 0.18 s', () => {
      assert.equal(only(read({ METERREADOUT: 180 }), 'trucki_meter_readout_seconds').value, 0.18);
    });

    test('MWEFFICIENCY 95 % is exactly 0.95', () => {
      assert.equal(only(read({ MWEFFICIENCY: 95 }), 'trucki_charger_efficiency_ratio').value, 0.95);
    });

    test('SUN2ROUNDTRIP "12 ms" is 0.012 s with inverter="sun2"', () => {
      const sample = only(read({ SUN2ROUNDTRIP: '12 ms' }), 'trucki_inverter_round_trip_seconds');
      assert.equal(sample.value, 0.012);
      assert.deepEqual(sample.labels, { inverter: 'sun2' });
    });

    test('SUN3ROUNDTRIP "7ms" is 0.007 s with inverter="sun3"', () => {
      const sample = only(read({ SUN3ROUNDTRIP: '7ms' }), 'trucki_inverter_round_trip_seconds');
      assert.equal(sample.value, 0.007);
      assert.deepEqual(sample.labels, { inverter: 'sun3' });
    });

    test('METERPOWER "-50.19 W" is -50.19 (export stays negative)', () => {
      assert.equal(only(read({ METERPOWER: '-50.19 W' }), 'trucki_meter_power_watts').value, -50.19);
    });

    test('METERPOWER lands in the meter family and ZEPCPOWER in the zero-export family (the Go exporter mixed them up)', () => {
      const reading = read({ METERPOWER: '-50.19 W', ZEPCPOWER: '300 W' });
      assert.equal(only(reading, 'trucki_meter_power_watts').value, -50.19);
      assert.equal(only(reading, 'trucki_zero_export_power_watts').value, 300);
    });

    test('ACPOWER, ACPOWERSUN2, ACPOWERSUN3 are trucki_ac_power_watts for sun1, sun2, sun3', () => {
      const reading = read({ ACPOWER: '880.10 W', ACPOWERSUN2: '400.5 W', ACPOWERSUN3: '0.00 W' });
      const byInverter = Object.fromEntries(
        samplesOf(reading, 'trucki_ac_power_watts').map((sample) => [sample.labels['inverter']!, sample.value]),
      );
      assert.deepEqual(byInverter, { sun1: 880.1, sun2: 400.5, sun3: 0 });
      assert.equal(samplesOf(reading, 'trucki_ac_power_watts').length, 3);
      for (const sample of samplesOf(reading, 'trucki_ac_power_watts'))
        assert.deepEqual(Object.keys(sample.labels), ['inverter']);
    });

    test('a negative TOTALENERGY is refused: a counter cannot go below zero', () => {
      for (const raw of [-5, '-5', '-1 kWh']) {
        const reading = read({ TOTALENERGY: raw, DAYENERGY: 0.4 });
        assert.equal(samplesOf(reading, 'trucki_energy_joules_total').length, 0, `${JSON.stringify(raw)} was exported`);
        assert.equal(reading.problems.length, 1);
        assert.match(reading.problems[0]!, /TOTALENERGY/);
        assert.equal(only(reading, 'trucki_energy_today_joules').value, 1440000);
      }
    });

    test('a negative gauge reading is kept', () => {
      assert.equal(only(read({ ZEPCTARGET: -20 }), 'trucki_zero_export_target_watts').value, -20);
    });
  });

  describe('state sets', () => {
    function stateSet(
      raw: unknown,
      key = 'WIFI',
      family = 'trucki_wifi_state',
      label = 'state',
      states: readonly string[] = wifiStates,
    ) {
      const reading = read({ [key]: raw });
      const samples = samplesOf(reading, family);
      assert.equal(samples.length, states.length + 1, JSON.stringify(samples));
      assert.deepEqual(samples.map((sample) => sample.labels[label]).sort(), [...states, unknownState].sort());
      for (const sample of samples) {
        assert.deepEqual(Object.keys(sample.labels), [label]);
        assert.ok(sample.value === 0 || sample.value === 1, JSON.stringify(sample));
      }
      const on = samples.filter((sample) => sample.value === 1);
      assert.equal(on.length, 1, `exactly one state is 1: ${JSON.stringify(on)}`);
      return { current: on[0]!.labels[label], problems: reading.problems };
    }

    for (const [raw, expected] of [
      ['CONNECTED', 'connected'],
      ['WIFI CONNECTED', 'connected'],
      ['DISCONNECTED', 'disconnected'],
      ['CONNECTING...', 'connecting'],
      ['not set', 'not_set'],
      ['NO SHIELD', 'no_shield'],
      ['IDLE STATUS', 'idle_status'],
      ['CONNECT FAILED', 'connect_failed'],
      ['NO SSID AVAIL', 'no_ssid_avail'],
      ['SCAN COMPLETED', 'scan_completed'],
      ['CONNECTION_LOST', 'connection_lost'],
    ] as const) {
      test(`WIFI ${JSON.stringify(raw)} → ${expected} = 1, every other state 0`, () => {
        const { current, problems } = stateSet(raw);
        assert.equal(current, expected);
        assert.deepEqual(problems, []);
      });
    }

    for (const [raw, expected] of [
      ['Bad', 'bad'],
      ['Not good', 'not_good'],
      ['Okay', 'okay'],
      ['Fairly good', 'fairly_good'],
      ['Very good', 'very_good'],
    ] as const) {
      test(`RSSI ${JSON.stringify(raw)} → quality="${expected}"`, () => {
        const { current, problems } = stateSet(raw, 'RSSI', 'trucki_wifi_signal_quality', 'quality', signalQualities);
        assert.equal(current, expected);
        assert.deepEqual(problems, []);
      });
    }

    test('MQTT_STATE_VALUE "ON" → trucki_run_state{state="on"} 1', () => {
      const { current, problems } = stateSet('ON', 'MQTT_STATE_VALUE', 'trucki_run_state', 'state', ['on', 'off']);
      assert.equal(current, 'on');
      assert.deepEqual(problems, []);
    });

    test('unknown text "SOMETHING NEW" → unknown = 1 and a problem naming WIFI', () => {
      const { current, problems } = stateSet('SOMETHING NEW');
      assert.equal(current, unknownState);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /WIFI/);
    });

    for (const raw of ['', '   ', '...', null, 3, true, { state: 'CONNECTED' }]) {
      test(`WIFI ${JSON.stringify(raw)} → no samples, a problem`, () => {
        const reading = read({ WIFI: raw, VGRID: 234.2 });
        assert.equal(samplesOf(reading, 'trucki_wifi_state').length, 0);
        assert.equal(reading.problems.length, 1);
        assert.match(reading.problems[0]!, /WIFI/);
        assert.equal(only(reading, 'trucki_grid_voltage_volts').value, 234.2);
      });
    }
  });

  describe('zero-export control flag', () => {
    test('"(ENABLED) 1" → 1', () => {
      const reading = read({ MQTT_ZEPC_VALUE: '(ENABLED) 1' });
      assert.equal(only(reading, 'trucki_zero_export_control_enabled').value, 1);
      assert.deepEqual(reading.problems, []);
    });

    test('"(DISABLED) 0" → 0', () => {
      const reading = read({ MQTT_ZEPC_VALUE: '(DISABLED) 0' });
      assert.equal(only(reading, 'trucki_zero_export_control_enabled').value, 0);
      assert.deepEqual(reading.problems, []);
    });

    for (const raw of ['garbage', '', null, 7, { enabled: true }]) {
      test(`${JSON.stringify(raw)} → no sample, a problem naming MQTT_ZEPC_VALUE`, () => {
        const reading = read({ MQTT_ZEPC_VALUE: raw });
        assert.equal(samplesOf(reading, 'trucki_zero_export_control_enabled').length, 0);
        assert.equal(reading.problems.length, 1);
        assert.match(reading.problems[0]!, /MQTT_ZEPC_VALUE/);
      });
    }
  });

  describe('charger control state (info-style text)', () => {
    test('MWPCSTATE "CHARGING" → trucki_charger_control_state_info{state="charging"} 1', () => {
      const reading = read({ MWPCSTATE: 'CHARGING' });
      const sample = only(reading, 'trucki_charger_control_state_info');
      assert.deepEqual(sample.labels, { state: 'charging' });
      assert.equal(sample.value, 1);
      assert.deepEqual(reading.problems, []);
    });

    for (const raw of ['', null, 5]) {
      test(`MWPCSTATE ${JSON.stringify(raw)} → no sample, a problem`, () => {
        const reading = read({ MWPCSTATE: raw });
        assert.equal(reading.samples.length, 0);
        assert.equal(reading.problems.length, 1);
        assert.match(reading.problems[0]!, /MWPCSTATE/);
      });
    }
  });

  describe('secrets and hostile keys', () => {
    const secrets = {
      ADMIN_PASS: 'adm1n-s3cret',
      METER_PASS: 'm3ter-s3cret',
      MQTT_PASS: 'mqtt-s3cret',
      WIFIPASS: 'w1fi-s3cret',
      BEARER: 'bearer-s3cret',
      OTHERPASS: 'other-s3cret',
    };

    test('/jsononce secrets in a payload yield no sample and never appear in problems', () => {
      const reading = read({ ...secrets, VGRID: 234.2, VBAT: 'nan', WIFI: 'SOMETHING NEW' });
      const families = new Set(reading.samples.map((sample) => sample.family.name));
      assert.deepEqual([...families].sort(), ['trucki_grid_voltage_volts', 'trucki_wifi_state']);
      assert.equal(reading.problems.length, 2, JSON.stringify(reading.problems));
      const text = JSON.stringify(reading);
      for (const [key, value] of Object.entries(secrets)) {
        assert.ok(!text.includes(value), `${key}'s value leaked: ${text}`);
        for (const problem of reading.problems) assert.ok(!problem.includes(key), `${key} named in ${problem}`);
      }
    });

    test('a payload of nothing but secrets yields nothing at all', () => {
      assert.deepEqual(read(secrets), { samples: [], problems: [], knownKeys: 0 });
    });

    test('"__proto__", "constructor" and other Object.prototype names as keys break nothing', () => {
      const parsed = parsePayload(
        '{"__proto__": {"VGRID": 999, "TEMP": 999}, "constructor": {"prototype": 1}, "hasOwnProperty": 1, "toString": "x", "valueOf": null, "TEMP": 57}',
      );
      assert.ok('payload' in parsed, JSON.stringify(parsed));
      const reading = read(parsed.payload);
      assert.deepEqual(reading.problems, []);
      assert.equal(reading.samples.length, 1, JSON.stringify(reading.samples));
      assert.equal(only(reading, 'trucki_inverter_temperature_celsius').value, 57);
      // Nothing leaked onto Object.prototype.
      assert.equal(({} as Record<string, unknown>)['VGRID'], undefined);
    });

    test('a payload whose "__proto__" key holds a catalogue-looking object yields nothing', () => {
      const payload = JSON.parse('{"__proto__": {"VGRID": 234.2, "WIFI": "CONNECTED"}}') as Payload;
      assert.deepEqual(read(payload), { samples: [], problems: [], knownKeys: 0 });
    });

    test("an inherited key is not read as the stick's", () => {
      const payload = Object.create({ VGRID: 234.2 }) as Payload;
      assert.deepEqual(read(payload), { samples: [], problems: [], knownKeys: 0 });
    });

    test('a payload without a prototype reads normally', () => {
      const payload = Object.assign(Object.create(null) as Record<string, unknown>, { VGRID: 234.2 });
      assert.equal(only(read(payload), 'trucki_grid_voltage_volts').value, 234.2);
    });
  });
});

describe('stateLabel', () => {
  for (const [text, expected] of [
    ['CONNECTED', 'connected'],
    ['WIFI CONNECTED', 'connected'],
    ['wifi  connected', 'connected'],
    ['CONNECTING...', 'connecting'],
    ['not set', 'not_set'],
    ['Fairly good', 'fairly_good'],
    ['NO SSID AVAIL', 'no_ssid_avail'],
    ['CONNECTION_LOST', 'connection_lost'],
    ['  Very good  ', 'very_good'],
    ['(ENABLED) 1', 'enabled_1'],
    ['CHARGING', 'charging'],
    ['', ''],
    ['...', ''],
  ] as const) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(stateLabel(text), expected);
    });
  }

  test('every label is lower snake case', () => {
    for (const text of ['Ü-Bär straße', 'A  B--C', 'x\ty\nz', 'MIXED Case 42']) {
      assert.match(stateLabel(text), /^([a-z0-9]+(_[a-z0-9]+)*)?$/, text);
    }
  });
});
