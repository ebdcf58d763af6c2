/** From the command line, the environment and the env file to one checked Command. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseFlags, readEnvFile, readText, settingsFrom } from './sources.js';
import type { Command, Pushgateway, Target } from './types.js';
import {
  parseCount, parseEndpoint, parseGrouping, parseSchedule, parseStore, parseSwitch, parseTargets,
} from './values.js';

export async function readCommand(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<Command> {
  const flags = parseFlags(argv);
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const get = settingsFrom(flags, env, await readEnvFile(flags.envFile as string | undefined, cwd), cwd);

  const stdout = parseSwitch(get('stdout'));
  const targetSetting = get('target');
  if (!targetSetting) {
    throw new ConfigError('--target / TRUCKI_TARGET is required: the address of your stick, e.g. --target 192.168.1.50');
  }
  const targets = withStickAuth(parseTargets(targetSetting, get('instance')), get('stickUsername')?.value, get('stickPassword')?.value);

  const textfile = get('textfile');
  if (textfile?.value.trim() === '') throw new ConfigError(`${textfile.source} must name a file`);
  // Checked whatever the sink, so that a mistake shows before it matters.
  const grouping = parseGrouping(get('grouping'));
  const url = get('pushgateway');
  // --stdout wins over a Pushgateway or textfile from the environment: it is how one looks before pushing.
  if (!stdout && textfile && url) throw new ConfigError(`${textfile.source} and ${url.source} exclude each other: choose where the metrics go`);
  let pushgateway: Pushgateway | undefined;
  if (!stdout && !textfile) {
    if (!url) {
      throw new ConfigError('--pushgateway / PUSHGATEWAY_URL is required (or use --stdout or --textfile), '
        + 'e.g. --pushgateway http://localhost:9091');
    }
    const job = get('job') ?? { parts: ['trucki'], value: 'trucki', source: '--job' };
    if (job.value.trim() === '') throw new ConfigError(`${job.source} must not be empty`);
    const store = parseStore(parseEndpoint(url, 'Pushgateway'), {
      username: get('pushgatewayUsername'),
      password: get('pushgatewayPassword'),
      token: get('pushgatewayBearerToken'),
      caFile: get('pushgatewayCaFile'),
      ca: (file) => readText(resolve(cwd, file.value), `${file.source} "${file.value}"`),
    });
    pushgateway = { ...store, job: job.value, grouping };
  }

  const deleteOnExit = get('deleteOnExit');
  if (parseSwitch(deleteOnExit) && (!pushgateway || !get('schedule'))) {
    throw new ConfigError(`${deleteOnExit!.source} applies only to a --schedule loop that pushes to a Pushgateway`);
  }
  const schedule = parseSchedule(get('schedule'), get('timezone'));

  return {
    kind: 'run',
    config: {
      targets,
      ...(pushgateway && { pushgateway }),
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

/** TRUCKI_STICK_USERNAME / _PASSWORD for every stick whose address lacks that part of its user info. */
function withStickAuth(targets: Target[], username: string | undefined, password: string | undefined): Target[] {
  return targets.map((target) => ({
    ...target,
    ...(target.username === undefined && username !== undefined && { username }),
    ...(target.password === undefined && password !== undefined && { password }),
  }));
}
