/** The Pushgateway side: grouping-key paths, PUT (replace a group) and DELETE. */
import { HTTPError } from 'got';
import { HttpFailure, send, urlUnder, type Http } from './http.js';

export type Grouping = readonly (readonly [name: string, value: string])[];

/** The exposition format the Pushgateway expects for a text push. */
const contentType = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `/metrics/job/<job>/<label>/<value>…`. Values that are empty or hold a `/` cannot be path
 * segments, so they use the Pushgateway's `<label>@base64/<base64url>` form ("=" for empty).
 */
export function groupPath(grouping: Grouping): string {
  return '/metrics' + grouping.map(([name, value]) => `/${encodeLabel(name, value)}`).join('');
}

function encodeLabel(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/')) return `${name}@base64/${Buffer.from(value).toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

/** Replaces the whole group with `body`, so nothing of an earlier push survives in it. */
export async function pushGroup(http: Http, base: URL, grouping: Grouping, body: string): Promise<void> {
  await explainRefusal('push', send(http, (got) => got.put(urlUnder(base, groupPath(grouping)), { body, headers: { 'content-type': contentType } })));
}

export async function deleteGroup(http: Http, base: URL, grouping: Grouping): Promise<void> {
  await explainRefusal('deletion', send(http, (got) => got.delete(urlUnder(base, groupPath(grouping)))));
}

/** A 4xx is the Pushgateway's considered answer (e.g. a type clash with another group): show it. */
async function explainRefusal(what: string, request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (error instanceof HTTPError && error.response.statusCode < 500) {
      const reason = String(error.response.body).trim().split('\n')[0]?.slice(0, 300) || error.response.statusMessage;
      throw new HttpFailure(`refused the ${what} with HTTP ${error.response.statusCode}: ${reason}`);
    }
    throw error;
  }
}

interface ApiGroup {
  readonly labels: Record<string, string>;
  readonly [family: string]: unknown;
}

/**
 * The first sample of `family` in the group as the Pushgateway holds it now, or undefined when
 * the group or the family is not there. Lets a one-shot run carry a value over from the last run.
 */
export async function readGroupValue(http: Http, base: URL, grouping: Grouping, family: string): Promise<number | undefined> {
  const { data } = await send(http, (got) => got.get(urlUnder(base, '/api/v1/metrics')).json<{ data?: ApiGroup[] }>());
  const wanted = new Map(grouping);
  const group = data?.find(({ labels }) => Object.keys(labels).length === wanted.size && Object.entries(labels).every(([name, value]) => wanted.get(name) === value));
  const value = (group?.[family] as { metrics?: { value?: string }[] } | undefined)?.metrics?.[0]?.value;
  return value === undefined || !Number.isFinite(Number(value)) ? undefined : Number(value);
}
