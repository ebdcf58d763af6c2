/**
 * Reading one stick: /jsonlive every time, /jsononce (identity and configuration) beside it, which
 * is read again only every ten minutes once it has succeeded (src/identity-cache.ts). Only GET, only
 * these two paths (docs/trucki-stick-api.md § Requests we never make), bounded in size, strictly UTF-8.
 */
import { liveCatalogue, onceCatalogue, type CatalogueRow } from './catalogue.js';
import type { Endpoint, Target } from './config/types.js';
import { errnoCode, HttpFailure, messageOf } from './errors.js';
import { answerTooLarge, request, urlUnder, type Http } from './http.js';
import { createIdentityCache, type IdentityCache } from './identity-cache.js';
import { readAnswer, type Reading } from './parse.js';

type StickPath = '/jsonlive' | '/jsononce';

type StickRead = Reading & {
  /** Why the stick could not be read, in words: "timed out after 5 s". */
  readonly failure?: string;
  /** How many Trucki keys its JSON answer held; absent when it sent no JSON object. */
  readonly knownKeys?: number;
  /** Set when the stick did answer, but not as a Trucki (readAnswer's reason, without the path). */
  readonly wrongAnswer?: string;
};

export interface StickReading {
  readonly live: StickRead;
  readonly once: StickRead;
  readonly seconds: number;
  /** Unix time in ms when the reading ended. */
  readonly readAt: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body of `path` on a stick, as text; throws an HttpFailure. */
export function createStickFetch(http: Http, maxBytes: number) {
  return async (stick: Endpoint, path: StickPath): Promise<string> => {
    const auth = stick.username !== undefined || stick.password !== undefined;
    const bound = { maxBytes, what: `on ${path}` };
    const answer = await request(http, {
      url: urlUnder(stick.url, path),
      accept: 'application/json',
      ...bound,
      decompress: false,
      ...(auth && { auth: stick }),
    });
    if (answer.status !== 200) throw new HttpFailure(`answered HTTP ${answer.status} instead of 200 on ${path}`);
    const body = await decoded(answer.body, answer.headers['content-encoding'], bound);
    try {
      return utf8.decode(body);
    } catch {
      throw new HttpFailure(`sent a body that is not valid UTF-8 on ${path}`);
    }
  };
}

/** A body compressed unasked, decoded at once and bounded: got would keep a decoder (brotli's: up to 16 MiB)
 * per stick while all answer. Another encoding stays as it came, and fails as text or JSON.
 */
async function decoded(body: Buffer, encoding = '', bound: { maxBytes: number; what: string }): Promise<Buffer> {
  const name = encoding.trim().toLowerCase();
  if (body.length === 0 || !['gzip', 'deflate', 'br'].includes(name)) return body;
  // Only here: a stick that compresses is rare, and loading zlib costs every start.
  const zlib = await import('node:zlib');
  // Raw deflate, as some servers send for "deflate", lacks zlib's header (RFC 1950: CM 8, a multiple of 31).
  const raw = name === 'deflate' && !(body.length > 1 && (body[0]! & 0x0f) === 8 && body.readUInt16BE() % 31 === 0);
  const decode = name === 'br' ? zlib.brotliDecompressSync : raw ? zlib.inflateRawSync : zlib.unzipSync;
  try {
    return decode(body, { maxOutputLength: bound.maxBytes });
  } catch (error) {
    if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw answerTooLarge(bound);
    throw new HttpFailure(`sent a compressed body that cannot be decoded ${bound.what}`);
  }
}

export function createStickReader(
  http: Http,
  maxBodyBytes: number,
  identities: IdentityCache = createIdentityCache(),
): (target: Target) => Promise<StickReading> {
  const fetchStick = createStickFetch(http, maxBodyBytes);
  /** The stick's answer on `path`, read; with `keep`, a Trucki's answer is kept by the identity cache. */
  async function read(target: Target, path: StickPath, catalogue: readonly CatalogueRow[], keep = false) {
    let text: string;
    try {
      text = await fetchStick(target, path);
    } catch (error) {
      return { samples: [], problems: [], failure: messageOf(error) };
    }
    const answer = readAnswer(text, catalogue);
    const { knownKeys } = answer;
    if ('error' in answer)
      return {
        samples: [],
        problems: [],
        failure: `${answer.error} on ${path}`,
        wrongAnswer: answer.error,
        ...(knownKeys !== undefined && { knownKeys }),
      };
    if (keep) identities.keep(target, answer.payload);
    return { samples: answer.samples, problems: answer.problems, knownKeys };
  }

  return async (target) => {
    // process.hrtime, not performance.now: the latter loads perf_hooks, a cost on every start.
    const started = process.hrtime.bigint();
    const once = () => identities.recall(target) ?? read(target, '/jsononce', onceCatalogue, true);
    const [live, onceRead] = await Promise.all([read(target, '/jsonlive', liveCatalogue), once()]);
    if (live.failure !== undefined) identities.drop(target);
    return { live, once: onceRead, seconds: Number(process.hrtime.bigint() - started) / 1e9, readAt: Date.now() };
  };
}
