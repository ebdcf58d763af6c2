/**
 * From flags, environment and env file to one checked Config. Flags beat the environment, which
 * beats the env file. Every error names the option it is about and never echoes a credential.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { optionSpecs, type OptionName, type OptionSpec } from './options.js';
import type { Grouping } from './push.js';

export interface Endpoint {
  /** Without user info: safe to log. */
  readonly url: URL;
  readonly username?: string;
  readonly password?: string;
}

export interface Target extends Endpoint {
  /** The `instance` grouping label. */
  readonly instance: string;
}

export interface Pushgateway extends Endpoint {
  readonly bearerToken?: string;
  /** PEM text of PUSHGATEWAY_CA_FILE. */
  readonly ca?: string;
  readonly job: string;
  /** Grouping labels after job and instance. */
  readonly grouping: Grouping;
}

export interface Config {
  readonly targets: readonly Target[];
  /** Absent with --stdout or --textfile. */
  readonly pushgateway?: Pushgateway;
  /** With --textfile: write here instead of pushing. */
  readonly textfile?: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxBodyBytes: number;
  /** Absent: run once and exit. */
  readonly schedule?: { readonly pattern: string; readonly timezone?: string };
  /** With a schedule: delete the sticks' groups on the way out. */
  readonly deleteOnExit: boolean;
}

export type Command = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'run'; readonly config: Config };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Label names our own metrics use: a grouping label of the same name would clash with them. */
const reservedLabels = new Set(['job', 'instance', 'inverter', 'state', 'quality', 'device', 'firmware', 'variant']);
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Setting {
  readonly value: string;
  /** Where the value came from, for error messages: "--timeout", "TRUCKI_TIMEOUT_MS", "TRUCKI_TIMEOUT_MS in .env". */
  readonly source: string;
}

export async function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<Command> {
  const flags = parseFlags(argv);
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const envFile = await readEnvFile(flags.envFile as string | undefined, cwd);

  const get = (name: OptionName): Setting | undefined => {
    const spec: OptionSpec = optionSpecs[name];
    const flag = flags[name];
    if (typeof flag === 'string') return { value: flag, source: `--${spec.flag}` };
    if (flag === true) return { value: 'true', source: `--${spec.flag}` };
    if (spec.env === undefined) return undefined;
    // A variable set in the environment, even to "", beats the env file: `SCHEDULE= trucki2pushgateway`
    // runs once whatever the file says. Empty means unset.
    if (env[spec.env] !== undefined) return env[spec.env] === '' ? undefined : { value: env[spec.env]!, source: spec.env };
    const fromFile = envFile.values[spec.env];
    if (fromFile !== undefined && fromFile !== '') return { value: fromFile, source: `${spec.env} in ${envFile.name}` };
    return undefined;
  };

  const stdout = parseSwitch(get('stdout'));
  const targetSetting = get('target');
  if (!targetSetting) throw new ConfigError('--target / TRUCKI_TARGET is required: the address of your stick, e.g. --target 192.168.1.50');
  const targets = parseTargets(targetSetting, get('instance'));

  const textfile = get('textfile');
  const url = get('pushgateway');
  // --stdout wins over a Pushgateway or textfile from the environment: it is how one looks before pushing.
  if (!stdout && textfile && url) throw new ConfigError(`${textfile.source} and ${url.source} exclude each other: choose where the metrics go`);
  let pushgateway: Pushgateway | undefined;
  if (!stdout && !textfile) {
    if (!url) throw new ConfigError('--pushgateway / PUSHGATEWAY_URL is required (or use --stdout or --textfile), e.g. --pushgateway http://localhost:9091');
    const job = get('job') ?? { value: 'trucki', source: '--job' };
    if (job.value.trim() === '') throw new ConfigError(`${job.source} must not be empty`);
    pushgateway = {
      ...parsePushgatewayAuth(get('pushgatewayUsername'), get('pushgatewayPassword'), get('pushgatewayBearerToken'), get('pushgatewayCaFile')),
      ...parseEndpoint(url, 'Pushgateway'),
      job: job.value,
      grouping: parseGrouping(get('grouping')),
    };
    if (pushgateway.bearerToken !== undefined && pushgateway.username !== undefined) {
      throw new ConfigError('PUSHGATEWAY_BEARER_TOKEN and basic auth (PUSHGATEWAY_USERNAME or user info in PUSHGATEWAY_URL) exclude each other; use one');
    }
  }

  const deleteOnExit = get('deleteOnExit');
  if (parseSwitch(deleteOnExit) && (!pushgateway || !get('schedule'))) {
    throw new ConfigError(`${deleteOnExit!.source} applies only to a --schedule loop that pushes to a Pushgateway`);
  }

  return {
    kind: 'run',
    config: {
      targets,
      ...(pushgateway && { pushgateway }),
      ...(textfile && !stdout && { textfile: resolve(cwd, textfile.value) }),
      timeoutMs: parseCount(get('timeout'), 5000, 1),
      retries: parseCount(get('retries'), 2, 0),
      maxBodyBytes: parseCount(get('maxBody'), 1048576, 1),
      ...parseSchedule(get('schedule'), get('timezone')),
      deleteOnExit: parseSwitch(deleteOnExit),
    },
  };
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const nameOf: Record<string, string> = {};
  for (const [name, spec] of Object.entries(optionSpecs as Record<string, OptionSpec>)) {
    if (!spec.flag) continue;
    options[spec.flag] = { type: spec.arg ? 'string' : 'boolean', ...(spec.short && { short: spec.short }) };
    nameOf[spec.flag] = name;
  }
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return Object.fromEntries(Object.entries(values).map(([flag, value]) => [nameOf[flag]!, Array.isArray(value) ? value.at(-1) : value]));
  } catch (error) {
    // parseArgs words its errors well ("Unknown option '--foo'"); keep only the first sentence.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0]! : String(error);
    throw new ConfigError(`${message.replace(/\.$/, '')}; see --help`);
  }
}

async function readEnvFile(path: string | undefined, cwd: string): Promise<{ name: string; values: Record<string, string> }> {
  const name = path ?? '.env';
  const full = resolve(cwd, name);
  if (path === undefined && !existsSync(full)) return { name, values: {} };
  const text = readText(full, `--env-file ${name}`);
  // Loaded only when there is a file to read: most runs have none and should not pay for it.
  const { parse } = await import('dotenv');
  return { name, values: parse(text) };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parseTargets(setting: Setting, instanceOption: Setting | undefined): Target[] {
  const parts = setting.value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new ConfigError(`${setting.source} names no stick`);
  if (instanceOption && parts.length > 1) {
    throw new ConfigError(`${instanceOption.source} applies to a single target; name each of several sticks as name=address in ${setting.source}`);
  }
  // A password may hold a comma, so after the split any part of such a list may be a piece of one.
  const mayHoldSecret = setting.value.includes('@');
  const targets = parts.map((part, index) => {
    const named = /^([^=:@]+)=(.+)$/.exec(part);
    const where = parts.length > 1 ? `${setting.source} (stick ${index + 1})` : setting.source;
    const endpoint = parseEndpoint({ value: named ? named[2]! : part, source: where }, 'stick', mayHoldSecret);
    const instance = instanceOption?.value ?? named?.[1]?.trim() ?? endpoint.url.host;
    if (instance.trim() === '') throw new ConfigError(`${instanceOption?.source ?? where} gives an empty instance name`);
    return { ...endpoint, instance };
  });
  const seen = new Set<string>();
  for (const { instance } of targets) {
    if (seen.has(instance)) throw new ConfigError(`${setting.source} names instance "${instance}" twice; give each stick its own name=`);
    seen.add(instance);
  }
  return targets;
}

function parseEndpoint(setting: Setting, what: string, mayHoldSecret = setting.value.includes('@')): Endpoint {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(setting.value) ? setting.value : `http://${setting.value}`;
  // Echo the value only when it cannot hold a password.
  const shown = mayHoldSecret ? '' : ` "${setting.value}"`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${setting.source}${shown} is not a valid ${what} address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${setting.source} must be an http or https URL`);
  if (url.search || url.hash) throw new ConfigError(`${setting.source}${shown} must not carry a query or fragment`);
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw new ConfigError(`${setting.source} has user info that is not valid percent-encoding`);
  }
  url.username = '';
  url.password = '';
  return { url, ...(username && { username }), ...(password && { password }) };
}

function parseGrouping(setting: Setting | undefined): Grouping {
  if (!setting) return [];
  const grouping: [string, string][] = [];
  for (const pair of setting.value.split(',').filter((part) => part.trim() !== '')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    if (eq < 0 || !labelName.test(name) || name.startsWith('__')) {
      throw new ConfigError(`${setting.source}: "${pair}" is not label=value with a valid label name`);
    }
    if (reservedLabels.has(name)) throw new ConfigError(`${setting.source}: label "${name}" is used by the job itself; pick another name`);
    if (grouping.some(([seen]) => seen === name)) throw new ConfigError(`${setting.source} names label "${name}" twice`);
    grouping.push([name, pair.slice(eq + 1)]);
  }
  return grouping;
}

function parseCount(setting: Setting | undefined, fallback: number, min: number): number {
  if (!setting) return fallback;
  const value = Number(setting.value);
  if (!/^\s*\d+\s*$/.test(setting.value) || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${setting.source} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${setting.value}"`);
  }
  return value;
}

function parseSwitch(setting: Setting | undefined): boolean {
  if (!setting) return false;
  const value = setting.value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${setting.source} must be true or false, not "${setting.value}"`);
}

/** The pattern itself is checked by croner when the loop starts, so one-shot runs never load it. */
function parseSchedule(pattern: Setting | undefined, timezone: Setting | undefined): { schedule?: Config['schedule'] } {
  if (!pattern) return {};
  // TZ=":/etc/localtime" and the like are for the C library; Node already runs in that zone.
  if (!timezone || timezone.value.startsWith(':')) return { schedule: { pattern: pattern.value } };
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone.value });
  } catch {
    throw new ConfigError(`${timezone.source} "${timezone.value}" is not a time zone name such as Europe/Berlin`);
  }
  return { schedule: { pattern: pattern.value, timezone: timezone.value } };
}

/** User info in the URL wins over PUSHGATEWAY_USERNAME / PUSHGATEWAY_PASSWORD (spread after this). */
function parsePushgatewayAuth(username?: Setting, password?: Setting, token?: Setting, caFile?: Setting): Partial<Pushgateway> {
  const ca = caFile && readText(caFile.value, `${caFile.source} "${caFile.value}"`);
  return {
    ...(username && { username: username.value }),
    ...(password && { password: password.value }),
    ...(token && { bearerToken: token.value }),
    ...(ca !== undefined && { ca }),
  };
}
