export type OutputStream = 'stdout' | 'stderr';

/** A stored piece of output. `seq` orders chunks across streams, head and tail: ORDER BY seq is the written order. */
export interface OutputChunk {
  seq: number;
  stream: OutputStream;
  data: Buffer;
}

/** What changed since the previous `drain()`. */
export interface OutputDrain {
  /** Head chunks not drained before: append them (they never change again). */
  head: OutputChunk[];
  /** The whole current tail when it changed since the last drain (replace the stored tail), else null. */
  tail: OutputChunk[] | null;
  droppedBytes: number;
  totalBytes: number;
}

/** Told of each write; `data` may be a reused read buffer, valid only during the call (copy what you keep). */
export type OutputListener = (stream: OutputStream, data: Buffer) => void;

/** A chunk as held in memory: `part`, and `open` while it may still change (the tail, a head chunk not yet drained). */
export interface CapturedChunk extends OutputChunk {
  part: 'head' | 'tail';
  open: boolean;
}

/** Small adjacent writes to one stream are merged up to this size to keep row counts low. */
export const MAX_CHUNK_BYTES = 64 * 1024;
/**
 * A write at least this big (a pipe's read) becomes a chunk of its own rather than growing the last
 * one by a copy; dropped buffers at least this big are reused for new chunks.
 */
export const BIG_WRITE_BYTES = 16 * 1024;
/** Dropped tail buffers kept for reuse: a write trims at most a few segments at once. */
const MAX_SPARES = 4;

/**
 * Bytes of one chunk in a buffer we own. Bytes in [start, end) never change once written, so views
 * handed out stay valid while later writes append past `end` or grow into a new buffer.
 */
class Segment {
  private buf: Buffer;
  private start = 0;
  private end = 0;
  /** Whether anyone but us may hold its buffer: views of it were handed out. */
  private shared = false;

  /** Over `spare` when given (the buffer of a dropped segment, see `release`), else a new buffer of `capacity`. */
  constructor(
    readonly seq: number,
    readonly stream: OutputStream,
    capacity: number,
    spare?: Buffer,
  ) {
    this.buf = spare ?? Buffer.allocUnsafe(capacity);
  }

  /** A segment holding a copy of `data`, in `spare` when given. */
  static copyOf(seq: number, stream: OutputStream, data: Buffer, spare?: Buffer): Segment {
    const segment = new Segment(seq, stream, data.length, spare);
    segment.append(data);
    return segment;
  }

  get length(): number {
    return this.end - this.start;
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Copies as much of `data` as fits under MAX_CHUNK_BYTES; returns how many bytes it took. */
  append(data: Buffer): number {
    const take = Math.min(data.length, MAX_CHUNK_BYTES - this.length);
    if (this.end + take > this.buf.length) {
      // Doubling keeps merging many small writes linear; a fresh buffer leaves handed-out views intact.
      const grown = Buffer.allocUnsafe(Math.min(MAX_CHUNK_BYTES, Math.max(this.length + take, this.buf.length * 2)));
      this.buf.copy(grown, 0, this.start, this.end);
      this.buf = grown;
      this.end = this.length;
      this.start = 0;
    }
    data.copy(this.buf, this.end, 0, take);
    this.end += take;
    return take;
  }

  dropFront(bytes: number): void {
    this.start += bytes;
  }

  toChunk(): OutputChunk {
    this.shared = true;
    return { seq: this.seq, stream: this.stream, data: this.buf.subarray(this.start, this.end) };
  }

  /** Its buffer, for a new segment to write into, once this one is dropped: only a big one that no one else may hold. */
  release(): Buffer | null {
    return this.shared || this.buf.length < BIG_WRITE_BYTES ? null : this.buf;
  }
}

/**
 * Keeps a run's output under `maxBytes`: the first half of the budget holds the head (the first
 * bytes, kept for good), the other half a ring of the latest bytes; what falls out of the ring is
 * only counted. Memory stays O(maxBytes) however much the child writes.
 */
export class OutputCapture {
  private readonly headBudget: number;
  private readonly tailBudget: number;
  private readonly head: Segment[] = [];
  private readonly tail: Segment[] = [];
  private readonly listeners = new Set<OutputListener>();
  private headBytes = 0;
  private tailBytes = 0;
  private dropped = 0;
  private total = 0;
  private nextSeq = 1;
  private headDrained = 0;
  private tailChanged = false;
  /**
   * Big buffers of tail segments dropped unseen, written into by the next new segments: a flood
   * past the cap then runs through the same few buffers instead of allocating one per read.
   */
  private readonly spares: Buffer[] = [];

  constructor(readonly maxBytes: number) {
    const cap = Math.max(0, Math.floor(maxBytes));
    this.headBudget = Math.floor(cap / 2);
    this.tailBudget = cap - this.headBudget;
  }

  get totalBytes(): number {
    return this.total;
  }

  get droppedBytes(): number {
    return this.dropped;
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  get storedBytes(): number {
    return this.headBytes + this.tailBytes;
  }

  /** Bytes of buffers held, spare capacity included: stays within about 2 × maxBytes + 64 KiB. */
  get retainedBytes(): number {
    const spareBytes = this.spares.reduce((sum, spare) => sum + spare.length, 0);
    return [...this.head, ...this.tail].reduce((sum, segment) => sum + segment.capacity, spareBytes);
  }

  /** Tells `listener` of every write as it happens (for live viewers); returns the unsubscribe function. A listener that throws is removed. */
  onData(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records `data` written by the child on `stream`, copying the bytes it keeps: the caller may reuse `data` once this returns. */
  write(stream: OutputStream, data: Buffer): void {
    if (data.length === 0) return;
    this.total += data.length;
    const headTake = Math.min(data.length, this.headBudget - this.headBytes);
    if (headTake > 0) {
      this.appendTo(this.head, this.headDrained, stream, data.subarray(0, headTake));
      this.headBytes += headTake;
    }
    if (headTake < data.length) this.writeTail(stream, data.subarray(headTake));
    for (const listener of this.listeners) {
      try {
        listener(stream, data);
      } catch {
        // A broken live viewer must not break the run that feeds it: it just stops being told.
        this.listeners.delete(listener);
      }
    }
  }

  /**
   * Hands over what a persister has not seen yet; see OutputDrain. With `tail: false` a changed
   * tail is held back (null) and handed over by a later drain.
   */
  drain(options: { tail?: boolean } = {}): OutputDrain {
    const head = this.head.slice(this.headDrained).map((segment) => segment.toChunk());
    this.headDrained = this.head.length;
    const takeTail = this.tailChanged && options.tail !== false;
    const tail = takeTail ? this.tail.map((segment) => segment.toChunk()) : null;
    if (takeTail) this.tailChanged = false;
    return { head, tail, droppedBytes: this.dropped, totalBytes: this.total };
  }

  /** Everything stored now, head then tail, in seq order (what a live viewer on this node reads). */
  chunks(): CapturedChunk[] {
    return [
      ...this.head.map((segment, i) => ({ ...segment.toChunk(), part: 'head' as const, open: i >= this.headDrained })),
      ...this.tail.map((segment) => ({ ...segment.toChunk(), part: 'tail' as const, open: true })),
    ];
  }

  private writeTail(stream: OutputStream, data: Buffer): void {
    this.tailChanged = true;
    // Bytes that would be pushed out again at once are only counted, never copied.
    const skip = Math.max(0, data.length - this.tailBudget);
    this.dropped += skip;
    const kept = data.subarray(skip);
    this.appendTo(this.tail, 0, stream, kept, true);
    this.tailBytes += kept.length;
    this.trimTail();
  }

  private trimTail(): void {
    while (this.tailBytes > this.tailBudget) {
      const first = this.tail[0];
      const cut = Math.min(first.length, this.tailBytes - this.tailBudget);
      first.dropFront(cut);
      this.tailBytes -= cut;
      this.dropped += cut;
      if (first.length === 0) this.keepSpare(this.tail.shift()!.release());
    }
  }

  /**
   * Appends to `segments`, merging into the last one when it is open (index ≥ firstOpen) and of the
   * same stream; a big write in the head is a segment of its own. With `fullSize` (the tail, which
   * only a lot of output reaches) a write fills the last segment and new ones are MAX_CHUNK_BYTES
   * from the start: merging never grows them, every dropped segment frees the buffer the next one
   * needs, and a flood of reads of any size cycles through the same few buffers.
   */
  private appendTo(segments: Segment[], firstOpen: number, stream: OutputStream, data: Buffer, fullSize = false): void {
    if (!fullSize && data.length >= BIG_WRITE_BYTES && data.length <= MAX_CHUNK_BYTES) {
      // A big write (a pipe's read) is a chunk of its own: merged into the last one, it would grow that by a copy.
      return void segments.push(Segment.copyOf(this.nextSeq++, stream, data, this.takeSpare(data.length)));
    }
    let rest = data;
    while (rest.length > 0) {
      let last = segments.length > firstOpen ? segments[segments.length - 1] : undefined;
      if (!last || last.stream !== stream || last.length >= MAX_CHUNK_BYTES) {
        const capacity = fullSize ? MAX_CHUNK_BYTES : Math.min(rest.length, MAX_CHUNK_BYTES);
        last = new Segment(this.nextSeq++, stream, capacity, this.takeSpare(capacity));
        segments.push(last);
      }
      rest = rest.subarray(last.append(rest));
    }
  }

  /** A spare buffer of at least `bytes`, taken out of the spares, or undefined. */
  private takeSpare(bytes: number): Buffer | undefined {
    const i = this.spares.findIndex((spare) => spare.length >= bytes);
    return i < 0 ? undefined : this.spares.splice(i, 1)[0];
  }

  /** Keeps `buffer` as a spare; when there are enough, in place of the smallest if it is bigger. */
  private keepSpare(buffer: Buffer | null): void {
    if (!buffer) return;
    if (this.spares.length < MAX_SPARES) {
      this.spares.push(buffer);
      return;
    }
    const smallest = this.spares.reduce((min, spare, i) => (spare.length < this.spares[min].length ? i : min), 0);
    if (this.spares[smallest].length < buffer.length) this.spares[smallest] = buffer;
  }
}
