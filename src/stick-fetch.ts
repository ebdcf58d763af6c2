/** Reading one JSON document from a stick: GET only, bounded in size, strictly UTF-8. */
import { HTTPError } from 'got';
import type { Endpoint } from './config/types.js';
import { errnoCode, HttpFailure } from './errors.js';
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
    // throwHttpErrors off: got would read a failing answer's whole body into memory, unbounded, for
    // its HTTPError; it is read here within the bound, and the HTTPError made as got's promise API made it.
    got: http.got.extend({
      headers: { accept: 'application/json' },
      decompress: false,
      cache: false,
      throwHttpErrors: false,
    }),
  };
  const tooLarge = (path: StickPath) => () => new HttpFailure(`sent more than ${formatBytes(maxBytes)} on ${path}`);
  return async (stick, path) => {
    const auth = stick.username !== undefined || stick.password !== undefined;
    const { response, body } = await withRetries(sticks, async (got) => {
      const url = urlUnder(stick.url, path);
      const answer = await streamedBody(
        auth ? got.stream(url, basicAuth(stick)) : got.stream(url),
        maxBytes,
        tooLarge(path),
      );
      // got's `ok`: 2xx, or 3xx as redirects are not followed (requireSuccess words those).
      if (!answer.response.ok) throw new HTTPError(answer.response);
      return answer;
    });
    requireSuccess(response);
    if (response.statusCode !== 200)
      throw new HttpFailure(`answered HTTP ${response.statusCode} instead of 200 on ${path}`);
    const encoding = response.headers['content-encoding']?.trim().toLowerCase();
    const text =
      encoding && encoding !== 'identity' ? await decoded(body, encoding, maxBytes, tooLarge(path), path) : body;
    try {
      return utf8.decode(text);
    } catch {
      throw new HttpFailure(`sent a body that is not valid UTF-8 on ${path}`);
    }
  };
}

/**
 * A body the stick compressed unasked (it is sent no Accept-Encoding), decoded as got did before the
 * body was streamed; the bound is on the decoded size, so that a small compressed bomb is cut off too.
 * An encoding got never decoded stays as it is, and fails as text or JSON.
 */
async function decoded(
  body: Buffer,
  encoding: string,
  maxBytes: number,
  tooLarge: () => Error,
  path: StickPath,
): Promise<Buffer> {
  if (body.length === 0 || !['gzip', 'deflate', 'br'].includes(encoding)) return body;
  // Only here: a stick that compresses is rare, and loading zlib costs every start.
  const zlib = await import('node:zlib');
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'br') return zlib.brotliDecompressSync(body, options);
    // A raw deflate stream, as some servers send for "deflate", has no zlib header.
    if (encoding === 'deflate' && (body[0]! & 0x08) === 0) return zlib.inflateRawSync(body, options);
    return zlib.unzipSync(body, options);
  } catch (error) {
    if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new HttpFailure(`sent a ${encoding}-encoded body that cannot be decoded on ${path}`);
  }
}

function formatBytes(bytes: number): string {
  return bytes % 1048576 === 0
    ? `${bytes / 1048576} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}
