/**
 * One sending of import batches, one request at a time, and what became of them. A batch the store
 * refuses (4xx) is passed over for good, since it would be refused again; a failure that may pass
 * (the store away, 5xx, 408 or 429) stops the sending, and every batch after it is unsent.
 */
import { HttpStatus, messageOf } from '../errors.js';
import type { Batch } from './backlog.js';

/** 4xx that mean "not now": Request Timeout, Too Many Requests. */
const later = new Set([408, 429]);

export class ImportSending {
  /** Refused for good. */
  readonly refused: Batch[] = [];
  /** Refused, with no reading left to tell (kept before): a loss the sink says on another reading. */
  readonly unheard: Batch[] = [];
  /** Left to send later: the failure that stopped the sending, and every batch after it. */
  readonly unsent: Batch[] = [];
  /** How long the store asked to be left alone (Retry-After), if it did. */
  retryAfterMs: number | undefined;
  stoppedBy: string | undefined;
  private readonly refusals = new Map<string, number>();
  private requests = 0;

  /** `sent` hears of each batch delivered, as it is answered. */
  constructor(
    private readonly post: (text: string) => Promise<void>,
    private readonly sent: (batch: Batch) => void,
  ) {}

  /** Each refusal, and the failure that stopped the sending, in words. */
  get failures(): string[] {
    const refusals = [...this.refusals].map(
      ([reason, times]) => `refused ${times} of ${this.requests} import requests ${reason}`,
    );
    return this.stoppedBy === undefined ? refusals : [...refusals, this.stoppedBy];
  }

  /** Sends `batches` after those before (the caller awaits each send). */
  async send(batches: readonly Batch[]): Promise<void> {
    this.requests += batches.length;
    for (const [index, each] of batches.entries()) {
      if (this.stoppedBy !== undefined) {
        this.unsent.push(...batches.slice(index));
        return;
      }
      try {
        await this.post(each.text);
        this.sent(each);
      } catch (error) {
        const status = error instanceof HttpStatus ? error.status : 0;
        if (error instanceof HttpStatus && status >= 400 && status < 500 && !later.has(status)) {
          this.refused.push(each);
          if (each.told.length === 0) this.unheard.push(each);
          const reason = `with HTTP ${status}: ${error.reason}`;
          this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
          continue;
        }
        this.retryAfterMs = error instanceof HttpStatus ? error.retryAfterMs : undefined;
        this.stoppedBy =
          messageOf(error) + (this.retryAfterMs ? `, asking to wait ${Math.ceil(this.retryAfterMs / 1000)} s` : '');
        this.unsent.push(each);
      }
    }
  }
}
