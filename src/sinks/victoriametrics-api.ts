/**
 * VictoriaMetrics' HTTP API as the job uses it: the import of Prometheus text, and the last success
 * of each stick read back with one instant query per run. Every run writes the last success it
 * knows with its own timestamp, so only the latest sample matters and the window needs to span only
 * the longest pause of the job, not of the stick.
 */
import type { Grouping, Target } from '../config/types.js';
import { jobFamilies } from '../catalogue.js';
import { textFormatContentType } from '../exposition.js';
import { requireSuccess, urlUnder, withRetries, type Http } from '../http.js';

/** Posts Prometheus text to `<base>/api/v1/import/prometheus`. */
export async function postImport(http: Http, base: URL, text: string): Promise<void> {
  const url = urlUnder(base, '/api/v1/import/prometheus');
  await withRetries(http, async (got) => {
    requireSuccess(await got.post(url, { body: text, headers: { 'content-type': textFormatContentType } }));
  });
}

/** A day: the job may be stopped overnight (a Pi switched off) and still carry the value over. */
export const recallWindow = '1d';

export function recallQuery(job: string): string {
  const quoted = job.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `last_over_time(${jobFamilies.lastSuccess.name}{job="${quoted}"}[${recallWindow}])`;
}

interface QueryAnswer {
  readonly data?: { readonly result?: readonly { metric: Record<string, string>; value: [number, string] }[] };
}

/** Instance → last success (Unix s) for those of `targets` whose exact label set a series has. */
export async function readLastSuccesses(
  http: Http,
  base: URL,
  query: string,
  targets: readonly Target[],
  grouping: Grouping,
): Promise<Map<string, number>> {
  // nocache=1: otherwise an instant query at "now" is moved back by -search.latencyOffset (30 s
  // by default) and misses the newest samples, the previous run's among them.
  const url = urlUnder(base, '/api/v1/query');
  const answer = await withRetries(http, (got) => got.post(url, { form: { query, nocache: '1' } }).json<QueryAnswer>());
  const found = new Map<string, number>();
  // The same instance under other labels (another site's stick of that name) is another stick.
  const byInstance = new Map(targets.map((target) => [target.instance, [...grouping, ...target.labels]]));
  for (const { metric, value } of answer.data?.result ?? []) {
    const labels = byInstance.get(metric.instance ?? '');
    const seconds = Number(value[1]);
    const others = Object.keys(metric).filter((name) => !['job', 'instance', '__name__'].includes(name));
    const exact =
      labels !== undefined &&
      others.length === labels.length &&
      labels.every(([name, wanted]) => metric[name] === wanted);
    if (!exact || !Number.isFinite(seconds)) continue;
    found.set(metric.instance!, Math.max(seconds, found.get(metric.instance!) ?? -Infinity));
  }
  return found;
}
