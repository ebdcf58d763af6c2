/** The Pushgateway's HTTP API as the job uses it: grouping-key paths, PUT, DELETE, and the read-back. */
import type { Grouping } from '../config/types.js';
import { parseSampleLine, textFormatContentType } from '../exposition.js';
import { HttpFailure, HttpStatus } from '../errors.js';
import { request, urlUnder, type Http } from '../http.js';
import type { Forgettable } from './sink.js';
import { Forgettables, type StaleQuery } from './pushgateway-stale.js';

/**
 * `/metrics/job/<job>/<label>/<value>…`. Only values that no URL handling can change are path
 * segments as they are; any other (empty, ".", "..", "/", "%", "?", "#", a line break…) uses the
 * Pushgateway's `<label>@base64/<base64url>` form ("=" for empty), which carries any value intact.
 */
export function groupPath(grouping: Grouping): string {
  return '/metrics' + grouping.map(([name, value]) => `/${encodeLabel(name, value)}`).join('');
}

const plainSegment = /^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$/;

function encodeLabel(name: string, value: string): string {
  if (plainSegment.test(value)) return `${name}/${value}`;
  return `${name}@base64/${value === '' ? '=' : Buffer.from(value).toString('base64url')}`;
}

/** The Pushgateway answers a push or a deletion with nothing, or a line of refusal: more is not read. */
const maxAnswerBytes = 64 * 1024;

/** Replaces the whole group with `body`, so nothing of an earlier push survives in it. */
export async function pushGroup(http: Http, base: URL, grouping: Grouping, body: string): Promise<void> {
  const url = urlUnder(base, groupPath(grouping));
  const push = { text: body, type: textFormatContentType };
  await explainRefusal(
    'push',
    request(http, { method: 'PUT', url, body: push, maxBytes: maxAnswerBytes, what: 'answering the push' }),
  );
}

export async function deleteGroup(http: Http, base: URL, grouping: Grouping): Promise<void> {
  const url = urlUnder(base, groupPath(grouping));
  await explainRefusal(
    'deletion',
    request(http, { method: 'DELETE', url, maxBytes: maxAnswerBytes, what: 'answering the deletion' }),
  );
}

/**
 * A 4xx is the Pushgateway's considered answer (e.g. a type clash with another group): show it. One
 * that was retried (408, 429) is not a refusal.
 */
async function explainRefusal(what: string, sent: Promise<unknown>): Promise<void> {
  try {
    await sent;
  } catch (error) {
    if (!(error instanceof HttpStatus) || error.status < 400 || error.status >= 500 || error.attempts > 1) throw error;
    if (error.status === 404) {
      throw new HttpFailure(
        `answered the ${what} with HTTP 404: is the URL the Pushgateway's base URL, without /metrics?`,
      );
    }
    throw new HttpFailure(`refused the ${what} with HTTP ${error.status}: ${error.reason}`);
  }
}

/** The read-back streams through at most this much, and keeps at most one line of it. */
const maxReadBackBytes = 256 * 1024 * 1024;
/** Longer lines (a grouping value of 1 MiB?) are passed over unread: memory stays bounded. */
const maxLineLength = 1024 * 1024;

/** What one read of the Pushgateway looks for. */
export interface GroupsQuery {
  /** The value of `family` in each of `groupings`. */
  readonly values: { readonly groupings: readonly Grouping[]; readonly family: string };
  /** Also the groups this job may forget (see StaleQuery). */
  readonly stale?: StaleQuery;
}

/**
 * One GET of the Pushgateway's own /metrics, read line by line as it streams in, for what `query`
 * asks: the values keyed by the index of the grouping, and the stale groups. One request per run
 * whatever the number of sticks, and bounded in size and memory however many groups the
 * Pushgateway holds. Retried once at most, when no answer came: a run makes at most two read-backs.
 */
export async function readGroups(
  http: Http,
  base: URL,
  query: GroupsQuery,
): Promise<{ values: Map<number, number>; stale: Forgettable[]; unsure?: string }> {
  let result: Awaited<ReturnType<typeof readGroups>> = { values: new Map(), stale: [] };
  await readMetricLines(http, base, () => {
    const values = new Map<number, number>();
    const wanted = new Map(query.values.groupings.map((grouping, index) => [labelKey(grouping), index]));
    const stale = query.stale && new Forgettables(query.stale);
    return {
      date: (date) => stale?.clock(date),
      line: (line) => {
        readValue(line, query.values.family, wanted, values);
        stale?.line(line);
      },
      end: () => {
        result = { values, stale: [], ...stale?.found() };
      },
    };
  });
  return result;
}

/** Streams /metrics into a fresh reader per attempt; a reader that throws ends the read with that. */
async function readMetricLines(
  http: Http,
  base: URL,
  attempt: () => { date: (date: string | undefined) => void; line: (line: string) => void; end: () => void },
): Promise<void> {
  let reader: ReturnType<typeof attempt> | undefined;
  await request(http, {
    url: urlUnder(base, '/metrics'),
    accept: 'text/plain',
    maxBytes: maxReadBackBytes,
    what: 'on /metrics',
    retries: Math.min(http.policy.retries, 1),
    stream: (headers) => {
      const type = headers['content-type'] ?? '';
      if (!type.startsWith('text/plain')) {
        throw new HttpFailure(
          `answered with ${type.split(';')[0] || 'no content type'}, not metrics: ` +
            "is the URL the Pushgateway's base URL?",
        );
      }
      reader = attempt();
      reader.date(headers.date);
      const lines = new LineReader(reader.line);
      return (text) => {
        lines.push(text);
      };
    },
  });
  // A last line without its newline (an answer cut mid-line) is never read.
  reader?.end();
}

/**
 * Text in chunks as it streams, out as whole lines; a line longer than maxLineLength is passed over
 * unread, so that memory stays bounded. What follows the last line break is no line: the text format
 * ends every line with one, and an answer cut mid-line must not be read as a shorter value.
 */
class LineReader {
  private partial = '';
  private overlong = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      if (!this.overlong) this.onLine(this.partial + chunk.slice(start, end));
      this.partial = '';
      this.overlong = false;
      start = end + 1;
    }
    if (this.overlong) return;
    this.partial += chunk.slice(start);
    if (this.partial.length > maxLineLength) {
      this.partial = '';
      this.overlong = true;
    }
  }
}

function readValue(line: string, family: string, wanted: Map<string, number>, found: Map<number, number>): void {
  if (!line.startsWith(`${family}{`)) return;
  const parsed = parseSampleLine(line.slice(family.length));
  const index = parsed && wanted.get(labelKey(parsed.labels));
  if (parsed && index !== undefined && Number.isFinite(parsed.value)) found.set(index, parsed.value);
}

/** The same for the same label set: in any order, and an empty value is no label (as in Prometheus). */
function labelKey(labels: Grouping): string {
  return JSON.stringify(labels.filter(([, value]) => value !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
