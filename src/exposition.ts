/**
 * The Prometheus text format, both ways: samples into text through a fresh prom-client registry per call (so
 * nothing carries over), and one sample line back into labels and value.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { labelNameSource, type Family } from './catalogue.js';
import type { Grouping } from './config/types.js';
import type { Sample } from './parse.js';

/** The content type of the text format, version 0.0.4, as a push or an import sends it. */
export const textFormatContentType = 'text/plain; version=0.0.4; charset=utf-8';

export function expositionText(samples: readonly Sample[]): Promise<string> {
  const registry = new Registry();
  const byFamily = new Map<Family, Sample[]>();
  for (const sample of samples) {
    const family = byFamily.get(sample.family);
    if (family) family.push(sample);
    else byFamily.set(sample.family, [sample]);
  }
  for (const [family, members] of byFamily) {
    const labelNames = [...new Set(members.flatMap((sample) => Object.keys(sample.labels)))];
    const options = { name: family.name, help: family.help, labelNames, registers: [registry] };
    if (family.type === 'counter') {
      const metric = new Counter(options);
      for (const { labels, value } of members) metric.inc(labels, value);
    } else {
      const metric = new Gauge(options);
      for (const { labels, value } of members) metric.set(labels, value);
    }
  }
  return registry.metrics();
}

/** As the text format escapes a label value; also for any text that must stay on one line. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** One `name="value",` of a label set; sticky, and reset before each use. */
const labelPair = new RegExp(`\\s*(${labelNameSource})="((?:[^"\\\\]|\\\\.)*)"\\s*,?`, 'y');

/** After the labels: the value, an optional timestamp (ms), nothing else. */
const sampleTail = /^[ \t]*([^ \t]+)(?:[ \t]+-?\d+)?[ \t]*$/;
/** A finite value as Prometheus reads it (Go's ParseFloat without hex or `_`). */
const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `{name="value",…} 1.5`, the part of a sample line after the metric name, read back; a value that
 * is not a finite number of the text format (empty, `0x10`, a word, Inf, 1e999, more after it) is NaN.
 */
export function parseSampleLine(text: string): { labels: Grouping; value: number } | undefined {
  const labels: [string, string][] = [];
  if (text[0] !== '{') return undefined;
  labelPair.lastIndex = 1;
  for (let match = labelPair.exec(text); match; match = labelPair.exec(text)) {
    labels.push([match[1]!, match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]);
    if (text[labelPair.lastIndex] === '}') break;
  }
  const end = text.indexOf('}', labelPair.lastIndex);
  if (end !== labelPair.lastIndex) return undefined;
  const tail = sampleTail.exec(text.slice(end + 1));
  const value = tail && decimal.test(tail[1]!) ? Number(tail[1]) : NaN;
  return { labels, value: Number.isFinite(value) ? value : NaN };
}

/** The same for the same label set: in any order, and an empty value is no label (as in Prometheus). */
export function labelSetKey(labels: Grouping): string {
  return JSON.stringify(labels.filter(([, value]) => value !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
