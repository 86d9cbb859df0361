import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

export type OutputStream = 'stdout' | 'stderr';

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
  constructor(private readonly db: Database) {}

  /**
   * Stores a delta in one transaction, so a reader sees either the old tail or the new one, never
   * half of it, and never a half-written chunk.
   */
  async write(runId: string, delta: OutputDelta): Promise<void> {
    if (delta.head.length === 0 && delta.tail === null) return;
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

  private async insert(runId: string, part: 'head' | 'tail', chunks: StoredChunk[], runner: Parameters<Database['rows']>[2]) {
    if (chunks.length === 0) return;
    await this.db.rows(
      `INSERT INTO cw_run_output (run_id, seq, stream, part, data)
       SELECT $1, c.seq, c.stream, $2, c.data
       FROM unnest($3::integer[], $4::text[], $5::bytea[]) AS c(seq, stream, data)`,
      [runId, part, chunks.map((c) => c.seq), chunks.map((c) => c.stream), chunks.map((c) => c.data)],
      runner,
    );
  }
}
