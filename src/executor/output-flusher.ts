import type { Clock } from '../common/clock.js';
import type { OutputDelta, RunOutputRepository } from '../runs/run-output.repository.js';
import type { OutputCapture } from './output-capture.js';

/** How often a running run's new output is written: head chunks, each once, as the head fills. */
export const OUTPUT_FLUSH_MS = 250;
/**
 * The moving tail is rewritten at most this often, and always at the end. Each rewrite replaces up
 * to maxOutputBytes / 2, so rewriting it on every flush cost more than the child's own writing
 * (docs/performance.md, cause 3). Readers on the running node see the tail live from memory.
 */
export const TAIL_FLUSH_MS = 2_000;

/**
 * Moves captured output to the database, one flush at a time. A flush that fails (database away)
 * keeps what it took, so the next one writes it: nothing is lost while the capture is bounded.
 */
export class OutputFlusher {
  private pending: OutputDelta = { head: [], tail: null };
  private chain: Promise<void> = Promise.resolve();
  /** When a tail was last taken to be written; the run's start counts as one, so short runs write it once. */
  private lastTailAt: number;

  constructor(
    private readonly runId: string,
    private readonly capture: OutputCapture,
    private readonly output: RunOutputRepository,
    private readonly clock: Clock,
    private readonly tailEveryMs = TAIL_FLUSH_MS,
  ) {
    this.lastTailAt = clock.now();
  }

  /**
   * Writes the new head chunks, and the tail if it changed and `tailEveryMs` passed since it was
   * last written. The final flush always writes the tail, and rejects when the write fails.
   */
  flush(final = false): Promise<void> {
    const next = this.chain.then(() => this.write(final));
    this.chain = next.catch(() => undefined);
    return final ? next : this.chain;
  }

  private async write(final: boolean): Promise<void> {
    const now = this.clock.now();
    const delta = this.capture.drain({ tail: final || now - this.lastTailAt >= this.tailEveryMs });
    this.pending.head.push(...delta.head);
    if (delta.tail !== null) {
      this.pending.tail = delta.tail;
      this.lastTailAt = now;
    }
    if (this.pending.head.length === 0 && this.pending.tail === null) return;
    await this.output.write(this.runId, this.pending);
    this.pending = { head: [], tail: null };
  }
}
