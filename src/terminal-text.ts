/** Text from outside (a stick, a server, a name) as a terminal will show it, not obey it. */

/**
 * What a terminal obeys rather than shows: C0 and C1 controls (U+009B alone starts an escape sequence), DEL,
 * the line and paragraph separators, and the bidirectional marks and overrides that reorder what is shown.
 */
export const obeyedByTerminals = /[\0-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** U+001B as \x1b, U+202E as \u202e. */
export function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}
