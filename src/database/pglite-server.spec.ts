import { createConnection, type Socket } from 'node:net';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { createPgliteDataDir } from '../../test/support/databases.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

let dataDir: string;
let embedded: EmbeddedPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  dataDir = await createPgliteDataDir();
  embedded = await EmbeddedPostgres.start({ dataDir, log: () => undefined });
  pool = new pg.Pool({ ...embedded.connectionOptions(), max: 8 });
});

afterAll(async () => {
  await pool.end();
  await embedded.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** A PostgreSQL wire-protocol message: type byte, int32 length, body. */
function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Resolves once the bytes read from `socket` contain `expected`. */
function received(socket: Socket, expected: string): Promise<void> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes(expected)) return;
      socket.off('data', onData).off('error', reject);
      resolve();
    };
    socket.on('data', onData).on('error', reject);
  });
}

describe('the PGlite sidecar', () => {
  it('answers many clients querying at once, each with its own results', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.query<{ i: number }>('SELECT $1::int AS i', [i])),
    );

    expect(results.map((result) => result.rows[0].i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("keeps a large statement's messages together while other clients query", async () => {
    const big = 'x'.repeat(300_000);
    // A 300 kB Bind arrives in several socket reads; before the fix, small statements from the
    // other clients ran in between and a few of these 60 queries failed or got the wrong result.
    const answers = await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        const results: boolean[] = [];
        for (let i = 0; i < 15; i++) {
          const { rows } = client % 2
            ? await pool.query<{ n: number }>('SELECT length($1::text) + $2::int AS n', [big, i])
            : await pool.query<{ n: number }>('SELECT $1::int + $2::int + $3::int AS n', [i, 1, 2]);
          results.push(rows[0].n === (client % 2 ? big.length + i : i + 3));
        }
        return results;
      }),
    );

    expect(answers.flat().every(Boolean)).toBe(true);
  });

  it('serves the other clients again after one disconnects in the middle of a statement', async () => {
    const socket = createConnection(join(dataDir, '.s.PGSQL.5432'));
    await once(socket, 'connect');
    const startup = Buffer.from('\0\0\0\0\0\x03\0\0user\0postgres\0database\0postgres\0\0', 'latin1');
    startup.writeInt32BE(startup.length, 0);
    socket.write(startup);
    await received(socket, 'Z\0\0\0\x05I'); // ReadyForQuery, idle
    // Parse and Flush, without the Sync that would end the batch; wait for ParseComplete.
    socket.write(Buffer.concat([message('P', Buffer.from('\0SELECT 1\0\0\0', 'latin1')), message('H', Buffer.alloc(0))]));
    await received(socket, '1\0\0\0\x04');
    socket.destroy();

    const result = await pool.query<{ ok: boolean }>('SELECT true AS ok');

    expect(result.rows).toEqual([{ ok: true }]);
  });

  it('shares one backend session between all connections', async () => {
    const [first, second] = await Promise.all([pool.connect(), pool.connect()]);
    try {
      const pids = await Promise.all([first, second].map((c) => c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')));

      expect(pids[0].rows[0].pid).toBe(pids[1].rows[0].pid);
    } finally {
      first.release();
      second.release();
    }
  });

  it("drops a client's session settings when it disconnects, so a pg_dump-style SET cannot break the others", async () => {
    const before = (await pool.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path;
    const outsider = new pg.Client(embedded.connectionOptions());
    await outsider.connect();
    await outsider.query(`SET search_path = ''`);
    expect((await pool.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path).toBe('""');
    await outsider.end();
    await waitForSearchPath(before);
  });
});

async function waitForSearchPath(expected: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { rows } = await pool.query<{ search_path: string }>('SHOW search_path');
    if (rows[0].search_path === expected) return;
    if (Date.now() > deadline) throw new Error(`search_path is still ${rows[0].search_path}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
