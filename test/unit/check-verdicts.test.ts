/**
 * check's verdicts as pure functions, in-process, on fixtures: the loaded rules against the shipped
 * file, this push's series against what arrived, the scrape jobs of the Pushgateway, a firing alert's
 * advice and the pending count. test/e2e/check.test.ts proves against the real programs that the
 * answers these read are Prometheus's own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import * as yaml from 'yaml';
import { jobFamilies } from '../../src/catalogue.js';
import type { Pushgateway } from '../../src/config/types.js';
import type { PrometheusApi, Rule, Series } from '../../src/check/prometheus-api.js';
import { pushgatewaySteps } from '../../src/check/prometheus.js';
import type { Step } from '../../src/check/report.js';
import { compareRules, parseShippedRules, sameExpression } from '../../src/check/rules.js';
import {
  alertForget,
  arrivalOf,
  firingText,
  forgetCommand,
  missingSeries,
  pendingText,
  type DeliveredStick,
} from '../../src/check/series.js';
import { recallStep, unnamedSteps } from '../../src/check/sink.js';
import type { AnySink } from '../../src/sinks/sink.js';
import type { VictoriaMetrics } from '../../src/config/types.js';
import { pushgatewayTarget } from '../helpers/check.js';
import { repoRoot } from '../helpers/paths.js';

const shipped = parseShippedRules(readFileSync(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8'), yaml);

/** The shipped rules as Prometheus 2.42 prints them back: numbers and durations its own way, matchers sorted. */
const printed = (expr: string) =>
  expr
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/3\.6e6/g, '3.6e+06')
    .replace(/\[7d\]/g, '[1w]')
    .replace(/\{exported_job="", exported_instance=""\}/g, '{exported_instance="",exported_job=""}');
const loaded = (more: Partial<Rule> = {}): Rule[] =>
  shipped.map(({ name, type, expr, duration, labels }) => ({
    name,
    type,
    query: printed(expr),
    duration,
    labels,
    group: type === 'alerting' ? 'trucki.alerts' : 'trucki.recording',
    health: 'ok',
    lastError: '',
    ...more,
  }));

describe('the loaded rules against the shipped file', () => {
  test('the shipped file is read whole: every alert and recording rule, not a list of names', () => {
    const names = [
      ...readFileSync(`${repoRoot}deploy/prometheus/trucki-rules.yml`, 'utf8').matchAll(/- (?:alert|record): (\S+)/g),
    ];
    assert.deepEqual(
      shipped.map(({ name }) => name),
      names.map((match) => match[1]),
    );
    assert.ok(shipped.some(({ name }) => name === 'TruckiSeriesStopped'));
    assert.ok(shipped.some(({ name }) => name === 'instance:trucki_self_consumption:watts'));
  });

  test('as Prometheus prints them back, they are the same', () => {
    const { missing, differing, failing } = compareRules(shipped, loaded());
    assert.deepEqual([missing, differing, failing], [[], [], []]);
  });

  test('a rule of the same name with another expression is not the rule', () => {
    const rules = loaded().map((rule) =>
      rule.name === 'TruckiStickDown' ? { ...rule, query: 'trucki_up == 42' } : rule,
    );
    const { differing } = compareRules(shipped, rules);
    assert.deepEqual(
      differing.map(({ rule, what }) => [rule.name, what]),
      [
        [
          'TruckiStickDown',
          `has the expression \`trucki_up == 42\`, not \`${shipped
            .find(({ name }) => name === 'TruckiStickDown')!
            .expr.trim()
            .replace(/\s+/g, ' ')}\``,
        ],
      ],
    );
  });

  test('a lying Prometheus: the right rule and a twin of the same name with another expression', () => {
    const rules = [...loaded(), { ...loaded()[0]!, group: 'mine', query: 'vector(1)' }];
    assert.equal(compareRules(shipped, rules).differing.length, 1);
  });

  test('deleted rules are missing; an alert turned into a recording rule differs; another for: differs', () => {
    const rules = loaded()
      .filter(({ name }) => name !== 'TruckiSeriesStopped' && name !== 'instance:trucki_grid_export:watts')
      .map((rule) => (rule.name === 'TruckiStickStale' ? { ...rule, type: 'recording' } : rule))
      .map((rule) => (rule.name === 'TruckiInverterHot' ? { ...rule, duration: 36_000 } : rule));
    const { missing, differing } = compareRules(shipped, rules);
    assert.deepEqual(missing.map(({ name }) => name).sort(), [
      'TruckiSeriesStopped',
      'TruckiStickStale',
      'instance:trucki_grid_export:watts',
    ]);
    assert.deepEqual(differing.map(({ rule }) => rule.name).sort(), ['TruckiInverterHot', 'TruckiStickStale']);
  });

  test('a rule that fails to evaluate is failing; one whose label was changed differs', () => {
    const rules = loaded().map((rule) =>
      rule.name === 'TruckiPushFailing'
        ? { ...rule, health: 'err', lastError: 'many-to-many' }
        : rule.name === 'TruckiInverterHot'
          ? { ...rule, labels: { severity: 'none' } }
          : rule,
    );
    const { failing, differing } = compareRules(shipped, rules);
    assert.deepEqual(
      failing.map(({ name }) => name),
      ['TruckiPushFailing'],
    );
    assert.deepEqual(
      differing.map(({ what }) => what),
      ['has the label severity="none", not "warning"'],
    );
  });

  test('expressions: whitespace, comments, number and duration spellings, quotes and matcher order are no difference', () => {
    assert.ok(sameExpression('sum without (inverter) (x) / 3.6e6', 'sum without(inverter)(x)/3.6e+06'));
    assert.ok(sameExpression('last_over_time(x[7d]) # a week', 'last_over_time(x[1w])'));
    assert.ok(sameExpression('x{a=\'1\', b="2",}', 'x{b="2",a="1"}'));
    assert.ok(sameExpression('x AND y', 'x and y'));
    assert.ok(sameExpression('x[1h30m]', 'x[90m]'));
    assert.ok(!sameExpression('x > 300', 'x > 3000'));
    assert.ok(!sameExpression('x{a="1"}', 'x{a="2"}'));
    assert.ok(!sameExpression('x[5m]', 'x[5h]'));
    assert.ok(!sameExpression('(a - b) > 1', 'a - (b > 1)'));
    assert.ok(!sameExpression('Up', 'up'));
    assert.ok(!sameExpression('x \u0000', 'x'));
  });
});

const target = pushgatewayTarget;
const series = (metric: Record<string, string>, value = 100): Series => ({ metric, value });
const roof: DeliveredStick = {
  target: { instance: 'roof', labels: [], url: new URL('http://127.0.0.1:9') },
  instance: 'roof',
  labels: [
    ['job', 'trucki'],
    ['instance', 'roof'],
  ],
  samples: [
    { family: jobFamilies.up, labels: {}, value: 1 },
    { family: { name: 'trucki_ac_power_watts', help: '', type: 'gauge' }, labels: { inverter: '1' }, value: 5 },
  ],
  pushTime: 100,
};

describe("this push's series against what arrived", () => {
  const own = series({ __name__: 'push_time_seconds', job: 'trucki', instance: 'roof' });
  const none = { own: [], exported: [], underTarget: [[]] };

  test('arrived under their own labels: a later push of the same stick counts, an earlier one does not', () => {
    assert.deepEqual(arrivalOf([roof], [target], { ...none, own: [own] }), { missing: [] });
    assert.deepEqual(arrivalOf([roof], [target], { ...none, own: [{ ...own, value: 115 }] }), { missing: [] });
    assert.deepEqual(arrivalOf([roof], [target], { ...none, own: [{ ...own, value: 85 }] }), { missing: ['roof'] });
  });

  test('under exported_ labels: the scrape job named by its job label lacks honor_labels', () => {
    const moved = series({
      job: 'pushgateway',
      instance: 'localhost:9091',
      exported_job: 'trucki',
      exported_instance: 'roof',
    });
    const arrival = arrivalOf([roof], [target], { own: [], exported: [moved], underTarget: [[]] });
    assert.deepEqual(arrival.missing, ['roof']);
    assert.equal(arrival.renamedBy?.target, target);
  });

  test('a second scrape job that drops the exported_ labels: its trucki_up under its own job and instance', () => {
    const second = { ...target, scrapePool: 'second', job: 'second' };
    const collapsed = series({ __name__: 'trucki_up', job: 'second', instance: 'localhost:9091' });
    const arrival = arrivalOf([roof], [target, second], { own: [own], exported: [], underTarget: [[], [collapsed]] });
    assert.deepEqual(arrival.missing, []);
    assert.equal(arrival.renamedBy?.target, second);
  });

  test('every pushed family and label set must have arrived', () => {
    const arrived = [
      series({ __name__: 'trucki_up', job: 'trucki', instance: 'roof' }),
      series({ __name__: 'trucki_ac_power_watts', job: 'trucki', instance: 'roof', inverter: '2' }),
    ];
    assert.deepEqual(missingSeries(roof, arrived), ['trucki_ac_power_watts{inverter="1"}']);
    arrived.push(series({ __name__: 'trucki_ac_power_watts', job: 'trucki', instance: 'roof', inverter: '1' }));
    assert.deepEqual(missingSeries(roof, arrived), []);
  });
});

/** Runs `checked` with time driven by `t`'s mocked timers, half a second a step, until it settles. */
async function driven<T>(t: TestContext, checked: Promise<T>): Promise<T> {
  let settled = false;
  const done = () => (settled = true);
  checked.then(done, done);
  for (let ticks = 0; !settled && ticks < 1000; ticks++) {
    await new Promise(setImmediate);
    t.mock.timers.tick(500);
  }
  return checked;
}

/** pushgatewaySteps for the stick roof on a Pushgateway at 127.0.0.1:9091, against `api`: each step said. */
async function pushgatewayStepsOf(api: PrometheusApi, t: TestContext): Promise<Step[]> {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const side = { api, shown: 'http://p/', named: true, victoriametrics: false, setting: '', credentials: false };
  const pushgateway = { url: new URL('http://127.0.0.1:9091/'), job: 'trucki', grouping: [] } as unknown as Pushgateway;
  const steps: Step[] = [];
  const cadence = { seconds: 15, words: 'every 15 s' };
  await driven(
    t,
    pushgatewaySteps(side, pushgateway, [roof], cadence, (step) => Promise.resolve(void steps.push(step))),
  );
  return steps;
}

describe('series of an earlier scrape, still within the lookback', () => {
  // As Prometheus answered a second after a reload that renamed trucki_ac_power_watts: the series of
  // the old scrape loop are there until it marks them stale, beside the new loop's.
  const stored: (Series & { at: number })[] = [
    { metric: { __name__: 'push_time_seconds', job: 'trucki', instance: 'roof' }, value: 100, at: 210 },
    { metric: { __name__: 'trucki_up', job: 'trucki', instance: 'roof' }, value: 1, at: 210 },
    { metric: { __name__: 'trucki_ac_power_w', job: 'trucki', instance: 'roof', inverter: '1' }, value: 5, at: 210 },
    {
      metric: { __name__: 'trucki_ac_power_watts', job: 'trucki', instance: 'roof', inverter: '1' },
      value: 5,
      at: 200,
    },
  ];
  const api: PrometheusApi = {
    targets: () => Promise.resolve([{ ...target, scrapeUrl: 'http://127.0.0.1:9091/metrics', scrapeInterval: '2s' }]),
    query: (expr) => {
      if (expr.startsWith('push_time_seconds{job=')) return Promise.resolve(stored.slice(0, 1));
      if (expr.startsWith('timestamp(')) {
        const times = stored.map(({ metric: { __name__: name, ...labels }, at }) => ({
          metric: { ...labels, trucki_check_name: name! },
          value: at,
        }));
        return Promise.resolve(times);
      }
      return Promise.resolve(expr.startsWith('{') ? stored : []);
    },
    rules: () => Promise.resolve([]),
    alerts: () => Promise.resolve([]),
  };

  test('a reading renamed by a relabelling since is not there, though its old series is: ✗', async (t) => {
    const steps = await pushgatewayStepsOf(api, t);
    const last = steps.at(-1)!;
    assert.equal(last.mark, 'failed', last.text);
    assert.match(
      last.text,
      /^1 series of this push are not in Prometheus: roof trucki_ac_power_watts\{inverter="1"\}: /,
    );
  });
});

describe('an import into VictoriaMetrics, beside series of an earlier import still within its lookback', () => {
  test('a reading a vmagent renamed since is not there, though its old series is: ✗', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    // The earlier import (at 190 s) still has trucki_ac_power_watts; this one's (at 200 s) was renamed on the way.
    const stored: { name: string; labels: Record<string, string>; at: number }[] = [
      { name: 'trucki_up', labels: {}, at: 200 },
      { name: 'trucki_ac_power_w', labels: { inverter: '1' }, at: 200 },
      { name: 'trucki_ac_power_watts', labels: { inverter: '1' }, at: 190 },
    ];
    const query = (expr: string): Promise<Series[]> =>
      Promise.resolve(
        stored.map(({ name, labels, at }) => {
          const metric: Record<string, string> = { job: 'trucki', instance: 'roof', ...labels };
          // As VictoriaMetrics answers timestamp(…) keep_metric_names: the time of each series' last sample.
          return { metric: { ...metric, __name__: name }, value: expr.startsWith('timestamp(') ? at : 1 };
        }),
      );
    const sink = { lastSuccesses: () => Promise.resolve(new Map([['roof', 200]])) } as unknown as AnySink;
    const url = new URL('http://127.0.0.1:8428/');
    const store = { url, query: { url } } as unknown as VictoriaMetrics;
    const { mark, text } = await driven(t, recallStep(store, sink, [{ ...roof, readAt: 200_000 }], query));
    assert.equal(mark, 'failed', text);
    assert.match(text, /lacks roof trucki_ac_power_watts\{inverter="1"\} 15 s after the import/);
  });
});

describe('a scrape job of the Pushgateway just added by a reload', () => {
  test('is waited for until it scrapes, not a ✗ "cannot scrape" while Prometheus has not scraped it yet', async (t) => {
    let calls = 0;
    const scrapeUrl = 'http://127.0.0.1:9091/metrics';
    const up = { ...target, scrapeUrl, scrapeInterval: '2s' };
    const api: PrometheusApi = {
      targets: () => {
        calls++;
        const fresh = calls > 6 ? { health: 'up', lastScrape: String(calls) } : { health: 'unknown', lastScrape: '' };
        return Promise.resolve([
          { ...up, lastScrape: String(calls) },
          { ...up, scrapePool: 'slow', ...fresh },
        ]);
      },
      query: (expr) => {
        const push = { metric: { __name__: 'push_time_seconds', job: 'trucki', instance: 'roof' }, value: 100 };
        if (expr.startsWith('push_time_seconds{job=')) return Promise.resolve([push]);
        if (!expr.startsWith('timestamp(')) return Promise.resolve([]);
        const at = (name: string, labels: Record<string, string> = {}) => ({
          metric: { trucki_check_name: name, job: 'trucki', instance: 'roof', ...labels },
          value: 7,
        });
        return Promise.resolve([
          at('push_time_seconds'),
          at('trucki_up'),
          at('trucki_ac_power_watts', { inverter: '1' }),
        ]);
      },
      rules: () => Promise.resolve([]),
      alerts: () => Promise.resolve([]),
    };
    const steps = await pushgatewayStepsOf(api, t);
    const lines = steps.map(({ mark, text }) => `${mark} ${text}`);
    assert.deepEqual(
      lines.filter((line) => line.includes('Prometheus scrapes') || line.includes('scrape the Pushgateway')),
      [
        'ok Prometheus scrapes the Pushgateway 127.0.0.1:9091 (scrape job "pushgateway", every 2s) and it is up',
        'ok Prometheus scrapes the Pushgateway 127.0.0.1:9091 (scrape job "slow", every 2s) and it is up',
      ],
    );
  });
});

describe('what check says to do', () => {
  const pushgateway = {
    url: new URL('http://someone:pw@127.0.0.1:9091/'),
    job: 'trucki',
    grouping: [],
  } as unknown as Pushgateway;

  test('the command that forgets a group names no credential; curl asks for the password', () => {
    assert.equal(
      forgetCommand(pushgateway, [
        ['job', 'trucki'],
        ['instance', "it's"],
      ]),
      "curl -fsS -X DELETE 'http://127.0.0.1:9091/metrics/job/trucki/instance@base64/aXQncw'",
    );
    const withUser = { ...pushgateway, username: 'someone', password: 'pw' } as Pushgateway;
    assert.doesNotMatch(forgetCommand(withUser, [['job', 'trucki']]), /someone|pw@/);
    assert.match(forgetCommand(withUser, [['job', 'trucki']]), /^curl -fsS -u USERNAME -X DELETE /);
  });

  test('a firing alert says what to do; for a group no stick names, the command that forgets it', () => {
    for (const { name, type } of shipped.filter(({ type }) => type === 'alerting'))
      assert.doesNotMatch(
        firingText({ alertname: name }, () => undefined),
        /Alerts page/,
        `${name} (${type})`,
      );
    assert.equal(
      firingText({ alertname: 'TruckiPushesStopped', job: 'trucki', instance: 'old' }, ({ instance }) =>
        instance === 'old' ? 'curl -X DELETE …' : undefined,
      ),
      'alert TruckiPushesStopped is firing for job="trucki", instance="old": no stick here is named old any more: ' +
        'forget its group now: curl -X DELETE …',
    );
  });

  test("a firing alert's command forgets its own group: not ours of the same instance for another host's", () => {
    const forget = alertForget(pushgateway, [
      {
        grouping: [
          ['job', 'trucki'],
          ['instance', 'old'],
        ],
      },
    ]);
    const alert = { alertname: 'TruckiPushesStopped', severity: 'warning', job: 'trucki', instance: 'old' };
    assert.equal(forget(alert), "curl -fsS -X DELETE 'http://127.0.0.1:9091/metrics/job/trucki/instance/old'");
    assert.equal(forget({ ...alert, alertname: 'TruckiInverterHot', inverter: 'sun1' }), forget(alert));
    // Another host's group {job="trucki",instance="old",site="b"}: deleting ours would not silence it.
    assert.equal(forget({ ...alert, site: 'b' }), undefined);
  });

  test("a group no stick names: ✗ once nothing pushed it for 5 minutes by the Pushgateway's clock, ? while pushed", () => {
    const old = {
      grouping: [
        ['job', 'trucki'],
        ['instance', 'old'],
      ] as const,
      pushedAt: 1000,
    };
    // The age is the Pushgateway's clock at the read-back less the group's push time; the job's clock says nothing.
    const steps = (age: number, count = 1) =>
      unnamedSteps(pushgateway, { unnamed: Array<typeof old & { age: number }>(count).fill({ ...old, age }) }, 2);
    assert.deepEqual(
      steps(900).map(({ mark, text }) => [mark, text]),
      [
        [
          'failed',
          'group {job="trucki",instance="old"} on the Pushgateway is named by no stick here and was last pushed 15 min ' +
            'ago: its alerts fire until it is forgotten, then TruckiSeriesStopped for a day; forget it now: ' +
            "curl -fsS -X DELETE 'http://127.0.0.1:9091/metrics/job/trucki/instance/old'",
        ],
      ],
    );
    // Pushed 10 s ago by the Pushgateway's clock: someone pushes it still.
    assert.equal(steps(10)[0]!.mark, 'unchecked');
    assert.equal(steps(900, 3).at(-1)!.text, 'and 1 more groups of job "trucki" that no stick here names');
  });

  test('the pending count counts alerts, and names each alert with its count', () => {
    const pending = [
      { labels: { alertname: 'TruckiStickDown', instance: 'a' }, state: 'pending' },
      { labels: { alertname: 'TruckiStickDown', instance: 'b' }, state: 'pending' },
      { labels: { alertname: 'TruckiPushesStopped', instance: 'a' }, state: 'pending' },
    ];
    assert.equal(pendingText(pending), '3 pending: 2 TruckiStickDown, 1 TruckiPushesStopped');
  });
});
