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
async function received(socket: Socket, expected: string): Promise<void> {
  await receivedUntil(socket, (seen) => seen.includes(expected));
}

/** Resolves with what `socket` sent (as latin1) once `done` holds for it. */
function receivedUntil(socket: Socket, done: (seen: string) => boolean): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!done(seen)) return;
      socket.off('data', onData).off('error', reject);
      resolve(seen);
    };
    socket.on('data', onData).on('error', reject);
  });
}

const READY_FOR_QUERY = 'Z\0\0\0\x05';

/** A connection to the sidecar speaking the wire protocol by hand, past its startup. */
async function rawConnection(): Promise<Socket> {
  const socket = createConnection(join(dataDir, '.s.PGSQL.5432'));
  await once(socket, 'connect');
  const startup = Buffer.from('\0\0\0\0\0\x03\0\0user\0postgres\0database\0postgres\0\0', 'latin1');
  startup.writeInt32BE(startup.length, 0);
  socket.write(startup);
  await received(socket, `${READY_FOR_QUERY}I`);
  return socket;
}

/** Parse, Bind, Describe, Execute and Sync of `sql` (no parameters), as a driver sends a statement. */
function extendedQuery(sql: string): Buffer {
  const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([
    message('P', Buffer.concat([Buffer.from(`\0${sql}\0`, 'latin1'), int16(0)])),
    message('B', Buffer.concat([Buffer.from('\0\0', 'latin1'), int16(0), int16(0), int16(0)])),
    message('D', Buffer.from('P\0', 'latin1')),
    message('E', Buffer.from('\0\0\0\0\0', 'latin1')),
    message('S', Buffer.alloc(0)),
  ]);
}

/** A DataRow of one text column `value`. */
function dataRow(value: string): string {
  return `\0\x01\0\0\0${String.fromCharCode(value.length)}${value}`;
}

const count = (text: string, part: string) => text.split(part).length - 1;

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

  it('stores and returns a value of megabytes, sent in many reads, while other clients query', async () => {
    const value = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < value.length; i += 4) value.writeUInt32BE(i, i);
    const others = Array.from({ length: 20 }, (_, i) => pool.query<{ i: number }>('SELECT $1::int AS i', [i]));
    const stored = pool.query<{ n: number; same: boolean }>('SELECT length($1::bytea) AS n, $1::bytea = $2::bytea AS same', [value, Buffer.from(value)]);

    expect((await stored).rows).toEqual([{ n: value.length, same: true }]);
    expect((await Promise.all(others)).map((result) => result.rows[0].i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const { rows } = await pool.query<{ back: Buffer }>('SELECT $1::bytea AS back', [value]);
    expect(rows[0].back.equals(value)).toBe(true);
  });

  it('serves the other clients again after one disconnects in the middle of a statement', async () => {
    const socket = await rawConnection();
    // Parse and Flush, without the Sync that would end the batch; wait for ParseComplete.
    socket.write(Buffer.concat([message('P', Buffer.from('\0SELECT 1\0\0\0', 'latin1')), message('H', Buffer.alloc(0))]));
    await received(socket, '1\0\0\0\x04');
    socket.destroy();

    const result = await pool.query<{ ok: boolean }>('SELECT true AS ok');

    expect(result.rows).toEqual([{ ok: true }]);
  });

  it('answers each of several statements sent in one write, a failing one with its error only', async () => {
    const socket = await rawConnection();
    try {
      // A driver pipelining statements: the second fails to parse; the backend skips the rest of its
      // batch up to its Sync, and the third runs as if alone.
      socket.write(Buffer.concat([extendedQuery('SELECT 41 AS n'), extendedQuery('SELEC 42'), extendedQuery('SELECT 43 AS n')]));
      const seen = await receivedUntil(socket, (text) => count(text, READY_FOR_QUERY) === 3);

      expect(seen).toContain(dataRow('41'));
      expect(seen).toContain('syntax error at or near "SELEC"');
      expect(seen).toContain(dataRow('43'));
      expect(seen.indexOf(dataRow('41'))).toBeLessThan(seen.indexOf('SELEC'));
      expect(seen.indexOf('SELEC')).toBeLessThan(seen.indexOf(dataRow('43')));
    } finally {
      socket.destroy();
    }
  });

  it('answers a query sent in the same write as the Terminate after it', async () => {
    const socket = await rawConnection();
    try {
      const query = message('Q', Buffer.from('SELECT 7 AS n\0', 'latin1'));
      const answered = receivedUntil(socket, (text) => text.includes(READY_FOR_QUERY));
      socket.write(Buffer.concat([query, message('X', Buffer.alloc(0))]));

      expect(await answered).toContain(dataRow('7'));
    } finally {
      socket.destroy();
    }
  });

  it('goes on serving a client whose statement failed, in and out of a transaction', async () => {
    await expect(pool.query('SELEC $1::int', [1])).rejects.toThrow('syntax error at or near "SELEC"');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(client.query('SELECT $1::int / 0', [1])).rejects.toThrow('division by zero');
      await expect(client.query('SELECT 1')).rejects.toThrow('current transaction is aborted');
      await client.query('ROLLBACK');
      expect((await client.query<{ n: number }>('SELECT $1::int AS n', [5])).rows).toEqual([{ n: 5 }]);
    } finally {
      client.release();
    }
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
