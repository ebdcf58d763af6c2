/** From the command line, the environment and the env file to one checked Command. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseFlags, readEnvFile, settingsFrom, type Settings } from './sources.js';
import { openTargetsFile, type TargetsFile } from '../targets-source.js';
import type { Command, Pushgateway, Target } from './types.js';
import { readStore } from './store.js';
import { parseVictoriaMetrics } from './victoriametrics.js';
import {
  parseCount,
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
  const flags = parseFlags(argv);
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const get = settingsFrom(flags, env, await readEnvFile(flags.envFile as string | undefined, cwd), cwd);

  const stdout = parseSwitch(get('stdout'));
  const { targets, targetsFile } = await readTargets(get, cwd);

  const sinks = [get('textfile'), get('pushgateway'), get('victoriametrics')].filter((found) => found !== undefined);
  // --stdout wins over a Pushgateway, textfile or VictoriaMetrics from the environment: it is how one looks first.
  if (!stdout && sinks.length > 1) {
    const sources = sinks.map(({ source }) => source).join(' and ');
    throw new ConfigError(`${sources} exclude each other: choose where the metrics go`);
  }
  const textfile = get('textfile');
  if (textfile?.value.trim() === '') throw new ConfigError(`${textfile.source} must name a file`);
  // Checked whatever the sink, so that a mistake shows before it matters.
  const grouping = parseGrouping(get('grouping'));
  const url = get('pushgateway');
  const vm = get('victoriametrics');
  let pushgateway: Pushgateway | undefined;
  if (!stdout && !textfile && !vm) {
    if (!url) {
      throw new ConfigError(
        '--pushgateway / PUSHGATEWAY_URL is required ' +
          '(or use --victoriametrics, --stdout or --textfile), ' +
          'e.g. --pushgateway http://localhost:9091',
      );
    }
    const store = readStore(url, get, cwd, 'pushgateway');
    pushgateway = { ...store, job: parseJob(get('job')), grouping };
  }
  const victoriametrics = !stdout && vm ? parseVictoriaMetrics(vm, get, cwd) : undefined;

  const deleteOnExit = get('deleteOnExit');
  if (parseSwitch(deleteOnExit) && (!pushgateway || !get('schedule'))) {
    throw new ConfigError(`${deleteOnExit!.source} applies only to a --schedule loop that pushes to a Pushgateway`);
  }
  const schedule = parseSchedule(get('schedule'), get('timezone'));

  return {
    kind: 'run',
    config: {
      targets,
      ...(targetsFile && { targetsFile }),
      ...(pushgateway && { pushgateway }),
      ...(victoriametrics && { victoriametrics }),
      ...(textfile && !stdout && { textfile: resolve(cwd, textfile.value) }),
      // Node's timers take at most 2^31 - 1 ms; an hour is already far beyond any stick.
      timeoutMs: parseCount(get('timeout'), 5000, 1, 3_600_000),
      retries: parseCount(get('retries'), 2, 0, 10),
      maxBodyBytes: parseCount(get('maxBody'), 1_048_576, 1, 1_073_741_824),
      concurrency: parseCount(get('concurrency'), 256, 1, 4096),
      ...(schedule && { schedule }),
      deleteOnExit: parseSwitch(deleteOnExit),
    },
  };
}

/** The sticks from --target or from --targets-file (which a loop re-reads), never both. */
async function readTargets(get: Settings, cwd: string): Promise<{ targets: Target[]; targetsFile?: TargetsFile }> {
  const auth = { username: get('stickUsername')?.value, password: get('stickPassword')?.value };
  const targetSetting = get('target');
  const fileSetting = get('targetsFile');
  if (fileSetting && targetSetting) {
    throw new ConfigError(
      `${fileSetting.source} and ${targetSetting.source} exclude each other: name the sticks in one place`,
    );
  }
  if (fileSetting) {
    const instance = get('instance');
    if (instance) {
      throw new ConfigError(`${instance.source} applies to --target; name a stick in the file with labels.instance`);
    }
    const name = `${fileSetting.source} ${fileSetting.value}`;
    const targetsFile = await openTargetsFile(resolve(cwd, fileSetting.value), name, auth);
    const targets = targetsFile.read();
    if (targets.length === 0) throw new ConfigError(`${targetsFile.name} names no stick`);
    return { targets, targetsFile };
  }
  if (!targetSetting) {
    throw new ConfigError(
      '--target / TRUCKI_TARGET is required: the address of your stick, e.g. --target 192.168.1.50',
    );
  }
  return { targets: withStickAuth(parseTargets(targetSetting, get('instance')), auth) };
}
