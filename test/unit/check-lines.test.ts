/**
 * check's lines, where the text is the product: fixed sets of verdicts rendered by check's own step
 * and report code (✓ / ✗ / ? lines, control characters escaped, then the exit status they add up to)
 * and compared with test/golden/check-*.txt exactly.
 *
 * A change of wording on purpose: regenerate the files with
 *   UPDATE_GOLDEN=1 node --test build/test/unit/check-lines.test.js
 * and read the diff before committing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import * as yaml from 'yaml';
import { onceCatalogue } from '../../src/catalogue.js';
import type { Config, Pushgateway, Target, VictoriaMetrics } from '../../src/config/types.js';
import { HttpFailure, NoAnswer, NoQueryApi } from '../../src/errors.js';
import type { PrometheusApi, Series } from '../../src/check/prometheus-api.js';
import { pushgatewaySteps, unreachable, type PrometheusSide } from '../../src/check/prometheus.js';
import { lineOf, statusOf, type Step } from '../../src/check/report.js';
import { parseShippedRules, rulesAndAlerts } from '../../src/check/rules.js';
import type { DeliveredStick } from '../../src/check/series.js';
import { deliverySteps, recallStep, unnamedSteps } from '../../src/check/sink.js';
import { stickStep } from '../../src/check/stick.js';
import type { AnySink } from '../../src/sinks/sink.js';
import type { StickReading } from '../../src/stick.js';
import { pushgatewayTarget } from '../helpers/check.js';
import { repoRoot } from '../helpers/paths.js';

/** The lines of `steps` as check prints them, then the exit status they add up to. */
function rendered(steps: readonly Step[]): string {
  return `${steps.map(lineOf).join('')}exit status ${statusOf(steps)}\n`;
}

function assertGolden(name: string, steps: readonly Step[]): void {
  const file = `${repoRoot}test/golden/check-${name}.txt`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, rendered(steps));
  assert.equal(rendered(steps), readFileSync(file, 'utf8'));
}

/** The steps `walk` says, collected. */
async function said(walk: (say: (step: Step) => Promise<void>) => Promise<unknown>): Promise<Step[]> {
  const steps: Step[] = [];
  await walk((step) => Promise.resolve(void steps.push(step)));
  return steps;
}

const identity = onceCatalogue.find((row) => row.read === 'identity')!.family;
const roof: Target = { instance: 'roof', labels: [], url: new URL('http://192.0.2.7/') };
const answered: StickReading = {
  live: { samples: [], problems: [], knownKeys: 41 },
  once: {
    samples: [{ family: identity, labels: { variant: 'T2SG', device: 'T2SGA55A69', firmware: '1.16' }, value: 1 }],
    problems: ['ACPOWER "--- W" is not a number'],
    knownKeys: 12,
  },
  seconds: 0.2,
  readAt: 1_700_000_000_000,
};
const pushgateway = {
  url: new URL('http://127.0.0.1:9091/'),
  job: 'trucki',
  grouping: [],
} as unknown as Pushgateway;
const delivered: DeliveredStick = {
  target: roof,
  instance: 'roof',
  labels: [
    ['job', 'trucki'],
    ['instance', 'roof'],
  ],
  samples: [{ family: { name: 'trucki_up', help: '', type: 'gauge' }, labels: {}, value: 1 }],
  pushTime: 100,
};
const side = (api: Partial<PrometheusApi>, more: Partial<PrometheusSide> = {}): PrometheusSide => ({
  api: api as PrometheusApi,
  shown: 'http://127.0.0.1:9090/',
  named: true,
  victoriametrics: false,
  setting: '--prometheus-url',
  credentials: false,
  ...more,
});

test('a setup where every step holds: ✓ lines, exit status 0', async () => {
  const shipped = parseShippedRules(readFileSync(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8'), yaml);
  const target = { ...pushgatewayTarget, lastScrape: '1', scrapeInterval: '10s' };
  const series = (metric: Record<string, string>, value: number): Series => ({ metric, value });
  const api: Partial<PrometheusApi> = {
    targets: () => Promise.resolve([target]),
    query: (expr) =>
      Promise.resolve(
        expr.startsWith('push_time_seconds{job=')
          ? [series({ __name__: 'push_time_seconds', job: 'trucki', instance: 'roof' }, 100)]
          : expr.startsWith('timestamp(')
            ? ['push_time_seconds', 'trucki_up'].map((name) =>
                series({ job: 'trucki', instance: 'roof', trucki_check_name: name }, 7),
              )
            : [],
      ),
    rules: () =>
      Promise.resolve(
        shipped.map(({ expr, ...rule }) => ({ ...rule, query: expr, group: 'trucki', health: 'ok', lastError: '' })),
      ),
    alerts: () => Promise.resolve([{ labels: { alertname: 'TruckiStickStale', instance: 'roof' }, state: 'pending' }]),
  };
  const config = { targets: [roof], pushgateway } as unknown as Config;
  // The shipped rules are read beside the program, as from dist/ in the repository.
  const program = process.argv[1];
  process.argv[1] = `${repoRoot}dist/trucki2pushgateway.js`;
  try {
    const steps = await said(async (say) => {
      await say(stickStep(roof, answered));
      for (const step of await deliverySteps(config, new Map())) await say(step);
      const cadence = { seconds: 15, words: "every 15 s (the shipped timer's)" };
      await pushgatewaySteps(side(api), pushgateway, [delivered], cadence, say);
      await rulesAndAlerts(side(api), say);
    });
    assertGolden('all-hold', steps);
  } finally {
    process.argv[1] = program!;
  }
});

test('a setup with failures: ✗ lines with what to do, a name with control characters escaped, exit status 1', async () => {
  const dark: Target = { instance: 'dark\n\u001b[2J', labels: [], url: new URL('http://127.0.0.1:9/') };
  const failures = new Map([['Pushgateway answered HTTP 503 Service Unavailable', ['roof']]]);
  const config = { targets: [roof, dark], pushgateway } as unknown as Config;
  const group = (instance: string, age: number) => ({
    grouping: [
      ['job', 'trucki'],
      ['instance', instance],
    ] as const,
    pushedAt: 1000,
    age,
  });
  const api: Partial<PrometheusApi> = {
    rules: () =>
      Promise.reject(new HttpFailure("answered /api/v1/rules with JSON of another shape than Prometheus's API")),
    alerts: () =>
      Promise.resolve([
        { labels: { alertname: 'TruckiStickDown', job: 'trucki', instance: 'roof\nx' }, state: 'firing' },
        { labels: { alertname: 'TruckiPushesStopped', job: 'trucki', instance: 'old' }, state: 'firing' },
      ]),
  };
  const steps = await said(async (say) => {
    await say(stickStep(roof, answered));
    await say(stickStep(dark, { ...answered, live: { samples: [], problems: [], failure: 'refused the connection' } }));
    for (const step of await deliverySteps(config, failures)) await say(step);
    for (const step of unnamedSteps(pushgateway, { unnamed: [group('old', 900), group('busy', 10)] })) await say(step);
    await rulesAndAlerts(side(api), say, ({ instance }) => (instance === 'old' ? 'curl -X DELETE …' : undefined));
  });
  assertGolden('failures', steps);
});

test('a setup that could not all be checked: ? lines, none ✗, exit status 3', async () => {
  const url = new URL('http://127.0.0.1:8429/');
  const store = { url, query: { url } } as unknown as VictoriaMetrics;
  const config = { targets: [roof], victoriametrics: store } as unknown as Config;
  const vmagent = {
    lastSuccesses: () =>
      Promise.reject(new NoQueryApi(`VictoriaMetrics query API ${url.href} has no /api/v1/query (a vmagent?)`)),
  } as unknown as AnySink;
  const steps = await said(async (say) => {
    await say(stickStep(roof, answered));
    for (const step of await deliverySteps(config, new Map())) await say(step);
    await say(await recallStep(store, vmagent, [{ ...delivered, readAt: 1 }], () => Promise.resolve([])));
    await rulesAndAlerts(side({ rules: () => Promise.resolve([]) }, { victoriametrics: true }), say);
    await say(unreachable(side({}, { named: false }), new NoAnswer('refused the connection'), 'Prometheus'));
  });
  assertGolden('unchecked', steps);
});
