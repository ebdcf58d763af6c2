/** Reading one JSON document from a stick: GET only, bounded in size, strictly UTF-8. */
import type { Endpoint } from './config/types.js';
import { errnoCode, HttpFailure } from './errors.js';
import { answerTooLarge, request, urlUnder, type Http } from './http.js';

export type StickPath = '/jsonlive' | '/jsononce';

/** The body of `path` on a stick, as text. Throws an HttpFailure. */
export type FetchStick = (stick: Endpoint, path: StickPath) => Promise<string>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createStickFetch(http: Http, maxBytes: number): FetchStick {
  return async (stick, path) => {
    const auth = stick.username !== undefined || stick.password !== undefined;
    const { status, headers, body } = await request(http, {
      url: urlUnder(stick.url, path),
      accept: 'application/json',
      maxBytes,
      what: `on ${path}`,
      decompress: false,
      ...(auth && { auth: stick }),
    });
    if (status !== 200) throw new HttpFailure(`answered HTTP ${status} instead of 200 on ${path}`);
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    const text = encoding && encoding !== 'identity' ? await decoded(body, encoding, maxBytes, path) : body;
    try {
      return utf8.decode(text);
    } catch {
      throw new HttpFailure(`sent a body that is not valid UTF-8 on ${path}`);
    }
  };
}

/**
 * A body the stick compressed unasked (it is sent no Accept-Encoding), decoded here rather than by
 * got, which would load zlib on every start; the bound is on the decoded size, so that a small
 * compressed bomb is cut off too. An encoding got never decodes stays as it is, and fails as text or JSON.
 */
async function decoded(body: Buffer, encoding: string, maxBytes: number, path: StickPath): Promise<Buffer> {
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
    if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw answerTooLarge({ maxBytes, what: `on ${path}` });
    throw new HttpFailure(`sent a ${encoding}-encoded body that cannot be decoded on ${path}`);
  }
}
