import { createDataSource, runMigrations, type DatabaseTarget } from '../../src/database/data-source.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';

describe.each(testDatabaseKinds())('the schema on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase(kind)));
  afterAll(async () => db?.drop());

  it('is exactly what the entities describe once the migrations ran (no drift), and migrating twice is a no-op', async () => {
    const target: DatabaseTarget = kind === 'postgres' ? { kind, url: db.url! } : { kind, connection: db.connection };
    const dataSource = createDataSource(target);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource, kind);
      await runMigrations(dataSource, kind);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
});
