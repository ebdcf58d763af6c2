/**
 * The outbox's import text cut into requests: the readings' texts in the order they came, joined
 * into batches of at most `maxBytes` each (a stick's text is never split), so that the readings
 * handed over together go in as few requests as the cap allows, a failing one fails small, and a
 * full one can go at once.
 */
import type { SinkFailure } from '../errors.js';
import type { Batch } from './backlog.js';

export class ImportBatches {
  private parts: string[] = [];
  private bytes = 0;
  private samples = 0;
  private oldestAt = Infinity;
  private told: ((failure?: SinkFailure) => void)[] = [];
  private full: Batch[] = [];

  constructor(private readonly maxBytes: number) {}

  /** One stick's text: `lines` samples read at `readAt` (Unix ms); `tell` hears what became of them. */
  add(text: string, lines: number, readAt: number, tell: (failure?: SinkFailure) => void): void {
    const bytes = Buffer.byteLength(text);
    if (this.bytes + bytes > this.maxBytes) this.close();
    this.parts.push(text);
    this.bytes += bytes;
    this.samples += lines;
    this.oldestAt = Math.min(this.oldestAt, readAt);
    this.told.push(tell);
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

  /** Every batch not taken yet, in order, the last one closed. */
  end(): Batch[] {
    this.close();
    return this.takeFull();
  }

  private close(): void {
    if (this.parts.length === 0) return;
    const { bytes, samples, oldestAt, told } = this;
    this.full.push({ text: this.parts.join(''), bytes, samples, oldestAt, told });
    this.parts = [];
    this.told = [];
    this.bytes = 0;
    this.samples = 0;
    this.oldestAt = Infinity;
  }
}
