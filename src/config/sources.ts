/**
 * Where each setting comes from, and which source wins: flags beat the environment, which beats
 * the env file. At each level a value beats a file named by <NAME>_FILE; systemd credentials
 * ($CREDENTIALS_DIRECTORY/<NAME>) count as environment. Only options marked secret have files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, messageOf } from '../errors.js';
import { optionSpecs, type OptionName, type OptionSpec } from './options.js';

export interface Setting {
  /** Each occurrence of a repeated flag; one element from any other source. */
  readonly parts: readonly string[];
  /** All parts; for single-valued options the only one. */
  readonly value: string;
  /** For error messages: "--timeout", "TRUCKI_TIMEOUT_MS", "TRUCKI_TIMEOUT_MS in .env". */
  readonly source: string;
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

export async function readEnvFile(path: string | undefined, cwd: string): Promise<EnvFile> {
  const name = path ?? '.env';
  const full = resolve(cwd, name);
  if (path === undefined && !existsSync(full)) return { name, values: {} };
  const text = readText(full, `--env-file ${name}`);
  // Loaded only when there is a file to read: most runs have none and should not pay for it.
  const { parse } = await import('dotenv');
  return { name, values: parse(text) };
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** A secret's file holds the secret and, as editors leave it, perhaps one line break. */
function readSecretFile(path: string, what: string, cwd: string): string {
  return readText(resolve(cwd, path), what).replace(/\r?\n$/, '');
}

export function settingsFrom(flags: Flags, env: NodeJS.ProcessEnv, envFile: EnvFile, cwd: string): Settings {
  const single = (value: string, source: string): Setting => ({ parts: [value], value, source });
  const credentials = env.CREDENTIALS_DIRECTORY;

  /** NAME, then NAME_FILE, from one set of variables; "" counts as unset but hides lower levels. */
  const fromVariables = (vars: Readonly<Record<string, string | undefined>>, name: string, secret: boolean, where: string) => {
    const value = vars[name];
    if (value !== undefined) return { found: true, setting: value === '' ? undefined : single(value, `${name}${where}`) };
    const file = secret ? vars[`${name}_FILE`] : undefined;
    if (file !== undefined && file !== '') {
      const source = `${name}_FILE${where}`;
      return { found: true, setting: single(readSecretFile(file, `${source} "${file}"`, cwd), source) };
    }
    return { found: false, setting: undefined };
  };

  return (name) => {
    const spec: OptionSpec = optionSpecs[name];
    const flag = flags[name];
    const flagSource = `--${spec.flag}`;
    if (Array.isArray(flag)) return { parts: flag, value: flag.join(','), source: flagSource };
    if (typeof flag === 'string') return single(flag, flagSource);
    if (flag === true) return single('true', flagSource);
    if (spec.env === undefined) return undefined;
    const secret = spec.secret === true;
    // A variable set in the environment, even to "", beats the env file: `SCHEDULE= trucki2pushgateway`
    // runs once whatever the file says.
    const fromEnv = fromVariables(env, spec.env, secret, '');
    if (fromEnv.found) return fromEnv.setting;
    if (secret && credentials && existsSync(join(credentials, spec.env))) {
      const source = `systemd credential ${spec.env}`;
      return single(readSecretFile(join(credentials, spec.env), source, cwd), source);
    }
    return fromVariables(envFile.values, spec.env, secret, ` in ${envFile.name}`).setting;
  };
}
