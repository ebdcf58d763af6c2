/**
 * The reads of Prometheus's HTTP API that `check` makes, or of the Prometheus-compatible API of
 * VictoriaMetrics: active targets, an instant query, rules, alerts. GET only, bounded in time (the
 * job's timeout and retries) and in size, and each answer checked for the shape it must have: a
 * failure is an HttpFailure in words that name neither a URL's user info nor a credential.
 */
import { isJsonObject, parseJson } from '../json-object.js';
import { HttpFailure } from '../errors.js';
import { request, urlUnder, type Http } from '../http.js';

/**
 * Each answer is parsed whole, so its size is bounded by what it can be: the series of our own queries
 * are a few per stick; the active targets, rules and alerts of a Prometheus of some thousands of targets.
 */
const maxAnswerBytes = (path: string) => (path === '/api/v1/query' ? 1 : 4) * 1_048_576;

export interface ScrapeTarget {
  /** The scrape job's name. */
  readonly scrapePool: string;
  /** The job and instance labels its series get: the scrape job's name and the address, unless relabelled. */
  readonly job: string;
  readonly instance: string;
  readonly scrapeUrl: string;
  /** "up", "down" or "unknown" (not scraped yet). */
  readonly health: string;
  readonly lastError: string;
  /** "15s"; absent before Prometheus 2.31. */
  readonly scrapeInterval?: string;
  /** When its last scrape started, as Prometheus wrote it; "" if never. */
  readonly lastScrape: string;
}

export interface Rule {
  readonly name: string;
  readonly group: string;
  /** "ok", "err" or "unknown" (not evaluated yet). */
  readonly health: string;
  readonly lastError: string;
  /** "alerting" or "recording". */
  readonly type: string;
  /** Its expression, as the server prints it. */
  readonly query: string;
  /** An alert's `for`, in seconds. */
  readonly duration: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Alert {
  readonly labels: Readonly<Record<string, string>>;
  /** "pending" or "firing". */
  readonly state: string;
}

export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  /** NaN where the answer held no number. */
  readonly value: number;
}

export interface PrometheusApi {
  targets(): Promise<ScrapeTarget[]>;
  /** An instant query at now; the series it returns (a scalar or string result is none). */
  query(expr: string): Promise<Series[]>;
  rules(): Promise<Rule[]>;
  alerts(): Promise<Alert[]>;
}

/** `http` carries the credentials, if any; `base` is the API's base URL, without user info. */
export function prometheusApi(http: Http, base: URL): PrometheusApi {
  const read = (path: string, params?: Record<string, string>) => readData(http, base, path, params);

  return {
    targets: async () => {
      const path = '/api/v1/targets';
      // Only the active ones: the dropped targets of a service discovery can be many thousands.
      const data = (await read(path, { state: 'active' })) as Record<string, unknown>;
      const active = data.activeTargets ?? [];
      if (!Array.isArray(active)) throw wrongShape(path);
      return active.map((target: unknown): ScrapeTarget => {
        if (!isJsonObject(target) || typeof target.scrapeUrl !== 'string' || typeof target.health !== 'string')
          throw wrongShape(path);
        const labels = isJsonObject(target.labels) ? target.labels : {};
        return {
          scrapePool: text(target.scrapePool) || text(labels.job),
          job: text(labels.job),
          instance: text(labels.instance),
          scrapeUrl: target.scrapeUrl,
          health: target.health,
          lastError: text(target.lastError),
          lastScrape: text(target.lastScrape),
          ...(typeof target.scrapeInterval === 'string' && { scrapeInterval: target.scrapeInterval }),
        };
      });
    },
    query: async (expr) => {
      const path = '/api/v1/query';
      // nocache=1: VictoriaMetrics would otherwise hide the last 30 s from a query at "now".
      const data = (await read(path, { query: expr, nocache: '1' })) as Record<string, unknown>;
      if (data.resultType !== 'vector') return [];
      if (!Array.isArray(data.result)) throw wrongShape(path);
      return data.result.map((series: unknown): Series => {
        if (!isJsonObject(series) || !isJsonObject(series.metric)) throw wrongShape(path);
        const value = Array.isArray(series.value) ? Number(series.value[1]) : NaN;
        return { metric: stringsOf(series.metric), value };
      });
    },
    rules: async () => {
      const path = '/api/v1/rules';
      const data = (await read(path)) as Record<string, unknown>;
      const groups = data.groups ?? [];
      if (!Array.isArray(groups)) throw wrongShape(path);
      return groups.flatMap((group: unknown) => {
        if (!isJsonObject(group) || !Array.isArray(group.rules)) throw wrongShape(path);
        return group.rules.map((rule: unknown): Rule => {
          if (!isJsonObject(rule) || typeof rule.name !== 'string') throw wrongShape(path);
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
        });
      });
    },
    alerts: async () => {
      const path = '/api/v1/alerts';
      const data = (await read(path)) as Record<string, unknown>;
      const alerts = data.alerts ?? [];
      if (!Array.isArray(alerts)) throw wrongShape(path);
      return alerts.map((alert: unknown): Alert => {
        if (!isJsonObject(alert) || !isJsonObject(alert.labels)) throw wrongShape(path);
        return { labels: stringsOf(alert.labels), state: text(alert.state) };
      });
    },
  };
}

/** The `data` of a Prometheus API answer, or an HttpFailure saying what came instead. */
async function readData(http: Http, base: URL, path: string, params: Record<string, string> = {}): Promise<unknown> {
  const url = urlUnder(base, path);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const { body } = await request(http, {
    url,
    accept: 'application/json',
    maxBytes: maxAnswerBytes(path),
    what: `on ${path}`,
  });
  const text = body.toString('utf8');
  const parsed = parseJson(text);
  if ('costly' in parsed) throw new HttpFailure(`answered ${path} with JSON that ${parsed.costly}: not read`);
  if ('invalid' in parsed) {
    const what = text.trimStart().startsWith('<') ? 'HTML' : 'something that is not JSON';
    throw new HttpFailure(`answered ${path} with ${what}: is it the base URL of Prometheus's API?`);
  }
  const answer = parsed.value;
  if (!isJsonObject(answer) || answer.status !== 'success' || !isJsonObject(answer.data)) throw wrongShape(path);
  return answer.data;
}

const wrongShape = (path: string) =>
  new HttpFailure(`answered ${path} with JSON of another shape than Prometheus's API`);

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringsOf(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
