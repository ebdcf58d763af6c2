/**
 * Reading one stick: /jsonlive every time, /jsononce (identity and configuration) beside it, which
 * is read again only every ten minutes once it has succeeded (src/identity-cache.ts).
 */
import { liveCatalogue, onceCatalogue, type CatalogueRow } from './catalogue.js';
import type { Target } from './config/types.js';
import { messageOf } from './errors.js';
import type { Http } from './http.js';
import { createIdentityCache, type IdentityCache } from './identity-cache.js';
import { readAnswer, type Payload, type Reading } from './parse.js';
import { createStickFetch, type StickPath } from './stick-fetch.js';

export type StickRead = Reading & {
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
  /** How long reading took. */
  readonly seconds: number;
  /** Unix time in ms when the reading ended. */
  readonly readAt: number;
}

export function createStickReader(
  http: Http,
  maxBodyBytes: number,
  identities: IdentityCache = createIdentityCache(),
): (target: Target) => Promise<StickReading> {
  const fetchStick = createStickFetch(http, maxBodyBytes);
  /** The stick's answer on `path`, read; `onTrucki` hears the answer itself when it is a Trucki's. */
  async function read(
    target: Target,
    path: StickPath,
    catalogue: readonly CatalogueRow[],
    onTrucki?: (answer: Payload) => void,
  ): Promise<StickRead> {
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
    onTrucki?.(answer.payload);
    return { samples: answer.samples, problems: answer.problems, knownKeys };
  }

  async function readOnce(target: Target): Promise<StickRead> {
    const kept = identities.recall(target);
    if (kept) return kept;
    return read(target, '/jsononce', onceCatalogue, (answer) => {
      identities.keep(target, answer);
    });
  }

  return async (target) => {
    // process.hrtime, not performance.now: the latter loads perf_hooks, a cost on every start.
    const started = process.hrtime.bigint();
    const [live, once] = await Promise.all([read(target, '/jsonlive', liveCatalogue), readOnce(target)]);
    if (live.failure !== undefined) identities.drop(target);
    return { live, once, seconds: Number(process.hrtime.bigint() - started) / 1e9, readAt: Date.now() };
  };
}
