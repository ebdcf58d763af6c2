/**
 * One stick's samples as lines for /api/v1/import/prometheus, with the labels a Pushgateway would
 * have in the group's path as ordinary labels and the read time (ms) on every line. Written directly:
 * prom-client's text has no timestamps, and its registry was an eighth of a fleet's run CPU; the lines
 * are the same bytes (test/unit/import-text.test.ts compares them).
 */
import type { Grouping } from '../config/types.js';
import { escapeLabelValue } from '../exposition.js';
import type { Sample } from '../parse.js';

export function importText(
  samples: readonly Sample[],
  labels: Grouping,
  readAt: number,
): { text: string; lines: number } {
  // Names are the catalogue's and the configuration's, both checked; values are finite numbers.
  const common = labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
  const stamp = ` ${Math.round(readAt)}\n`;
  // Joined once: a flat string, which the batch's byte count reads without copying it first.
  const lines: string[] = [];
  for (const { family, labels: own, value } of samples) {
    let set = common;
    // for…in, not Object.entries: no array per sample, and most samples have no labels of their own.
    for (const name in own) set += `${set ? ',' : ''}${name}="${escapeLabelValue(own[name]!)}"`;
    lines.push(`${family.name}{${set}} ${value}${stamp}`);
  }
  return { text: lines.join(''), lines: samples.length };
}
