import fc from 'fast-check';
import { BIG_WRITE_BYTES, MAX_CHUNK_BYTES, OutputCapture, type OutputChunk, type OutputStream } from './output-capture.js';

const text = (chunks: OutputChunk[]): string => Buffer.concat(chunks.map((chunk) => chunk.data)).toString();

describe('OutputCapture', () => {
  it('keeps everything, in order, while the output fits under the cap', () => {
    const output = new OutputCapture(100);
    output.write('stdout', Buffer.from('one\n'));
    output.write('stderr', Buffer.from('two\n'));
    output.write('stdout', Buffer.from('three\n'));

    expect(text(output.chunks())).toBe('one\ntwo\nthree\n');
    expect(output.chunks().map((chunk) => chunk.stream)).toEqual(['stdout', 'stderr', 'stdout']);
    expect([output.totalBytes, output.storedBytes, output.droppedBytes, output.truncated]).toEqual([14, 14, 0, false]);
  });

  it('keeps the first and the last half of the cap and counts the middle as dropped', () => {
    const output = new OutputCapture(10);
    output.write('stdout', Buffer.from('abcdefghijklmnopqrstuvwxyz'));

    expect(text(output.chunks())).toBe('abcdevwxyz');
    expect([output.totalBytes, output.storedBytes, output.droppedBytes, output.truncated]).toEqual([26, 10, 16, true]);
  });

  it('cuts the oldest tail chunk at the front when newer bytes push it out', () => {
    const output = new OutputCapture(8);
    output.write('stdout', Buffer.from('HEAD'));
    output.write('stdout', Buffer.from('1234'));
    output.write('stderr', Buffer.from('ab'));

    const chunks = output.chunks();
    expect(chunks.map((chunk) => [chunk.stream, chunk.data.toString()])).toEqual([
      ['stdout', 'HEAD'],
      ['stdout', '34'],
      ['stderr', 'ab'],
    ]);
    expect(output.droppedBytes).toBe(2);
  });

  it('merges small writes to the same stream into one chunk of at most 64 KiB', () => {
    const output = new OutputCapture(1024 * 1024);
    for (let i = 0; i < 3000; i += 1) output.write('stdout', Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz\n'));

    const sizes = output.chunks().map((chunk) => chunk.data.length);
    expect(sizes).toEqual([MAX_CHUNK_BYTES, 3000 * 37 - MAX_CHUNK_BYTES]);
  });

  it('hands out each head chunk once and the tail only when it changed', () => {
    const output = new OutputCapture(8);
    output.write('stdout', Buffer.from('ab'));
    expect(output.drain()).toMatchObject({ head: [{ seq: 1, stream: 'stdout' }], tail: null, totalBytes: 2 });

    output.write('stdout', Buffer.from('cd'));
    const second = output.drain();
    expect(second.head.map((chunk) => [chunk.seq, chunk.data.toString()])).toEqual([[2, 'cd']]);
    expect(second.tail).toBeNull();

    output.write('stderr', Buffer.from('efghij'));
    const third = output.drain();
    expect(third.head).toEqual([]);
    expect(third.tail?.map((chunk) => [chunk.seq, chunk.stream, chunk.data.toString()])).toEqual([[3, 'stderr', 'ghij']]);
    expect(third.droppedBytes).toBe(2);
    expect(output.drain()).toEqual({ head: [], tail: null, droppedBytes: 2, totalBytes: 10 });
  });

  it('holds a changed tail back when the drain leaves it out, and hands it over with a later drain', () => {
    const output = new OutputCapture(4);
    output.write('stdout', Buffer.from('abcdef'));
    expect(output.drain({ tail: false })).toMatchObject({ head: [{ seq: 1 }], tail: null });
    expect(output.drain({ tail: false }).tail).toBeNull();
    expect(output.drain().tail?.map((chunk) => chunk.data.toString())).toEqual(['ef']);
    expect(output.drain().tail).toBeNull();
  });

  it("keeps a copy of a large buffer, in a chunk of its own, never the caller's buffer", () => {
    const output = new OutputCapture(1024 * 1024);
    output.write('stdout', Buffer.from('small\n'));
    const big = Buffer.alloc(BIG_WRITE_BYTES, 'b');
    output.write('stdout', big);
    big.fill('x');

    const chunks = output.chunks();
    expect(chunks.map((chunk) => chunk.data.length)).toEqual([6, BIG_WRITE_BYTES]);
    expect(chunks[1].data.buffer).not.toBe(big.buffer);
    expect(chunks[1].data.every((byte) => byte === 'b'.charCodeAt(0))).toBe(true);
  });

  it('copies a write that is small or only a view into a larger buffer', () => {
    const output = new OutputCapture(1024 * 1024);
    const shared = Buffer.alloc(2 * BIG_WRITE_BYTES, 's');
    output.write('stdout', shared.subarray(0, BIG_WRITE_BYTES));
    const small = Buffer.from('tiny');
    output.write('stdout', small);

    const [chunk] = output.chunks();
    expect(chunk.data.length).toBe(BIG_WRITE_BYTES + 4);
    expect(chunk.data.buffer).not.toBe(shared.buffer);
    shared.fill('x');
    expect(chunk.data.toString().startsWith('sss')).toBe(true);
  });

  it('marks which chunks may still change for a live viewer: the tail, and head chunks not drained yet', () => {
    const output = new OutputCapture(8);
    output.write('stdout', Buffer.from('ab'));
    output.drain();
    output.write('stderr', Buffer.from('cd'));
    output.write('stdout', Buffer.from('efg'));

    expect(output.chunks().map((chunk) => [chunk.data.toString(), chunk.part, chunk.open])).toEqual([
      ['ab', 'head', false],
      ['cd', 'head', true],
      ['efg', 'tail', true],
    ]);
  });

  it('tells live listeners of every write, also the bytes it drops, until they unsubscribe', () => {
    const output = new OutputCapture(4);
    const seen: string[] = [];
    const unsubscribe = output.onData((stream, data) => seen.push(`${stream}:${data.toString()}`));
    output.write('stdout', Buffer.from('hello world'));
    output.write('stderr', Buffer.from('oops'));
    unsubscribe();
    output.write('stdout', Buffer.from('unseen'));

    expect(seen).toEqual(['stdout:hello world', 'stderr:oops']);
  });

  it('drops a listener that throws and keeps capturing', () => {
    const output = new OutputCapture(100);
    let calls = 0;
    output.onData(() => {
      calls += 1;
      throw new Error('viewer went away');
    });
    output.write('stdout', Buffer.from('a'));
    output.write('stdout', Buffer.from('b'));

    expect(calls).toBe(1);
    expect(text(output.chunks())).toBe('ab');
  });

  it('stores nothing with a cap of zero but still counts every byte', () => {
    const output = new OutputCapture(0);
    output.write('stdout', Buffer.from('abc'));
    expect([output.storedBytes, output.droppedBytes, output.totalBytes, output.chunks()]).toEqual([0, 3, 3, []]);
  });

  it('holds memory bounded by the cap while 1 GiB flows through it', () => {
    const maxBytes = 1024 * 1024;
    const output = new OutputCapture(maxBytes);
    const block = Buffer.alloc(64 * 1024, 'y');
    let peak = 0;
    for (let written = 0; written < 1024 ** 3; written += block.length) {
      output.write(written % (1024 * 1024) === 0 ? 'stderr' : 'stdout', block);
      if (written % (16 * 1024 * 1024) === 0) peak = Math.max(peak, output.retainedBytes);
    }

    expect(output.totalBytes).toBe(1024 ** 3);
    expect(output.storedBytes).toBe(maxBytes);
    expect(output.droppedBytes).toBe(1024 ** 3 - maxBytes);
    expect(Math.max(peak, output.retainedBytes)).toBeLessThanOrEqual(2 * maxBytes + MAX_CHUNK_BYTES);
  });

  it('copies what it keeps, so the caller may reuse its buffer for the next read', () => {
    const output = new OutputCapture(4 * MAX_CHUNK_BYTES);
    const read = Buffer.alloc(MAX_CHUNK_BYTES);
    for (const fill of ['a', 'b', 'c', 'd', 'e', 'f']) output.write('stdout', read.fill(fill));
    read.fill('z');

    expect(output.chunks().map((chunk) => [chunk.data.length, chunk.data.toString('latin1', 0, 1), chunk.data.every((byte) => byte === chunk.data[0])])).toEqual(
      ['a', 'b', 'e', 'f'].map((fill) => [MAX_CHUNK_BYTES, fill, true]),
    );
  });

  it('copies a big write into a chunk of its own, as a pipe read comes, rather than growing the last chunk by it', () => {
    const output = new OutputCapture(1024 * 1024);
    const read = Buffer.alloc(MAX_CHUNK_BYTES, 'r');
    output.write('stdout', Buffer.from('small\n'));
    output.write('stdout', read.subarray(0, BIG_WRITE_BYTES));
    output.write('stdout', read.subarray(0, 4));

    expect(output.chunks().map((chunk) => chunk.data.length)).toEqual([6, BIG_WRITE_BYTES + 4]);
  });

  it('runs a flood past the cap through the buffers of tail chunks dropped unseen, allocating none per write', () => {
    const maxBytes = 1024 * 1024;
    const output = new OutputCapture(maxBytes);
    // Reads as a pipe hands them out: mostly full, some short, so chunks are merged and split.
    const sizes = [MAX_CHUNK_BYTES, 48 * 1024, 4 * 1024, MAX_CHUNK_BYTES];
    const read = Buffer.alloc(MAX_CHUNK_BYTES, 'y');
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0, written = 0; written < 1024 ** 3; i++) {
      const size = sizes[i % sizes.length];
      output.write('stdout', read.subarray(0, size));
      written += size;
      if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }

    expect(output.storedBytes).toBe(maxBytes);
    expect(peak).toBeLessThanOrEqual(2 * maxBytes + MAX_CHUNK_BYTES);
  });
});

interface Write {
  stream: OutputStream;
  data: Buffer;
  drainAfter: boolean;
}

const smallWrite = fc.record({
  stream: fc.constantFrom<OutputStream>('stdout', 'stderr'),
  data: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  drainAfter: fc.boolean(),
});

// Buffers big enough to be chunks of their own, as a pipe's reads are.
const bigWrite = fc.record({
  stream: fc.constantFrom<OutputStream>('stdout', 'stderr'),
  data: fc.tuple(fc.integer({ min: BIG_WRITE_BYTES - 10, max: MAX_CHUNK_BYTES + 10 }), fc.integer({ min: 0, max: 255 })).map(([size, fill]) => Buffer.alloc(size, fill)),
  drainAfter: fc.boolean(),
});

/** Writes `writes` to a capture of `maxBytes`, draining as told, and checks what it stores against what was written. */
function checkCapture(maxBytes: number, writes: Write[]): void {
  checkWrites(maxBytes, writes, false);
}

/** checkCapture with each write from one buffer overwritten afterwards, as a pipe's reads are. */
function checkCopiedCapture(maxBytes: number, writes: Write[]): void {
  checkWrites(maxBytes, writes, true);
}

function checkWrites(maxBytes: number, writes: Write[], reusedBuffer: boolean): void {
  const output = new OutputCapture(maxBytes);
  const drainedHead: OutputChunk[] = [];
  const snapshots: Array<{ chunk: OutputChunk; copy: Buffer }> = [];
  let tail: OutputChunk[] = [];
  const keep = (drain: ReturnType<OutputCapture['drain']>): void => {
    drainedHead.push(...drain.head);
    if (drain.tail) tail = drain.tail;
    for (const chunk of [...drain.head, ...(drain.tail ?? [])]) snapshots.push({ chunk, copy: Buffer.from(chunk.data) });
  };
  const read = Buffer.alloc(2 * MAX_CHUNK_BYTES);
  for (const write of writes) {
    if (reusedBuffer) {
      output.write(write.stream, read.subarray(0, write.data.copy(read)));
      read.fill(0xee);
    } else {
      output.write(write.stream, write.data);
    }
    if (write.drainAfter) keep(output.drain());
  }
  keep(output.drain());

  const all = Buffer.concat(writes.map((write) => write.data));
  const streamOf = writes.flatMap((write) => Array.from(write.data, () => write.stream));
  const head = Buffer.concat(drainedHead.map((chunk) => chunk.data));
  const tailBytes = Buffer.concat(tail.map((chunk) => chunk.data));

  expect(output.totalBytes).toBe(all.length);
  expect(head.length + tailBytes.length).toBe(output.storedBytes);
  expect(output.storedBytes).toBeLessThanOrEqual(maxBytes);
  expect(head.length + output.droppedBytes + tailBytes.length).toBe(all.length);
  expect(head.equals(all.subarray(0, head.length))).toBe(true);
  expect(tailBytes.equals(all.subarray(all.length - tailBytes.length))).toBe(true);
  expect(output.truncated).toBe(output.droppedBytes > 0);
  if (!output.truncated) expect(head.length).toBe(Math.min(all.length, Math.floor(maxBytes / 2)));

  // Each chunk's bytes came from its stream, and seq order is written order.
  const stored = [...drainedHead, ...tail];
  const seqs = stored.map((chunk) => chunk.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  let offset = 0;
  for (const chunk of drainedHead) {
    expect(streamOf.slice(offset, offset + chunk.data.length).every((s) => s === chunk.stream)).toBe(true);
    offset += chunk.data.length;
  }
  offset = all.length - tailBytes.length;
  for (const chunk of tail) {
    expect(streamOf.slice(offset, offset + chunk.data.length).every((s) => s === chunk.stream)).toBe(true);
    offset += chunk.data.length;
  }
  expect(Buffer.concat(output.chunks().map((chunk) => chunk.data)).equals(Buffer.concat([head, tailBytes]))).toBe(true);
  // Views handed out earlier never change under later writes.
  expect(snapshots.every(({ chunk, copy }) => chunk.data.equals(copy))).toBe(true);
}

describe('OutputCapture under random writes', () => {
  it('stores a prefix and a suffix of the output that add up with the dropped bytes to the total', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 600 }), fc.array(smallWrite, { maxLength: 60 }), checkCapture), { numRuns: 300 });
  });

  it('does the same with large writes among small ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 * MAX_CHUNK_BYTES }), fc.array(fc.oneof(smallWrite, bigWrite), { maxLength: 24 }), checkCapture),
      { numRuns: 100 },
    );
  });

  it('does the same from one reused buffer, the buffers of dropped chunks written again', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 * MAX_CHUNK_BYTES }), fc.array(fc.oneof(smallWrite, bigWrite), { maxLength: 24 }), checkCopiedCapture),
      { numRuns: 100 },
    );
  });
});
