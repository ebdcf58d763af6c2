/**
 * A run's import text cut into requests: the sticks' texts in the order they came, joined into
 * batches of at most `maxBytes` each (a stick's text is never split), so that a run sends as few
 * requests as the cap allows, a failing one fails small, and a full one can go before the run ends.
 */
import type { Batch } from './backlog.js';

/** The batches of a run not taken yet, in order; and which batches were the run's, as against a backlog's. */
export interface RunEnd {
  readonly rest: Batch[];
  readonly ofRun: WeakSet<Batch>;
}

export class ImportBatches {
  private parts: string[] = [];
  private bytes = 0;
  private samples = 0;
  private oldestAt = Infinity;
  private sticks: string[] = [];
  private full: Batch[] = [];
  private run = new WeakSet<Batch>();

  constructor(private readonly maxBytes: number) {}

  /** One stick's text: `lines` samples read at `readAt` (Unix ms). */
  add(stick: string, text: string, lines: number, readAt: number): void {
    const bytes = Buffer.byteLength(text);
    if (this.bytes + bytes > this.maxBytes) this.close();
    this.parts.push(text);
    this.bytes += bytes;
    this.samples += lines;
    this.oldestAt = Math.min(this.oldestAt, readAt);
    this.sticks.push(stick);
  }

  get hasFull(): boolean {
    return this.full.length > 0;
  }

  /** The batches that are full, in order; the one being filled stays. */
  takeFull(): Batch[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  /**
   * The run's batches not taken yet, in order, the last one closed; and which batches were the run's
   * (those taken as full before included), as against a backlog's. What is added next is the next run's.
   */
  endRun(): RunEnd {
    this.close();
    const ofRun = this.run;
    this.run = new WeakSet();
    return { rest: this.takeFull(), ofRun };
  }

  private close(): void {
    if (this.parts.length === 0) return;
    const { bytes, samples, oldestAt, sticks } = this;
    const batch = { text: this.parts.join(''), bytes, samples, oldestAt, sticks };
    this.full.push(batch);
    this.run.add(batch);
    this.parts = [];
    this.sticks = [];
    this.bytes = 0;
    this.samples = 0;
    this.oldestAt = Infinity;
  }
}

/**
 * Each run's ImportBatches, by its Delivery.run: a loop's runs overlap (the others run again while a
 * slow stick is still read), and each run's flush sends, and reports, only its own sticks.
 */
export class RunsBatches {
  private readonly runs = new Map<object, ImportBatches>();

  constructor(private readonly maxBytes: number) {}

  /** The batches `run` collects into. */
  of(run: object): ImportBatches {
    let batches = this.runs.get(run);
    if (!batches) this.runs.set(run, (batches = new ImportBatches(this.maxBytes)));
    return batches;
  }

  /** `run`'s batches not taken yet, and which batches were its (ImportBatches.endRun); it collects no more. */
  endRun(run: object): RunEnd {
    const batches = this.runs.get(run);
    this.runs.delete(run);
    return batches?.endRun() ?? { rest: [], ofRun: new WeakSet() };
  }

  /** Every run's batches not taken yet: none once each run was flushed. */
  endAll(): Batch[] {
    return [...this.runs.keys()].flatMap((run) => this.endRun(run).rest);
  }
}
