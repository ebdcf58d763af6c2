/** The job's error classes, each saying who is at fault, the helpers that read any error, and the exit statuses. */

/**
 * A dark stick (off at night, unplugged) is not a failed job: its trucki_up 0 is delivered, and the
 * units count its own status as success. 69 is sysexits' EX_UNAVAILABLE ("a service is unavailable",
 * shown by systemd as 69/UNAVAILABLE), beside 70, EX_SOFTWARE; Node itself never exits 69.
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

/** An HTTP failure already put in words that are safe to log: no URL, no credentials. */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
}

/** A failure of the sink, in words that name it and hold no credential. */
export class SinkFailure extends Error {
  override readonly name = 'SinkFailure';

  /**
   * `undelivered`: of the sticks a flush was for (`stickIdentity`), those not delivered, when the sink
   * can tell; absent, none of them was.
   */
  constructor(
    message: string,
    readonly undelivered?: ReadonlySet<string>,
  ) {
    super(message);
  }
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
