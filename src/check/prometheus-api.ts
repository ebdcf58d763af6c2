/**
 * The reads of Prometheus's HTTP API (or VictoriaMetrics') that `check` makes, bounded in time and size, each
 * answer checked for its shape: a failure is an HttpFailure naming neither user info nor a credential.
 */
import { isJsonObject, parseJson } from '../json-object.js';
import { HttpFailure } from '../errors.js';
import { request, urlUnder, type Http } from '../http.js';

type Json = Record<string, unknown>;

/** An active target: health "up", "down" or "unknown" (not scraped yet); `job` and `instance` its series' labels. */
function scrapeTarget(target: Json) {
  if (typeof target.scrapeUrl !== 'string' || typeof target.health !== 'string') return undefined;
  const labels = isJsonObject(target.labels) ? target.labels : {};
  return {
    scrapePool: text(target.scrapePool) || text(labels.job),
    job: text(labels.job),
    instance: text(labels.instance),
    scrapeUrl: target.scrapeUrl,
    health: target.health,
    lastError: text(target.lastError),
    lastScrape: text(target.lastScrape), // as Prometheus wrote it; "" if never
    // "15s"; absent before Prometheus 2.31.
    ...(typeof target.scrapeInterval === 'string' && { scrapeInterval: target.scrapeInterval }),
  };
}

/** A rule: health "ok", "err" or "unknown" (not evaluated yet); `query` as the server prints it; `for` in s. */
function rule(group: Json, rule: Json) {
  if (typeof rule.name !== 'string') return undefined;
  return {
    name: rule.name,
    group: text(group.name),
    health: text(rule.health),
    lastError: text(rule.lastError),
    type: text(rule.type),
    query: text(rule.query),
    duration: typeof rule.duration === 'number' ? rule.duration : 0,
    labels: isJsonObject(rule.labels) ? stringsOf(rule.labels) : {},
  };
}

export type ScrapeTarget = NonNullable<ReturnType<typeof scrapeTarget>>;
export type Rule = NonNullable<ReturnType<typeof rule>>;
/** An alert of state "pending" or "firing". */
export type Alert = { readonly labels: Readonly<Record<string, string>>; readonly state: string };
/** A series of an instant query; its value NaN where the answer held no number. */
export type Series = { readonly metric: Readonly<Record<string, string>>; readonly value: number };

export interface PrometheusApi {
  targets(): Promise<ScrapeTarget[]>;
  /** An instant query at now; the series it returns (a scalar or string result is none). */
  query(expr: string): Promise<Series[]>;
  rules(): Promise<Rule[]>;
  alerts(): Promise<Alert[]>;
}

/** `http` carries the credentials, if any; `base` is the API's base URL, without user info. */
export function prometheusApi(http: Http, base: URL): PrometheusApi {
  // Parsed whole, so bounded by what it can be: a query's series are a few per stick; the targets, rules and
  // alerts are those of a Prometheus of thousands of targets.
  const read = async <T>(path: string, params: Record<string, string>, shaped: (data: Json) => T | undefined) => {
    const url = urlUnder(base, path);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const maxBytes = (path === '/api/v1/query' ? 1 : 4) * 1_048_576;
    const { body } = await request(http, { url, accept: 'application/json', maxBytes, what: `on ${path}` });
    const text = body.toString('utf8');
    const parsed = parseJson(text);
    if ('costly' in parsed) throw new HttpFailure(`answered ${path} with JSON that ${parsed.costly}: not read`);
    if ('invalid' in parsed) {
      const what = text.trimStart().startsWith('<') ? 'HTML' : 'something that is not JSON';
      throw new HttpFailure(`answered ${path} with ${what}: is it the base URL of Prometheus's API?`);
    }
    const { value: answer } = parsed;
    const data = isJsonObject(answer) && answer.status === 'success' && isJsonObject(answer.data) && answer.data;
    const value = data ? shaped(data) : undefined;
    if (value === undefined) throw new HttpFailure(`answered ${path} with JSON of another shape than Prometheus's API`);
    return value;
  };
  return {
    // Only the active ones: the dropped targets of a service discovery can be many thousands.
    targets: () =>
      read('/api/v1/targets', { state: 'active' }, (data) => items(data.activeTargets ?? [], scrapeTarget)),
    // nocache=1: VictoriaMetrics would otherwise hide the last 30 s from a query at "now".
    query: (expr) =>
      read('/api/v1/query', { query: expr, nocache: '1' }, (data) =>
        data.resultType !== 'vector'
          ? []
          : items(data.result, ({ metric, value }) =>
              isJsonObject(metric)
                ? { metric: stringsOf(metric), value: Array.isArray(value) ? Number(value[1]) : NaN }
                : undefined,
            ),
      ),
    rules: () =>
      read('/api/v1/rules', {}, (data) =>
        items(data.groups ?? [], (group) => items(group.rules, (each) => rule(group, each)))?.flat(),
      ),
    alerts: () =>
      read('/api/v1/alerts', {}, (data) =>
        items(data.alerts ?? [], ({ labels, state }) =>
          isJsonObject(labels) ? { labels: stringsOf(labels), state: text(state) } : undefined,
        ),
      ),
  };
}

/** Each of `list` as `each` reads it; undefined if it is no list or an item is of another shape. */
function items<T>(list: unknown, each: (item: Json) => T | undefined): T[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const read = list.map((item: unknown) => (isJsonObject(item) ? each(item) : undefined));
  return read.includes(undefined) ? undefined : (read as T[]);
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

function stringsOf(record: Json): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** `look` again every half second until it gives an answer: the one wait of check, for what a store shows. */
export async function poll<T>(look: (startedAt: number) => Promise<T | undefined>): Promise<T> {
  const startedAt = Date.now();
  for (;;) {
    const found = await look(startedAt);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
