/** What `check` prints: one line per step, its mark first, and the exit status the marks add up to. */
import { escapeControl, obeyedByTerminals } from '../terminal-text.js';

/** ok: the step holds. failed: it does not. unchecked: it could not be checked, which is no pass. */
type Mark = 'ok' | 'failed' | 'unchecked';

export interface Step {
  readonly mark: Mark;
  readonly text: string;
}

export const ok = (text: string): Step => ({ mark: 'ok', text });
export const failed = (text: string): Step => ({ mark: 'failed', text });
export const unchecked = (text: string): Step => ({ mark: 'unchecked', text });

const symbols: Readonly<Record<Mark, string>> = { ok: '✓', failed: '✗', unchecked: '?' };

/** 0 every step holds; 1 a step failed; 2 the configuration is invalid; 3 none failed, some unchecked. */
export const checkStatus = { ok: 0, failed: 1, configuration: 2, unchecked: 3 } as const;

export function statusOf(steps: readonly Step[]): number {
  if (steps.some(({ mark }) => mark === 'failed')) return checkStatus.failed;
  return steps.some(({ mark }) => mark === 'unchecked') ? checkStatus.unchecked : checkStatus.ok;
}

/** One line, whatever a stick's name or a server's error holds: control characters are shown escaped. */
export function lineOf({ mark, text }: Step): string {
  return `${symbols[mark]} ${text.replace(obeyedByTerminals, escapeControl)}\n`;
}

/** "1 stick", "2 sticks". */
export const count = (sticks: number) => (sticks === 1 ? '1 stick' : `${sticks} sticks`);

/** A server's text, at most `max` characters: a label value or an error may be of any length. */
export const clip = (message: string, max = 300) =>
  message.length > max ? `${message.slice(0, max - 3)}...` : message;
