import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { ConcurrencyLimit } from '../common/concurrency-limit.js';
import { Database } from '../database/database.js';

export type OutputStream = 'stdout' | 'stderr';

/** Rows per INSERT: three parameters each (seq, stream, data) plus two shared, under the protocol's 65,535. */
export const ROWS_PER_INSERT = Math.floor((65_535 - 2) / 3);

export interface StoredChunk {
  seq: number;
  stream: OutputStream;
  data: Buffer;
}

export interface OutputSnapshot {
  head: StoredChunk[];
  tail: StoredChunk[];
}

/** What a capture hands over to be stored: new head chunks, and the whole tail when it changed. */
export interface OutputDelta {
  head: StoredChunk[];
  tail: StoredChunk[] | null;
}

/** SQL for `cw_run_output`: a run's output as ordered chunks, a head kept whole and a tail replaced as it moves. */
@Injectable()
export class RunOutputRepository {
  /**
   * Output writes in flight at once, at most half the pool: many runs flushing together must leave
   * connections to the API and the scheduler. On the embedded database's one connection, another
   * statement waits behind one write at most, not behind every running run's (a pool timeout).
   */
  private readonly writes: ConcurrencyLimit;

  constructor(private readonly db: Database) {
    this.writes = new ConcurrencyLimit(Math.max(1, Math.floor(db.poolSize / 2)));
  }

  /**
   * Stores a delta atomically, so a reader sees either the old tail or the new one, never half of
   * it, and never a half-written chunk. New head chunks alone that fit one statement need no
   * transaction (on the embedded database every BEGIN holds up all other work).
   */
  async write(runId: string, delta: OutputDelta): Promise<void> {
    if (delta.head.length === 0 && delta.tail === null) return;
    await this.writes.run(() => this.store(runId, delta));
  }

  private async store(runId: string, delta: OutputDelta): Promise<void> {
    if (delta.tail === null && delta.head.length <= ROWS_PER_INSERT) {
      await this.insert(runId, 'head', delta.head);
      return;
    }
    await this.db.transaction(async (runner) => {
      await this.insert(runId, 'head', delta.head, runner);
      if (delta.tail !== null) {
        await this.db.rows(`DELETE FROM cw_run_output WHERE run_id = $1 AND part = 'tail'`, [runId], runner);
        await this.insert(runId, 'tail', delta.tail, runner);
      }
    });
  }

  /** The stored output in written order, optionally one stream only. */
  async read(runId: string, stream?: OutputStream): Promise<OutputSnapshot> {
    const rows = await this.db.rows<StoredChunk & { part: 'head' | 'tail' }>(
      `SELECT seq, stream, part, data FROM cw_run_output
       WHERE run_id = $1 AND ($2::text IS NULL OR stream = $2) ORDER BY seq`,
      [runId, stream ?? null],
    );
    return {
      head: rows.filter((row) => row.part === 'head'),
      tail: rows.filter((row) => row.part === 'tail'),
    };
  }

  /**
   * Inserts chunks with one Buffer parameter each: node-postgres sends a Buffer in binary, but an
   * array of Buffers (`$n::bytea[]`) as hex text, twice the bytes plus a copy (docs/performance.md,
   * cause 3). Statements hold at most ROWS_PER_INSERT rows, under the protocol's parameter limit.
   */
  private async insert(runId: string, part: 'head' | 'tail', chunks: StoredChunk[], runner?: QueryRunner): Promise<void> {
    for (let from = 0; from < chunks.length; from += ROWS_PER_INSERT) {
      const batch = chunks.slice(from, from + ROWS_PER_INSERT);
      const params: unknown[] = [runId, part];
      const rows = batch.map((chunk) => {
        params.push(chunk.seq, chunk.stream, chunk.data);
        const n = params.length;
        return `($1, $${n - 2}, $${n - 1}, $2, $${n})`;
      });
      await this.db.rows(`INSERT INTO cw_run_output (run_id, seq, stream, part, data) VALUES ${rows.join(', ')}`, params, runner);
    }
  }
}
