import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './run-output.repository.js';

/** A stored chunk as the follower reads it; `part` tells an immutable head chunk from a tail chunk that may grow. */
export interface FollowedChunk {
  seq: number;
  stream: OutputStream;
  part: 'head' | 'tail';
  data: Buffer;
  /** Read from memory on the running node: a head chunk not stored yet may still grow, like a tail chunk. */
  open?: boolean;
}

export type FollowedPiece = { kind: 'output'; stream: OutputStream; text: string } | { kind: 'dropped' };

/**
 * Turns successive reads of a run's stored output into what a live viewer has not seen yet.
 * Chunk seqs are consecutive in written order. Head chunks never change once stored; the tail's
 * last chunk may grow between reads and its oldest chunks fall out when output exceeds the cap,
 * which shows as a missing seq (reported once as `dropped`). Text is decoded per stream, so a
 * character split across chunks comes out whole.
 */
export class OutputFollower {
  /** The last chunk passed on (0: none yet), how many of its bytes, and whether it may still grow. */
  private lastSeq = 0;
  private lastSent = 0;
  private lastMayGrow = false;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  /** Read chunks with seq ≥ this next time: the last one again if it may still grow. */
  get cursor(): number {
    return this.lastMayGrow ? this.lastSeq : this.lastSeq + 1;
  }

  /** The new pieces in these chunks (read with seq ≥ `cursor`, ordered by seq). */
  take(chunks: FollowedChunk[]): FollowedPiece[] {
    const pieces: FollowedPiece[] = [];
    const dropped = () => {
      if (pieces[pieces.length - 1]?.kind !== 'dropped') pieces.push({ kind: 'dropped' });
    };
    const fresh = chunks.filter((chunk) => chunk.seq >= this.cursor);
    // The growing tail chunk passed on last time is gone: the tail moved past it, maybe past some of its growth.
    if (this.lastMayGrow && fresh.length > 0 && fresh[0].seq !== this.lastSeq) dropped();
    for (const chunk of fresh) {
      let data = chunk.data;
      if (chunk.seq === this.lastSeq) {
        // A shorter chunk lost bytes at its front: what was cut cannot be told from what is new.
        if (data.length < this.lastSent) dropped();
        data = data.length < this.lastSent ? Buffer.alloc(0) : data.subarray(this.lastSent);
      } else if (chunk.seq > this.lastSeq + 1) {
        dropped();
      }
      const text = this.decoders[chunk.stream].write(data);
      if (text) pieces.push({ kind: 'output', stream: chunk.stream, text });
      this.lastSeq = chunk.seq;
      this.lastSent = chunk.data.length;
      this.lastMayGrow = chunk.part === 'tail' || chunk.open === true;
    }
    return pieces;
  }

  /** What is left in the decoders once the run has ended (an incomplete last character). */
  finish(): FollowedPiece[] {
    return (['stdout', 'stderr'] as const)
      .map((stream) => ({ kind: 'output' as const, stream, text: this.decoders[stream].end() }))
      .filter((piece) => piece.text !== '');
  }
}
