/** From the command line, the environment and the env file to one checked Command. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseFlags, readEnvFile, settingsFrom, strongest, type Settings } from './sources.js';
import { openTargetsFile } from '../targets/file.js';
import type { Command, Grouping, Pushgateway } from './types.js';
import { readStore, readVictoriaMetrics } from './store.js';
import {
  parseCount,
  parseDuration,
  parseEndpoint,
  parseGrouping,
  parseJob,
  parseSchedule,
  parseSwitch,
  parseTargets,
  withStickAuth,
} from './values.js';

export async function readCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): Promise<Command> {
  // `check` walks the whole setup with the configuration a run would have, and may name a Prometheus.
  const check = argv[0] === 'check';
  const flags = parseFlags(check ? argv.slice(1) : argv);
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const get = settingsFrom(flags, env, await readEnvFile(flags['env-file'] as string | undefined, cwd), cwd);

  const stdout = parseSwitch(get('stdout'));
  // Checked whatever the sink, so that a mistake shows before it matters.
  const grouping = parseGrouping(get('grouping'));
  const { targets, targetsFile } = await readTargets(get, cwd, grouping);

  const { textfile, url, vm } = chooseStore(get, stdout, grouping);
  const labelled = () => ({ job: parseJob(get('job')), grouping });
  const forgetAfterMs = parseDuration(get('forget-after'), 7 * 86_400_000);
  const pushgateway: Pushgateway | undefined = url && {
    ...readStore(url, get, cwd, 'Pushgateway'),
    ...labelled(),
    ...(forgetAfterMs !== undefined && { forgetAfterMs }),
  };
  const victoriametrics = vm && readVictoriaMetrics(vm, get, cwd, labelled());

  const deleteOnExit = get('delete-on-exit');
  if (parseSwitch(deleteOnExit) && (!pushgateway || !get('schedule')))
    throw new ConfigError(`${deleteOnExit!.source} applies only to a --schedule loop that pushes to a Pushgateway`);
  const schedule = parseSchedule(get('schedule'), get('timezone'));
  // PROMETHEUS_URL may sit in an env file a run shares: a run ignores it, and refuses only the flag.
  if (!check && flags['prometheus-url'] !== undefined)
    throw new ConfigError('--prometheus-url applies only to the check command');
  const prometheus = check ? get('prometheus-url') : undefined;

  const config = {
    targets,
    ...(targetsFile && { targetsFile }),
    ...(pushgateway && { pushgateway }),
    ...(victoriametrics && { victoriametrics }),
    ...(textfile && { textfile: resolve(cwd, textfile.value) }),
    // Node's timers take at most 2^31 - 1 ms; an hour is already far beyond any stick.
    timeoutMs: parseCount(get('timeout'), 5000, 1, 3_600_000),
    retries: parseCount(get('retries'), 2, 0, 10),
    maxBodyBytes: parseCount(get('TRUCKI_MAX_BODY_BYTES'), 1_048_576, 1, 1_073_741_824),
    concurrency: parseCount(get('concurrency'), 256, 1, 4096),
    ...(schedule && { schedule }),
    deleteOnExit: parseSwitch(deleteOnExit),
    verbose: parseSwitch(get('verbose')),
  };
  if (!check) return { kind: 'run', config };
  return { kind: 'check', config, ...(prometheus && { prometheus: parseEndpoint(prometheus, 'Prometheus') }) };
}

/** Where the metrics go: --stdout wins over any sink (it is how one looks first), else the strongest source. */
function chooseStore(get: Settings, stdout: boolean, grouping: Grouping) {
  const given = { textfile: get('textfile'), url: get('pushgateway'), vm: get('victoriametrics') };
  const sinks = strongest(Object.values(given));
  if (stdout) return {};
  if (sinks.length > 1) {
    const sources = sinks.map(({ source }) => source).join(' and ');
    throw new ConfigError(`${sources} exclude each other: choose where the metrics go`);
  }
  const [chosen] = sinks;
  if (!chosen)
    throw new ConfigError(
      '--pushgateway / PUSHGATEWAY_URL is required (or use --victoriametrics, --stdout or --textfile), ' +
        'e.g. --pushgateway http://localhost:9091',
    );
  if (chosen === given.url) return { url: chosen };
  if (chosen === given.vm) return { vm: chosen };
  if (chosen.value.trim() === '') throw new ConfigError(`${chosen.source} must name a file`);
  // Refused, not dropped: the file has no grouping key, and a label the user asked for must not
  // vanish. Per-stick labels from a targets file are what the textfile keeps.
  if (grouping.length > 0)
    throw new ConfigError(
      `${get('grouping')!.source} does not apply to ${chosen.source}: a textfile has no grouping key; ` +
        'give the sticks labels in a --targets-file instead',
    );
  return { textfile: chosen };
}

/** The sticks from --target or --targets-file, whichever the strongest source names. */
async function readTargets(get: Settings, cwd: string, grouping: Grouping) {
  const auth = { username: get('TRUCKI_STICK_USERNAME')?.value, password: get('TRUCKI_STICK_PASSWORD')?.value };
  const file = get('targets-file');
  const [chosen, other] = strongest([get('target'), file]);
  if (other)
    throw new ConfigError(`${other.source} and ${chosen!.source} exclude each other: name the sticks in one place`);
  if (!chosen)
    throw new ConfigError(
      '--target / TRUCKI_TARGET is required: the address of your stick, e.g. --target 192.168.1.50',
    );
  if (chosen !== file) return { targets: withStickAuth(parseTargets(chosen, get('instance')), auth) };
  const instance = get('instance');
  if (instance)
    throw new ConfigError(`${instance.source} applies to --target; name a stick in the file with labels.instance`);
  const spec = {
    path: resolve(cwd, file.value),
    name: `${file.source} ${file.value}`,
    auth,
    grouping: grouping.map(([name]) => name),
  };
  const opened = await openTargetsFile(spec);
  return { targets: opened.read(), targetsFile: { ...spec, readStamp: opened.readStamp() } };
}
