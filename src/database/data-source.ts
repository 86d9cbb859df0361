import pg from 'pg';
import { AuditEntity } from '../audit/audit.entity.js';
import { DataSource } from 'typeorm';
import { JobEntity } from '../jobs/job.entity.js';
import { NodeEntity } from '../nodes/node.entity.js';
import { NotificationEntity } from '../notifications/notification.entity.js';
import { RunOutputEntity } from '../runs/run-output.entity.js';
import { RunEntity } from '../runs/run.entity.js';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema.js';
import { AuditLog1764000001000 } from './migrations/1764000001000-audit-log.js';
import { Notifications1764000003000 } from './migrations/1764000003000-notifications.js';
import { JobFreshness1764000004000 } from './migrations/1764000004000-job-freshness.js';
import { RunResources1764000005000 } from './migrations/1764000005000-run-resources.js';
import { RunChains1764000006000 } from './migrations/1764000006000-run-chains.js';
import { JobNotifications1764000007000 } from './migrations/1764000007000-job-notifications.js';
import { ClusterSafety1764000002000 } from './migrations/1764000002000-cluster-safety.js';
import { JobNextFire1764000008000 } from './migrations/1764000008000-job-next-fire.js';
import { ClaimOrder1764000009000 } from './migrations/1764000009000-claim-order.js';
import { ClaimFunction1764000010000 } from './migrations/1764000010000-claim-function.js';
import { StagedRuns1764000011000 } from './migrations/1764000011000-staged-runs.js';
import { StagedRunsUndone1764000012000 } from './migrations/1764000012000-staged-runs-undone.js';
import { OutputLz41764000013000 } from './migrations/1764000013000-output-lz4.js';
import { FinishFunction1764000014000 } from './migrations/1764000014000-finish-function.js';

/** Where the daemon's database is: a PostgreSQL URL, or the embedded sidecar's socket. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; connection: { host: string; port: number; user: string; database: string } };

export const ENTITIES = [JobEntity, RunEntity, RunOutputEntity, NodeEntity, NotificationEntity, AuditEntity];
export const MIGRATIONS = [InitialSchema1764000000000, AuditLog1764000001000, ClusterSafety1764000002000, Notifications1764000003000, JobFreshness1764000004000, RunResources1764000005000, RunChains1764000006000, JobNotifications1764000007000, JobNextFire1764000008000, ClaimOrder1764000009000, ClaimFunction1764000010000, StagedRuns1764000011000, StagedRunsUndone1764000012000, OutputLz41764000013000, FinishFunction1764000014000];

const MIGRATION_LOCK_KEY = 0x63726f6e; // "cron"
const PG_INT8 = 20;

/** Builds (does not connect) the one TypeORM data source, the same for both kinds of database. */
export function createDataSource(target: DatabaseTarget, options: { poolSize?: number; connectionTimeoutMs?: number } = {}): DataSource {
  // Counters and sizes are bigint columns; their values stay far below 2^53, so numbers are exact.
  pg.types.setTypeParser(PG_INT8, (value) => Number.parseInt(value, 10));
  const connection = target.kind === 'postgres'
    ? { url: target.url }
    : { host: target.connection.host, port: target.connection.port, username: target.connection.user, database: target.connection.database };
  return new DataSource({
    type: 'postgres',
    ...connection,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'cw_migrations',
    synchronize: false,
    migrationsRun: false,
    // The embedded database runs every connection on one backend session, and pglite-socket can
    // interleave two connections' extended-protocol messages (Parse of one, Bind of another:
    // "bind message supplies 2 parameters, but prepared statement requires 6"). One client-side
    // connection serialises statements before they reach it. Never await a pooled query inside a
    // transaction there: pass the transaction's runner instead.
    extra: { max: options.poolSize ?? (target.kind === 'pglite' ? 1 : 10), connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000 },
    applicationName: 'cronwarden',
  });
}

/**
 * Runs pending migrations. On PostgreSQL several nodes may start at once: an advisory lock lets
 * one migrate while the others wait. (On the embedded database advisory locks exclude nothing,
 * but the data-directory lock already guarantees a single daemon.)
 */
export async function runMigrations(dataSource: DataSource, kind: DatabaseTarget['kind']): Promise<void> {
  if (kind === 'pglite') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
