/**
 * A run's import text cut into requests: the sticks' texts in the order they came, joined into
 * batches of at most `maxBytes` each (a stick's text is never split), so that a run sends as few
 * requests as the cap allows, a failing one fails small, and a full one can go before the run ends.
 */
import type { Batch } from './backlog.js';

export class ImportBatches {
  private parts: string[] = [];
  private bytes = 0;
  private samples = 0;
  private oldestAt = Infinity;
  private full: Batch[] = [];

  constructor(private readonly maxBytes: number) {}

  /** One stick's text: `lines` samples read at `readAt` (Unix ms). */
  add(text: string, lines: number, readAt: number): void {
    const bytes = Buffer.byteLength(text);
    if (this.bytes + bytes > this.maxBytes) this.close();
    this.parts.push(text);
    this.bytes += bytes;
    this.samples += lines;
    this.oldestAt = Math.min(this.oldestAt, readAt);
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

  /** Every batch of the run so far, in order, the last one closed; none are kept. */
  takeAll(): Batch[] {
    this.close();
    return this.takeFull();
  }

  private close(): void {
    if (this.parts.length === 0) return;
    this.full.push({ text: this.parts.join(''), bytes: this.bytes, samples: this.samples, oldestAt: this.oldestAt });
    this.parts = [];
    this.bytes = 0;
    this.samples = 0;
    this.oldestAt = Infinity;
  }
}
