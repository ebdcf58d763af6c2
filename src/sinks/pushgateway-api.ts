/** The Pushgateway's HTTP API as the job uses it: grouping-key paths, PUT, DELETE, and the read-back. */
import type { Grouping } from '../config/types.js';
import { labelSetKey, parseSampleLine, textFormatContentType } from '../exposition.js';
import { HttpFailure, HttpStatus } from '../errors.js';
import { request, urlUnder, type Http } from '../http.js';
import type { Forgettable } from './sink.js';
import { Forgettables, type StaleQuery } from './pushgateway-stale.js';

/** `/metrics/job/<job>/<label>/<value>…`; a value URL handling could change (empty, "..", "/", "%", "?", a line
 * break…) goes in the Pushgateway's `<label>@base64/<base64url>` form ("=" for empty), which carries it intact.
 */
export function groupPath(grouping: Grouping): string {
  const segments = grouping.map(([name, value]) =>
    plainSegment.test(value) ? `${name}/${value}` : `${name}@base64/${Buffer.from(value).toString('base64url') || '='}`,
  );
  return ['/metrics', ...segments].join('/');
}

const plainSegment = /^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$/;

/** Replaces the whole group with `body`, so nothing of an earlier push survives in it. */
export const pushGroup = (http: Http, base: URL, grouping: Grouping, body: string) =>
  changeGroup(http, base, grouping, 'push', body);

export const deleteGroup = (http: Http, base: URL, grouping: Grouping) => changeGroup(http, base, grouping, 'deletion');

async function changeGroup(http: Http, base: URL, grouping: Grouping, what: string, text?: string): Promise<void> {
  try {
    await request(http, {
      method: text === undefined ? 'DELETE' : 'PUT',
      url: urlUnder(base, groupPath(grouping)),
      ...(text !== undefined && { body: { text, type: textFormatContentType } }),
      // The Pushgateway answers with nothing, or a line of refusal: more is not read, nor decoded (a
      // decoder each, while a loop's deletions all wait, could hold gigabytes).
      maxBytes: 64 * 1024,
      decompress: false,
      what: `answering the ${what}`,
    });
  } catch (error) {
    // A 4xx is its considered answer (e.g. a type clash with another group): shown. One retried (408, 429) is none.
    if (!(error instanceof HttpStatus) || error.status < 400 || error.status >= 500 || error.attempts > 1) throw error;
    if (error.status === 404)
      throw new HttpFailure(
        `answered the ${what} with HTTP 404: is the URL the Pushgateway's base URL, without /metrics?`,
      );
    throw new HttpFailure(`refused the ${what} with HTTP ${error.status}: ${error.reason}`);
  }
}

/** The read-back streams through at most this much, and keeps at most one line of it. */
const maxReadBackBytes = 256 * 1024 * 1024;
/** Longer lines (a grouping value of 1 MiB?) are passed over unread: memory stays bounded. */
const maxLineLength = 1024 * 1024;

/** One streamed GET of the Pushgateway's /metrics per run, however many sticks and groups: `values.family` in each
 * grouping by its index, and with `stale` the groups this job may forget. Retried once, when no answer came.
 */
export async function readGroups(
  http: Http,
  base: URL,
  query: { readonly values: { readonly groupings: readonly Grouping[]; readonly family: string }; stale?: StaleQuery },
): Promise<{ values: Map<number, number>; stale: Forgettable[]; unsure?: string }> {
  const wanted = new Map(query.values.groupings.map((grouping, index) => [labelSetKey(grouping), index]));
  const { family } = query.values;
  let values = new Map<number, number>();
  let stale: Forgettables | undefined;
  await request(http, {
    url: urlUnder(base, '/metrics'),
    accept: 'text/plain',
    maxBytes: maxReadBackBytes,
    what: 'on /metrics',
    retries: Math.min(http.policy.retries, 1),
    stream: (headers) => {
      const type = headers['content-type'] ?? '';
      const notMetrics = `answered with ${type.split(';')[0] || 'no content type'}, not metrics`;
      if (!type.startsWith('text/plain'))
        throw new HttpFailure(`${notMetrics}: is the URL the Pushgateway's base URL?`);
      // Each attempt is read afresh.
      values = new Map();
      stale = query.stale && new Forgettables(query.stale, headers.date);
      return lineReader((line) => {
        const parsed = line.startsWith(`${family}{`) && parseSampleLine(line.slice(family.length));
        const index = parsed ? wanted.get(labelSetKey(parsed.labels)) : undefined;
        if (parsed && index !== undefined && Number.isFinite(parsed.value)) values.set(index, parsed.value);
        stale?.line(line);
      });
    },
  });
  return { values, stale: [], ...stale?.found() };
}

/** Chunks to whole lines, an overlong one passed over. What follows the last line break is no line: the text
 * format ends every line with one, and an answer cut mid-line must not be read as a shorter value.
 */
function lineReader(onLine: (line: string) => void): (chunk: string) => void {
  let partial = '';
  let overlong = false;
  return (chunk) => {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      if (!overlong) onLine(partial + chunk.slice(start, end));
      partial = '';
      overlong = false;
      start = end + 1;
    }
    if (overlong) return;
    partial += chunk.slice(start);
    if (partial.length > maxLineLength) {
      partial = '';
      overlong = true;
    }
  };
}
