/** How each kind of value is read; a ConfigError names the option's source, never what may hold a credential. */
import { labelName, reservedLabelNames } from '../catalogue.js';
import { ConfigError } from '../errors.js';
import type { Setting } from './sources.js';
import type { Endpoint, Grouping, StickAuth, Target } from './types.js';

const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i;
/** name=address; a name is a word, or a host:port such as the instance of a scraped exporter. */
const namedTarget = /^([^=:@]+|[^=:@/[\]]+:\d+|\[[0-9a-fA-F:.]+\]:\d+)=(.+)$/;
const encodeHint = 'a password holding , / # ? or @ must be percent-encoded (%2C %2F %23 %3F %40)';

export function parseTargets(setting: Setting, instanceOption: Setting | undefined): Target[] {
  const pieces = setting.parts.flatMap((part) => part.split(',')).map((piece) => piece.trim());
  if (pieces.every((piece) => piece === ''))
    throw new ConfigError(`${setting.source} is an empty address: name a stick, e.g. --target 192.168.1.50`);
  if (instanceOption && pieces.length > 1)
    throw new ConfigError(
      `${instanceOption.source} applies to a single target; ` +
        `name each of several sticks as name=address in ${setting.source}`,
    );
  const where = (index: number) => (pieces.length > 1 ? `${setting.source} (stick ${index + 1})` : setting.source);
  // Said before any piece is parsed: an empty piece would otherwise read as half of a password.
  pieces.forEach((piece, index) => {
    if (piece === '') throw new ConfigError(`${where(index)} is an empty address: an extra comma?`);
    if (piece.endsWith('=')) throw new ConfigError(`${where(index)} is an empty address after its name=`);
    if (piece.startsWith('=')) throw new ConfigError(`${where(index)} has an empty name before =`);
  });
  const entries = pieces.map((piece) => {
    const named = namedTarget.exec(piece);
    // "admin:123=pw@host" is user info, not the name "admin:123": a host:port name needs an address without it.
    const userInfo = named?.[1]?.includes(':') && !hasScheme.test(named[2]!) && named[2]!.includes('@');
    return named && !userInfo
      ? { name: named[1]!.trim(), address: named[2]!.trim() }
      : { name: undefined, address: piece };
  });
  // A password cut in two by the list's commas leaves a piece like "ss@host": refuse the whole list
  // before any piece is used, rather than read a stick with half a password as its user name.
  const cut = entries.findIndex(
    ({ address }) => pieces.length > 1 && !hasScheme.test(address) && address.includes('@'),
  );
  if (cut >= 0) throw new ConfigError(`${where(cut)} has user info without http://; ${encodeHint}`);
  const mayHoldSecret = setting.value.includes('@');
  const targets = entries.map(({ name, address }, index) => {
    const endpoint = parseEndpoint({ value: address, source: where(index) }, 'stick', mayHoldSecret);
    const instance = instanceOption?.value ?? name ?? endpoint.url.host;
    if (instance.trim() === '')
      throw new ConfigError(`${instanceOption?.source ?? where(index)} gives an empty instance name`);
    return { ...endpoint, instance, labels: [] };
  });
  const seen = new Set<string>();
  // The set does not grow when the instance is already in it.
  const twice = targets.find(({ instance }) => seen.size === seen.add(instance).size);
  if (twice)
    throw new ConfigError(`${setting.source} names instance "${twice.instance}" twice; give each stick its own name=`);
  return targets;
}

/** TRUCKI_STICK_USERNAME / _PASSWORD for every stick whose address lacks that part of its user info. */
export function withStickAuth(targets: Target[], { username, password }: StickAuth): Target[] {
  // Each part of a stick's own user info wins: http://user@host with the password in a file.
  return targets.map((target) => ({
    ...target,
    ...(target.username === undefined && username !== undefined && { username }),
    ...(target.password === undefined && password !== undefined && { password }),
  }));
}

export function parseJob(setting: Setting | undefined): string {
  if (setting && setting.value.trim() === '') throw new ConfigError(`${setting.source} must not be empty`);
  return setting?.value ?? 'trucki';
}

/** `mayHoldSecret`: the value, or the list it came from, may hold a password; never echo it then. */
export function parseEndpoint(
  setting: Pick<Setting, 'value' | 'source'>,
  what: string,
  mayHoldSecret = setting.value.includes('@'),
): Endpoint {
  const text = hasScheme.test(setting.value) ? setting.value : `http://${setting.value}`;
  // No host (`http://`, `user:pw@`, `:80`): say so, rather than hint at percent-encoding.
  const host = /^[^/?#]*/.exec(text.replace(hasScheme, ''))![0].replace(/^.*@/, '');
  if (host.replace(/:\d*$/, '').trim() === '')
    throw new ConfigError(`${setting.source} is an empty ${what} address${host === '' ? '' : ' (a port only)'}`);
  const shown = mayHoldSecret ? '' : ` "${setting.value}"`;
  const hint = mayHoldSecret ? `; ${encodeHint}` : '';
  if (!URL.canParse(text)) throw new ConfigError(`${setting.source}${shown} is not a valid ${what} address${hint}`);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${setting.source} must be an http or https URL`);
  // An "@" after the host is user info cut short by a raw "/", "?" or "#" in the password.
  if (/@/.test(url.pathname + url.search + url.hash))
    throw new ConfigError(`${setting.source} is not a valid ${what} address; ${encodeHint}`);
  if (url.search || url.hash) throw new ConfigError(`${setting.source} must not carry a query or fragment`);
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

export function parseGrouping(setting: Setting | undefined): Grouping {
  if (!setting) return [];
  const grouping: [string, string][] = [];
  for (const pair of setting.parts.flatMap((part) => part.split(',')).filter((part) => part.trim() !== '')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    if (eq < 0 || !labelName.test(name) || name.startsWith('__'))
      throw new ConfigError(`${setting.source}: "${pair}" is not label=value with a valid label name`);
    if (reservedLabelNames.has(name))
      throw new ConfigError(`${setting.source}: label "${name}" is used by the job itself; pick another name`);
    if (grouping.some(([seen]) => seen === name))
      throw new ConfigError(`${setting.source} names label "${name}" twice`);
    grouping.push([name, pair.slice(eq + 1)]);
  }
  return grouping;
}

export function parseCount(setting: Setting | undefined, fallback: number, min: number, max: number): number {
  if (!setting) return fallback;
  const value = Number(setting.value);
  if (!/^\s*\d+\s*$/.test(setting.value) || value < min || value > max)
    throw new ConfigError(`${setting.source} must be a whole number from ${min} to ${max}, not "${setting.value}"`);
  return value;
}

export function parseSwitch(setting: Setting | undefined): boolean {
  if (!setting) return false;
  const value = setting.value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${setting.source} must be true or false, not "${setting.value}"`);
}

const durationUnits = { y: 31_536_000_000, w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const duration = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus's duration grammar ("15s", "7d", "1h30m": units largest first) in ms; undefined for anything else. */
export function durationMs(text: string): number | undefined {
  const parts: (string | undefined)[] | undefined = text === '' ? undefined : duration.exec(text)?.slice(1);
  return parts?.reduce((sum, part, index) => sum + Number(part ?? 0) * Object.values(durationUnits)[index]!, 0);
}

/** A Prometheus duration in ms; "0" or "off" is undefined: never. At most 100 years, which keeps every sum exact. */
export function parseDuration(setting: Setting | undefined, fallbackMs: number): number | undefined {
  if (!setting) return fallbackMs;
  const text = setting.value.trim();
  if (text === '0' || text.toLowerCase() === 'off') return undefined;
  const ms = durationMs(text);
  if (ms === undefined || ms > 100 * durationUnits.y)
    throw new ConfigError(
      `${setting.source} must be a duration such as 7d, 36h or 1h30m (units y w d h m s ms, largest first), ` +
        `or 0 or off, not "${setting.value}"`,
    );
  return ms === 0 ? undefined : ms;
}

/** The pattern itself is checked by croner when the loop starts, so one-shot runs never load it. */
export function parseSchedule(pattern: Setting | undefined, timezone: Setting | undefined) {
  if (!pattern) return undefined;
  // TZ=":/etc/localtime" and the like are for the C library; Node already runs in that zone.
  if (!timezone || timezone.value.startsWith(':')) return { pattern: pattern.value };
  const zone = zoneName(timezone.value);
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new ConfigError(
      /[0-9]/.test(timezone.value)
        ? `${timezone.source} "${timezone.value}" is a POSIX rule with daylight saving time or minutes, ` +
            'which Node cannot follow: name the zone, such as Europe/Berlin'
        : `${timezone.source} "${timezone.value}" is not a time zone name such as Europe/Berlin`,
    );
  }
  return { pattern: pattern.value, timezone: zone };
}

/** A POSIX TZ of a fixed whole-hour offset (`CET-1`, as the C library and so a one-shot run take it) as the IANA
 * zone croner needs: `Etc/GMT-1` (POSIX and Etc/ share the sign, west positive). Anything else as it is.
 */
function zoneName(value: string): string {
  const fixed = /^(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]+>)([+-]?)(\d{1,2})$/.exec(value);
  if (!fixed) return value;
  const hours = Number(fixed[2]);
  return hours === 0 ? 'Etc/GMT' : `Etc/GMT${fixed[1] === '-' ? '-' : '+'}${hours}`;
}
