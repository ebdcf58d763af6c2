/** dotenv here and systemd's EnvironmentFile= in the units disagree on some lines (`PASS=abc#def` is `abc` to
 * dotenv; a backslash, `export`, a quote followed by more text): a file read differently is refused, naming the
 * line. systemd's reading follows its parse_env_file() on bytes; a name or value its utf8_is_valid() refuses
 * (malformed, a Unicode noncharacter) makes it refuse the whole file; a comment may hold any byte but NUL.
 */
import { isUtf8 } from 'node:buffer';
import { ConfigError } from '../errors.js';
import { optionSpecs } from './options.js';

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isNewline = (c: string) => c === '\n' || c === '\r';
const validName = /^[A-Za-z_][A-Za-z0-9_]*$/;

type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEscape' | 'single' | 'double' | 'doubleEscape' | 'comment';

/** systemd's parser between two characters. */
interface Parser {
  state: State;
  key: string;
  value: string;
  keyEnd?: number | undefined; // where trailing whitespace of the key starts, if it does
  valueEnd?: number | undefined; // the same for an unquoted value
  line: number;
  startLine: number;
  /** Name → value, and the line (from 1) its assignment starts on. */
  readonly found: Map<string, { readonly value: string; readonly line: number }>;
  /** The first assignment that systemd refuses as not UTF-8. */
  refused?: { readonly line: number; readonly why: keyof typeof refusals };
}

/** What a service with EnvironmentFile= naming the file gets; with `refused`, nothing (a string is its UTF-8). */
export function systemdReading(file: string | Buffer): Pick<Parser, 'found' | 'refused'> {
  // Byte by byte, as systemd does: every byte it looks at is ASCII, so one of a character never matches.
  const text = (typeof file === 'string' ? Buffer.from(file) : file).toString('latin1');
  const p: Parser = { state: 'preKey', key: '', value: '', line: 1, startLine: 1, found: new Map() };
  let previous = '';
  for (const c of text) {
    step(p, c);
    // Lines as an editor counts them: \r\n is one.
    if (c === '\r' || (c === '\n' && previous !== '\r')) p.line++;
    previous = c;
  }
  if (p.state !== 'preKey' && p.state !== 'key' && p.state !== 'comment') push(p);
  return p;
}

const units = "systemd's EnvironmentFile= (the units)";
const refusals = {
  bom: `starts with a byte-order mark, which ${units} reads as part of the first name: save it as UTF-8 without one`,
  nul: `holds a NUL byte (saved as UTF-16?), which ${units} refuses: save the file as UTF-8`,
  malformed: `holds bytes that are not UTF-8, which ${units} refuses: save the file as UTF-8`,
  noncharacter:
    `holds a Unicode noncharacter (U+FDD0 to U+FDEF, or the last two of a plane such as U+FFFE), which ${units} ` +
    'refuses as not UTF-8, and the whole file with it: remove it',
};

/** Why systemd's utf8_is_valid() refuses these bytes (one character each), if it does. */
function utf8Problem(bytes: string): 'malformed' | 'noncharacter' | undefined {
  const buffer = Buffer.from(bytes, 'latin1');
  if (!isUtf8(buffer)) return 'malformed';
  // systemd's unichar_is_valid(): U+FDD0–U+FDEF and U+FFFE, U+FFFF of every plane, Unicode's 66 noncharacters.
  return /\p{Noncharacter_Code_Point}/u.test(buffer.toString('utf8')) ? 'noncharacter' : undefined;
}

/** The assignment read so far (trailing whitespace of an unquoted value dropped); then the next line. */
function push(p: Parser): void {
  const name = p.key.slice(0, p.keyEnd);
  const value = p.value.slice(0, p.valueEnd);
  const why = utf8Problem(name) ?? utf8Problem(value);
  if (why) p.refused ??= { line: p.startLine, why };
  else if (validName.test(name))
    p.found.set(name, { value: Buffer.from(value, 'latin1').toString('utf8'), line: p.startLine });
  p.state = 'preKey';
  p.key = p.value = '';
  p.keyEnd = p.valueEnd = undefined;
}

/** One character through systemd's parse_env_file(): # or ; starts a comment line; spaces and tabs around the =
 * and after a value go; '…' escapes nothing, in "…" \ escapes " \ ` $ and a line break (and stays before any
 * other character), outside quotes it escapes any; \r ends a line as \n does.
 */
function step(p: Parser, c: string): void {
  switch (p.state) {
    case 'preKey':
      if (c === '#' || c === ';') p.state = 'comment';
      else if (!isWhitespace(c)) {
        p.state = 'key';
        p.startLine = p.line;
        p.key = c;
        p.keyEnd = undefined;
      }
      break;
    case 'key': // a line without = sets nothing
      if (isNewline(c)) p.state = 'preKey';
      else if (c === '=') p.state = 'preValue';
      else {
        p.keyEnd = isWhitespace(c) ? (p.keyEnd ?? p.key.length) : undefined;
        p.key += c;
      }
      break;
    case 'preValue':
      if (isNewline(c)) push(p);
      else if (c === "'") p.state = 'single';
      else if (c === '"') p.state = 'double';
      else if (c === '\\') p.state = 'valueEscape';
      else if (!isWhitespace(c)) {
        p.state = 'value';
        p.value += c;
      }
      break;
    case 'value':
      if (isNewline(c)) push(p);
      else if (c === '\\') {
        p.state = 'valueEscape';
        p.valueEnd = undefined;
      } else {
        p.valueEnd = isWhitespace(c) ? (p.valueEnd ?? p.value.length) : undefined;
        p.value += c;
      }
      break;
    case 'valueEscape':
      p.state = 'value';
      if (!isNewline(c)) p.value += c;
      break;
    case 'single':
      if (c === "'") p.state = 'preValue';
      else p.value += c;
      break;
    case 'double':
      if (c === '"') p.state = 'preValue';
      else if (c === '\\') p.state = 'doubleEscape';
      else p.value += c;
      break;
    case 'doubleEscape':
      p.state = 'double';
      if ('"\\`$'.includes(c)) p.value += c;
      else if (c !== '\n') p.value += `\\${c}`;
      break;
    case 'comment':
      if (isNewline(c)) p.state = 'preKey';
      break;
  }
}

/** A ConfigError for the first line dotenv (`values`) and systemd read differently; never quoting a value: it may
 * be a password. `name` names the file ("--env-file x.env").
 */
export function checkSameReading(file: Buffer, values: Readonly<Record<string, string>>, name: string): void {
  const text = file.toString('utf8');
  const lines = text.split(/\r\n|\r|\n/);
  // A byte-order mark systemd takes as part of the first name. A NUL byte anywhere ("Bad message"; a
  // file saved as UTF-16 is full of them), or a name or value it does not take as UTF-8, make it refuse
  // the whole file, and the service does not start.
  const systemd = systemdReading(file);
  const nul = lines.findIndex((line) => line.includes('\0'));
  const refused = text.startsWith('\uFEFF')
    ? { line: 1, why: 'bom' as const }
    : nul >= 0
      ? { line: nul + 1, why: 'nul' as const }
      : systemd.refused;
  if (refused) throw new ConfigError(`${name} line ${refused.line}: ${refusals[refused.why]}`);
  // Before systemd 254 a comment ending in \ also hides the next line (an odd number of \: each escapes
  // one character, and before \r\n only the \r); from 254 on it does not.
  const breaks = text.match(/\r\n|\r|\n/g) ?? [];
  const hides = (line: string, index: number) =>
    /^[ \t]*[#;](?:.*[^\\])?\\(?:\\\\)*$/.test(line) && breaks[index] !== '\r\n' && /\S/.test(lines[index + 1] ?? '');
  const hiding = lines.findIndex(hides);
  const setBy = dotenvLines(lines);
  const differing: { line: number; message: string }[] = [];
  const hidingMessage = 'a comment ending in \\ hides the next line from systemd before version 254: end it otherwise';
  if (hiding >= 0) differing.push({ line: hiding + 1, message: hidingMessage });
  for (const variable of new Set([...systemd.found.keys(), ...Object.keys(values)])) {
    const bySystemd = systemd.found.get(variable);
    if (bySystemd?.value === values[variable]) continue;
    // dotenv also reads `export NAME=`, `NAME: value` and names with . or -; systemd does not.
    const message = bySystemd
      ? `${units} and --env-file would read ${variable} differently: ` +
        `quote the value, ${variable}='…' (or "…" without \\ if it holds a ')`
      : validName.test(variable)
        ? `${units} would not set ${variable}: write NAME=value, without export`
        : `${units} takes no ${variable}: a name is letters, digits and _`;
    differing.push({ line: bySystemd?.line ?? setBy.get(variable) ?? 0, message });
  }
  const first = differing.sort((a, b) => a.line - b.line)[0];
  if (first) throw new ConfigError(`${name} line ${first.line}: ${first.message}`);
}

/** For each name, the last line that dotenv would take as setting it; one pass over the file. */
function dotenvLines(lines: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  lines.forEach((line, index) => {
    const name = /^\s*(?:export\s+)?([\w.-]+)\s*[=:]/.exec(line)?.[1];
    if (name !== undefined) found.set(name, index + 1);
  });
  return found;
}

/** Every variable the job reads: each option's, and <NAME>_FILE for those that may be secret. */
const known = Object.values(optionSpecs).flatMap(({ env, file }) =>
  env ? [env, ...(file ? [`${env}_FILE`] : [])] : [],
);
/** A handful of stray names is said; a file of thousands of them gets one more line, not thousands. */
const limit = 5;

/** A line for each variable that is not ours but looks like it (PUSHGATEWAY_ULR, our prefix): it would not apply. */
export function strayNames(text: string, values: Readonly<Record<string, string>>, name: string): string[] {
  const setBy = dotenvLines(text.split(/\r\n|\r|\n/));
  // PROMETHEUS_ too: check reads PROMETHEUS_URL, and PROMETHEUS_USERNAME is a natural guess.
  const ours = /^(TRUCKI|PUSHGATEWAY|VICTORIAMETRICS|TEXTFILE|PROMETHEUS)_/i;
  const stray: string[] = [];
  for (const variable of Object.keys(values)) {
    if (known.includes(variable)) continue;
    // Up to two edits for a long name, fewer for a short one: X is not a typo of TZ.
    const [closest] = known
      .flatMap((candidate) => {
        const allowed = Math.min(2, Math.floor(candidate.length / 5));
        if (Math.abs(candidate.length - variable.length) > allowed) return [];
        const distance = editDistance(variable.toUpperCase(), candidate);
        return distance <= allowed ? [{ candidate, distance }] : [];
      })
      .sort((a, b) => a.distance - b.distance);
    if (!closest && !ours.test(variable)) continue;
    if (stray.length === limit) {
      stray.push(`${name}: more variables that are not settings; only the first ${limit} are named`);
      break;
    }
    const hint = closest ? `did you mean ${closest.candidate}?` : 'see --help for the settings';
    stray.push(`${name} line ${setBy.get(variable) ?? 0}: ${variable} is not a setting of trucki2pushgateway; ${hint}`);
  }
  return stray;
}

/** Edits from a to b, a swap of two neighbours one edit (SCHEDUEL is one slip from SCHEDULE, not two). */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        current[j] = Math.min(current[j]!, beforePrevious[j - 2]! + 1);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}
