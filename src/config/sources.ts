/**
 * Where each setting comes from, and which source wins: flags beat the environment, which beats
 * the env file. At each level a value and a file named by <NAME>_FILE for the same setting are an
 * error; systemd credentials ($CREDENTIALS_DIRECTORY/<NAME>) count as environment. Only options
 * marked `file` have files.
 */
import { lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readBoundedBytes, readBoundedFile, smallFileBytes } from '../bounded-file.js';
import { ConfigError, messageOf } from '../errors.js';
import { checkSameReading, strayNames } from './env-file.js';
import { optionSpecs, type OptionName, type OptionSpec } from './options.js';

export interface Setting {
  /** Each occurrence of a repeated flag; one element from any other source. */
  readonly parts: readonly string[];
  /** All parts; for single-valued options the only one. */
  readonly value: string;
  /** For error messages: "--timeout", "TRUCKI_TIMEOUT_MS", "TRUCKI_TIMEOUT_MS in .env". */
  readonly source: string;
  /** Which source: 0 a flag, 1 the environment (with its files and credentials), 2 the env file. */
  readonly level: 0 | 1 | 2;
}

/**
 * Of settings that exclude each other (where the metrics go; --target or --targets-file), those from
 * the strongest source present: a flag overrides the environment's choice, as for any one setting.
 * More than one is a clash at that level.
 */
export function strongest(settings: readonly (Setting | undefined)[]): Setting[] {
  const present = settings.filter((setting) => setting !== undefined);
  const level = Math.min(...present.map((setting) => setting.level));
  return present.filter((setting) => setting.level === level);
}

export type Settings = (name: OptionName) => Setting | undefined;

type Flags = Partial<Record<OptionName, string | string[] | boolean>>;

const specs = Object.entries(optionSpecs) as [OptionName, OptionSpec][];

export function parseFlags(argv: readonly string[]): Flags {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  const nameOf = new Map<string, OptionName>();
  for (const [name, spec] of specs) {
    if (!spec.flag) continue;
    options[spec.flag] = {
      type: spec.arg ? 'string' : 'boolean',
      ...(spec.short && { short: spec.short }),
      ...(spec.repeatable && { multiple: true }),
    };
    nameOf.set(spec.flag, name);
  }
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return Object.fromEntries(Object.entries(values).map(([flag, value]) => [nameOf.get(flag), value])) as Flags;
  } catch (error) {
    // parseArgs words its errors well ("Unknown option '--foo'"); keep only the first sentence.
    const message = messageOf(error).split(/\.\s/)[0]!.replace(/\.$/, '');
    throw new ConfigError(`${message}; see --help`);
  }
}

export interface EnvFile {
  readonly name: string;
  readonly values: Readonly<Record<string, string>>;
}

/** Every variable the job reads: each option's, and <NAME>_FILE for those that may be secret. */
const knownNames = specs.flatMap(([, spec]) =>
  spec.env ? [spec.env, ...(spec.file ? [`${spec.env}_FILE`] : [])] : [],
);

/** `warn` gets a line for a variable that looks like one of ours and is not (a typo). */
export async function readEnvFile(
  path: string | undefined,
  cwd: string,
  warn = (line: string) => void process.stderr.write(`${line}\n`),
): Promise<EnvFile> {
  const name = path ?? '.env';
  const full = resolve(cwd, name);
  if (path === undefined && !present(full)) return { name, values: {} };
  const what = path === undefined ? `the env file ${name}` : `--env-file ${name}`;
  const bytes = readBoundedBytes(full, what, smallFileBytes);
  const text = bytes.toString('utf8');
  // Loaded only when there is a file to read: most runs have none and should not pay for it.
  const { parse } = await import('dotenv');
  const values = parse(text);
  // The units read the same file with systemd's EnvironmentFile=: it must mean the same there.
  checkSameReading(bytes, values, what);
  for (const line of strayNames(text, values, knownNames, what)) warn(`trucki2pushgateway: ${line}`);
  return { name, values };
}

/** Whether the directory has an entry of that name: a broken link is there, to be refused, not skipped. */
function present(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // not to be looked at (EACCES, ENOTDIR): reading it says why
  }
}

/** A secret's, a CA's or the env file's text: a regular file of at most 1 MiB, or a ConfigError. */
export function readText(path: string, what: string): string {
  return readBoundedFile(path, what, smallFileBytes);
}

/**
 * A secret's file holds the secret and, as editors leave them, perhaps a byte-order mark and one
 * line break. An empty file is a mistake, not an empty password.
 */
function readSecretFile(path: string, what: string, cwd: string): string {
  const value = readText(resolve(cwd, path), what)
    .replace(/^\uFEFF/, '')
    .replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(`${what} is empty`);
  return value;
}

export function settingsFrom(flags: Flags, env: NodeJS.ProcessEnv, envFile: EnvFile, cwd: string): Settings {
  const single = (value: string, source: string, level: Setting['level']): Setting => ({
    parts: [value],
    value,
    source,
    level,
  });
  const credentials = env.CREDENTIALS_DIRECTORY;

  /**
   * NAME or NAME_FILE from one set of variables (the environment also has systemd's credentials).
   * An empty NAME stands aside for a file but hides lower levels; NAME and a file at once is an error.
   */
  const fromVariables = (
    vars: Readonly<Record<string, string | undefined>>,
    name: string,
    secret: boolean,
    where: string,
    level: Setting['level'],
    credential?: string,
  ): { found: boolean; setting?: Setting } => {
    const value = vars[name];
    const fileName = secret ? vars[`${name}_FILE`] : undefined;
    const file = fileName
      ? { path: fileName, source: `${name}_FILE${where}` }
      : credential !== undefined && present(credential)
        ? { path: credential, source: `systemd credential ${name}` }
        : undefined;
    if (value && file) throw new ConfigError(`${name}${where} and ${file.source} are both set; keep one`);
    if (value) return { found: true, setting: single(value, `${name}${where}`, level) };
    if (file)
      return {
        found: true,
        setting: single(readSecretFile(file.path, `${file.source} "${file.path}"`, cwd), file.source, level),
      };
    return { found: value !== undefined };
  };

  return (name) => {
    const spec: OptionSpec = optionSpecs[name];
    const flag = flags[name];
    const flagSource = `--${spec.flag}`;
    if (Array.isArray(flag)) return { parts: flag, value: flag.join(','), source: flagSource, level: 0 };
    if (typeof flag === 'string') return single(flag, flagSource, 0);
    if (flag === true) return single('true', flagSource, 0);
    if (spec.env === undefined) return undefined;
    const secret = spec.file === true;
    // A variable set in the environment, even to "", beats the env file: `SCHEDULE= trucki2pushgateway`
    // runs once whatever the file says.
    const credential = secret && credentials ? join(credentials, spec.env) : undefined;
    const fromEnv = fromVariables(env, spec.env, secret, '', 1, credential);
    if (fromEnv.found) return fromEnv.setting;
    return fromVariables(envFile.values, spec.env, secret, ` in ${envFile.name}`, 2).setting;
  };
}
