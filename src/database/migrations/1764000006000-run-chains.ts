import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A finished run queues each chained job once, whichever node records it. */
export class RunChains1764000006000 implements MigrationInterface {
  name = 'RunChains1764000006000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE UNIQUE INDEX cw_runs_chain_key ON cw_runs (parent_run_id, job_id) WHERE trigger = 'chain'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX cw_runs_chain_key');
  }
}
