/**
 * Reading one stick: /jsonlive every time, /jsononce (identity and configuration) beside it, which
 * a loop reads again only every ten minutes once it has succeeded.
 */
import { liveCatalogue, onceCatalogue, type CatalogueRow } from './catalogue.js';
import { stickIdentity, type Target } from './config/types.js';
import { describeFailure, type Http } from './http.js';
import { readAnswer, type Reading } from './parse.js';
import { fetchStick, type StickPath } from './stick-fetch.js';

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

/** Identity and configuration rarely change: a loop reads /jsononce this seldom. */
const onceInterval = 10 * 60_000;

export function createStickReader(http: Http, maxBodyBytes: number): (target: Target) => Promise<StickReading> {
  // Only successful reads are kept: a stick that comes up later gets its identity on the next run.
  const onceReads = new Map<string, { at: number; read: StickRead }>();

  async function read(target: Target, path: StickPath, catalogue: readonly CatalogueRow[]): Promise<StickRead> {
    let text: string;
    try {
      text = await fetchStick(http, target, path, maxBodyBytes);
    } catch (error) {
      return { samples: [], problems: [], failure: describeFailure(error, http.policy) };
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
    return { samples: answer.samples, problems: answer.problems, knownKeys };
  }

  async function readOnce(target: Target): Promise<StickRead> {
    // The identity of the device at this address: another address may be another device.
    const key = `${target.url.href} ${stickIdentity(target)}`;
    const cached = onceReads.get(key);
    if (cached && Date.now() - cached.at < onceInterval) return cached.read;
    const once = await read(target, '/jsononce', onceCatalogue);
    if (once.failure === undefined) onceReads.set(key, { at: Date.now(), read: once });
    return once;
  }

  return async (target) => {
    // process.hrtime, not performance.now: the latter loads perf_hooks, a cost on every start.
    const started = process.hrtime.bigint();
    const [live, once] = await Promise.all([read(target, '/jsonlive', liveCatalogue), readOnce(target)]);
    return { live, once, seconds: Number(process.hrtime.bigint() - started) / 1e9, readAt: Date.now() };
  };
}
