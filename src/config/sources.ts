/**
 * Where each setting comes from: flags beat the environment (systemd credentials included), which beats the env
 * file. At each level a value and a <NAME>_FILE (options marked * only) for one setting are an error.
 */
import { lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readBoundedBytes, readBoundedFile, smallFileBytes } from '../bounded-file.js';
import { ConfigError, messageOf } from '../errors.js';
import { checkSameReading, strayNames } from './env-file.js';
import { optionSpecs } from './options.js';

export interface Setting {
  readonly parts: readonly string[]; // each occurrence of a repeated flag
  readonly value: string; // all parts, joined by commas
  readonly source: string; // for error messages: "--timeout", "TRUCKI_TIMEOUT_MS in .env"
  readonly level: 0 | 1 | 2; // 0 a flag, 1 the environment (with its files and credentials), 2 the env file
}

/** Of settings that exclude each other, those of the strongest source present: more than one is a clash. */
export function strongest(settings: readonly (Setting | undefined)[]): Setting[] {
  const present = settings.filter((setting) => setting !== undefined);
  const level = Math.min(...present.map((setting) => setting.level));
  return present.filter((setting) => setting.level === level);
}

/** A setting by its key in `optionSpecs`: the flag's name, or the variable of an option without one. */
export type Settings = (key: string) => Setting | undefined;

type Flags = ReturnType<typeof parseArgs>['values'];

export function parseFlags(argv: readonly string[]): Flags {
  const options = Object.fromEntries(
    Object.values(optionSpecs).flatMap(({ flag, short, arg, repeatable }) =>
      flag
        ? [[flag, { type: arg ? 'string' : 'boolean', multiple: repeatable, ...(short && { short }) } as const]]
        : [],
    ),
  );
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
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
  const values = (await import('dotenv')).parse(text);
  // The units read the same file with systemd's EnvironmentFile=: it must mean the same there.
  checkSameReading(bytes, values, what);
  for (const line of strayNames(text, values, what)) warn(`trucki2pushgateway: ${line}`);
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

export function settingsFrom(flags: Flags, env: NodeJS.ProcessEnv, envFile: EnvFile, cwd: string): Settings {
  const credentials = env.CREDENTIALS_DIRECTORY;
  const setting = (parts: string[], source: string, level: 0 | 1 | 2) => ({
    parts,
    value: parts.join(','),
    source,
    level,
  });

  // An empty NAME stands aside for a file. A secret's file may hold a byte-order mark and one line break, as
  // editors leave them; an empty one is a mistake, not an empty password.
  const fromVariables = (level: 1 | 2, name: string, secret: boolean): Setting | undefined => {
    const vars: Readonly<Record<string, string | undefined>> = level === 1 ? env : envFile.values;
    const where = level === 1 ? '' : ` in ${envFile.name}`;
    const credential = level === 1 && secret && credentials ? join(credentials, name) : undefined;
    const value = vars[name];
    const fileName = secret ? vars[`${name}_FILE`] : undefined;
    const file = fileName
      ? { path: fileName, source: `${name}_FILE${where}` }
      : credential !== undefined && present(credential)
        ? { path: credential, source: `systemd credential ${name}` }
        : undefined;
    if (value && file) throw new ConfigError(`${name}${where} and ${file.source} are both set; keep one`);
    if (value) return setting([value], `${name}${where}`, level);
    if (!file) return undefined;
    const what = `${file.source} "${file.path}"`;
    const text = readBoundedFile(resolve(cwd, file.path), what, smallFileBytes).replace(/^\uFEFF|\r?\n$/g, '');
    if (text === '') throw new ConfigError(`${what} is empty`);
    return setting([text], file.source, level);
  };

  return (key) => {
    const spec = optionSpecs[key];
    if (!spec) throw new Error(`no option ${key}`);
    const flag = flags[key];
    if (flag !== undefined) return setting([flag].flat().map(String), `--${spec.flag}`, 0);
    if (spec.env === undefined) return undefined;
    // A variable set in the environment, even to "", beats the env file: `SCHEDULE= trucki2pushgateway`
    // runs once whatever the file says.
    const fromEnv = fromVariables(1, spec.env, spec.file);
    return fromEnv || env[spec.env] !== undefined ? fromEnv : fromVariables(2, spec.env, spec.file);
  };
}
