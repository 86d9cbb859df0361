import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDatabaseUnavailable } from '../../src/common/errors.js';
import { createDataSource, runMigrations, type DatabaseTarget } from '../../src/database/data-source.js';
import { Database } from '../../src/database/database.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';

/** Text that makes the proxy close the connection carrying it, as a server or balancer going away would. */
const CUT = 'cut-this-connection';

/**
 * A proxy in front of the test database that passes bytes through, except that a message holding
 * CUT closes the daemon's side of that connection cleanly (no error message from the server): pg
 * then fails the statement with "Connection terminated unexpectedly", which carries no SQLSTATE.
 */
async function cuttingProxy(db: TestDatabase): Promise<{ target: DatabaseTarget; close(): Promise<void> }> {
  const { host, port } = db.connection;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = host.startsWith('/') ? net.connect(join(host, `.s.PGSQL.${port}`)) : net.connect(port, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.pipe(client);
    client.on('data', (data: Buffer) => {
      if (!data.includes(CUT)) return void upstream.write(data);
      upstream.destroy();
      client.end();
    });
    client.on('end', () => upstream.end());
  });
  let dir: string | null = null;
  let target: DatabaseTarget;
  if (host.startsWith('/')) {
    dir = await mkdtemp(join(tmpdir(), 'cw-proxy-'));
    await new Promise<void>((resolve) => server.listen(join(dir!, `.s.PGSQL.${port}`), resolve));
    target = { kind: 'pglite', connection: { ...db.connection, host: dir } };
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(db.url!);
    url.hostname = '127.0.0.1';
    url.port = String((server.address() as net.AddressInfo).port);
    target = { kind: 'postgres', url: url.href };
  }
  return {
    target,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each(testDatabaseKinds())('a database connection lost under a statement, %s', (kind) => {
  let db: TestDatabase;
  let proxy: Awaited<ReturnType<typeof cuttingProxy>>;
  let database: Database;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    proxy = await cuttingProxy(db);
    const dataSource = createDataSource(proxy.target);
    await dataSource.initialize();
    await runMigrations(dataSource, kind);
    database = new Database(dataSource, kind);
  });
  afterAll(async () => {
    await database?.dataSource.destroy();
    await proxy?.close();
    await db?.drop();
  });

  /** What `work` rejected with. */
  const failure = (work: Promise<unknown>) => work.then(() => { throw new Error('it did not fail'); }, (error: unknown) => error);

  it('is "the database is unavailable" (503), not an internal error, and the next statement gets a new connection', async () => {
    for (const statement of [() => database.rows('SELECT $1::text AS v', [CUT]), () => database.prepared('SELECT $1::text AS w', [CUT])]) {
      const error = await failure(statement());
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect((error as Error).message).toMatch(/^lost the database connection: .*Connection terminated unexpectedly/);
      expect(await database.rows('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    }
  });

  it('fails the transaction it was in the same way', async () => {
    const error = await failure(database.transaction(async (runner) => {
      await database.rows('SELECT 1', [], runner);
      await database.rows('SELECT $1::text AS v', [CUT], runner);
    }));
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('leaves an error without a SQLSTATE on a connection still open as it is: the driver refusing a value is a bug', async () => {
    const refused = { toPostgres: () => { throw new Error('this value cannot be sent'); } };
    const error = await failure(database.rows('SELECT $1::text AS v', [refused]));
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect((error as Error).message).toMatch(/this value cannot be sent/);
  });
});
