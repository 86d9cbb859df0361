import { Injectable } from '@nestjs/common';
import type { FollowedChunk } from './output-follower.js';
import type { OutputSnapshot, OutputStream } from './run-output.repository.js';

/** A running run's output as this node holds it (an OutputCapture). */
export interface LiveOutput {
  /** Everything kept now, in seq order; `open` marks chunks that may still change. */
  chunks(): FollowedChunk[];
  /** Bytes dropped between head and tail so far. */
  readonly droppedBytes: number;
}

/**
 * The output of the runs this node is running, read from memory. The database gets the moving tail
 * only every TAIL_FLUSH_MS, so readers on the running node look here first and see output as soon
 * as the child writes it; other nodes read the database.
 */
@Injectable()
export class LiveOutputs {
  private readonly byRun = new Map<string, LiveOutput>();

  /** Serves `output` as run `runId`'s until the returned function is called (after its last flush). */
  add(runId: string, output: LiveOutput): () => void {
    this.byRun.set(runId, output);
    return () => {
      if (this.byRun.get(runId) === output) this.byRun.delete(runId);
    };
  }

  /** The run's chunks from `seq` on, or null when this node is not running it. */
  from(runId: string, seq: number): FollowedChunk[] | null {
    return this.byRun.get(runId)?.chunks().filter((chunk) => chunk.seq >= seq) ?? null;
  }

  /** What the run has kept so far, optionally one stream, and how much was dropped; null when this node is not running it. */
  snapshot(runId: string, stream?: OutputStream): { snapshot: OutputSnapshot; droppedBytes: number } | null {
    const output = this.byRun.get(runId);
    if (!output) return null;
    const chunks = output.chunks().filter((chunk) => stream === undefined || chunk.stream === stream);
    return {
      snapshot: { head: chunks.filter((chunk) => chunk.part === 'head'), tail: chunks.filter((chunk) => chunk.part === 'tail') },
      droppedBytes: output.droppedBytes,
    };
  }

  /** The run's latest `count` stdout chunks, newest first (as RunHistoryRepository.latestStdout); null when not running here. */
  latestStdout(runId: string, count: number): Buffer[] | null {
    const output = this.byRun.get(runId);
    if (!output) return null;
    return output.chunks().filter((chunk) => chunk.stream === 'stdout').slice(-count).reverse().map((chunk) => chunk.data);
  }
}
