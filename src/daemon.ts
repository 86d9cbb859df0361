import { readFileSync } from 'node:fs';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { createHttpApp } from './common/http-app.js';
import type { CronwardenConfig } from './config/config.types.js';
import { createDataSource, runMigrations, type DatabaseTarget } from './database/data-source.js';
import { Database } from './database/database.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { Notifier } from './database/notifier.js';
import { ExecutorService } from './executor/executor.service.js';
import { SHUTDOWN_REASON } from './executor/run-finisher.js';
import { JobsService } from './jobs/jobs.service.js';
import { DaemonEnvironment, NodeIdentity } from './nodes/node-identity.js';
import { NodesService } from './nodes/nodes.service.js';
import { Readiness } from './health/readiness.js';
import { MetricsService } from './metrics/metrics.service.js';
import { setupOpenApi } from './openapi.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { SchedulerService } from './scheduler/scheduler.service.js';

export interface DaemonOptions {
  config: CronwardenConfig;
  /** The daemon's own environment; children get a filtered part of it. */
  env: Readonly<Record<string, string | undefined>>;
  /** Interface to listen on; the port comes from the config. */
  host?: string;
  /** Called when the daemon cannot go on (its embedded database died). */
  onFatal?: (reason: string) => void;
  /** The daemon's logger (main.ts passes the winston one). */
  logger: LoggerService;
}

/** A started daemon: its HTTP app and how to stop it. */
export interface Daemon {
  app: INestApplication;
  url: string;
  node: NodeIdentity;
  /** Stops firing and claiming, lets runs finish for `shutdownGrace`, then kills them; closes everything. */
  close(): Promise<void>;
  /** During close(): stop waiting for runs to finish and kill them now (a second SIGTERM). */
  hurry(): void;
}

/**
 * Starts the whole daemon in order: the database (the embedded sidecar when no DATABASE_URL),
 * migrations, the Nest app, config jobs, node registration, the executor, the scheduler, HTTP.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config } = options;
  const { logger } = options;
  const node = new NodeIdentity(packageVersion());
  let embedded: EmbeddedPostgres | null = null;
  let stopping = false;
  let target: DatabaseTarget;
  if (config.env.databaseUrl) {
    target = { kind: 'postgres', url: config.env.databaseUrl };
  } else {
    embedded = await EmbeddedPostgres.start({
      dataDir: config.env.dataDir,
      log: (line) => logger.log?.(line, 'EmbeddedPostgres'),
      onExit: (code, signal) => {
        if (stopping) return;
        const reason = `the embedded database process exited (code ${code}, signal ${signal}); cannot run without it`;
        logger.error(reason, undefined, 'EmbeddedPostgres');
        options.onFatal?.(reason);
      },
    });
    target = { kind: 'pglite', connection: embedded.connectionOptions() };
  }
  const dataSource = createDataSource(target);
  const notifier = new Notifier(node.id, config.env.databaseUrl);
  try {
    await dataSource.initialize();
    await runMigrations(dataSource, target.kind);
    await notifier.start();
    const database = new Database(dataSource, target.kind);
    const app = await createHttpApp(
      AppModule.forRoot({ config, database, notifier, node, daemonEnv: new DaemonEnvironment(options.env) }),
      { logger, abortOnError: false },
    );
    // Before init(): Nest's 404 handler would otherwise answer /docs first.
    setupOpenApi(app, node.version);
    await app.init();
    const scheduler = app.get(SchedulerService);
    app.get(MetricsService).tickAge = () => Date.now() - scheduler.lastTickAt;
    await app.get(JobsService).syncConfigJobs();
    // Before the reaper and the executor see them: runs staged by a lone node that died are undone, for the catch-up policy.
    await scheduler.undoMissedStaging();
    await app.get(NodesService).register();
    app.get(NotificationsService).start();
    app.get(ExecutorService).start();
    await app.get(SchedulerService).start();
    await app.listen(config.env.port, options.host ?? '0.0.0.0');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    logger.log(`cronwarden ${node.version} listening on ${url} (node ${node.id}, ${target.kind} database)`, 'Daemon');
    const close = async () => {
      stopping = true;
      app.get(Readiness).draining = true;
      logger.log(`shutting down: no new fires or claims; running runs get ${config.daemon.shutdownGraceMs} ms to finish`, 'Daemon');
      await app.get(SchedulerService).stop();
      await app.get(ExecutorService).shutdown(config.daemon.shutdownGraceMs);
      await app.get(NotificationsService).stop();
      await app.get(NodesService).deregister();
      await notifier.close();
      await app.close();
      await dataSource.destroy();
      await embedded?.stop();
    };
    const hurry = () => app.get(ExecutorService).abortAll(`${SHUTDOWN_REASON} (second signal)`);
    return { app, url, node, close, hurry };
  } catch (error) {
    stopping = true;
    await notifier.close();
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
}

function packageVersion(): string {
  const file = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
