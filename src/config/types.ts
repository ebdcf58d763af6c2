/** The checked configuration every module reads: what the sticks are and where their metrics go. */

/** Label name/value pairs in order, as they appear in a Pushgateway grouping key. */
export type Grouping = readonly (readonly [name: string, value: string])[];

export interface Endpoint {
  /** Without user info: safe to log. */
  readonly url: URL;
  readonly username?: string;
  readonly password?: string;
}

export interface Target extends Endpoint {
  readonly instance: string;
  /** This stick's own labels after job and instance (from a targets file), before the global ones. */
  readonly labels: Grouping;
}

/**
 * Which stick a target is, as every memory of a loop keys it: its instance and its own labels, the
 * series its metrics make in any store. Another stick with the same instance but other labels is
 * another stick; the same stick at a new address is still the same one.
 */
export function stickIdentity({ instance, labels }: Target): string {
  return JSON.stringify([instance, labels]);
}

/** TRUCKI_STICK_USERNAME / _PASSWORD: for every stick whose address lacks that part of its user info. */
export type StickAuth = Pick<Endpoint, 'username' | 'password'>;

/** A --targets-file as data: enough for a loop to open it again and follow its changes. */
export interface TargetsFileSpec {
  /** Absolute. */
  readonly path: string;
  /** For messages: "--targets-file sticks.yml". */
  readonly name: string;
  readonly auth: StickAuth;
  /** The label names --grouping sets, which a stick's own labels may not set again. */
  readonly grouping: readonly string[];
  /** The file's size, mtime and inode when the targets were read: it has changed once these differ. */
  readonly readStamp?: string;
}

/** A store the job sends to over HTTP, with its credentials. */
export interface Store extends Endpoint {
  readonly bearerToken?: string;
  /** PEM text of the CA file. */
  readonly ca?: string;
}

/** The labels a store gives every stick's samples, beside instance and the stick's own. */
export interface Labelled {
  readonly job: string;
  /** --grouping: grouping labels on the Pushgateway, ordinary labels in VictoriaMetrics. */
  readonly grouping: Grouping;
}

export type Pushgateway = Store &
  Labelled & {
    /** Groups of the job whose stick is no longer named, unpushed this long, are deleted; absent: never. */
    readonly forgetAfterMs?: number;
  };

/** VictoriaMetrics, a vmagent or a vminsert: the import API below `url`. */
export interface VictoriaMetrics extends Store, Labelled {
  /** Where /api/v1/query is answered, with its credentials. */
  readonly query: Store;
  /** Bounds of what a loop keeps while the store is away. */
  readonly backlog: { readonly maxBytes: number; readonly maxAgeMs: number };
}

export interface Config {
  readonly targets: readonly Target[];
  /** With --targets-file: the file the targets came from, for a loop to re-read. */
  readonly targetsFile?: TargetsFileSpec;
  /** Absent with --stdout, --textfile or --victoriametrics. */
  readonly pushgateway?: Pushgateway;
  readonly victoriametrics?: VictoriaMetrics;
  /** With --textfile: write here instead of pushing. */
  readonly textfile?: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxBodyBytes: number;
  readonly concurrency: number;
  /** Absent: run once and exit. */
  readonly schedule?: { readonly pattern: string; readonly timezone?: string };
  /** With a schedule: delete the sticks' groups on the way out. */
  readonly deleteOnExit: boolean;
  /** A loop logs every stick on every run, not only its changes. */
  readonly verbose: boolean;
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly config: Config }
  /** `check`: where Prometheus answers, if named (--prometheus-url, PROMETHEUS_URL). */
  | { readonly kind: 'check'; readonly config: Config; readonly prometheus?: Endpoint };
