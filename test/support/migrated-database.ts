import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations, type DatabaseTarget } from '../../src/database/data-source.js';
import { Database } from '../../src/database/database.js';
import { createTestDatabase, type TestDatabaseKind } from './databases.js';

/** A fresh test database with the migrations applied, behind the daemon's own `Database`. */
export interface MigratedDatabase {
  database: Database;
  /** The data source behind `database`, for a test's own `Database` subclass (counting, explaining). */
  dataSource: DataSource;
  /** Inserts a job and a running run of it; returns the run's id (for rows that reference a run). */
  createRun(): Promise<string>;
  /** Every statement sent from now on (BEGIN and COMMIT included), as TypeORM's query hook sees it. */
  recordStatements(): string[];
  close(): Promise<void>;
}

/** Opens a fresh database of `kind` through `createDataSource` (pool and timeouts as given) and migrates it. */
export async function openMigratedDatabase(
  kind: TestDatabaseKind,
  options: Parameters<typeof createDataSource>[1] = {},
): Promise<MigratedDatabase> {
  const db = await createTestDatabase(kind);
  const target: DatabaseTarget = kind === 'postgres' ? { kind, url: db.url! } : { kind, connection: db.connection };
  const dataSource = createDataSource(target, options);
  try {
    await migrate(target);
    await dataSource.initialize();
  } catch (error) {
    await db.drop();
    throw error;
  }
  const database = new Database(dataSource, kind);
  let recorded: string[] = [];
  dataSource.subscribers.push({ beforeQuery: (event) => void recorded.push(event.query) });
  return {
    database,
    dataSource,
    recordStatements: () => (recorded = []),
    async createRun() {
      const jobId = `job-${randomUUID()}`;
      const runId = randomUUID();
      await database.rows(`INSERT INTO cw_jobs (id, name, pipeline, every_ms, owner, source) VALUES ($1, $1, 'p', 3600000, 'system', 'api')`, [jobId]);
      await database.rows(`INSERT INTO cw_runs (id, job_id, status, trigger, started_at) VALUES ($1, $2, 'running', 'manual', now())`, [runId, jobId]);
      return runId;
    },
    async close() {
      await dataSource.destroy();
      await db.drop();
    },
  };
}

/** Migrating on PostgreSQL holds one connection for its lock and needs another: done on a default pool. */
async function migrate(target: DatabaseTarget): Promise<void> {
  const migrator = createDataSource(target);
  await migrator.initialize();
  try {
    await runMigrations(migrator, target.kind);
  } finally {
    await migrator.destroy();
  }
}
