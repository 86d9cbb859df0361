import { Command } from 'commander';
import type { DataSource } from 'typeorm';
import type { ConfigProblem } from '../config/config.loader.js';
import { readEnv } from '../config/config.env.js';
import type { EmbeddedPostgres } from '../database/embedded-postgres.js';
import { CliError, EXIT } from './cli-error.js';

/** `cronwarden migrate`: applies pending schema migrations to the daemon's database, then exits. */
export function migrateCommand(env: NodeJS.ProcessEnv, cwd: string): Command {
  return new Command('migrate')
    .description('apply pending schema migrations to DATABASE_URL (or the embedded database in CRONWARDEN_DATA_DIR) and exit')
    .action(async () => {
      process.stdout.write(`${await migrate(env, cwd)}\n`);
    });
}

/**
 * Opens the database the daemon would use, runs the pending migrations (under the same advisory lock
 * the daemon takes on PostgreSQL) and says what it applied. The embedded database is locked by a
 * running daemon: stop it first, or let the daemon migrate at start.
 */
export async function migrate(env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const problems: ConfigProblem[] = [];
  const settings = readEnv(env, cwd, problems);
  const bad = problems.filter((problem) => ['env.DATABASE_URL', 'env.CRONWARDEN_DATA_DIR'].includes(problem.path));
  if (bad.length > 0) throw new CliError(`invalid configuration:\n${bad.map((problem) => `${problem.path}: ${problem.message}`).join('\n')}`, EXIT.config);
  // TypeORM's entity decorators need the metadata polyfill before the entities load.
  await import('reflect-metadata');
  const { createDataSource, runMigrations } = await import('../database/data-source.js');
  const where = settings.databaseUrl ? 'the PostgreSQL database in DATABASE_URL' : `the embedded database in ${settings.dataDir}`;
  let embedded: EmbeddedPostgres | null = null;
  let dataSource: DataSource | null = null;
  try {
    if (!settings.databaseUrl) embedded = await startEmbedded(settings.dataDir);
    const target = embedded ? { kind: 'pglite' as const, connection: embedded.connectionOptions() } : { kind: 'postgres' as const, url: settings.databaseUrl! };
    dataSource = createDataSource(target);
    await dataSource.initialize().catch((error: Error) => {
      throw new CliError(`cannot connect to ${where}: ${error.message}`, EXIT.unreachable, { cause: error });
    });
    const before = await appliedMigrations(dataSource);
    await runMigrations(dataSource, target.kind).catch((error: Error) => {
      throw new CliError(`a migration failed on ${where} (the ones before it stay applied): ${error.message}`, EXIT.internal, { cause: error });
    });
    const applied = [...(await appliedMigrations(dataSource))].filter((name) => !before.has(name));
    return applied.length === 0
      ? `${where} is up to date (${before.size} migrations applied earlier)`
      : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to ${where}: ${applied.join(', ')}`;
  } finally {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

async function startEmbedded(dataDir: string): Promise<EmbeddedPostgres> {
  const { EmbeddedPostgres } = await import('../database/embedded-postgres.js');
  try {
    // The sidecar's chatter only matters when it fails, and then its last lines are in the error.
    return await EmbeddedPostgres.start({ dataDir, log: () => undefined });
  } catch (error) {
    throw new CliError(`cannot open the embedded database in ${dataDir}: ${(error as Error).message}`, EXIT.unreachable, { cause: error });
  }
}

/** Names in TypeORM's migrations table; none before the first migration created it. */
async function appliedMigrations(dataSource: DataSource): Promise<Set<string>> {
  const exists = await dataSource.query(`SELECT to_regclass('cw_migrations') IS NOT NULL AS present`) as Array<{ present: boolean }>;
  if (!exists[0]?.present) return new Set();
  const rows = await dataSource.query('SELECT name FROM cw_migrations') as Array<{ name: string }>;
  return new Set(rows.map((row) => row.name));
}
