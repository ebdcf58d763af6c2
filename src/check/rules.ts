/**
 * The shipped rules against those Prometheus or vmalert loaded, by name, kind, expression, `for` and labels (a
 * rewritten expression is as broken as a missing rule); then the Trucki alerts firing, each with what to do.
 */
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readBoundedFile, smallFileBytes } from '../bounded-file.js';
import { isJsonObject } from '../json-object.js';
import { durationMs } from '../config/values.js';
import { messageOf } from '../errors.js';
import type { Alert, Rule } from './prometheus-api.js';
import { unreachable, type PrometheusSide } from './prometheus.js';
import { clip, failed, ok, unchecked, type Step } from './report.js';
import { firingText, pendingText } from './series.js';

/** The shipped rules, read beside the program (the repository, the npm package), else the Debian package's. */
async function readShippedRules() {
  const program = process.argv[1] ?? '';
  const beside = join(dirname(await realpath(program).catch(() => program)), '../deploy/prometheus/trucki-rules.yml');
  let text: string | undefined;
  let why = 'not found';
  for (const path of [beside, '/usr/share/doc/trucki2pushgateway/examples/prometheus/trucki-rules.yml']) {
    try {
      text ??= readBoundedFile(path, 'the shipped rules file', smallFileBytes);
    } catch (error) {
      why = messageOf(error);
    }
  }
  if (text === undefined) throw new Error(why);
  return parseShippedRules(text, await import('yaml'));
}

/** The rules of a Prometheus rules file's text; an alert's `for` (duration) in seconds. */
export function parseShippedRules(text: string, yaml: typeof import('yaml')) {
  const file: unknown = yaml.parse(text);
  const listed = (parent: unknown, key: string): unknown[] =>
    isJsonObject(parent) && Array.isArray(parent[key]) ? parent[key] : [];
  return listed(file, 'groups').flatMap((group) =>
    listed(group, 'rules').flatMap((rule: unknown) => {
      const name = isJsonObject(rule) ? (rule.alert ?? rule.record) : undefined;
      if (!isJsonObject(rule) || typeof rule.expr !== 'string' || typeof name !== 'string') return [];
      const labels = Object.entries(isJsonObject(rule.labels) ? rule.labels : {});
      return {
        name,
        type: rule.alert === undefined ? ('recording' as const) : ('alerting' as const),
        expr: rule.expr,
        duration: typeof rule.for === 'string' ? (durationMs(rule.for) ?? NaN) / 1000 : 0,
        labels: Object.fromEntries(labels.map(([key, value]) => [key, String(value)])),
      };
    }),
  );
}

type ShippedRule = ReturnType<typeof parseShippedRules>[number];

/** Every shipped rule loaded as shipped; `ours`, the loaded rules of a shipped name, each one of them. */
export function compareRules(shipped: readonly ShippedRule[], loaded: readonly Rule[]) {
  const names = new Map(shipped.map((rule) => [rule.name, rule]));
  const ours = loaded.filter(({ name }) => names.has(name));
  const differing = ours.flatMap((rule) => {
    const what = difference(names.get(rule.name)!, rule);
    return what ? [{ rule, what }] : [];
  });
  return {
    missing: shipped.filter(({ name, type }) => !ours.some((rule) => rule.name === name && rule.type === type)),
    differing,
    failing: ours.filter(({ health, lastError }) => health === 'err' || lastError !== ''),
    ours,
  };
}

function difference(want: ShippedRule, rule: Rule): string | undefined {
  if (rule.type !== want.type) return `is ${rule.type || 'of no kind'}, not ${want.type}`;
  if (!sameExpression(want.expr, rule.query))
    return `has the expression \`${rule.query}\`, not \`${oneLine(want.expr)}\``;
  if (want.type === 'alerting' && Math.abs(rule.duration - want.duration) > 1e-3)
    return `has for: ${rule.duration}s, not ${want.duration}s`;
  const keys = new Set([...Object.keys(want.labels), ...Object.keys(rule.labels)]);
  const label = [...keys].find((key) => want.labels[key] !== rule.labels[key]);
  return label === undefined
    ? undefined
    : `has the label ${label}="${rule.labels[label] ?? ''}", not "${want.labels[label] ?? ''}"`;
}

const oneLine = (expr: string) => expr.trim().replace(/\s+/g, ' ');

/**
 * Whether two PromQL texts are the same expression as Prometheus prints it back: numbers by value (3.6e6),
 * durations by length (7d is 1w), keywords in any case, matchers in any order, comments ignored.
 */
export function sameExpression(a: string, b: string): boolean {
  const [left, right] = [a, b].map(tokens);
  return left !== undefined && right !== undefined && left.join('\u0000') === right.join('\u0000');
}

const keywords = new Set(
  (
    'and or unless by without on ignoring group_left group_right bool offset sum avg count min max stddev stdvar ' +
    'topk bottomk quantile count_values group inf nan'
  ).split(' '),
);
const token = new RegExp(
  [
    String.raw`\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + '`[^`]*`',
    String.raw`(?:\d+(?:ms|[smhdwy]))+(?![\w:])|0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`,
    String.raw`[a-z_:][\w:]*|==|!=|>=|<=|=~|!~|[-+*/%^<>=(){}[\],@]`,
  ].join('|'),
  'giy',
);
/** The normalised tokens of a PromQL text; undefined if it holds something no token is. */
function tokens(text: string): string[] | undefined {
  const words: string[] = [];
  token.lastIndex = 0;
  while (token.lastIndex < text.length) {
    const word = token.exec(text)?.[0];
    if (word === undefined) return undefined;
    if (!/^\s|^#/.test(word)) words.push(normalised(word));
  }
  return sortMatchers(words);
}

function normalised(word: string): string {
  const first = word[0]!;
  // Prometheus prints strings double-quoted; a single-quoted one holds \' where it holds '.
  if (first === '"' || first === "'" || first === '`') return `s:${word.slice(1, -1).replace(/\\'/g, "'")}`;
  const ms = durationMs(word);
  if (ms !== undefined) return `d:${ms}`;
  if (/^[\d.]/.test(word)) return `n:${Number(word)}`;
  return keywords.has(word.toLowerCase()) ? word.toLowerCase() : word;
}

/** Label matchers in braces, sorted: Prometheus may print them in another order than written. */
function sortMatchers(list: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const end = list[i] === '{' ? list.indexOf('}', i) : -1;
    if (end < 0) {
      out.push(list[i]!);
      continue;
    }
    const matchers: string[][] = [[]];
    for (const each of list.slice(i + 1, end)) {
      if (each === ',') matchers.push([]);
      else matchers.at(-1)!.push(each);
    }
    const sorted = matchers.filter((matcher) => matcher.length > 0).map((matcher) => JSON.stringify(matcher));
    out.push('{', ...sorted.sort(), '}');
    i = end;
  }
  return out;
}

/** The shipped rules loaded and healthy, and the Trucki alerts firing now. */
export async function rulesAndAlerts(
  side: PrometheusSide,
  say: (step: Step) => Promise<void>,
  forget: (labels: Alert['labels']) => string | undefined = () => undefined,
): Promise<void> {
  const loaded = await side.api.rules().catch((error: unknown) => unreachable(side, error, 'the rules'));
  if (!Array.isArray(loaded)) {
    await say(loaded);
    // Nothing answering there: no alerts to ask for either.
    if (loaded.mark === 'unchecked') return;
  } else if (loaded.length === 0 && side.victoriametrics) {
    return say(
      unchecked(
        `VictoriaMetrics ${side.shown} shows no rules: they run in a vmalert; the rules and alerts are not checked ` +
          '(start VictoriaMetrics with -vmalert.proxyURL to show them, or give the vmalert as --prometheus-url)',
      ),
    );
  } else await say(await comparedStep(side, loaded));
  const alerts = await side.api.alerts().catch((error: unknown) => unreachable(side, error, 'the Trucki alerts'));
  if (!Array.isArray(alerts)) return say(alerts);
  const trucki = alerts.filter(({ labels }) => labels.alertname?.startsWith('Trucki'));
  const firing = trucki.filter(({ state }) => state === 'firing');
  for (const { labels } of firing) await say(failed(firingText(labels, forget)));
  const pending = trucki.filter(({ state }) => state !== 'firing');
  if (firing.length === 0)
    await say(ok(`no Trucki alert is firing${pending.length ? ` (${clip(pendingText(pending))})` : ''}`));
}

async function comparedStep(side: PrometheusSide, loaded: readonly Rule[]): Promise<Step> {
  const shipped = await readShippedRules().catch((error: unknown) => messageOf(error));
  if (typeof shipped === 'string')
    return unchecked(`the shipped rules file cannot be read (${shipped}): the rules are not compared`);
  const { missing, differing, failing, ours } = compareRules(shipped, loaded);
  const copy = (where: string) =>
    `copy deploy/prometheus/trucki-rules.yml ${where}, name it under rule_files: and reload Prometheus`;
  if (ours.length === 0)
    return failed(`the shipped rules are not loaded in Prometheus ${side.shown}: ${copy('beside prometheus.yml')}`);
  if (failing.length > 0) {
    const each = failing.map(
      ({ name, group, lastError, health }) => `rule ${name} (group ${clip(group)}) fails: ${clip(lastError) || health}`,
    );
    return failed(clip(each.join('; '), 2000));
  }
  if (missing.length > 0 || differing.length > 0) {
    const what = [
      ...(missing.length ? [`${missing.map(({ name }) => name).join(', ')} missing`] : []),
      ...differing.map(({ rule, what: how }) => `${rule.name} (group ${clip(rule.group, 80)}) ${clip(how, 200)}`),
    ];
    return failed(`Prometheus's rules are not the shipped ones: ${clip(what.join('; '), 2000)}; ${copy('again')}`);
  }
  const groups = clip([...new Set(ours.map(({ group }) => group))].join(', '));
  const pending = ours.some(({ health }) => health !== 'ok') ? ', some not evaluated yet' : ' and healthy';
  return ok(`the shipped rules are loaded as shipped (${shipped.length} rules, groups ${groups})${pending}`);
}
