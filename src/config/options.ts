/**
 * Every setting the job takes, as a flag, an environment variable or both: data only. --help is
 * rendered from this table; a new setting is a row here, its reading in config/ (load.ts, or the
 * module of the store it belongs to), and its line in the README and .env.example, which
 * test/unit/docs.test.ts holds in step with this table.
 */
export interface OptionSpec {
  readonly flag?: string;
  readonly short?: string;
  readonly env?: string;
  /** Placeholder for the value in the help text; absent for a switch. */
  readonly arg?: string;
  /** A flag that may be given more than once; the values accumulate as one comma list. */
  readonly repeatable?: boolean;
  /**
   * May hold a secret, or belongs with one: also read from the file named by <env>_FILE or from
   * the systemd credential <env>, so that no secret need be on a command line.
   */
  readonly file?: boolean;
  readonly help: string;
}

export const optionSpecs = {
  target: {
    flag: 'target',
    short: 't',
    env: 'TRUCKI_TARGET',
    arg: '[name=]address,…',
    repeatable: true,
    file: true,
    help:
      'stick address: host, host:port or http(s) URL; a comma list or a repeated flag for several sticks; ' +
      'name= sets its instance label (required unless --targets-file)',
  },
  stickUsername: {
    env: 'TRUCKI_STICK_USERNAME',
    file: true,
    help: 'basic auth user for sticks whose address has no user info',
  },
  stickPassword: { env: 'TRUCKI_STICK_PASSWORD', file: true, help: 'basic auth password for those sticks' },
  pushgateway: {
    flag: 'pushgateway',
    short: 'g',
    env: 'PUSHGATEWAY_URL',
    arg: 'url',
    file: true,
    help:
      'Pushgateway base URL (not …/metrics), may carry a path prefix ' +
      '(required unless --victoriametrics, --textfile or --stdout)',
  },
  pushgatewayUsername: {
    env: 'PUSHGATEWAY_USERNAME',
    file: true,
    help: 'basic auth user for the Pushgateway (or user info in its URL)',
  },
  pushgatewayPassword: { env: 'PUSHGATEWAY_PASSWORD', file: true, help: 'basic auth password for the Pushgateway' },
  pushgatewayBearerToken: {
    env: 'PUSHGATEWAY_BEARER_TOKEN',
    file: true,
    help: 'bearer token for the Pushgateway (instead of basic auth)',
  },
  pushgatewayCaFile: {
    env: 'PUSHGATEWAY_CA_FILE',
    help: "PEM file of the CA that signed an https Pushgateway's certificate",
  },
  job: { flag: 'job', env: 'PUSHGATEWAY_JOB', arg: 'name', help: 'job grouping label (default trucki)' },
  instance: {
    flag: 'instance',
    env: 'PUSHGATEWAY_INSTANCE',
    arg: 'name',
    help: 'instance grouping label for a single target (default: its host[:port])',
  },
  grouping: {
    flag: 'grouping',
    env: 'PUSHGATEWAY_GROUPING',
    arg: 'k=v,…',
    repeatable: true,
    help:
      'further grouping labels; a comma list or a repeated flag (VictoriaMetrics: labels on every sample; ' +
      'refused with --textfile, which has no grouping key: label the sticks in a --targets-file)',
  },
  stdout: { flag: 'stdout', help: 'print the exposition text instead of pushing' },
  textfile: {
    flag: 'textfile',
    env: 'TEXTFILE_PATH',
    arg: 'path',
    help: "write the exposition to this file (atomically) for node_exporter's textfile collector instead of pushing",
  },
  victoriametrics: {
    flag: 'victoriametrics',
    env: 'VICTORIAMETRICS_URL',
    arg: 'url',
    file: true,
    help:
      'instead of a Pushgateway: base URL of VictoriaMetrics, a vmagent or a vminsert with its tenant prefix; ' +
      'the job posts Prometheus text to <url>/api/v1/import/prometheus',
  },
  victoriametricsQueryUrl: {
    flag: 'victoriametrics-query-url',
    env: 'VICTORIAMETRICS_QUERY_URL',
    arg: 'url',
    file: true,
    help:
      'where /api/v1/query is answered, to recall last successes (default: the --victoriametrics URL; ' +
      'a vmagent has none: recall is then off)',
  },
  victoriametricsUsername: {
    env: 'VICTORIAMETRICS_USERNAME',
    file: true,
    help: 'basic auth user for VictoriaMetrics (or user info in its URL)',
  },
  victoriametricsPassword: {
    env: 'VICTORIAMETRICS_PASSWORD',
    file: true,
    help: 'basic auth password for VictoriaMetrics',
  },
  victoriametricsBearerToken: {
    env: 'VICTORIAMETRICS_BEARER_TOKEN',
    file: true,
    help: 'bearer token for VictoriaMetrics (instead of basic auth)',
  },
  victoriametricsCaFile: {
    env: 'VICTORIAMETRICS_CA_FILE',
    help: "PEM file of the CA that signed an https VictoriaMetrics' certificate",
  },
  backlogBytes: {
    env: 'VICTORIAMETRICS_BACKLOG_MAX_BYTES',
    help: 'loop mode: import text kept while VictoriaMetrics is away, at most this many bytes (default 33554432)',
  },
  backlogAge: {
    env: 'VICTORIAMETRICS_BACKLOG_MAX_AGE_SECONDS',
    help: 'loop mode: samples kept while VictoriaMetrics is away, at most this old (default 86400)',
  },
  targetsFile: {
    flag: 'targets-file',
    env: 'TRUCKI_TARGETS_FILE',
    arg: 'path',
    help:
      'the sticks from a Prometheus file_sd file (*.json, *.yml, *.yaml) instead of --target; ' +
      'a loop re-reads it when it changes',
  },
  timeout: {
    flag: 'timeout',
    env: 'TRUCKI_TIMEOUT_MS',
    arg: 'ms',
    help: 'time limit per HTTP attempt in milliseconds (default 5000)',
  },
  retries: {
    flag: 'retries',
    env: 'TRUCKI_RETRIES',
    arg: 'n',
    help: 'retries after a failed attempt that may pass, with backoff (default 2)',
  },
  maxBody: { env: 'TRUCKI_MAX_BODY_BYTES', help: 'largest stick response accepted, in bytes (default 1048576)' },
  concurrency: {
    flag: 'concurrency',
    env: 'TRUCKI_CONCURRENCY',
    arg: 'n',
    help: 'how many sticks are read at once (default 256)',
  },
  schedule: {
    flag: 'schedule',
    short: 's',
    env: 'SCHEDULE',
    arg: 'cron',
    help:
      'stay running and read the sticks on this croner pattern (5 or 6 fields, e.g. "*/15 * * * * *"); ' +
      'default: run once and exit',
  },
  timezone: {
    flag: 'timezone',
    env: 'TZ',
    arg: 'zone',
    help: "time zone for calendar patterns of --schedule, e.g. Europe/Berlin (default: the system's)",
  },
  deleteOnExit: {
    flag: 'delete-on-exit',
    env: 'PUSHGATEWAY_DELETE_ON_EXIT',
    help: "with --schedule: delete the sticks' groups from the Pushgateway when stopped",
  },
  prometheusUrl: {
    flag: 'prometheus-url',
    env: 'PROMETHEUS_URL',
    arg: 'url',
    file: true,
    help:
      "check only: the Prometheus (or VictoriaMetrics query API) that should hold the sticks' series " +
      '(default http://localhost:9090; with --victoriametrics its query URL)',
  },
  forgetAfter: {
    flag: 'forget-after',
    env: 'PUSHGATEWAY_FORGET_AFTER',
    arg: 'duration',
    help:
      'delete the Pushgateway groups of exactly this job and grouping whose stick is no longer named and that ' +
      "nobody pushed for this long by the Pushgateway's clock (Prometheus duration: 7d, 36h, 1h30m; 0 or off: " +
      'never; default 7d)',
  },
  verbose: {
    flag: 'verbose',
    env: 'TRUCKI_VERBOSE',
    help: 'loop mode: log every stick on every run (default: changes, and a summary every 10 minutes)',
  },
  envFile: {
    flag: 'env-file',
    arg: 'path',
    help: 'dotenv file to read (default .env in the working directory, if present)',
  },
  help: { flag: 'help', short: 'h', help: 'show this help' },
  version: { flag: 'version', short: 'V', help: 'show the version' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof optionSpecs;
