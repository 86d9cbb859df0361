import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';

export type TestDatabaseKind = 'pglite' | 'postgres';

/** A database of its own for one test file; `drop()` removes it. */
export interface TestDatabase {
  kind: TestDatabaseKind;
  /** For `postgres`: the URL to give the daemon as DATABASE_URL. */
  url?: string;
  /** For `pg` as is; TypeORM wants `username: connection.user`. */
  connection: { host: string; port: number; user: string; database: string; password?: string };
  drop(): Promise<void>;
}

/** The kinds to run integration tests on: always PGlite, PostgreSQL too when DATABASE_URL is set. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/**
 * For a file whose tests run on PostgreSQL only (several nodes, LISTEN/NOTIFY, a server it stops):
 * a test that holds CI to setting DATABASE_URL, without which they would be dropped silently. It
 * also leaves the file a test where they are not defined, which Jest requires.
 */
export function ciMustSetDatabaseUrl(name: string): void {
  it(name, () => {
    expect(process.env.CI !== 'true' || Boolean(process.env.DATABASE_URL)).toBe(true);
  });
}

/** A fresh, empty database: a new database on DATABASE_URL's server, or a new embedded PostgreSQL. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  return kind === 'postgres' ? createPostgresDatabase() : createPgliteDatabase();
}

/**
 * A `postgres://` URL for `db` that `pg` understands; for PGlite the socket directory goes in `?host=`.
 * TypeORM's own URL parser ignores `?host=`: give TypeORM `db.connection` instead.
 */
export function connectionUrl(db: TestDatabase): string {
  const { host, port, user, database, password } = db.connection;
  const credentials = encodeURIComponent(user) + (password ? `:${encodeURIComponent(password)}` : '');
  if (host.startsWith('/')) {
    return `postgres://${credentials}@/${encodeURIComponent(database)}?host=${encodeURIComponent(host)}&port=${port}`;
  }
  return `postgres://${credentials}@${host}:${port}/${encodeURIComponent(database)}`;
}

/**
 * A new temporary data directory whose `pgdata` is a copy of an initialised PGlite cluster: a start on it
 * takes ~0.5 s instead of the ~3 s (and ~900 MiB) of PGlite's initdb.
 */
export async function createPgliteDataDir(): Promise<string> {
  const template = await pgliteTemplate();
  const dataDir = await mkdtemp(join(tmpdir(), 'cw-pglite-'));
  await cp(join(template, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

async function createPgliteDatabase(): Promise<TestDatabase> {
  const dataDir = await createPgliteDataDir();
  const embedded = await EmbeddedPostgres.start({ dataDir }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    kind: 'pglite',
    connection: embedded.connectionOptions(),
    async drop() {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set: there is no PostgreSQL to create a test database on');
  const name = `cw_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.href,
    connection: {
      // A URL may name a socket directory as ?host= instead of a host name.
      host: decodeURIComponent(url.hostname) || url.searchParams.get('host') || 'localhost',
      port: Number(url.port || url.searchParams.get('port') || 5432),
      user: decodeURIComponent(url.username) || 'postgres',
      database: name,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    },
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let template: Promise<string> | undefined;

/** The initialised cluster to copy, built once per PGlite version and shared by all Jest workers. */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `cronwarden-pglite-template-${await pgliteVersion()}`);
    if (await exists(dir)) return dir;
    const building = await mkdtemp(join(tmpdir(), 'cw-pglite-template-'));
    const embedded = await EmbeddedPostgres.start({ dataDir: building });
    await embedded.stop();
    // rename() publishes the finished template at once; if another worker was faster, keep theirs.
    await rename(building, dir).catch(() => rm(building, { recursive: true, force: true }));
    return dir;
  })().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
