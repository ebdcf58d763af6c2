/**
 * Where text is the product, it is compared to the letter with a golden file in test/golden/: the
 * exposition a push, the textfile and --stdout carry, and the VictoriaMetrics import text, for a
 * reading of each kind of stick (the simulator's answers at t = 0, docs/trucki-stick-api.md).
 *
 * After a deliberate change of that text, write the files anew and read their diff before committing:
 *   npm run build && UPDATE_GOLDEN=1 node --test build/test/unit/golden.test.js
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { jobFamilies, liveCatalogue, onceCatalogue } from '../../src/catalogue.js';
import { expositionText } from '../../src/exposition.js';
import { readPayload, type Sample } from '../../src/parse.js';
import { livePayload, oncePayload, type Variant } from '../../src/simulator/payload.js';
import { importText } from '../../src/sinks/import-text.js';
import { repoRoot } from '../helpers/paths.js';

function assertGolden(name: string, text: string): void {
  const path = `${repoRoot}test/golden/${name}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'), `${name} differs (UPDATE_GOLDEN=1 writes it anew)`);
}

/** One reading as a run delivers it: the job's own families, then /jsonlive's and /jsononce's samples. */
function reading(variant: Variant): Sample[] {
  const live = readPayload(livePayload(variant, 0), liveCatalogue);
  const once = readPayload(oncePayload(variant), onceCatalogue);
  assert.deepEqual([...live.problems, ...once.problems], []);
  return [
    { family: jobFamilies.up, labels: {}, value: 1 },
    { family: jobFamilies.scrapeDuration, labels: {}, value: 0.0421 },
    { family: jobFamilies.lastSuccess, labels: {}, value: 1795790285.132 },
    ...live.samples,
    ...once.samples,
  ];
}

// The T2HG is read as a T2MG (docs/trucki-stick-api.md § Variants).
for (const variant of ['T2SG', 'T2MG'] as const) {
  test(`${variant}: the exposition of a reading is the golden file's, to the letter`, async () => {
    assertGolden(`exposition-${variant}.prom`, await expositionText(reading(variant)));
  });

  test(`${variant}: the VictoriaMetrics import text of a reading is the golden file's, to the letter`, () => {
    const labels = [
      ['job', 'trucki'],
      ['instance', 'roof "north"\\a\nb'],
      ['site', 'home'],
    ] as const;
    const { text, lines } = importText(reading(variant), labels, 1795790285132.4);
    assert.equal(lines, reading(variant).length);
    assertGolden(`import-${variant}.txt`, text);
  });
}
