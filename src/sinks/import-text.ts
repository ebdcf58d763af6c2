/**
 * One stick's samples as lines for VictoriaMetrics' /api/v1/import/prometheus: the exposition
 * text (through prom-client) with the labels that a Pushgateway would have put in the group's
 * path as ordinary labels, no comment lines, and the time the stick was read on every sample.
 */
import type { Grouping } from '../config/types.js';
import { expositionText } from '../exposition.js';
import type { Sample } from '../parse.js';

export async function importText(
  samples: readonly Sample[],
  labels: Grouping,
  readAt: number,
): Promise<{ text: string; lines: number }> {
  const extra = Object.fromEntries(labels);
  const text = await expositionText(samples.map((sample) => ({ ...sample, labels: { ...extra, ...sample.labels } })));
  const stamp = ` ${Math.round(readAt)}\n`;
  let out = '';
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    out += line + stamp;
    lines++;
  }
  return { text: out, lines };
}
