/**
 * Every setting, written once as --help shows it, `-s, --flag <arg>  |  VARIABLE*`, and read from these lines:
 * a switch has no <arg>; an <arg> ending in ,… may repeat; * also from <VARIABLE>_FILE or a systemd credential.
 * A new setting also needs its reading in config/ and its line in README and .env.example (test/unit/docs.test.ts).
 */
export const optionsHelp = `
  -t, --target <[name=]address,…>  |  TRUCKI_TARGET*
        stick address: host, host:port or http(s) URL; a comma list or a repeated flag for several
        sticks; name= sets its instance label (required unless --targets-file)
  TRUCKI_STICK_USERNAME*
        basic auth user for sticks whose address has no user info
  TRUCKI_STICK_PASSWORD*
        basic auth password for those sticks
  -g, --pushgateway <url>  |  PUSHGATEWAY_URL*
        Pushgateway base URL (not …/metrics), may carry a path prefix (required unless
        --victoriametrics, --textfile or --stdout)
  PUSHGATEWAY_USERNAME*
        basic auth user for the Pushgateway (or user info in its URL)
  PUSHGATEWAY_PASSWORD*
        basic auth password for the Pushgateway
  PUSHGATEWAY_BEARER_TOKEN*
        bearer token for the Pushgateway (instead of basic auth)
  PUSHGATEWAY_CA_FILE
        PEM file of the CA that signed an https Pushgateway's certificate
  --job <name>  |  PUSHGATEWAY_JOB
        job grouping label (default trucki)
  --instance <name>  |  PUSHGATEWAY_INSTANCE
        instance grouping label for a single target (default: its host[:port])
  --grouping <k=v,…>  |  PUSHGATEWAY_GROUPING
        further grouping labels; a comma list or a repeated flag (VictoriaMetrics: labels on every
        sample; refused with --textfile, which has no grouping key: label the sticks in a
        --targets-file)
  --stdout
        print the exposition text instead of pushing
  --textfile <path>  |  TEXTFILE_PATH
        write the exposition to this file (atomically) for node_exporter's textfile collector
        instead of pushing
  --victoriametrics <url>  |  VICTORIAMETRICS_URL*
        instead of a Pushgateway: base URL of VictoriaMetrics, a vmagent or a vminsert with its
        tenant prefix; the job posts Prometheus text to <url>/api/v1/import/prometheus
  --victoriametrics-query-url <url>  |  VICTORIAMETRICS_QUERY_URL*
        where /api/v1/query is answered, to recall last successes (default: the --victoriametrics
        URL; a vmagent has none: recall is then off)
  VICTORIAMETRICS_USERNAME*
        basic auth user for VictoriaMetrics (or user info in its URL)
  VICTORIAMETRICS_PASSWORD*
        basic auth password for VictoriaMetrics
  VICTORIAMETRICS_BEARER_TOKEN*
        bearer token for VictoriaMetrics (instead of basic auth)
  VICTORIAMETRICS_CA_FILE
        PEM file of the CA that signed an https VictoriaMetrics' certificate
  VICTORIAMETRICS_BACKLOG_MAX_BYTES
        loop mode: import text kept while VictoriaMetrics is away, at most this many bytes (default
        33554432)
  VICTORIAMETRICS_BACKLOG_MAX_AGE_SECONDS
        loop mode: samples kept while VictoriaMetrics is away, at most this old (default 86400)
  --targets-file <path>  |  TRUCKI_TARGETS_FILE
        the sticks from a Prometheus file_sd file (*.json, *.yml, *.yaml) instead of --target; a
        loop re-reads it when it changes
  --timeout <ms>  |  TRUCKI_TIMEOUT_MS
        time limit per HTTP attempt in milliseconds (default 5000)
  --retries <n>  |  TRUCKI_RETRIES
        retries after a failed attempt that may pass, with backoff (default 2)
  TRUCKI_MAX_BODY_BYTES
        largest stick response accepted, in bytes (default 1048576)
  --concurrency <n>  |  TRUCKI_CONCURRENCY
        how many sticks are read at once (default 256)
  -s, --schedule <cron>  |  SCHEDULE
        stay running and read the sticks on this croner pattern (5 or 6 fields, e.g. "*/15 * * * *
        *"); default: run once and exit
  --timezone <zone>  |  TZ
        time zone for calendar patterns of --schedule, e.g. Europe/Berlin (default: the system's)
  --delete-on-exit  |  PUSHGATEWAY_DELETE_ON_EXIT
        with --schedule: delete the sticks' groups from the Pushgateway when stopped
  --prometheus-url <url>  |  PROMETHEUS_URL*
        check only: the Prometheus (or VictoriaMetrics query API) that should hold the sticks'
        series (default http://localhost:9090; with --victoriametrics its query URL)
  --forget-after <duration>  |  PUSHGATEWAY_FORGET_AFTER
        delete the Pushgateway groups of exactly this job and grouping whose stick is no longer
        named and that nobody pushed for this long by the Pushgateway's clock (Prometheus duration:
        7d, 36h, 1h30m; 0 or off: never; default 7d)
  --verbose  |  TRUCKI_VERBOSE
        loop mode: log every stick on every run (default: changes, and a summary every 10 minutes)
  --env-file <path>
        dotenv file to read (default .env in the working directory, if present)
  -h, --help
        show this help
  -V, --version
        show the version
`.slice(1, -1);

const optionLine = /^ {2}(?:(?:-(\w), )?--([a-z-]+)(?: <([^>]+)>)?)?(?: {2}\| {2})?(?:([A-Z_]+)(\*)?)?$/;

/** By flag name ("targets-file"), or by variable for an option without a flag ("PUSHGATEWAY_CA_FILE"). */
export const optionSpecs = Object.fromEntries(
  optionsHelp.split('\n').flatMap((line) => {
    const [, short, flag, arg, env, file] = optionLine.exec(line) ?? [];
    if (!flag && !env) return [];
    const spec = { flag, short, arg, env, repeatable: arg?.endsWith(',…') === true, file: file === '*' };
    return [[(flag ?? env)!, spec] as const];
  }),
);

export type OptionSpec = (typeof optionSpecs)[string];
