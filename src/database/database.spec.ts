import { QueryFailedError } from 'typeorm';
import { testDatabaseKinds } from '../../test/support/databases.js';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/support/migrated-database.js';
import { Database } from './database.js';

const SQUARE = 'SELECT $1::int * $1::int AS square';

describe.each(testDatabaseKinds())('Database.prepared on %s', (kind) => {
  let db: MigratedDatabase;

  beforeAll(async () => {
    db = await openMigratedDatabase(kind, { poolSize: 2 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('runs a statement prepared once per connection again with new values', async () => {
    for (const n of [2, 3, 4]) await expect(db.database.prepared(SQUARE, [n])).resolves.toEqual([{ square: n * n }]);
  });

  it('prepares the same statement on two connections, which the embedded database serves in one session', async () => {
    const [a, b] = [db.dataSource.createQueryRunner(), db.dataSource.createQueryRunner()];
    await a.connect();
    await b.connect();
    try {
      await expect(db.database.prepared(SQUARE, [5], a)).resolves.toEqual([{ square: 25 }]);
      await expect(db.database.prepared(SQUARE, [6], b)).resolves.toEqual([{ square: 36 }]);
      // Another Database over the same connections (a daemon started again on the same session).
      await expect(new Database(db.dataSource, kind).prepared(SQUARE, [7], a)).resolves.toEqual([{ square: 49 }]);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('fails as a TypeORM QueryFailedError carrying the database error code, like an unprepared statement', async () => {
    const error = await db.database.prepared('SELECT 1 / $1::int AS x', [0]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect((error as QueryFailedError & { driverError: { code: string } }).driverError.code).toBe('22012');
    // The connection is still good for the statement with other values.
    await expect(db.database.prepared('SELECT 1 / $1::int AS x', [1])).resolves.toEqual([{ x: 1 }]);
  });
});
