import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations, type DatabaseTarget } from '../../src/database/data-source.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';

describe.each(testDatabaseKinds())('the schema on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase(kind)));
  afterAll(async () => db?.drop());

  /** `work` on a TypeORM data source connected to the test database, destroyed afterwards. */
  async function connected(work: (dataSource: DataSource) => Promise<void>): Promise<void> {
    const target: DatabaseTarget = kind === 'postgres' ? { kind, url: db.url! } : { kind, connection: db.connection };
    const dataSource = createDataSource(target);
    await dataSource.initialize();
    try {
      await work(dataSource);
    } finally {
      await dataSource.destroy();
    }
  }

  it('is exactly what the entities describe once the migrations ran (no drift), and migrating twice is a no-op', () =>
    connected(async (dataSource) => {
      await runMigrations(dataSource, kind);
      await runMigrations(dataSource, kind);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    }));

  it('stores run output compressed with lz4 where the server has it, and with the default (pglz) where not', () =>
    connected(async (dataSource) => {
      const hasLz4 = await dataSource.query('CREATE TEMP TABLE lz4_probe (data bytea COMPRESSION lz4)').then(() => true, () => false);
      await runMigrations(dataSource, kind);
      const [column] = await dataSource.query(`SELECT attcompression AS method FROM pg_attribute WHERE attrelid = 'cw_run_output'::regclass AND attname = 'data'`);
      // 'l' is lz4; '' is the server's default_toast_compression (pglz unless set otherwise).
      expect(column.method).toBe(hasLz4 ? 'l' : '');
      // PostgreSQL here is built with lz4 (Debian's); PGlite is not.
      expect(hasLz4).toBe(kind === 'postgres');
    }));
});
