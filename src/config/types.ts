/** The checked configuration every module reads: what the sticks are and where their metrics go. */

/** Label name/value pairs in order, as they appear in a Pushgateway grouping key. */
export type Grouping = readonly (readonly [name: string, value: string])[];

export interface Endpoint {
  readonly url: URL; // without user info: safe to log
  readonly username?: string;
  readonly password?: string;
}

export interface Target extends Endpoint {
  readonly instance: string;
  /** This stick's own labels after job and instance (from a targets file), before the global ones. */
  readonly labels: Grouping;
}

/** Which stick a target is, as a loop's memories key it: the series it makes (a new address is the same stick). */
export function stickIdentity({ instance, labels }: Target): string {
  return JSON.stringify([instance, labels]);
}

/** TRUCKI_STICK_USERNAME / _PASSWORD: for every stick whose address lacks that part of its user info. */
export type StickAuth = Pick<Endpoint, 'username' | 'password'>;

/** A --targets-file as data: enough for a loop to open it again and follow its changes. */
export interface TargetsFileSpec {
  readonly path: string; // absolute
  readonly name: string; // for messages: "--targets-file sticks.yml"
  readonly auth: StickAuth;
  readonly grouping: readonly string[]; // --grouping's label names, which a stick's own may not set again
  readonly readStamp?: string; // size, mtime and inode when the targets were read
}

/** A store the job sends to over HTTP, with its credentials. */
export interface Store extends Endpoint {
  readonly bearerToken?: string;
  readonly ca?: string; // PEM text
}

/** The labels a store gives every stick's samples, beside instance and the stick's own. */
export interface Labelled {
  readonly job: string;
  readonly grouping: Grouping; // --grouping: grouping labels on the Pushgateway, plain labels in VictoriaMetrics
}

export type Pushgateway = Store &
  Labelled & {
    /** Groups of the job whose stick is no longer named, unpushed this long, are deleted; absent: never. */
    readonly forgetAfterMs?: number;
  };

/** VictoriaMetrics, a vmagent or a vminsert: the import API below `url`. */
export interface VictoriaMetrics extends Store, Labelled {
  readonly query: Store; // where /api/v1/query is answered
  /** Bounds of what a loop keeps while the store is away. */
  readonly backlog: { readonly maxBytes: number; readonly maxAgeMs: number };
}

export interface Config {
  readonly targets: readonly Target[];
  readonly targetsFile?: TargetsFileSpec; // for a loop to re-read
  readonly pushgateway?: Pushgateway;
  readonly victoriametrics?: VictoriaMetrics;
  readonly textfile?: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxBodyBytes: number;
  readonly concurrency: number;
  readonly schedule?: { readonly pattern: string; readonly timezone?: string }; // absent: run once
  readonly deleteOnExit: boolean;
  readonly verbose: boolean; // a loop logs every stick on every run, not only its changes
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly config: Config }
  /** `check`: where Prometheus answers, if named (--prometheus-url, PROMETHEUS_URL). */
  | { readonly kind: 'check'; readonly config: Config; readonly prometheus?: Endpoint };
