/** Error helpers every module shares. */

/** Bad input from the user: flags, environment, env file or a file they name. Exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The message of anything thrown, for a log line. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
