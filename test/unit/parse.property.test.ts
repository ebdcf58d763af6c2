/** Property-based: whatever the stick sends, the parser never throws and never yields a bad sample. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { liveCatalogue, onceCatalogue, type CatalogueRow } from '../../src/catalogue.js';
import { parsePayload, readPayload } from '../../src/parse.js';

const keys = [...liveCatalogue, ...onceCatalogue].map((row) => row.key);
/** Values shaped like the stick's, and the odd ones JSON cannot even carry. */
const stickish = fc.oneof(
  fc.jsonValue(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, -Number.MAX_VALUE),
  fc
    .tuple(
      fc.double({ noNaN: true }),
      fc.constantFrom('', ' '),
      fc.constantFrom('W', 'ms', 'kWh', '%', 'V', 'A', 's', 'min', '°C', 'xyz', ''),
    )
    .map(([n, space, unit]) => `${n}${space}${unit}`),
  fc.constantFrom(
    '',
    'nan',
    '--- W',
    ' 0',
    '(ENABLED) 1',
    'CONNECTED',
    'WIFI CONNECTED',
    'Fairly good',
    '1e999',
    '0x10',
  ),
);
const payloads = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...keys, ...keys.map((key) => `MQTT_${key}_VALUE`), '__proto__', 'constructor'),
    fc.string(),
  ),
  stickish,
);

for (const [name, catalogue] of [
  ['/jsonlive', liveCatalogue],
  ['/jsononce', onceCatalogue],
] as const) {
  test(`${name}: never throws, never NaN or ±Inf, every sample from a present catalogue key`, () => {
    fc.assert(
      fc.property(payloads, (payload) => {
        const { samples, problems } = readPayload(payload, catalogue);
        assert.ok(Array.isArray(problems));
        for (const sample of samples) {
          assert.ok(Number.isFinite(sample.value), `${sample.family.name} = ${sample.value}`);
          const rows = catalogue.filter(
            (row: CatalogueRow) =>
              row.family === sample.family &&
              (Object.hasOwn(payload, row.key) || Object.hasOwn(payload, `MQTT_${row.key}_VALUE`)),
          );
          assert.ok(rows.length > 0, `${sample.family.name} came from no key of the payload`);
        }
      }),
      { numRuns: 2000 },
    );
  });
}

test('parsePayload never throws on any text, and accepts exactly JSON objects', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      ),
      (text) => {
        const result = parsePayload(text);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
        assert.equal('payload' in result, isObject);
      },
    ),
    { numRuns: 2000 },
  );
});

test('the identity row never throws and yields only short, finite info', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('DEVICENAME', 'VERSION', 'X'), stickish), (payload) => {
      const info = readPayload(payload, onceCatalogue).samples.find(
        (sample) => sample.family.name === 'trucki_stick_info',
      );
      if (info === undefined) return;
      assert.equal(info.value, 1);
      for (const value of Object.values(info.labels)) assert.ok(value.length <= 64);
    }),
    { numRuns: 1000 },
  );
});
