/**
 * A fleet's sticks from a file in Prometheus' file_sd format: a list of `{targets: [...], labels:
 * {...}}`, in JSON or YAML by the file's extension, as Prometheus reads them. `labels.instance`
 * names the stick (so such an entry holds one target); the other labels go with each of the
 * entry's sticks. Pure: the text in, targets or a TargetsFileError out; no I/O, no logging.
 */
import { labelName, reservedLabelNames } from '../catalogue.js';
import type { Endpoint, Target } from '../config/types.js';
import { TargetsFileError } from '../errors.js';
import { isJsonObject } from '../json-object.js';

/**
 * Address text into an endpoint; `where` names it ("entry 3, target 2"). Throws an Error whose
 * message starts with `where` and never quotes the address.
 */
export type EndpointParser = (address: string, where: string) => Endpoint;

/** Label names of the job's own (and the textfile's `stick`): a target label of that name would clash. */
const reservedLabels = new Set([...reservedLabelNames, 'stick'].filter((name) => name !== 'instance'));

export type TargetsFormat = 'json' | 'yaml';

/** As Prometheus, by extension: *.json, *.yml, *.yaml; anything else is not a file_sd file. */
export function formatOf(path: string): TargetsFormat | undefined {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  return undefined;
}

/** The file's text into targets. Loads the YAML parser only for YAML: most runs never need it. */
export async function parseTargetsFile(
  text: string,
  format: TargetsFormat,
  toEndpoint: EndpointParser,
): Promise<Target[]> {
  return targetsFrom((await loadParser(format))(text), toEndpoint);
}

/** Text into a document, for the format; YAML's parser is loaded here, once. */
export async function loadParser(format: TargetsFormat): Promise<(text: string) => unknown> {
  if (format === 'json') return parseJson;
  const yaml = await import('yaml');
  return (text) => parseYaml(text, yaml);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Node's message may quote a piece of the file (a password in a URL): give only where.
    const message = error instanceof Error ? error.message : '';
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    const position = /position (\d+)/.exec(message);
    const where = lineColumn
      ? ` (line ${lineColumn[1]}, column ${lineColumn[2]})`
      : position
        ? ` (line ${text.slice(0, Number(position[1])).split('\n').length})`
        : '';
    throw new TargetsFileError(`is not valid JSON${where}`);
  }
}

/** The tags failsafe YAML gives every node anyway: writing them changes nothing. */
const plainTags = new Set(['str', 'seq', 'map'].map((name) => `tag:yaml.org,2002:${name}`));

function parseYaml(text: string, { parseDocument, visit }: typeof import('yaml')): unknown {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  // failsafe: every scalar is a string, as Go's YAML decoder fills Prometheus' string fields
  // (`port: 80` is "80", `on: yes` is "yes"); duplicate keys are an error there too. Warnings are
  // read below, not printed as Node's own warning line.
  const document = parseDocument(text, {
    schema: 'failsafe',
    uniqueKeys: true,
    prettyErrors: false,
    logLevel: 'silent',
  });
  const [error] = document.errors;
  if (error) {
    // The parser's own words may quote the file; its error code and the position do not.
    const column = text.slice(0, error.pos[0]).split('\n').at(-1)!.length + 1;
    const code = error.code.toLowerCase().replace(/_/g, ' ');
    throw new TargetsFileError(`is not valid YAML (${code}) at line ${lineOf(error.pos[0])}, column ${column}`);
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
      `uses a YAML tag at line ${lineOf(tagged)}; a targets file holds lists, maps and strings only`,
    );
  return nullsAsEmpty(document.toJS() ?? []);
}

/** The parsed document (list of target groups) into targets, checking every entry. */
export function targetsFrom(
  document: unknown,
  toEndpoint: EndpointParser,
  grouping: ReadonlySet<string> = new Set(),
): Target[] {
  if (!Array.isArray(document)) throw new TargetsFileError('must be a list of {targets: [...], labels: {...}} entries');
  const targets: Target[] = [];
  /** The entry each target came from, for messages. */
  const entries: number[] = [];
  document.forEach((group: unknown, index) => {
    const entry = index + 1;
    const fail = (what: string): never => {
      throw new TargetsFileError(`entry ${entry}: ${what}`);
    };
    if (!isJsonObject(group)) fail('is not an object with targets and labels');
    const { targets: addresses = [], labels: rawLabels = {}, ...unknown } = group as Record<string, unknown>;
    const extra = Object.keys(unknown);
    if (extra.length) fail(`has unknown key "${extra[0]}"; an entry holds only targets and labels`);
    if (!Array.isArray(addresses) || !addresses.every((address) => typeof address === 'string')) {
      fail('targets must be a list of addresses as strings');
    }
    const labels = checkLabels(rawLabels, grouping, fail);
    const instance = labels.get('instance');
    labels.delete('instance');
    if (instance !== undefined && (addresses as string[]).length > 1) {
      fail(`labels.instance names one stick, but the entry lists ${(addresses as string[]).length} targets`);
    }
    (addresses as string[]).forEach((address, at) => {
      const where = (addresses as string[]).length > 1 ? `, target ${at + 1}` : '';
      let endpoint: Endpoint;
      try {
        endpoint = toEndpoint(address.trim(), `entry ${entry}${where}`);
      } catch (error) {
        throw new TargetsFileError(error instanceof Error ? error.message : String(error));
      }
      targets.push({ ...endpoint, instance: instance ?? endpoint.url.host, labels: [...labels] });
      entries.push(entry);
    });
  });
  const seen = new Map<string, number>();
  for (const [index, { instance }] of targets.entries()) {
    const entry = entries[index]!;
    const first = seen.get(instance);
    if (first !== undefined) {
      throw new TargetsFileError(
        `entry ${entry}: instance "${instance}" is already taken by entry ${first}; give each stick its own instance`,
      );
    }
    seen.set(instance, entry);
  }
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

/** Go's YAML decoder reads `~` and `null` as an empty string (no label) where Prometheus wants one. */
function nullsAsEmpty(value: unknown): unknown {
  if (typeof value === 'string') return /^(~|null|Null|NULL)$/.test(value) ? '' : value;
  if (Array.isArray(value)) return value.map(nullsAsEmpty);
  if (isJsonObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, nullsAsEmpty(inner)]));
  return value ?? '';
}
