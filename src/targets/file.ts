/**
 * A fleet's sticks from a Prometheus file_sd file, JSON or YAML by its extension: `labels.instance` names the
 * stick (so such an entry holds one target), the other labels go with each of the entry's sticks. Read
 * synchronously, by a loop again whenever it changes: the YAML parser is loaded once, when the file is YAML.
 */
import { statSync } from 'node:fs';
import { readBoundedFile, targetsFileBytes } from '../bounded-file.js';
import { labelName, reservedLabelNames } from '../catalogue.js';
import { parseEndpoint, withStickAuth } from '../config/values.js';
import type { Endpoint, Target, TargetsFileSpec } from '../config/types.js';
import { ConfigError, messageOf, TargetsFileError } from '../errors.js';
import { isJsonObject } from '../json-object.js';

/** Address text to an endpoint; an Error's message starts with `where` ("entry 3, target 2"), never the address. */
export type EndpointParser = (address: string, where: string) => Endpoint;

/** Label names of the job's own (and the textfile's `stick`): a target label of that name would clash. */
const reservedLabels = new Set([...reservedLabelNames, 'stick'].filter((name) => name !== 'instance'));

/** The file of `spec`, as last read at `spec.readStamp` (a loop opening again what the start read). */
export async function openTargetsFile({ path, name, auth, grouping, readStamp = '' }: TargetsFileSpec) {
  const format = formatOf(path);
  if (!format) throw new ConfigError(`${name} must end in .json, .yml or .yaml, as Prometheus' file_sd files do`);
  const parse = await loadParser(format);
  const reserved = new Set(grouping);
  const toEndpoint = (address: string, where: string) =>
    parseEndpoint({ value: address, source: where }, 'stick', true);
  let seen = readStamp;
  const stamp = () => {
    try {
      const { size, mtimeMs, ino } = statSync(path);
      return `${size}/${mtimeMs}/${ino}`;
    } catch {
      return 'missing';
    }
  };
  return {
    name,
    changed: () => stamp() !== seen, // by size, mtime and inode since it was last read
    readStamp: () => seen,
    // Throws a ConfigError naming the entry.
    read: (): Target[] => {
      seen = stamp();
      // A named pipe or a device would block or never end: only a regular file is read.
      const text = readBoundedFile(path, name, targetsFileBytes).replace(/^\uFEFF/, '');
      try {
        const targets = withStickAuth(targetsFrom(parse(text), toEndpoint, reserved), auth);
        // An empty file is most often one being rewritten: never "every stick removed".
        if (targets.length === 0) throw new TargetsFileError('names no stick');
        return targets;
      } catch (error) {
        if (error instanceof TargetsFileError || error instanceof ConfigError)
          throw new ConfigError(`${name}: ${error.message}`);
        throw error;
      }
    },
  };
}

/** As Prometheus, by extension: *.json, *.yml, *.yaml; anything else is not a file_sd file. */
export function formatOf(path: string): 'json' | 'yaml' | undefined {
  if (/\.json$/i.test(path)) return 'json';
  return /\.ya?ml$/i.test(path) ? 'yaml' : undefined;
}

export async function parseTargetsFile(text: string, format: 'json' | 'yaml', toEndpoint: EndpointParser) {
  return targetsFrom((await loadParser(format))(text), toEndpoint);
}

/** Text into a document, for the format; YAML's parser is loaded here, once: most runs never need it. */
async function loadParser(format: 'json' | 'yaml'): Promise<(text: string) => unknown> {
  if (format === 'json') return parseJson;
  const yaml = await import('yaml');
  return (text) => parseYaml(text, yaml);
}

const lineOf = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Node's message may quote a piece of the file (a password in a URL): give only where.
    const [, line, column] = /line (\d+) column (\d+)/.exec(messageOf(error)) ?? [];
    const position = /position (\d+)/.exec(messageOf(error))?.[1];
    const where = line ? ` (line ${line}, column ${column})` : position ? ` (line ${lineOf(text, +position)})` : '';
    throw new TargetsFileError(`is not valid JSON${where}`);
  }
}

/** The tags failsafe YAML gives every node anyway: writing them changes nothing. */
const plainTags = new Set(['str', 'seq', 'map'].map((name) => `tag:yaml.org,2002:${name}`));
// failsafe: every scalar is a string, as Go's YAML decoder fills Prometheus' string fields (`port:
// 80` is "80", `on: yes` is "yes"); duplicate keys are an error there too. Warnings are read below,
// not printed as Node's own warning line.
const failsafe = { schema: 'failsafe', uniqueKeys: true, prettyErrors: false, logLevel: 'silent' } as const;

function parseYaml(text: string, { parseDocument, visit }: typeof import('yaml')): unknown {
  const document = parseDocument(text, failsafe);
  const [error] = document.errors;
  if (error) {
    // The parser's own words may quote the file; its error code and the position do not.
    const column = text.slice(0, error.pos[0]).split('\n').at(-1)!.length + 1;
    const code = error.code.toLowerCase().replace(/_/g, ' ');
    throw new TargetsFileError(`is not valid YAML (${code}) at line ${lineOf(text, error.pos[0])}, column ${column}`);
  }
  // A tag (!!js/function, !!binary, !foo) asks for something other than a string: never what a
  // file_sd file means. Not named: a made-up tag could be anything.
  let tagged: number | undefined;
  visit(document, {
    Node: (_key, node) => {
      if (node.tag === undefined || plainTags.has(node.tag)) return undefined;
      tagged = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  if (tagged !== undefined)
    throw new TargetsFileError(
      `uses a YAML tag at line ${lineOf(text, tagged)}; a targets file holds lists, maps and strings only`,
    );
  if (document.contents === null) return [];
  // Go's YAML decoder reads `~` and `null` as an empty string (no label) where Prometheus wants one.
  return document.toJS({
    reviver: (_key, value) =>
      value == null || (typeof value === 'string' && /^(~|null|Null|NULL)$/.test(value)) ? '' : value,
  });
}

/** The parsed document (list of target groups) into targets, checking every entry. */
function targetsFrom(
  document: unknown,
  toEndpoint: EndpointParser,
  grouping: ReadonlySet<string> = new Set(),
): Target[] {
  if (!Array.isArray(document)) throw new TargetsFileError('must be a list of {targets: [...], labels: {...}} entries');
  const targets: Target[] = [];
  /** The entry that named each stick first; the first stick named twice, said once every entry is checked. */
  const firstEntry = new Map<string, number>();
  let twice: string | undefined;
  document.forEach((group: unknown, index) => {
    const entry = index + 1;
    const fail = (what: string): never => {
      throw new TargetsFileError(`entry ${entry}: ${what}`);
    };
    if (!isJsonObject(group)) fail('is not an object with targets and labels');
    const { targets: addresses = [], labels: rawLabels = {}, ...unknown } = group as Record<string, unknown>;
    const extra = Object.keys(unknown);
    if (extra.length) fail(`has unknown key "${extra[0]}"; an entry holds only targets and labels`);
    if (!Array.isArray(addresses) || !addresses.every((address) => typeof address === 'string'))
      fail('targets must be a list of addresses as strings');
    const labels = checkLabels(rawLabels, grouping, fail);
    const instance = labels.get('instance');
    labels.delete('instance');
    const list = addresses as string[];
    if (instance !== undefined && list.length > 1)
      fail(`labels.instance names one stick, but the entry lists ${list.length} targets`);
    try {
      for (const [at, address] of list.entries()) {
        const endpoint = toEndpoint(address.trim(), `entry ${entry}${list.length > 1 ? `, target ${at + 1}` : ''}`);
        const stick = instance ?? endpoint.url.host;
        targets.push({ ...endpoint, instance: stick, labels: [...labels] });
        const first = firstEntry.get(stick);
        if (first === undefined) firstEntry.set(stick, entry);
        else twice ??= `entry ${entry}: instance "${stick}" is already taken by entry ${first}`;
      }
    } catch (error) {
      throw new TargetsFileError(messageOf(error));
    }
  });
  if (twice) throw new TargetsFileError(`${twice}; give each stick its own instance`);
  return targets;
}

/** Label names as Prometheus allows them, none of the job's own; empty values dropped as in Prometheus. */
function checkLabels(raw: unknown, grouping: ReadonlySet<string>, fail: (what: string) => never): Map<string, string> {
  if (!isJsonObject(raw)) fail('labels must be a map of label names to strings');
  const labels = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (!labelName.test(name)) fail(`"${name}" is not a valid label name`);
    if (name.startsWith('__')) fail(`label "${name}": names starting with __ are reserved`);
    if (reservedLabels.has(name)) fail(`label "${name}" is used by the job itself; pick another name`);
    if (grouping.has(name)) fail(`label "${name}" is also set by --grouping; set it in one place`);
    if (typeof value !== 'string') fail(`label "${name}" must have a string value`);
    if (value !== '') labels.set(name, value);
  }
  return labels;
}
