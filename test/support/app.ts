import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { createHttpApp } from '../../src/common/http-app.js';
import { loadConfig } from '../../src/config/config.loader.js';
import type { createDataSource } from '../../src/database/data-source.js';
import { Notifier } from '../../src/database/notifier.js';
import { DaemonEnvironment, NodeIdentity } from '../../src/nodes/node-identity.js';
import { TEST_JWT_SECRET } from './daemon.js';
import type { TestDatabaseKind } from './databases.js';
import { openMigratedDatabase, type MigratedDatabase } from './migrated-database.js';

/** The daemon's HTTP app on a fresh migrated database, listening on 127.0.0.1. */
export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  db: MigratedDatabase;
  close(): Promise<void>;
}

/**
 * Starts the Nest app alone — no scheduler, executor or notifications running — so a test decides
 * every row and every running run itself; `databaseOptions` size the pool as the daemon's would be.
 */
export async function startTestApp(kind: TestDatabaseKind, databaseOptions: Parameters<typeof createDataSource>[1] = {}): Promise<TestApp> {
  const db = await openMigratedDatabase(kind, databaseOptions);
  const dir = await mkdtemp(join(tmpdir(), 'cw-app-'));
  let app: NestFastifyApplication | undefined;
  try {
    const file = join(dir, 'cronwarden.yaml');
    await writeFile(file, 'pipelines:\n  p:\n    command: ["true"]\n');
    const env = { JWT_SECRET: TEST_JWT_SECRET, CRONWARDEN_DATA_DIR: dir, LOG_LEVEL: 'error' };
    const config = loadConfig({ file, env, cwd: process.cwd() });
    const node = new NodeIdentity('test');
    const parts = { config, database: db.database, notifier: new Notifier(node.id, null), node, daemonEnv: new DaemonEnvironment({}) };
    app = await createHttpApp(AppModule.forRoot(parts), { logger: ['error'], abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const started = app;
    return {
      app: started,
      url,
      db,
      async close() {
        await started.close();
        await rm(dir, { recursive: true, force: true });
        await db.close();
      },
    };
  } catch (error) {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
    await db.close();
    throw error;
  }
}
