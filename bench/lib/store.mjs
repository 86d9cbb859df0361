/**
 * Where a benchmarked daemon keeps its data: a fresh PGlite data directory (copied from an
 * initialised template, so no ~3 s initdb per scenario) or a fresh database on DATABASE_URL's server.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

const ROOT = new URL('../../', import.meta.url);

/**
 * A new empty store of `kind` ('pglite' | 'postgres'). `env` goes to the daemon; `connect()` opens a
 * `pg` client for the bench's own reads (for PGlite only while a daemon, and so the sidecar, runs).
 */
export async function createStore(kind, serverUrl) {
  return kind === 'postgres' ? postgresStore(serverUrl) : pgliteStore();
}

async function pgliteStore() {
  const template = await pgliteTemplate();
  const dataDir = await mkdtemp(join(tmpdir(), 'cwb-'));
  await cp(join(template, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  return {
    kind: 'pglite',
    env: { CRONWARDEN_DATA_DIR: dataDir },
    connect: () => connected(new pg.Client({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres' })),
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function postgresStore(serverUrl) {
  if (!serverUrl) throw new Error('DATABASE_URL is not set: there is no PostgreSQL server to benchmark on');
  const name = `cw_bench_${randomBytes(5).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    name,
    url: url.href,
    env: { DATABASE_URL: url.href },
    connect: () => connected(new pg.Client({ connectionString: url.href })),
    dispose: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function connected(client) {
  await client.connect();
  // A sidecar or server going away must end the bench step with an error, not crash the process.
  client.on('error', () => undefined);
  return client;
}

async function onServer(serverUrl, sql) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The initialised PGlite cluster to copy. Same place and format as the test suite's template
 * (test/support/databases.ts), so either one builds it for both.
 */
async function pgliteTemplate() {
  const dir = join(tmpdir(), `cronwarden-pglite-template-${await pgliteVersion()}`);
  if (await exists(dir)) return dir;
  const { EmbeddedPostgres } = await import(new URL('dist/database/embedded-postgres.js', ROOT).href);
  const building = await mkdtemp(join(tmpdir(), 'cw-pglite-template-'));
  const embedded = await EmbeddedPostgres.start({ dataDir: building, log: () => undefined });
  await embedded.stop();
  await rename(building, dir).catch(() => rm(building, { recursive: true, force: true }));
  return dir;
}

async function pgliteVersion() {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return manifest.version;
}

async function exists(path) {
  return stat(path).then(() => true, () => false);
}
