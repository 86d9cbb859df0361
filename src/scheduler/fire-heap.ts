/** One job's next firing: the job and the instant (epoch ms) it is due. */
export interface FireEntry {
  readonly jobId: string;
  readonly at: number;
}

/**
 * A binary min-heap of each job's next firing, ordered by `at` (ties by `jobId`, so the order is
 * deterministic). The scheduler arms one timer for `peek()` instead of one timer per job, so
 * 100,000 jobs cost 100,000 small objects, not 100,000 timers. Every job has at most one entry;
 * a Map from job id to heap index makes `upsert` and `remove` O(log n).
 */
export class FireHeap {
  private readonly entries: FireEntry[] = [];
  private readonly indexOf = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  has(jobId: string): boolean {
    return this.indexOf.has(jobId);
  }

  /** The instant the job is due, or undefined when it has no entry. */
  atOf(jobId: string): number | undefined {
    const index = this.indexOf.get(jobId);
    return index === undefined ? undefined : this.entries[index].at;
  }

  /** Sets the job's next firing, replacing the entry it had. */
  upsert(jobId: string, at: number): void {
    if (!Number.isFinite(at)) throw new RangeError(`FireHeap: "at" must be a finite number, got ${at} for job ${jobId}`);
    const index = this.indexOf.get(jobId);
    if (index === undefined) {
      this.entries.push({ jobId, at });
      this.indexOf.set(jobId, this.entries.length - 1);
      this.siftUp(this.entries.length - 1);
      return;
    }
    this.entries[index] = { jobId, at };
    this.restore(index);
  }

  /** Drops the job's entry; returns whether it had one. */
  remove(jobId: string): boolean {
    const index = this.indexOf.get(jobId);
    if (index === undefined) return false;
    this.removeAt(index);
    return true;
  }

  /** The earliest entry, without removing it. */
  peek(): FireEntry | undefined {
    return this.entries[0];
  }

  /** Removes and returns the earliest entry. */
  pop(): FireEntry | undefined {
    const top = this.entries[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  private removeAt(index: number): void {
    const removed = this.entries[index];
    const last = this.entries.pop() as FireEntry;
    this.indexOf.delete(removed.jobId);
    if (index === this.entries.length) return;
    this.entries[index] = last;
    this.indexOf.set(last.jobId, index);
    this.restore(index);
  }

  /** Moves the entry at `index` up or down until the heap order holds again. */
  private restore(index: number): void {
    if (index > 0 && this.less(index, (index - 1) >> 1)) this.siftUp(index);
    else this.siftDown(index);
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.less(child, parent)) return;
      this.swap(child, parent);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const count = this.entries.length;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < count && this.less(left, smallest)) smallest = left;
      if (right < count && this.less(right, smallest)) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a];
    const y = this.entries[b];
    return x.at < y.at || (x.at === y.at && x.jobId < y.jobId);
  }

  private swap(a: number, b: number): void {
    const x = this.entries[a];
    const y = this.entries[b];
    this.entries[a] = y;
    this.entries[b] = x;
    this.indexOf.set(y.jobId, a);
    this.indexOf.set(x.jobId, b);
  }
}
