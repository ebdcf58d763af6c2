/** Reading one JSON document from a stick: GET only, bounded in size, strictly UTF-8. */
import type { Endpoint } from './config/types.js';
import { HttpFailure } from './errors.js';
import { basicAuth, requireSuccess, streamedBody, urlUnder, withRetries, type Http } from './http.js';

export type StickPath = '/jsonlive' | '/jsononce';

/** The body of `path` on a stick, as text. Throws a got error or an HttpFailure. */
export type FetchStick = (stick: Endpoint, path: StickPath) => Promise<string>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every stick request's options are fixed once here, not merged per request: at a fleet got's
 * per-request option handling was the largest cost it adds (issue 18). The body is streamed and
 * counted, so that an endless or huge answer is cut off as it comes, not after it filled memory.
 */
export function createStickFetch(http: Http, maxBytes: number): FetchStick {
  const sticks: Http = {
    ...http,
    got: http.got.extend({ headers: { accept: 'application/json' }, decompress: false, cache: false }),
  };
  const tooLarge = (path: StickPath) => () => new HttpFailure(`sent more than ${formatBytes(maxBytes)} on ${path}`);
  return async (stick, path) => {
    const auth = stick.username !== undefined || stick.password !== undefined;
    const { response, body } = await withRetries(sticks, (got) => {
      const url = urlUnder(stick.url, path);
      return streamedBody(auth ? got.stream(url, basicAuth(stick)) : got.stream(url), maxBytes, tooLarge(path));
    });
    requireSuccess(response);
    if (response.statusCode !== 200)
      throw new HttpFailure(`answered HTTP ${response.statusCode} instead of 200 on ${path}`);
    try {
      return utf8.decode(body);
    } catch {
      throw new HttpFailure(`sent a body that is not valid UTF-8 on ${path}`);
    }
  };
}

function formatBytes(bytes: number): string {
  return bytes % 1048576 === 0
    ? `${bytes / 1048576} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}
