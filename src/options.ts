/**
 * Every setting the job takes, as a flag, an environment variable or both. The help text and the
 * checks on .env.example are generated from this table, so a new setting is one row here.
 */
export interface OptionSpec {
  readonly flag?: string;
  readonly short?: string;
  readonly env?: string;
  /** Placeholder for the value in the help text; absent for a switch. */
  readonly arg?: string;
  readonly help: string;
}

export const optionSpecs = {
  target: { flag: 'target', short: 't', env: 'TRUCKI_TARGET', arg: '[name=]address,…', help: 'stick address: host, host:port or http(s) URL, user info for basic auth; a comma list for several sticks; name= sets its instance label (required)' },
  pushgateway: { flag: 'pushgateway', short: 'g', env: 'PUSHGATEWAY_URL', arg: 'url', help: 'Pushgateway base URL, may carry a path prefix and user info for basic auth (required unless --stdout)' },
  pushgatewayUsername: { env: 'PUSHGATEWAY_USERNAME', help: 'basic auth user for the Pushgateway (or user info in its URL)' },
  pushgatewayPassword: { env: 'PUSHGATEWAY_PASSWORD', help: 'basic auth password for the Pushgateway' },
  pushgatewayBearerToken: { env: 'PUSHGATEWAY_BEARER_TOKEN', help: 'bearer token for the Pushgateway (instead of basic auth)' },
  pushgatewayCaFile: { env: 'PUSHGATEWAY_CA_FILE', help: 'PEM file of the CA that signed an https Pushgateway\'s certificate' },
  job: { flag: 'job', env: 'PUSHGATEWAY_JOB', arg: 'name', help: 'job grouping label (default trucki)' },
  instance: { flag: 'instance', env: 'PUSHGATEWAY_INSTANCE', arg: 'name', help: 'instance grouping label for a single target (default: its host[:port])' },
  grouping: { flag: 'grouping', env: 'PUSHGATEWAY_GROUPING', arg: 'k=v,…', help: 'further grouping labels' },
  stdout: { flag: 'stdout', help: 'print the exposition text instead of pushing' },
  textfile: { flag: 'textfile', env: 'TEXTFILE_PATH', arg: 'path', help: 'write the exposition to this file (atomically) for node_exporter\'s textfile collector instead of pushing' },
  timeout: { flag: 'timeout', env: 'TRUCKI_TIMEOUT_MS', arg: 'ms', help: 'time limit per HTTP attempt in milliseconds (default 5000)' },
  retries: { flag: 'retries', env: 'TRUCKI_RETRIES', arg: 'n', help: 'retries after a failed attempt that may pass, with backoff (default 2)' },
  maxBody: { env: 'TRUCKI_MAX_BODY_BYTES', help: 'largest stick response accepted, in bytes (default 1048576)' },
  schedule: { flag: 'schedule', short: 's', env: 'SCHEDULE', arg: 'cron', help: 'stay running and read the sticks on this croner pattern (5 or 6 fields, e.g. "*/15 * * * * *"); default: run once and exit' },
  timezone: { flag: 'timezone', env: 'TZ', arg: 'zone', help: 'time zone for calendar patterns of --schedule, e.g. Europe/Berlin (default: the system\'s)' },
  deleteOnExit: { flag: 'delete-on-exit', env: 'PUSHGATEWAY_DELETE_ON_EXIT', help: 'with --schedule: delete the sticks\' groups from the Pushgateway when stopped' },
  envFile: { flag: 'env-file', arg: 'path', help: 'dotenv file to read (default .env in the working directory, if present)' },
  help: { flag: 'help', short: 'h', help: 'show this help' },
  version: { flag: 'version', short: 'V', help: 'show the version' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof optionSpecs;

export function helpText(): string {
  const rows = Object.values(optionSpecs as Record<string, OptionSpec>).map((spec) => {
    const flag = spec.flag ? `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${spec.arg ? ` <${spec.arg}>` : ''}` : '';
    return [flag, spec.env ?? '', spec.help];
  });
  const width = (column: number) => Math.max(...rows.map((row) => row[column]!.length));
  const [w0, w1] = [width(0), width(1)];
  return [
    'Usage: trucki2pushgateway --target <stick> --pushgateway <url> [options]',
    '',
    'Reads each Trucki stick once, pushes its readings to a Prometheus Pushgateway and exits.',
    'Flags beat environment variables, which beat the env file.',
    '',
    ...rows.map(([flag, env, help]) => `  ${flag!.padEnd(w0)}  ${env!.padEnd(w1)}  ${help}`),
    '',
    'Exit status: 0 all sticks read and pushed, 1 a stick or a push failed, 2 usage or configuration error.',
  ].join('\n');
}
