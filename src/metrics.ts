/** Samples into a fresh prom-client registry: one per stick per run, so nothing carries over. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Family } from './catalogue.js';
import type { Sample } from './parse.js';

export function buildRegistry(samples: readonly Sample[]): Registry {
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
  return registry;
}
