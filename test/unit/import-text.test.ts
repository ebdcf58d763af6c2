/**
 * The VictoriaMetrics import lines, written directly, say exactly what prom-client's exposition of
 * the same samples says (with the labels added), plus the read time on every line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobFamilies, liveCatalogue, onceCatalogue } from '../../src/catalogue.js';
import { expositionText } from '../../src/exposition.js';
import { readPayload, type Sample } from '../../src/parse.js';
import { livePayload, oncePayload } from '../../src/simulator/payload.js';
import { importText } from '../../src/sinks/import-text.js';

/** Sample lines as "name{label="value",…} value", labels sorted, so that order does not matter. */
function normalise(lines: readonly string[]): string[] {
  return lines
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = match[2]!.match(/[a-zA-Z_]\w*="(?:[^"\\]|\\.)*"/g) ?? [];
      return `${match[1]}{${[...labels].sort().join(',')}} ${Number(match[3])}`;
    })
    .sort();
}

for (const variant of ['T2SG', 'T2MG'] as const) {
  test(`${variant}: the same samples as prom-client's exposition, each stamped with the read time`, async () => {
    const samples: Sample[] = [
      { family: jobFamilies.up, labels: {}, value: 1 },
      { family: jobFamilies.scrapeDuration, labels: {}, value: 0.0421 },
      { family: jobFamilies.lastSuccess, labels: {}, value: 1795790285.132 },
      ...readPayload(livePayload(variant, 1234.5), liveCatalogue).samples,
      ...readPayload(oncePayload(variant), onceCatalogue).samples,
    ];
    const labels = [
      ['job', 'trucki'],
      ['instance', 'roof "north"\\a\nb'],
      ['site', ''],
    ] as const;
    const readAt = 1795790285132.4;
    const { text, lines } = importText(samples, labels, readAt);
    assert.equal(lines, samples.length);
    const ours = text.trimEnd().split('\n');
    assert.ok(
      ours.every((line) => line.endsWith(' 1795790285132')),
      'every line ends with the read time in ms',
    );
    const extra = Object.fromEntries(labels);
    const theirs = (
      await expositionText(samples.map((sample) => ({ ...sample, labels: { ...extra, ...sample.labels } })))
    )
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.deepEqual(normalise(ours.map((line) => line.replace(/ \d+$/, ''))), normalise(theirs));
  });
}
