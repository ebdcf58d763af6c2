/** The job's error classes, each saying who is at fault, the helpers that read any error, and the exit statuses. */

/**
 * A dark stick (off at night) is no failed job: its trucki_up 0 is delivered, and the units count its status as
 * success. 69 is sysexits' EX_UNAVAILABLE (systemd shows 69/UNAVAILABLE), beside 70, EX_SOFTWARE; Node never exits 69.
 */
export const exitCodes = { ok: 0, failed: 1, usage: 2, sticksDark: 69, internal: 70 } as const;

/** Bad input from the user: flags, environment, env file or a file they name. Exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Why a targets file cannot be used, naming the entry; never quoting a credential. */
export class TargetsFileError extends Error {
  override readonly name = 'TargetsFileError';
}

/** A failed request, in words safe to log, "(3 attempts)" if tried again; itself: an answer of another shape. */
export class HttpFailure extends Error {
  override readonly name: string = 'HttpFailure';

  constructor(
    words: string,
    readonly attempts = 1,
  ) {
    super(attempts > 1 ? `${words} (${attempts} attempts)` : words);
  }
}

/** Nothing answered: refused, timed out, reset, a name that does not resolve, TLS not trusted. */
export class NoAnswer extends HttpFailure {
  override readonly name = 'NoAnswer';
}

/**
 * It answered with a status other than 2xx (a redirect included: none is followed). `reason`: the first line of
 * its answer or its status's words; `body`: within the byte limit; `retryAfterMs`: from a readable Retry-After.
 */
export class HttpStatus extends HttpFailure {
  override readonly name = 'HttpStatus';

  constructor(
    words: string,
    attempts: number,
    readonly status: number,
    readonly reason: string,
    readonly body: string,
    readonly retryAfterMs?: number,
  ) {
    super(words, attempts);
  }
}

/** Its answer was larger than the request's byte limit: cut off there. */
export class AnswerTooLarge extends HttpFailure {
  override readonly name = 'AnswerTooLarge';
}

/** A failure of the sink, in words that name it and hold no credential. */
export class SinkFailure extends Error {
  override readonly name: string = 'SinkFailure';
}

/** The store has no query API (a vmagent): the sink recalls nothing from it any more. */
export class NoQueryApi extends SinkFailure {
  override readonly name = 'NoQueryApi';
}

/** The message of anything thrown, for a log line. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A system error's code ("ENOENT", "EPIPE"), if what was thrown has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
