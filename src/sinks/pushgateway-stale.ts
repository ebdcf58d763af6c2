/** The groups one read of the Pushgateway finds that this job may forget: provably its own (exactly its grouping
 * key) and old by the Pushgateway's clock, never the job's: its answer's Date, but never past the newest push time
 * it stamped itself, as a Date may be a proxy's or a lie, and one days ahead would make a fresh group old.
 */
import type { Grouping } from '../config/types.js';
import { parseSampleLine } from '../exposition.js';
import { HttpFailure } from '../errors.js';
import type { Forgettable } from './sink.js';

/** Groups keyed exactly `job`, one instance not `named`, and `grouping`; holding `family` (so never another
 * program's); pushed `afterSeconds` or more ago by the Pushgateway's clock, and not failed since.
 */
export interface StaleQuery {
  readonly job: string;
  readonly grouping: Grouping;
  readonly named: readonly string[];
  readonly family: string;
  readonly afterSeconds: number;
}

/** Beyond this many groups (or instances' characters) a read stops, forgetting none. Push times come before
 * samples, so a group is kept once known old (or tried since), not each group of the job.
 */
const maxKept = 10_000;
const maxKeptChars = 4 * 1024 * 1024;

/** `stays`: pushed or tried since forget-after, or a push time that is no time. `ours`: holds `family`. */
type Kept = { pushedAt?: number; stays?: true; ours?: true };

/** The stale groups of one read, its lines in the Pushgateway's order (families by name: push_failure_time_seconds,
 * push_time_seconds, trucki_…): in another order a group is not forgotten, never one too many.
 */
export class Forgettables {
  private readonly named: Set<string>;
  private readonly wanted: Map<string, string>;
  /** The Pushgateway's clock (Unix s) as its answer began; NaN while unknown. */
  private readonly now: number;
  /** The newest push time of any group: the Pushgateway's clock was at least that. */
  private newest = -Infinity;
  private readonly kept = new Map<string, Kept>();
  private keptChars = 0;

  /** `date`: the answer's Date, read only in HTTP's own form (RFC 9110's IMF-fixdate). */
  constructor(
    private readonly query: StaleQuery,
    date: string | undefined,
  ) {
    this.named = new Set(query.named);
    this.wanted = new Map([['job', query.job], ...query.grouping]);
    const ms = date === undefined ? NaN : Date.parse(date);
    this.now = Number.isFinite(ms) && new Date(ms).toUTCString() === date ? ms / 1000 : NaN;
  }

  line(line: string): void {
    if (Number.isNaN(this.now)) return;
    const { family } = this.query;
    const name = ['push_time_seconds', 'push_failure_time_seconds', family].find((each) => line.startsWith(`${each}{`));
    const parsed = name === undefined ? undefined : parseSampleLine(line.slice(name.length));
    if (name === 'push_time_seconds' && parsed && parsed.value > this.newest) this.newest = parsed.value;
    const instance = parsed && this.instanceOf(parsed.labels);
    if (!parsed || instance === undefined) return;
    const kept = this.kept.get(instance);
    const old = parsed.value < this.now - this.query.afterSeconds;
    if (name === family) {
      if (kept) kept.ours = true;
    } else if (name === 'push_failure_time_seconds') {
      if (!old) this.keep(instance).stays = true;
    } else if (old && parsed.value > 0) {
      // 0 or less is before any Pushgateway stamped a push: no time.
      this.keep(instance).pushedAt = parsed.value;
    } else if (kept) kept.stays = true;
  }

  found(): { stale: Forgettable[]; unsure?: string } {
    if (Number.isNaN(this.now))
      return { stale: [], unsure: 'sent no Date header in HTTP form, so its clock is unknown' };
    const now = Math.min(this.now, this.newest);
    const { job, grouping, afterSeconds } = this.query;
    return {
      stale: [...this.kept].flatMap(([instance, { pushedAt, stays, ours }]) =>
        pushedAt !== undefined && pushedAt < now - afterSeconds && ours && !stays
          ? [{ grouping: [['job', job], ['instance', instance], ...grouping], pushedAt, age: now - pushedAt }]
          : [],
      ),
    };
  }

  private keep(instance: string): Kept {
    const known = this.kept.get(instance);
    if (known) return known;
    this.keptChars += instance.length;
    if (this.kept.size >= maxKept || this.keptChars > maxKeptChars) {
      this.kept.clear();
      throw new HttpFailure(
        `was read no further, forgetting none: more than ${maxKept} groups of job "${this.query.job}" ` +
          'may be forgotten (or it sends them endlessly)',
      );
    }
    const kept: Kept = {};
    this.kept.set(instance, kept);
    return kept;
  }

  /** Nothing beside job, one instance not named now, and the grouping labels (not another host's extra labels). */
  private instanceOf(labels: Grouping): string | undefined {
    if (labels.length !== this.wanted.size + 1) return undefined;
    const matched = new Set<string>();
    let instance: string | undefined;
    for (const [name, value] of labels) {
      if (name === 'instance' && instance === undefined) instance = value;
      else if (this.wanted.get(name) === value && !matched.has(name)) matched.add(name);
      else return undefined;
    }
    return instance?.trim() && !this.named.has(instance) ? instance : undefined;
  }
}
