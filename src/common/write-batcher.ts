/**
 * Gathers writes into batches without waiting on a timer: the first items go out at once (those
 * pushed by one synchronous run of code together), and whatever arrives while a batch is being
 * written goes out together in the next one. Under load a thousand runs finishing on one node
 * cost a few statements instead of a thousand; alone, an item costs no added latency. A batch that
 * fails is written again item by item, so one bad item fails alone.
 */
export class WriteBatcher<T, R> {
  private queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private writing = false;

  /**
   * @param write writes a batch and returns one result per item, in order.
   * @param maxBatch items per write at most (statement parameter limits, lock time).
   */
  constructor(private readonly write: (items: T[]) => Promise<R[]>, private readonly maxBatch = 500) {}

  /** Items queued and not yet in a write. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Queues the item; resolves with its result once written, or rejects with the error its write met. */
  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    // Items pushed by the same synchronous code (a claim's runs ending together) share the first write.
    await null;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.write(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => entry.resolve(results[i]));
      } catch (error) {
        if (batch.length === 1) batch[0].reject(error);
        // One bad item must not fail the others: write each on its own, so only it gets the error.
        else for (const entry of batch) await this.write([entry.item]).then(([result]) => entry.resolve(result), entry.reject);
      }
    }
    this.writing = false;
  }
}
