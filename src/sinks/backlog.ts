/**
 * Import batches not delivered yet, oldest first, bounded by bytes and age: what is over a bound is
 * dropped oldest first and counted, so an outage costs the oldest samples, never the host's memory.
 */
import type { Tell } from './sink.js';

export interface Batch {
  readonly text: string;
  readonly bytes: number;
  readonly samples: number;
  /** Unix ms of the oldest sample in it: the batch ages from there. */
  readonly oldestAt: number;
  /** Those of its readings not told yet what became of them; emptied as they are told. */
  readonly told: Tell[];
}

export interface BacklogBounds {
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

export class Backlog {
  private batches: Batch[] = [];
  private heldBytes = 0;
  /** Samples dropped over the bounds since the process started. */
  droppedSamples = 0;
  /** As many of them as takeUnsaid has counted. */
  private said = 0;

  /** `lost` hears of each batch dropped over the bounds, to tell the readings not told yet. */
  constructor(
    private readonly bounds: BacklogBounds,
    private readonly lost: (batch: Batch) => void = () => {},
  ) {}

  get bytes(): number {
    return this.heldBytes;
  }
  get size(): number {
    return this.batches.length;
  }
  get samples(): number {
    return this.batches.reduce((sum, batch) => sum + batch.samples, 0);
  }

  /** Keeps `batches` in order of age among those held already (a failed request's are older), then bounds. */
  keep(batches: readonly Batch[], now: number): void {
    const newest = this.batches.at(-1)?.oldestAt ?? -Infinity;
    this.batches.push(...batches);
    for (const batch of batches) this.heldBytes += batch.bytes;
    if (batches.some(({ oldestAt }) => oldestAt < newest)) this.batches.sort((a, b) => a.oldestAt - b.oldestAt);
    this.trim(now);
  }

  /** Takes every batch out, oldest first, after dropping what is too old by now. */
  takeAll(now: number): Batch[] {
    this.trim(now);
    const all = this.batches;
    this.batches = [];
    this.heldBytes = 0;
    return all;
  }

  /** The samples dropped since the last call, once. */
  takeUnsaid(): number {
    const unsaid = this.droppedSamples - this.said;
    this.said = this.droppedSamples;
    return unsaid;
  }

  /** Counts a batch as dropped that will never be delivered (the store refused it outright). */
  drop(batch: Batch): void {
    this.droppedSamples += batch.samples;
  }

  private trim(now: number): void {
    while (
      this.batches.length > 0 &&
      (this.heldBytes > this.bounds.maxBytes || this.batches[0]!.oldestAt <= now - this.bounds.maxAgeMs)
    ) {
      const oldest = this.batches.shift()!;
      this.heldBytes -= oldest.bytes;
      this.droppedSamples += oldest.samples;
      this.lost(oldest);
    }
  }
}
