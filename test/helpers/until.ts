/**
 * Waiting for what a test cannot drive: another program (a store that applies what it received,
 * a child process's next tick) reaching a state. Polls `condition` until it gives a value that is
 * neither false nor undefined/null, and returns that value; fails after `timeoutMs`, saying what
 * it waited for and, with `last`, what it saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** How long to wait before failing; generous, a bound against a hang, not a stopwatch. */
  readonly timeoutMs?: number;
  /** How long between two checks. */
  readonly intervalMs?: number;
  /** What was waited for, for the failure message. */
  readonly what?: string;
  /** What was last seen, for the failure message. */
  readonly last?: () => string;
}

export async function until<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 100, what = 'the condition', last }: UntilOptions = {},
): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
    if (Date.now() >= deadline) throw new Error(`no ${what} after ${timeoutMs} ms${last ? `: ${last()}` : ''}`);
    await sleep(intervalMs);
  }
}
