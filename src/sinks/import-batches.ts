/**
 * The outbox's import text cut into requests: the readings' texts in the order they came, joined
 * into batches of at most `maxBytes` (a stick's text is never split): few requests, each failing small.
 */
import type { Batch } from './backlog.js';

const empty = () => ({ parts: [] as string[], bytes: 0, samples: 0, oldestAt: Infinity, told: [] as Batch['told'] });

export class ImportBatches {
  private filling = empty();
  private full: Batch[] = [];

  constructor(private readonly maxBytes: number) {}

  /** One stick's text: `lines` samples read at `readAt` (Unix ms); `tell` hears what became of them. */
  add(text: string, lines: number, readAt: number, tell: Batch['told'][number]): void {
    const bytes = Buffer.byteLength(text);
    if (this.filling.bytes + bytes > this.maxBytes) this.close();
    const { filling } = this;
    filling.parts.push(text);
    filling.told.push(tell);
    filling.bytes += bytes;
    filling.samples += lines;
    filling.oldestAt = Math.min(filling.oldestAt, readAt);
  }

  /** The batches that are full, in order; the one being filled stays. */
  takeFull(): Batch[] {
    return this.full.splice(0);
  }

  /** Every batch not taken yet, in order, the last one closed. */
  end(): Batch[] {
    this.close();
    return this.takeFull();
  }

  private close(): void {
    const { parts, ...batch } = this.filling;
    if (parts.length > 0) this.full.push({ ...batch, text: parts.join('') });
    this.filling = empty();
  }
}
