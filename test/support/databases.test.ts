import pg from 'pg';
import { connectionUrl, createTestDatabase, testDatabaseKinds, type TestDatabase } from './databases.js';

async function tableNames(config: pg.ClientConfig): Promise<string[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    const result = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return result.rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

async function createTable(db: TestDatabase, name: string): Promise<void> {
  const client = new pg.Client(db.connection);
  await client.connect();
  await client.query(`CREATE TABLE ${name} (id int)`);
  await client.end();
}

describe.each(testDatabaseKinds())('a %s test database', (kind) => {
  const created: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(created.splice(0).map((db) => db.drop()));
  });

  async function create(): Promise<TestDatabase> {
    const db = await createTestDatabase(kind);
    created.push(db);
    return db;
  }

  it('starts empty and is reachable through both its connection and its connection URL', async () => {
    const db = await create();
    expect(await tableNames(db.connection)).toEqual([]);

    await createTable(db, 'marker');

    expect(await tableNames({ connectionString: connectionUrl(db) })).toEqual(['marker']);
  });

  it('is separate from every other test database', async () => {
    const [first, second] = await Promise.all([create(), create()]);

    await createTable(first, 'only_in_first');

    expect(await tableNames(second.connection)).toEqual([]);
  });

  it('cannot be connected to any more after drop()', async () => {
    const db = await create();
    created.pop();

    await db.drop();

    await expect(tableNames(db.connection)).rejects.toThrow();
  });
});
