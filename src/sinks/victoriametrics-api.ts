/** VictoriaMetrics' import, and each stick's last success read back by one instant query per run. Every run
 * writes the last success it knows: the window need span only the job's longest pause, not the stick's.
 */
import type { Grouping, Target } from '../config/types.js';
import { jobFamilies } from '../catalogue.js';
import { textFormatContentType } from '../exposition.js';
import { HttpFailure } from '../errors.js';
import { request, urlUnder, type Http } from '../http.js';
import { parseJson } from '../json-object.js';
import { plausible } from './sink.js';

/** An import is answered with nothing (204) or a line of refusal: more is read up to this, no further. */
const maxImportAnswerBytes = 1_048_576;

export async function postImport(http: Http, base: URL, text: string): Promise<void> {
  await request(http, {
    method: 'POST',
    url: urlUnder(base, '/api/v1/import/prometheus'),
    body: { text, type: textFormatContentType },
    maxBytes: maxImportAnswerBytes,
    what: 'answering the import',
  });
}

/** Over a day: the job may be stopped overnight (a Pi switched off) and still carry the value over. */
export function recallQuery(job: string): string {
  const quoted = job.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `last_over_time(${jobFamilies.lastSuccess.name}{job="${quoted}"}[1d])`;
}

/** The recall's answer, parsed whole: 4 MiB is some 20,000 series, beyond any fleet, and small parsed. */
export const maxRecallBytes = 4 * 1_048_576;

/** Instance → last success (Unix s). Labels the job never sets (a vmagent's -remoteWrite.label=host=pi) may be
 * there too; one it sets on any target may not differ (another site's stick of the same name).
 */
export async function readLastSuccesses(
  http: Http,
  base: URL,
  query: string,
  targets: readonly Target[],
  grouping: Grouping,
): Promise<Map<string, number>> {
  // nocache=1: otherwise an instant query at "now" is moved back by -search.latencyOffset (30 s
  // by default) and misses the newest samples, the previous run's among them.
  const answer = await request(http, {
    method: 'POST',
    url: urlUnder(base, '/api/v1/query'),
    form: { query, nocache: '1' },
    maxBytes: maxRecallBytes,
    what: 'on /api/v1/query',
  });
  const ours = new Set([...grouping, ...targets.flatMap(({ labels }) => labels)].map(([name]) => name));
  const byInstance = new Map(targets.map((target) => [target.instance, new Map([...grouping, ...target.labels])]));
  const found = new Map<string, number>();
  for (const { metric, value } of queryResult(answer.body)) {
    const instance = metric.instance ?? '';
    const wanted = byInstance.get(instance);
    if (!wanted || ![...ours].every((name) => (metric[name] ?? '') === (wanted.get(name) ?? ''))) continue;
    const seconds = typeof value[1] === 'string' && value[1] !== '' ? Number(value[1]) : NaN;
    if (plausible(seconds) === undefined) continue;
    found.set(instance, Math.max(seconds, found.get(instance) ?? -Infinity));
  }
  return found;
}

interface Series {
  readonly metric: Record<string, string | undefined>;
  readonly value: readonly unknown[];
}

/** The series of an instant query's answer; an HttpFailure in words if it is not one. */
function queryResult(body: Buffer): Series[] {
  const parsed = parseJson(body.toString('utf8'));
  if ('costly' in parsed) throw new HttpFailure(`answered the query with JSON that ${parsed.costly}: not read`);
  if ('invalid' in parsed)
    throw new HttpFailure("answered with something that is not JSON: is the query URL VictoriaMetrics' base URL?");
  const { status, error, data } = (parsed.value ?? {}) as { status?: unknown; error?: unknown; data?: unknown };
  if (status === 'error') throw new HttpFailure(`answered the query with an error: ${errorLine(error)}`);
  const result = (data as { result?: unknown } | null | undefined)?.result;
  if (status !== 'success' || !Array.isArray(result))
    throw new HttpFailure('answered with JSON that is not the result of a query: is the query URL right?');
  // A malformed series among good ones is passed over: it is nobody's last success.
  return result.filter((series: unknown): series is Series => {
    const { metric, value } = (series ?? {}) as { metric?: unknown; value?: unknown };
    return typeof metric === 'object' && metric !== null && Array.isArray(value);
  });
}

/** The error of a query answered `{"status":"error","error":"…"}`, its first line; undefined for another answer. */
export function queryError(body: unknown): string | undefined {
  const parsed = parseJson(String(body));
  if (!('value' in parsed)) return undefined;
  const { status, error } = (parsed.value ?? {}) as { status?: unknown; error?: unknown };
  return status === 'error' ? errorLine(error) : undefined;
}

function errorLine(error: unknown): string {
  return String(error).trim().split('\n')[0]!.slice(0, 300);
}
